"""pcapng section headers and interface descriptions, parsed on the Python side.

These blocks are rare (one per section or interface), so they are read with
``struct`` while the packet blocks between them go through the compiled walker.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from .errors import CaptureFormatError

BOM_BIG = b"\x1a\x2b\x3c\x4d"
BOM_LITTLE = b"\x4d\x3c\x2b\x1a"
SHB_MIN = 28
IDB_MIN = 20
OPT_END = 0
OPT_IF_TSRESOL = 9
OPT_IF_TSOFFSET = 14
MAX_INTERFACES = 65535  # the batch stores interface ids as uint16
NS_PER_S = 1_000_000_000


@dataclass(frozen=True, slots=True)
class InterfaceDescription:
    """What a packet needs from its interface: link type, snap length and clock."""

    linktype: int
    snaplen: int
    per_second: int  # timestamp units per second (if_tsresol, default microseconds)
    offset_s: int  # if_tsoffset, seconds added to every timestamp

    @property
    def ns_per_unit(self) -> int:
        """Nanoseconds per unit when that is a whole number, else 0 (divide instead)."""
        return NS_PER_S // self.per_second if NS_PER_S % self.per_second == 0 else 0


class InterfaceTable:
    """Interfaces of the current section as arrays the walker can index."""

    def __init__(self) -> None:
        self.count = 0
        self._grow(8)

    def _grow(self, capacity: int) -> None:
        def extend(old: np.ndarray | None, dtype: type) -> np.ndarray:
            new: np.ndarray = np.zeros(capacity, dtype=dtype)
            if old is not None:
                new[: self.count] = old[: self.count]
            return new

        self.linktype = extend(getattr(self, "linktype", None), np.int64)
        self.snaplen = extend(getattr(self, "snaplen", None), np.int64)
        self.per_second = extend(getattr(self, "per_second", None), np.uint64)
        self.ns_per_unit = extend(getattr(self, "ns_per_unit", None), np.int64)
        self.offset_ns = extend(getattr(self, "offset_ns", None), np.int64)

    def reset(self) -> None:
        self.count = 0

    def add(self, desc: InterfaceDescription, offset: int) -> None:
        if self.count >= MAX_INTERFACES:
            raise CaptureFormatError(offset, "more than 65535 interfaces in one section")
        if self.count == len(self.linktype):
            self._grow(len(self.linktype) * 2)
        k = self.count
        self.linktype[k] = desc.linktype
        self.snaplen[k] = desc.snaplen
        self.per_second[k] = desc.per_second
        self.ns_per_unit[k] = desc.ns_per_unit
        self.offset_ns[k] = np.int64(desc.offset_s) * NS_PER_S if abs(desc.offset_s) < 2**33 else 0
        self.count += 1


def section_header(data: memoryview, offset: int, max_block: int) -> tuple[bool, int] | int:
    """Byte order and length of the section header block at the start of ``data``.

    Returns ``(big_endian, block_length)``, or the number of bytes needed when
    ``data`` holds less than the whole block.
    """
    if len(data) < 12:
        return 12
    bom = bytes(data[8:12])
    if bom == BOM_BIG:
        big = True
    elif bom == BOM_LITTLE:
        big = False
    else:
        raise CaptureFormatError(offset + 8, "section header byte-order magic is invalid")
    order = ">" if big else "<"
    (blen,) = struct.unpack_from(order + "I", data, 4)
    if blen < SHB_MIN or blen % 4:
        raise CaptureFormatError(offset + 4, "section header length is invalid")
    if blen > max_block:
        raise CaptureFormatError(offset + 4, "section header length exceeds the limit")
    if len(data) < blen:
        return blen
    (trailer,) = struct.unpack_from(order + "I", data, blen - 4)
    if trailer != blen:
        raise CaptureFormatError(offset + blen - 4, "block trailing length does not match")
    (major,) = struct.unpack_from(order + "H", data, 12)
    if major != 1:
        raise CaptureFormatError(offset + 12, f"pcapng major version {major} is not supported")
    return big, blen


def _resolution(value: int, offset: int) -> int:
    exponent = value & 0x7F
    if value & 0x80:
        if exponent > 63:
            raise CaptureFormatError(offset, "interface timestamp resolution is out of range")
        return 1 << exponent
    if exponent > 19:
        raise CaptureFormatError(offset, "interface timestamp resolution is out of range")
    return 10**exponent


def interface_description(data: memoryview, offset: int, big: bool) -> InterfaceDescription:
    """Parse a whole interface description block (length already validated)."""
    order = ">" if big else "<"
    (blen,) = struct.unpack_from(order + "I", data, 4)
    if blen < IDB_MIN:
        raise CaptureFormatError(offset + 4, "interface description block is too short")
    linktype, _reserved, snaplen = struct.unpack_from(order + "HHI", data, 8)
    per_second = 1_000_000
    offset_s = 0
    pos = 16
    end = blen - 4
    while pos + 4 <= end:
        code, length = struct.unpack_from(order + "HH", data, pos)
        if code == OPT_END:
            break
        value = pos + 4
        if value + length > end:
            raise CaptureFormatError(offset + pos, "interface option overruns its block")
        if code == OPT_IF_TSRESOL and length >= 1:
            per_second = _resolution(data[value], offset + value)
        elif code == OPT_IF_TSOFFSET and length >= 8:
            (offset_s,) = struct.unpack_from(order + "q", data, value)
        pos = value + length + (-length % 4)
    return InterfaceDescription(linktype, snaplen, per_second, offset_s)
