"""One batch of decoded packet headers over the chunk buffer they came from.

Every field is a read-only NumPy column of length ``count``. Addresses are
numbers so a matcher can ``searchsorted`` against sorted selector arrays:
IPv4 as ``uint32`` (``src4``/``dst4``, valid where ``family == 4``), IPv6 as two
``uint64`` halves (``src6_hi``/``src6_lo``, valid where ``family == 6``).
Offsets point into ``buffer``; packet bytes are never copied out of it, and they
live only as long as the batch does. ``repr`` shows counts, never bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layout import STATUS_COUNT, Columns, PacketFlag, PacketStatus
from .walk import (
    I64_RECORD_OFFSET,
    I64_TS_NS,
    U8_FAMILY,
    U8_FLAGS,
    U8_ICMP_CODE,
    U8_ICMP_TYPE,
    U8_PROTO,
    U8_STATUS,
    U8_TTL,
    U8_VLAN_COUNT,
    U16_DPORT,
    U16_FRAG_OFF,
    U16_IFACE,
    U16_LINKTYPE,
    U16_SPORT,
    U16_TCP_FLAGS,
    U16_VLAN_INNER,
    U16_VLAN_OUTER,
    U32_CAP_LEN,
    U32_DATA_OFF,
    U32_DST4,
    U32_FRAG_ID,
    U32_IP_LEN,
    U32_L3_OFF,
    U32_L4_OFF,
    U32_PAYLOAD_LEN,
    U32_PAYLOAD_OFF,
    U32_SRC4,
    U32_WIRE_LEN,
    U64_DST6_HI,
    U64_DST6_LO,
    U64_SRC6_HI,
    U64_SRC6_LO,
)


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class PacketBatch:
    """Header fields of up to ``batch_size`` consecutive packets of one capture."""

    count: int
    buffer: np.ndarray
    """The chunk the packets were read from (uint8, read-only)."""
    ts_ns: np.ndarray
    """Capture time, nanoseconds since the Unix epoch (0 for pcapng simple packets)."""
    record_offset: np.ndarray
    """File offset of each record (pcap record header or pcapng block), for diagnostics."""
    interface: np.ndarray
    linktype: np.ndarray
    wire_len: np.ndarray
    cap_len: np.ndarray
    status: np.ndarray
    """A :class:`PacketStatus` per packet."""
    flags: np.ndarray
    """:class:`PacketFlag` bits per packet."""
    family: np.ndarray
    """0 (no IP header decoded), 4 or 6: which address columns hold values."""
    src4: np.ndarray
    dst4: np.ndarray
    src6_hi: np.ndarray
    src6_lo: np.ndarray
    dst6_hi: np.ndarray
    dst6_lo: np.ndarray
    proto: np.ndarray
    """Upper-layer protocol after IPv6 extension headers and AH (6 TCP, 17 UDP, ...)."""
    ttl: np.ndarray
    """IPv4 TTL or IPv6 hop limit."""
    ip_len: np.ndarray
    """IPv4 total length or IPv6 payload length + 40 as written in the header."""
    sport: np.ndarray
    dport: np.ndarray
    tcp_flags: np.ndarray
    """The 12 TCP flag bits (FIN 0x001 ... NS 0x100) for TCP packets."""
    icmp_type: np.ndarray
    icmp_code: np.ndarray
    frag_id: np.ndarray
    """IPv4 identification or IPv6 fragment-header identification."""
    frag_offset: np.ndarray
    """Fragment offset in bytes; non-first fragments carry no transport header."""
    vlan_count: np.ndarray
    vlan_outer: np.ndarray
    vlan_inner: np.ndarray
    data_offset: np.ndarray
    """Start of the captured frame in ``buffer``."""
    l3_offset: np.ndarray
    l4_offset: np.ndarray
    payload_offset: np.ndarray
    payload_length: np.ndarray
    """The transport payload's captured bytes in ``buffer`` (see ``PacketFlag.PAYLOAD``)."""

    @classmethod
    def from_columns(cls, columns: Columns, count: int, buffer: np.ndarray) -> PacketBatch:
        columns.freeze()
        i64, u64, u32, u16, u8 = columns.i64, columns.u64, columns.u32, columns.u16, columns.u8
        view = buffer.view()
        view.flags.writeable = False
        return cls(
            count=count,
            buffer=view,
            ts_ns=i64[I64_TS_NS, :count],
            record_offset=i64[I64_RECORD_OFFSET, :count],
            interface=u16[U16_IFACE, :count],
            linktype=u16[U16_LINKTYPE, :count],
            wire_len=u32[U32_WIRE_LEN, :count],
            cap_len=u32[U32_CAP_LEN, :count],
            status=u8[U8_STATUS, :count],
            flags=u8[U8_FLAGS, :count],
            family=u8[U8_FAMILY, :count],
            src4=u32[U32_SRC4, :count],
            dst4=u32[U32_DST4, :count],
            src6_hi=u64[U64_SRC6_HI, :count],
            src6_lo=u64[U64_SRC6_LO, :count],
            dst6_hi=u64[U64_DST6_HI, :count],
            dst6_lo=u64[U64_DST6_LO, :count],
            proto=u8[U8_PROTO, :count],
            ttl=u8[U8_TTL, :count],
            ip_len=u32[U32_IP_LEN, :count],
            sport=u16[U16_SPORT, :count],
            dport=u16[U16_DPORT, :count],
            tcp_flags=u16[U16_TCP_FLAGS, :count],
            icmp_type=u8[U8_ICMP_TYPE, :count],
            icmp_code=u8[U8_ICMP_CODE, :count],
            frag_id=u32[U32_FRAG_ID, :count],
            frag_offset=u16[U16_FRAG_OFF, :count],
            vlan_count=u8[U8_VLAN_COUNT, :count],
            vlan_outer=u16[U16_VLAN_OUTER, :count],
            vlan_inner=u16[U16_VLAN_INNER, :count],
            data_offset=u32[U32_DATA_OFF, :count],
            l3_offset=u32[U32_L3_OFF, :count],
            l4_offset=u32[U32_L4_OFF, :count],
            payload_offset=u32[U32_PAYLOAD_OFF, :count],
            payload_length=u32[U32_PAYLOAD_LEN, :count],
        )

    def __len__(self) -> int:
        return self.count

    def __repr__(self) -> str:
        return f"PacketBatch(count={self.count})"

    def payload(self, index: int) -> memoryview:
        """The captured transport payload of one packet, a view into ``buffer``."""
        start = int(self.payload_offset[index])
        return self.buffer.data[start : start + int(self.payload_length[index])]

    def frame(self, index: int) -> memoryview:
        """The whole captured frame of one packet, a view into ``buffer``."""
        start = int(self.data_offset[index])
        return self.buffer.data[start : start + int(self.cap_len[index])]

    def has(self, flag: PacketFlag) -> np.ndarray:
        """Boolean mask of packets with ``flag`` set."""
        return (self.flags & np.uint8(flag)) != 0

    def status_counts(self) -> dict[PacketStatus, int]:
        counts = np.bincount(self.status, minlength=STATUS_COUNT)
        return {status: int(counts[status]) for status in PacketStatus}
