"""Column layout of a batch and the meaning of its status and flag codes.

Header fields of a batch live in five 2-D arrays, one per element type, each row a
contiguous column (row numbers are defined beside the compiled code in
:mod:`.walk`). The walkers fill rows by index; :class:`PacketBatch` hands out
row views. One array per type lets a single compiled signature serve both
capture formats.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

import numpy as np

from . import walk


class PacketStatus(IntEnum):
    """Why a packet was or was not decoded. Packet problems are not file errors."""

    OK = walk.ST_OK
    """All headers present up to the transport header (payload may be cut by snaplen)."""
    NOT_IP = walk.ST_NOT_IP
    """The link layer was decoded but carries neither IPv4 nor IPv6 (ARP, STP, ...)."""
    UNSUPPORTED_LINK = walk.ST_UNSUPPORTED_LINK
    """The interface's link type is not one the readers decode."""
    TRUNCATED = walk.ST_TRUNCATED
    """The captured bytes end inside a header; fields decoded before that point stay set."""
    MALFORMED = walk.ST_MALFORMED
    """A header contradicts itself (unknown IP version, header length below minimum, ...)."""


class PacketFlag(IntFlag):
    """Per-packet bits telling which optional fields carry values."""

    PORTS = walk.FL_PORTS
    """``sport``/``dport`` hold TCP, UDP, UDP-Lite, SCTP or DCCP ports."""
    ICMP = walk.FL_ICMP
    """``icmp_type``/``icmp_code`` hold an ICMP or ICMPv6 type and code."""
    FRAGMENT = walk.FL_FRAGMENT
    """An IP fragment (MF set, offset above zero, or an IPv6 fragment header)."""
    MORE_FRAGMENTS = walk.FL_MORE_FRAGMENTS
    DONT_FRAGMENT = walk.FL_DONT_FRAGMENT
    PAYLOAD = walk.FL_PAYLOAD
    """``payload_offset``/``payload_length`` delimit the transport payload in the buffer."""


STATUS_COUNT = walk.ST_COUNT


class Columns:
    """The five typed column blocks of one batch, zero-filled."""

    __slots__ = ("i64", "u8", "u16", "u32", "u64")

    def __init__(self, capacity: int) -> None:
        self.i64 = np.zeros((walk.I64_ROWS, capacity), dtype=np.int64)
        self.u64 = np.zeros((walk.U64_ROWS, capacity), dtype=np.uint64)
        self.u32 = np.zeros((walk.U32_ROWS, capacity), dtype=np.uint32)
        self.u16 = np.zeros((walk.U16_ROWS, capacity), dtype=np.uint16)
        self.u8 = np.zeros((walk.U8_ROWS, capacity), dtype=np.uint8)

    def freeze(self) -> None:
        for block in (self.i64, self.u64, self.u32, self.u16, self.u8):
            block.flags.writeable = False
