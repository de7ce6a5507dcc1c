"""Errors a flow-record file can cause. Messages carry offsets and reasons, never bytes."""

from __future__ import annotations

from mamori.errors import InvalidInput


class FlowFormatError(InvalidInput):
    """The file is not a supported flow format, or its structure breaks at ``offset``."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(
            f"flow record format error at byte offset {offset}: {reason}",
            offset=offset,
            reason=reason,
        )
        self.offset = offset
        self.reason = reason


class FlowSourceError(InvalidInput):
    """The flow source cannot be opened or read (missing file, permissions, I/O)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"flow source cannot be read: {reason}", reason=reason)
        self.reason = reason
