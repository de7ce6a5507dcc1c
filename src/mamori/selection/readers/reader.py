"""Streaming capture reader: pcap or pcapng (optionally gzip-compressed) to batches.

Memory stays bounded whatever the file size: the input is seen through chunks
of ``chunk_size`` bytes (memory-mapped windows of a regular file, or buffers
read from a stream; a chunk grows only to hold one record, within
``max_record``/``max_block``), and each batch holds at most ``batch_size``
packets of one chunk. Only the batches a consumer keeps alive keep their chunk.

No partial output
-----------------
Structural errors (bad magic, truncated header, record or block length beyond
limits, mismatched block trailer, unknown interface, file ending inside a
record) raise :class:`CaptureFormatError` with the file offset and a reason.

* Batches leave only once the walk has passed the end of their chunk and the
  record straddling the boundary has been read whole. No batch of the chunk
  holding an error is yielded, and a capture that fits in one chunk yields
  nothing at all. The batches of one chunk are held meanwhile: at most
  ``chunk_size / 16`` packets' worth of columns.
* Batches before the error may already have been yielded. A consumer must treat
  a capture as one unit: stage what it derives from the batches and commit only
  once iteration has finished without an error. With ``validate_first=True``
  the reader walks the whole structure first (headers only, no decoding) and
  yields nothing unless the entire file is sound; that needs a path or a
  seekable stream and reads the file twice.
* A file that ends inside its last record is an error unless
  ``tolerate_truncated_tail=True``: then the incomplete record is dropped and
  ``stats.truncated_tail_offset`` says where it started.

Malformed packets inside a sound file are not file errors: each gets a
:class:`PacketStatus` and is counted in ``stats``.
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from .batch import PacketBatch
from .chunks import Chunks, OpenedSource
from .errors import CaptureFormatError
from .layout import STATUS_COUNT, Columns, PacketStatus
from .linktypes import LINKTYPE_MASK
from .pcapng import InterfaceTable, interface_description, section_header
from .walk import (
    ERROR_REASONS,
    R_BLOCK,
    R_FULL,
    R_NEED_MORE,
    U8_STATUS,
    U16_LINKTYPE,
    rd32,
    walk_pcap,
    walk_pcapng,
)

DEFAULT_BATCH_SIZE = 65_536
DEFAULT_CHUNK_SIZE = 8 << 20
PCAP_MAX_RECORD = 262_144  # libpcap's and Wireshark's largest classic-pcap record
PCAPNG_MAX_BLOCK = 16 << 20
PCAP_HEADER = 24

PCAP_MAGICS: dict[bytes, tuple[bool, bool]] = {  # magic -> (big endian, nanoseconds)
    b"\xa1\xb2\xc3\xd4": (True, False),
    b"\xd4\xc3\xb2\xa1": (False, False),
    b"\xa1\xb2\x3c\x4d": (True, True),
    b"\x4d\x3c\xb2\xa1": (False, True),
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"

Source = str | os.PathLike[str] | BinaryIO


@dataclass(slots=True)
class ReadStats:
    """What a reader saw, for receipts and statistics; never packet content."""

    format: str = ""
    """"pcap" or "pcapng"."""
    big_endian: bool = False
    """Byte order of the pcap file or of the last pcapng section."""
    nanosecond: bool = False
    """Classic pcap only: the file stores nanoseconds rather than microseconds."""
    compressed: bool = False
    sections: int = 0
    interfaces: int = 0
    packets: int = 0
    batches: int = 0
    status: dict[PacketStatus, int] = field(default_factory=lambda: dict.fromkeys(PacketStatus, 0))
    linktypes: dict[int, int] = field(default_factory=dict)
    """Packets per link type."""
    truncated_tail_offset: int | None = None
    """Where the dropped incomplete final record began (``tolerate_truncated_tail``)."""

    def _count(self, columns: Columns, count: int) -> None:
        self.packets += count
        self.batches += 1
        statuses = np.bincount(columns.u8[U8_STATUS, :count], minlength=STATUS_COUNT).tolist()
        for status in PacketStatus:
            self.status[status] += statuses[status]
        linktypes = columns.u16[U16_LINKTYPE, :count]
        first = int(linktypes[0]) if count else 0
        if count and not (linktypes != first).any():  # one interface, one link type
            self.linktypes[first] = self.linktypes.get(first, 0) + count
            return
        per_kind = np.bincount(linktypes)
        for kind in np.flatnonzero(per_kind).tolist():
            self.linktypes[kind] = self.linktypes.get(kind, 0) + int(per_kind[kind])


class _ColumnPool:
    """Column blocks for new batches, reusing those of batches nobody holds any more.

    A batch's fields are views of its blocks, and every NumPy view keeps a
    reference to the block that owns the memory; a block whose only references
    are this pool's can be cleared and filled again. A steady stream of batches
    that are dropped after use then allocates nothing, and never faults fresh
    pages in.
    """

    _BLOCKS = ("i64", "u8", "u16", "u32", "u64")
    _IDLE = 2  # the Columns slot and getrefcount's own argument

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._issued: list[tuple[Columns, int]] = []

    def _idle(self, columns: Columns) -> bool:
        return all(sys.getrefcount(getattr(columns, name)) <= self._IDLE for name in self._BLOCKS)

    def take(self) -> Columns:
        for k, (columns, used) in enumerate(self._issued):
            if self._idle(columns):
                del self._issued[k]
                for name in self._BLOCKS:
                    block = getattr(columns, name)
                    block.flags.writeable = True
                    block[:, :used] = 0
                return columns
        return Columns(self.capacity)

    def issued(self, columns: Columns, used: int) -> None:
        """``columns`` now backs a batch of ``used`` rows; it may come back later."""
        self._issued.append((columns, used))
        del self._issued[:-4]  # keep a few: a consumer holding many keeps its own


class CaptureReader:
    """Iterate over a capture as :class:`PacketBatch` objects; see the module doc."""

    def __init__(
        self,
        source: Source,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        tolerate_truncated_tail: bool = False,
        validate_first: bool = False,
        max_record: int = PCAP_MAX_RECORD,
        max_block: int = PCAPNG_MAX_BLOCK,
        memory_map: bool = True,
    ) -> None:
        if batch_size < 1 or chunk_size < 64:
            raise ValueError("batch_size must be positive and chunk_size at least 64")
        self.source = source
        self.batch_size = batch_size
        self.chunk_size = chunk_size
        self.tolerate_truncated_tail = tolerate_truncated_tail
        self.validate_first = validate_first
        self.max_record = max_record
        self.max_block = max_block
        self.memory_map = memory_map
        self.stats = ReadStats()

    def __iter__(self) -> Iterator[PacketBatch]:
        if self.validate_first:
            checking = _ColumnPool(self.batch_size)
            for columns, count, _buffer in self._walk(decode=False, pool=checking):
                checking.issued(columns, count)
        self.stats = ReadStats()
        pool = _ColumnPool(self.batch_size)
        for columns, count, buffer in self._walk(decode=True, pool=pool):
            self.stats._count(columns, count)
            batch = PacketBatch.from_columns(columns, count, buffer)
            pool.issued(columns, count)
            yield batch

    def _walk(
        self, *, decode: bool, pool: _ColumnPool | None = None
    ) -> Iterator[tuple[Columns, int, np.ndarray]]:
        source = OpenedSource(
            self.source, self.chunk_size, rewind=self.validate_first, memory_map=self.memory_map
        )
        try:
            self.stats.compressed = source.compressed
            yield from self._records(source.chunks, decode, pool or _ColumnPool(self.batch_size))
        finally:
            source.close()

    def _records(
        self, chunks: Chunks, decode: bool, pool: _ColumnPool
    ) -> Iterator[tuple[Columns, int, np.ndarray]]:
        stats = self.stats
        chunk = chunks.first()
        buf = chunk.data
        if len(buf) < 4:
            raise CaptureFormatError(0, "file is too short to be a capture")
        magic = bytes(buf[:4])
        pcapng = magic == PCAPNG_MAGIC
        big = nano = False
        linktype = 0
        pos = 0
        if pcapng:
            stats.format = "pcapng"
        elif magic in PCAP_MAGICS:
            stats.format = "pcap"
            big, nano = PCAP_MAGICS[magic]
            if len(buf) < PCAP_HEADER:
                raise CaptureFormatError(len(buf), "pcap file header is truncated")
            major, _minor = struct.unpack_from(">HH" if big else "<HH", buf.data, 4)
            if major != 2:
                raise CaptureFormatError(4, f"pcap major version {major} is not supported")
            linktype = rd32(buf, 20, big) & LINKTYPE_MASK
            stats.big_endian, stats.nanosecond = big, nano
            pos = PCAP_HEADER
        else:
            raise CaptureFormatError(0, "not a pcap or pcapng capture (unknown magic number)")
        interfaces = InterfaceTable()
        columns = pool.take()
        n = 0
        held: list[tuple[Columns, int, np.ndarray]] = []  # complete batches of this chunk
        while True:
            if pcapng:
                reason, pos, n, need = walk_pcapng(
                    buf, pos, len(buf), chunk.base, big, self.max_block, n, self.batch_size,
                    decode, interfaces.linktype, interfaces.snaplen, interfaces.per_second,
                    interfaces.ns_per_unit, interfaces.offset_ns, interfaces.count,
                    columns.i64, columns.u8, columns.u16, columns.u32, columns.u64,
                )  # fmt: skip
            else:
                reason, pos, n, need = walk_pcap(
                    buf, pos, len(buf), chunk.base, big, nano, linktype, self.max_record, n,
                    self.batch_size, decode,
                    columns.i64, columns.u8, columns.u16, columns.u32, columns.u64,
                )  # fmt: skip
            if reason == R_FULL:
                held.append((columns, n, buf))
                columns, n = pool.take(), 0
                continue
            if reason == R_BLOCK:
                block = memoryview(buf)[pos:]  # type: ignore[arg-type]
                result = self._pcapng_block(block, chunk.base + pos, big, interfaces)
                if isinstance(result, tuple):
                    big, length = result
                    pos += length
                    continue
                need = result
                reason = R_NEED_MORE
            if reason != R_NEED_MORE:
                raise CaptureFormatError(chunk.base + pos, ERROR_REASONS[reason])
            # Read ahead before handing out this chunk's batches: a file that ends
            # inside the next record then fails before any of them leaves.
            if chunk.eof:
                fresh, left = chunk, len(buf) - pos
            else:
                fresh = chunks.advance(chunk, pos, need)
                left = len(fresh.data)
            if fresh.eof and left < need:
                if left:
                    self._ends_inside_record(chunk.base + pos)
                if n:
                    held.append((columns, n, buf))
                yield from held
                return
            if n:
                held.append((columns, n, buf))
                columns, n = pool.take(), 0
            yield from held
            held = []
            chunk, buf, pos = fresh, fresh.data, 0

    def _ends_inside_record(self, offset: int) -> None:
        """The input ends inside a record: an error, or a dropped tail if tolerated."""
        if self.stats.format == "pcapng" and not self.stats.sections:
            raise CaptureFormatError(offset, "section header is truncated")
        if not self.tolerate_truncated_tail:
            raise CaptureFormatError(offset, "file ends inside a record")
        self.stats.truncated_tail_offset = offset

    def _pcapng_block(
        self, block: memoryview, offset: int, big: bool, interfaces: InterfaceTable
    ) -> tuple[bool, int] | int:
        """Handle a section header or interface description: ``(big, length)`` or bytes needed."""
        if bytes(block[:4]) == PCAPNG_MAGIC:
            result = section_header(block, offset, self.max_block)
            if isinstance(result, int):
                return result
            interfaces.reset()
            self.stats.sections += 1
            self.stats.big_endian = result[0]
            return result
        (length,) = struct.unpack_from(">I" if big else "<I", block, 4)
        interfaces.add(interface_description(block, offset, big), offset)
        self.stats.interfaces += 1
        return big, length


def iter_packet_batches(
    source: Source,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    tolerate_truncated_tail: bool = False,
    validate_first: bool = False,
) -> Iterator[PacketBatch]:
    """Batches of decoded headers from a pcap or pcapng file, detected by its magic."""
    return iter(
        CaptureReader(
            source,
            batch_size=batch_size,
            tolerate_truncated_tail=tolerate_truncated_tail,
            validate_first=validate_first,
        )
    )
