"""Inputs of a selection run: capture files, flow-record files and staged (spooled) data.

An :class:`InputSource` says where the bytes are and what kind they are. Packet
inputs are read through :class:`DigestStream`, which hashes the bytes as the reader
consumes them (SHA-256, for the receipt) and reports progress; flow-record files
are hashed in a first pass because their readers open the file themselves.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from mamori.errors import InvalidInput

from .spool import SpoolFile

Kind = Literal["auto", "packets", "flows"]
CAPTURE_MAGICS = (
    b"\xa1\xb2\xc3\xd4",
    b"\xd4\xc3\xb2\xa1",
    b"\xa1\xb2\x3c\x4d",
    b"\x4d\x3c\xb2\xa1",
    b"\x0a\x0d\x0d\x0a",
)
HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class InputSource:
    """One input: a file (``path``) or a staged stream (``spool``), and its kind.

    ``kind`` ``auto`` reads a pcap/pcapng file as packets and anything else as flow
    records; a pcap of NetFlow/IPFIX export packets needs ``flows``.
    """

    name: str
    kind: Kind = "auto"
    path: Path | None = None
    spool: SpoolFile | None = None

    @classmethod
    def from_path(cls, path: str | Path, kind: Kind = "auto") -> InputSource:
        path = Path(path)
        if not path.is_file():
            raise InvalidInput(f"input {path.name}: not a readable file")
        return cls(name=path.name, kind=kind, path=path)

    @classmethod
    def from_spool(cls, spool: SpoolFile, name: str = "stdin") -> InputSource:
        return cls(name=name, kind="packets", spool=spool)

    @property
    def size(self) -> int:
        if self.path is not None:
            return self.path.stat().st_size
        assert self.spool is not None
        return self.spool.size

    def open(self) -> BinaryIO:
        if self.path is not None:
            try:
                return open(self.path, "rb")
            except OSError as exc:
                raise InvalidInput(
                    f"input {self.name}: cannot be read ({exc.strerror or type(exc).__name__})"
                ) from None
        assert self.spool is not None
        return self.spool.open()

    def resolved_kind(self) -> Literal["packets", "flows"]:
        """``packets`` or ``flows``, looking at the first bytes for ``auto``."""
        if self.kind != "auto":
            if self.kind == "flows" and self.path is None:
                raise InvalidInput(f"input {self.name}: flow records must be given as a file")
            return self.kind
        with self.open() as stream:
            head = stream.read(4)
            if head[:2] == b"\x1f\x8b":
                stream.seek(0)
                try:
                    with gzip.GzipFile(fileobj=stream, mode="rb") as inner:
                        head = inner.read(4)
                except (OSError, EOFError):
                    raise InvalidInput(f"input {self.name}: compressed stream is corrupt") from None
        if head in CAPTURE_MAGICS or self.path is None:
            return "packets"
        return "flows"


class DigestStream(io.RawIOBase):
    """A read-only wrapper that hashes what is read and reports progress in bytes.

    ``seek(0)`` (the readers rewind once to detect gzip) restarts the digest.
    """

    def __init__(self, inner: BinaryIO, progress: Callable[[int], None] | None = None) -> None:
        super().__init__()
        self._inner = inner
        self._progress = progress
        self._hash = hashlib.sha256()
        self.bytes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._inner.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if offset != 0 or whence != io.SEEK_SET:
            raise io.UnsupportedOperation("an input can only be rewound to its start")
        self._inner.seek(0)
        if self._progress is not None and self.bytes:
            self._progress(-self.bytes)
        self._hash = hashlib.sha256()
        self.bytes = 0
        return 0

    def tell(self) -> int:
        return self.bytes

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        got = self._inner.readinto(target)  # type: ignore[attr-defined]
        if got:
            view = memoryview(target)[:got]
            self._hash.update(view)
            self.bytes += got
            if self._progress is not None:
                self._progress(got)
        return int(got or 0)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()


def file_digest(
    source: InputSource, progress: Callable[[int], None] | None = None
) -> tuple[str, int]:
    """SHA-256 and size of a file input, read once in chunks."""
    digest = hashlib.sha256()
    size = 0
    with source.open() as stream:
        while True:
            chunk = stream.read(HASH_CHUNK)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
            if progress is not None:
                progress(len(chunk))
    return digest.hexdigest(), size


def combined_digest(digests: list[str]) -> str:
    """The receipt's input digest: SHA-256 over the inputs' digests, one per line."""
    return hashlib.sha256("".join(d + "\n" for d in digests).encode("ascii")).hexdigest()
