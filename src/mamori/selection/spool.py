"""Encrypted staging of inputs that do not arrive as files (stdin, a queued batch).

A :class:`SpoolFile` is written as AES-256-GCM frames under a random key that
exists only in this process's memory and only for one batch. Reading it back
decrypts frame by frame into memory; :meth:`SpoolFile.shred` deletes the file and
forgets the key, after which the bytes that may linger on disk (in free blocks,
a journal or a backup) are ciphertext under a key that no longer exists:
crypto-shredding. Nothing else is ever written to disk.

A process killed mid-batch cannot shred: its file stays behind as ciphertext whose key
died with the process. Files are named after the owning process id, and
:func:`sweep_orphans` (run when a worker or a stdin run starts) deletes those whose
process is gone.

File layout: ``MAGIC`` (8 bytes), then frames ``length (u32 BE) || ciphertext+tag``.
Frame *i* is encrypted with nonce ``i`` (96-bit big-endian) and associated data
``MAGIC || i || final``, so frames cannot be reordered, dropped or truncated
without the read failing.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mamori.errors import InvalidInput

MAGIC = b"MSPOOL01"
FRAME = 1 << 20
_LEN = struct.Struct(">I")


class SpoolError(InvalidInput):
    """A spool file cannot be read back (tampered, truncated, or its key is gone)."""


def _aad(index: int, final: bool) -> bytes:
    return MAGIC + struct.pack(">QB", index, 1 if final else 0)


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


class SpoolFile:
    """One staged input under a per-batch key held only by this object."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = directory / f"{os.getpid()}-{secrets.token_hex(16)}.spool"
        self._key: bytearray | None = bytearray(AESGCM.generate_key(bit_length=256))
        self._index = 0
        self._pending = bytearray()
        self._closed = False
        self.size = 0
        """Plaintext bytes staged."""
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._out: BinaryIO | None = os.fdopen(fd, "wb")
        self._out.write(MAGIC)

    def __repr__(self) -> str:
        return f"SpoolFile(size={self.size}, shredded={self._key is None})"

    def _cipher(self) -> AESGCM:
        if self._key is None:
            raise SpoolError("the spool key has been destroyed: the staged input is gone")
        return AESGCM(bytes(self._key))

    def _emit(self, chunk: bytes, final: bool) -> None:
        assert self._out is not None
        sealed = self._cipher().encrypt(_nonce(self._index), chunk, _aad(self._index, final))
        self._out.write(_LEN.pack(len(sealed)))
        self._out.write(sealed)
        self._index += 1

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._closed:
            raise ValueError("spool file already finished")
        self._pending += data
        self.size += len(data)
        while len(self._pending) > FRAME:
            self._emit(bytes(self._pending[:FRAME]), final=False)
            del self._pending[:FRAME]
        return len(data)

    def finish(self) -> SpoolFile:
        """Write the final frame and close the file; returns self."""
        if not self._closed:
            self._emit(bytes(self._pending), final=True)
            self._pending = bytearray()
            assert self._out is not None
            self._out.flush()
            os.fsync(self._out.fileno())
            self._out.close()
            self._out = None
            self._closed = True
        return self

    def open(self) -> BinaryIO:
        """A readable, rewindable stream of the plaintext, decrypted frame by frame."""
        if not self._closed:
            raise ValueError("finish the spool file before reading it")
        return cast(BinaryIO, _SpoolReader(self.path, self._cipher()))

    def shred(self) -> None:
        """Delete the file and destroy the key (idempotent)."""
        if self._out is not None:
            self._out.close()
            self._out = None
        self._closed = True
        self._pending = bytearray()
        if self._key is not None:
            for i in range(len(self._key)):
                self._key[i] = 0
            self._key = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    @property
    def shredded(self) -> bool:
        return self._key is None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def sweep_orphans(directory: Path) -> int:
    """Delete spool files whose owning process no longer runs; returns how many.

    Their keys died with their processes, so this removes ciphertext nobody can read;
    a name that does not carry a process id (not ours) is left alone."""
    removed = 0
    if not directory.is_dir():
        return 0
    for path in directory.glob("*.spool"):
        owner, _, rest = path.stem.partition("-")
        if not owner.isdigit() or not rest:
            continue
        pid = int(owner)
        if pid == os.getpid() or _alive(pid):
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    return removed


def spool_stream(
    source: BinaryIO | Iterable[bytes], directory: Path, *, limit: int | None = None
) -> SpoolFile:
    """Stage a stream or an iterable of chunks; shreds what it wrote on any failure."""
    spool = SpoolFile(directory)
    try:
        if hasattr(source, "read"):
            while True:
                chunk = source.read(FRAME)
                if not chunk:
                    break
                spool.write(chunk)
                if limit is not None and spool.size > limit:
                    raise InvalidInput(f"staged input exceeds {limit} bytes")
        else:
            for chunk in source:
                spool.write(chunk)
                if limit is not None and spool.size > limit:
                    raise InvalidInput(f"staged input exceeds {limit} bytes")
        return spool.finish()
    except BaseException:
        spool.shred()
        raise


class _SpoolReader(io.RawIOBase):
    """Decrypts frames on demand; ``seek(0)`` starts again from the first frame."""

    def __init__(self, path: Path, cipher: AESGCM) -> None:
        super().__init__()
        self._path = path
        self._cipher = cipher
        self._file: BinaryIO = open(path, "rb")  # noqa: SIM115
        self._start()

    def _start(self) -> None:
        self._file.seek(0)
        if self._file.read(len(MAGIC)) != MAGIC:
            raise SpoolError("spool file has no valid header")
        self._index = 0
        self._buffer = b""
        self._offset = 0
        self._done = False
        self._position = 0

    def _next_frame(self) -> None:
        head = self._file.read(_LEN.size)
        if len(head) < _LEN.size:
            raise SpoolError("spool file is truncated (no final frame)")
        (length,) = _LEN.unpack(head)
        if length > FRAME + 16:
            raise SpoolError(f"spool frame {self._index} has an impossible length")
        sealed = self._file.read(length)
        if len(sealed) < length:
            raise SpoolError(f"spool frame {self._index} is truncated")
        for final in (False, True):
            try:
                plain = self._cipher.decrypt(_nonce(self._index), sealed, _aad(self._index, final))
            except InvalidTag:
                continue
            self._index += 1
            self._buffer, self._offset = plain, 0
            if final:
                self._done = True
                if self._file.read(1):
                    raise SpoolError("spool file has data after its final frame")
            return
        raise SpoolError(f"spool frame {self._index} does not authenticate")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence != io.SEEK_SET or offset != 0:
            raise io.UnsupportedOperation("a spool stream can only be rewound to its start")
        self._start()
        return 0

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(target).cast("B")
        while self._offset >= len(self._buffer):
            if self._done:
                return 0
            self._next_frame()
        count = min(len(view), len(self._buffer) - self._offset)
        view[:count] = self._buffer[self._offset : self._offset + count]
        self._offset += count
        self._position += count
        return count

    def close(self) -> None:
        if not self.closed:
            self._file.close()
            self._buffer = b""
        super().close()
