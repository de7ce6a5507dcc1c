"""Cut a capture into self-contained batches at record boundaries, for the queue.

Each piece is a valid capture of its own: a classic pcap piece is the file
header followed by whole records; a pcapng piece starts with the section header
(its section length rewritten to "unknown") and every interface description of
the section so far, followed by whole packet blocks and any interface
descriptions that appear among them. A new section always starts a new piece.
Blocks that selection never reads — name resolution, interface statistics,
decryption secrets, custom blocks — are left out, so they never cross the broker.

The input is seen through the readers' chunking (:class:`~..readers.chunks.OpenedSource`:
memory-mapped windows, or buffered reads of a gzip-compressed file), so memory
stays bounded by one window and one piece. Structure errors raise
:class:`~..readers.errors.CaptureFormatError` with the offset (in the
uncompressed stream) and a reason, never bytes.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from mamori.errors import InvalidInput

from ..readers.chunks import Chunk, Chunks, OpenedSource
from ..readers.errors import CaptureFormatError
from ..readers.pcapng import section_header
from ..readers.reader import (
    PCAP_HEADER,
    PCAP_MAGICS,
    PCAP_MAX_RECORD,
    PCAPNG_MAGIC,
    PCAPNG_MAX_BLOCK,
)

WINDOW = 4 << 20
MIN_BYTES = 4096
PCAP_RECORD_HEADER = 16
BLOCK_MIN = 12
IDB, SPB, EPB, OBSOLETE_PB = 1, 3, 6, 2
PACKET_BLOCKS = frozenset({SPB, EPB, OBSOLETE_PB})
UNKNOWN_SECTION_LENGTH = b"\xff" * 8

Source = str | os.PathLike[str] | BinaryIO


@dataclass(frozen=True, repr=False)
class Piece:
    """One batch of a capture: the bytes of a self-contained pcap or pcapng file."""

    data: bytes
    packets: int
    format: str
    offset: int
    """Offset of the piece's first record in the (uncompressed) input."""

    def __repr__(self) -> str:
        return f"Piece(format={self.format!r}, packets={self.packets}, bytes={len(self.data)})"


class _Cursor:
    """Sequential reads over the readers' chunks, carrying a record across windows."""

    def __init__(self, chunks: Chunks) -> None:
        self._chunks = chunks
        self._chunk: Chunk = chunks.first()
        self._pos = 0

    @property
    def offset(self) -> int:
        return self._chunk.base + self._pos

    def peek(self, need: int) -> bytes:
        """Up to ``need`` bytes from here (fewer only at the end of the input)."""
        if len(self._chunk.data) - self._pos < need and not self._chunk.eof:
            self._chunk = self._chunks.advance(self._chunk, self._pos, need)
            self._pos = 0
        return bytes(self._chunk.data[self._pos : self._pos + need])

    def take(self, count: int) -> bytes:
        data = self.peek(count)
        self._pos += len(data)
        return data

    def at_end(self) -> bool:
        return not self.peek(1)


class _Batcher:
    """Accumulates records into pieces within the packet and byte limits."""

    def __init__(self, fmt: str, max_packets: int, max_bytes: int) -> None:
        self.format = fmt
        self.max_packets = max_packets
        self.max_bytes = max_bytes
        self.parts: list[bytes] = []
        self.size = 0
        self.packets = 0
        self.offset = 0
        self.emitted = 0

    @property
    def open(self) -> bool:
        return bool(self.parts)

    def fits(self, length: int) -> bool:
        return self.size + length <= self.max_bytes

    def start(self, prefix: bytes, offset: int) -> None:
        self.parts, self.size, self.packets, self.offset = [prefix], len(prefix), 0, offset

    def add(self, record: bytes, packet: bool) -> None:
        self.parts.append(record)
        self.size += len(record)
        self.packets += int(packet)

    def full(self, length: int) -> bool:
        return self.packets >= self.max_packets or not self.fits(length)

    def cut(self) -> Piece:
        assert self.parts, "cut() of a batch that was never started"
        piece = Piece(b"".join(self.parts), self.packets, self.format, self.offset)
        self.parts, self.size, self.packets = [], 0, 0
        self.emitted += 1
        return piece

    def too_large(self, offset: int) -> InvalidInput:
        return InvalidInput(
            f"capture record at byte offset {offset} does not fit in one queued batch of "
            f"{self.max_bytes} bytes (the broker's message size limit)"
        )


def split_capture(source: Source, *, max_packets: int, max_bytes: int) -> Iterator[Piece]:
    """Pieces of at most ``max_packets`` packets and ``max_bytes`` bytes, in order.

    A capture without packets yields one piece holding its headers.
    """
    if max_packets < 1:
        raise InvalidInput("--batch-packets: at least 1")
    if max_bytes < MIN_BYTES:
        raise InvalidInput(f"a queued batch needs room for at least {MIN_BYTES} bytes")
    opened = OpenedSource(source, WINDOW, rewind=False)
    try:
        cursor = _Cursor(opened.chunks)
        magic = cursor.peek(4)
        if len(magic) < 4:
            raise CaptureFormatError(0, "file is too short to be a capture")
        if magic == PCAPNG_MAGIC:
            yield from _pcapng(cursor, max_packets, max_bytes)
        elif magic in PCAP_MAGICS:
            yield from _pcap(cursor, max_packets, max_bytes)
        else:
            raise CaptureFormatError(0, "not a pcap or pcapng capture (unknown magic number)")
    finally:
        opened.close()


def _pcap(cursor: _Cursor, max_packets: int, max_bytes: int) -> Iterator[Piece]:
    header = cursor.take(PCAP_HEADER)
    if len(header) < PCAP_HEADER:
        raise CaptureFormatError(len(header), "pcap file header is truncated")
    big, _nano = PCAP_MAGICS[header[:4]]
    order = ">" if big else "<"
    (major,) = struct.unpack_from(order + "H", header, 4)
    if major != 2:
        raise CaptureFormatError(4, f"pcap major version {major} is not supported")
    batch = _Batcher("pcap", max_packets, max_bytes)
    while not cursor.at_end():
        offset = cursor.offset
        head = cursor.peek(PCAP_RECORD_HEADER)
        if len(head) < PCAP_RECORD_HEADER:
            raise CaptureFormatError(offset, "file ends inside a record")
        (captured,) = struct.unpack_from(order + "I", head, 8)
        if captured > PCAP_MAX_RECORD:
            raise CaptureFormatError(offset + 8, "record length exceeds the limit")
        record = cursor.take(PCAP_RECORD_HEADER + captured)
        if len(record) < PCAP_RECORD_HEADER + captured:
            raise CaptureFormatError(offset, "file ends inside a record")
        if batch.open and batch.full(len(record)):
            yield batch.cut()
        if not batch.open:
            batch.start(header, offset)
            if not batch.fits(len(record)):
                raise batch.too_large(offset)
        batch.add(record, packet=True)
    if batch.open:
        yield batch.cut()
    elif not batch.emitted:
        yield Piece(header, 0, "pcap", PCAP_HEADER)


def _block(cursor: _Cursor, big: bool) -> tuple[int, bytes]:
    """The type and bytes of the (non-section-header) block at the cursor."""
    offset = cursor.offset
    order = ">" if big else "<"
    head = cursor.peek(8)
    if len(head) < 8:
        raise CaptureFormatError(offset, "file ends inside a record")
    kind, length = struct.unpack(order + "II", head)
    if length < BLOCK_MIN or length % 4:
        raise CaptureFormatError(offset + 4, "block length is invalid")
    if length > PCAPNG_MAX_BLOCK:
        raise CaptureFormatError(offset + 4, "block length exceeds the limit")
    block = cursor.take(length)
    if len(block) < length:
        raise CaptureFormatError(offset, "file ends inside a record")
    (trailer,) = struct.unpack_from(order + "I", block, length - 4)
    if trailer != length:
        raise CaptureFormatError(offset + length - 4, "block trailing length does not match")
    return kind, block


def _section(cursor: _Cursor) -> tuple[bool, bytes]:
    """Byte order and bytes (section length made unknown) of a section header block."""
    offset = cursor.offset
    result = section_header(memoryview(cursor.peek(BLOCK_MIN)), offset, PCAPNG_MAX_BLOCK)
    if isinstance(result, int):
        result = section_header(memoryview(cursor.peek(result)), offset, PCAPNG_MAX_BLOCK)
        if isinstance(result, int):
            raise CaptureFormatError(offset, "section header is truncated")
    big, length = result
    block = cursor.take(length)
    return big, block[:16] + UNKNOWN_SECTION_LENGTH + block[24:]


def _pcapng(cursor: _Cursor, max_packets: int, max_bytes: int) -> Iterator[Piece]:
    batch = _Batcher("pcapng", max_packets, max_bytes)
    big = False
    section = b""
    while not cursor.at_end():
        offset = cursor.offset
        if cursor.peek(4) == PCAPNG_MAGIC:
            if batch.open:
                yield batch.cut()
            big, section = _section(cursor)
            continue
        kind, block = _block(cursor, big)
        if kind == IDB:
            if batch.open and batch.fits(len(block)):
                batch.add(block, packet=False)
            elif batch.open:
                yield batch.cut()
            section += block
        elif kind in PACKET_BLOCKS:
            if batch.open and batch.full(len(block)):
                yield batch.cut()
            if not batch.open:
                batch.start(section, offset)
                if not batch.fits(len(block)):
                    raise batch.too_large(offset)
            batch.add(block, packet=True)
    if batch.open:
        yield batch.cut()
    elif not batch.emitted:
        yield Piece(section, 0, "pcapng", 0)
