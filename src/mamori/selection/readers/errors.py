"""Errors a capture file can cause. Messages carry offsets and reasons, never bytes."""

from __future__ import annotations

from mamori.errors import InvalidInput


class CaptureError(InvalidInput):
    """A capture cannot be read."""


class CaptureSourceError(CaptureError):
    """The capture source cannot be opened or read (missing file, permissions, I/O)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"capture source cannot be read: {reason}", reason=reason)
        self.reason = reason


class CaptureFormatError(CaptureError):
    """The file is not a capture, or its structure is broken at ``offset``."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(
            f"capture format error at byte offset {offset}: {reason}",
            offset=offset,
            reason=reason,
        )
        self.offset = offset
        self.reason = reason
