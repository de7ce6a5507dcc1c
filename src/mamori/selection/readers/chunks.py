"""Bounded windows over a capture: memory-mapped for regular files, read otherwise.

A :class:`Chunk` is a read-only ``uint8`` array over part of the input and the
input offset of its first byte. The record walkers read a chunk in place, so
for a regular file no packet byte is ever copied: the chunk is a window of a
memory map, released when the last batch referring to it is dropped. Pipes,
sockets, arbitrary binary streams and gzip-compressed captures are read into
fresh buffers instead. Either way at most one window of ``size`` bytes (grown
only to hold one record, within the record limit) is held by the reader.
"""

from __future__ import annotations

import gzip
import mmap
import os
import stat
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Protocol

import numpy as np

from .errors import CaptureFormatError, CaptureSourceError

GZIP_MAGIC = b"\x1f\x8b"
# Fault the whole window in with one call rather than one page at a time.
MAP_FLAGS = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)


@dataclass(frozen=True, slots=True)
class Chunk:
    data: np.ndarray
    """Read-only bytes of the input from ``base`` on."""
    base: int
    eof: bool
    """``data`` reaches the end of the input."""


class Chunks(Protocol):
    def first(self) -> Chunk: ...

    def advance(self, chunk: Chunk, pos: int, need: int) -> Chunk:
        """A chunk starting at ``chunk.base + pos`` holding ``need`` bytes if the input has them."""
        ...


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


class MappedChunks:
    """Windows of a memory-mapped regular file."""

    def __init__(self, fileno: int, size: int, window: int) -> None:
        self.fileno = fileno
        self.size = size
        self.window = window

    def _map(self, target: int, need: int) -> Chunk:
        start = target - target % mmap.ALLOCATIONGRANULARITY
        length = min(self.size - start, max(self.window, target - start + need))
        try:
            view = mmap.mmap(
                self.fileno, length, flags=MAP_FLAGS, prot=mmap.PROT_READ, offset=start
            )
        except (OSError, ValueError) as exc:
            raise CaptureSourceError(f"cannot map the file at offset {start}") from exc
        if hasattr(mmap, "MADV_SEQUENTIAL"):
            view.madvise(mmap.MADV_SEQUENTIAL)
        data = np.frombuffer(view, dtype=np.uint8, offset=target - start)
        return Chunk(_readonly(data), target, start + length >= self.size)

    def first(self) -> Chunk:
        return self._map(0, 0)

    def advance(self, chunk: Chunk, pos: int, need: int) -> Chunk:
        return self._map(chunk.base + pos, need)


class StreamChunks:
    """Consecutive reads of a stream into fresh buffers (the tail carried over)."""

    def __init__(self, stream: BinaryIO, size: int) -> None:
        self.stream = stream
        self.size = size

    def _fill(self, buf: np.ndarray, start: int, base: int) -> int:
        view = memoryview(buf)[start:]  # type: ignore[arg-type]
        total = 0
        try:
            while total < len(view):
                got = self.stream.readinto(view[total:])  # type: ignore[attr-defined]
                if not got:
                    break
                total += got
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise CaptureFormatError(base + start + total, "compressed stream is corrupt") from exc
        except OSError as exc:
            raise CaptureSourceError(exc.strerror or type(exc).__name__) from exc
        return total

    def first(self) -> Chunk:
        buf = np.empty(self.size, dtype=np.uint8)
        got = self._fill(buf, 0, 0)
        return Chunk(_readonly(buf[:got]), 0, got < self.size)

    def advance(self, chunk: Chunk, pos: int, need: int) -> Chunk:
        tail = len(chunk.data) - pos
        size = max(self.size, need)
        buf = np.empty(size, dtype=np.uint8)
        buf[:tail] = chunk.data[pos:]
        got = self._fill(buf, tail, chunk.base + pos)
        return Chunk(_readonly(buf[: tail + got]), chunk.base + pos, tail + got < size)


class OpenedSource:
    """A capture source opened for one pass; closes what it opened."""

    def __init__(
        self,
        source: str | os.PathLike[str] | BinaryIO,
        window: int,
        *,
        rewind: bool,
        memory_map: bool = True,
    ) -> None:
        self._owned: list[BinaryIO] = []
        self.compressed = False
        if isinstance(source, str | os.PathLike):
            try:
                stream: BinaryIO = open(source, "rb", buffering=0)  # noqa: SIM115
            except OSError as exc:
                raise CaptureSourceError(exc.strerror or type(exc).__name__) from exc
            self._owned.append(stream)
        else:
            stream = source
            if rewind:
                if not stream.seekable():
                    raise CaptureSourceError("the stream cannot be read twice (not seekable)")
                stream.seek(0)
        try:
            self.chunks: Chunks = self._chunks(stream, window, memory_map)
        except BaseException:
            self.close()
            raise

    def _chunks(self, stream: BinaryIO, window: int, memory_map: bool) -> Chunks:
        size = self._regular_size(stream) if memory_map else None
        if size is not None and size >= 4:
            with mmap.mmap(stream.fileno(), 2, access=mmap.ACCESS_READ) as head:
                compressed = head[:2] == GZIP_MAGIC
            if not compressed:
                return MappedChunks(stream.fileno(), size, window)
        else:
            probe = StreamChunks(stream, window).first()
            compressed = bytes(probe.data[:2]) == GZIP_MAGIC
            if not compressed:
                return _Replay(StreamChunks(stream, window), probe)
        if not stream.seekable():
            raise CaptureSourceError("a compressed stream must be seekable")
        stream.seek(0)
        inner = gzip.GzipFile(fileobj=stream, mode="rb")
        self._owned.insert(0, inner)  # type: ignore[arg-type]
        self.compressed = True
        return StreamChunks(inner, window)  # type: ignore[arg-type]

    @staticmethod
    def _regular_size(stream: BinaryIO) -> int | None:
        try:
            info = os.fstat(stream.fileno())
        except (AttributeError, OSError, ValueError):
            return None
        if not stat.S_ISREG(info.st_mode) or (stream.seekable() and stream.tell() != 0):
            return None
        return info.st_size

    def close(self) -> None:
        for owned in self._owned:
            owned.close()


class _Replay:
    """Stream chunks whose first chunk was already read while probing for gzip."""

    def __init__(self, inner: StreamChunks, first: Chunk) -> None:
        self.inner = inner
        self._first = first

    def first(self) -> Chunk:
        return self._first

    def advance(self, chunk: Chunk, pos: int, need: int) -> Chunk:
        return self.inner.advance(chunk, pos, need)
