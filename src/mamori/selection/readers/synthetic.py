"""Synthetic captures for demonstrations, tests and benchmarks.

Builds frames from header fields with ``struct`` (independently of the compiled
decoder) and writes them as classic pcap or pcapng. Payloads are whatever the
caller passes, typically filler bytes: nothing here touches real traffic.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

ETHERTYPE = {4: 0x0800, 6: 0x86DD}
VLAN_TPIDS = (0x8100, 0x88A8)  # inner tags 802.1Q, outer tags 802.1ad
TCP, UDP, ICMP, ICMPV6, SCTP = 6, 17, 1, 58, 132


@dataclass(frozen=True, slots=True)
class SyntheticPacket:
    """Header fields of one packet; ``build_frame`` turns it into bytes."""

    family: int = 4
    src: int = 0x0A000001
    dst: int = 0x0A000002
    proto: int = TCP
    sport: int = 12345
    dport: int = 443
    tcp_flags: int = 0x018
    ttl: int = 64
    icmp_type: int = 8
    icmp_code: int = 0
    payload: bytes = b""
    vlans: tuple[int, ...] = ()
    frag_id: int = 0
    frag_offset: int = 0  # bytes, a multiple of 8
    more_fragments: bool = False
    dont_fragment: bool = False
    ipv6_ext: tuple[int, ...] = field(default=())  # extension header types before L4

    @property
    def src_text(self) -> str:
        return str(ipaddress.ip_address(self.src) if self.family == 4 else _v6(self.src))

    @property
    def dst_text(self) -> str:
        return str(ipaddress.ip_address(self.dst) if self.family == 4 else _v6(self.dst))

    @property
    def is_fragment(self) -> bool:
        return self.more_fragments or self.frag_offset > 0 or 44 in self.ipv6_ext


def _v6(value: int) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(value)


def transport(pkt: SyntheticPacket) -> bytes:
    """The transport header and payload (checksums left zero)."""
    if pkt.proto == TCP:
        offset_flags = (5 << 12) | (pkt.tcp_flags & 0x0FFF)
        header = struct.pack(">HHIIHHHH", pkt.sport, pkt.dport, 1, 0, offset_flags, 65535, 0, 0)
    elif pkt.proto == UDP:
        header = struct.pack(">HHHH", pkt.sport, pkt.dport, 8 + len(pkt.payload), 0)
    elif pkt.proto == SCTP:
        header = struct.pack(">HHII", pkt.sport, pkt.dport, 0, 0)
    elif pkt.proto in (ICMP, ICMPV6):
        header = struct.pack(">BBHI", pkt.icmp_type, pkt.icmp_code, 0, 0)
    else:
        header = b""
    return header + pkt.payload


def _ipv6_extensions(kinds: Sequence[int], final: int, pkt: SyntheticPacket) -> bytes:
    out = b""
    for index, kind in enumerate(kinds):
        nxt = kinds[index + 1] if index + 1 < len(kinds) else final
        if kind == 44:
            offset_field = (pkt.frag_offset & 0xFFF8) | (1 if pkt.more_fragments else 0)
            out += struct.pack(">BBHI", nxt, 0, offset_field, pkt.frag_id)
        elif kind == 51:  # AH: 12 fixed bytes + 4 bytes ICV, length in 4-byte units minus 2
            out += struct.pack(">BBHII", nxt, 2, 0, 0x100, 1) + b"\0" * 4
        else:  # hop-by-hop, routing, destination options: 8 bytes with PadN
            out += struct.pack(">BB", nxt, 0) + b"\x01\x04\0\0\0\0"
    return out


def ip_packet(pkt: SyntheticPacket) -> bytes:
    """The IPv4 or IPv6 packet, including extension headers and transport."""
    body = transport(pkt)
    if pkt.family == 4:
        flags = (0x4000 if pkt.dont_fragment else 0) | (0x2000 if pkt.more_fragments else 0)
        frag = flags | ((pkt.frag_offset // 8) & 0x1FFF)
        header = struct.pack(
            ">BBHHHBBHII",
            0x45, 0, 20 + len(body), pkt.frag_id & 0xFFFF, frag, pkt.ttl, pkt.proto, 0,
            pkt.src, pkt.dst,
        )  # fmt: skip
        return header + body
    ext = _ipv6_extensions(pkt.ipv6_ext, pkt.proto, pkt)
    first = pkt.ipv6_ext[0] if pkt.ipv6_ext else pkt.proto
    header = struct.pack(">IHBB", 0x60000000, len(ext) + len(body), first, pkt.ttl)
    return header + pkt.src.to_bytes(16, "big") + pkt.dst.to_bytes(16, "big") + ext + body


def ethernet_frame(pkt: SyntheticPacket) -> bytes:
    """Ethernet II with the packet's VLAN tags (outermost first)."""
    out = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01"
    for depth, vid in enumerate(pkt.vlans):
        tpid = VLAN_TPIDS[1] if depth < len(pkt.vlans) - 1 else VLAN_TPIDS[0]
        out += struct.pack(">H", tpid)
        out += struct.pack(">H", vid & 0x0FFF)
    return out + struct.pack(">H", ETHERTYPE[pkt.family]) + ip_packet(pkt)


def build_frame(pkt: SyntheticPacket, linktype: int = 1) -> bytes:
    """The captured bytes for ``pkt`` under ``linktype`` (1, 101, 113, 276, 0 or 108)."""
    ip = ip_packet(pkt)
    ethertype = ETHERTYPE[pkt.family]
    if linktype == 1:
        return ethernet_frame(pkt)
    if linktype in (12, 14, 101, 228, 229):
        return ip
    if linktype == 113:
        return struct.pack(">HHH8sH", 0, 1, 6, b"\x02\0\0\0\0\x01\0\0", ethertype) + ip
    if linktype == 276:
        return struct.pack(">HHIHBB8s", ethertype, 0, 2, 1, 0, 6, b"\x02\0\0\0\0\x01\0\0") + ip
    if linktype == 0:
        return struct.pack("<I", 2 if pkt.family == 4 else 24) + ip
    if linktype == 108:
        return struct.pack(">I", 2 if pkt.family == 4 else 24) + ip
    raise ValueError(f"no synthetic frames for link type {linktype}")


@dataclass(frozen=True, slots=True)
class Record:
    """One captured frame with its time and (pcapng) interface."""

    frame: bytes
    ts_ns: int
    interface: int = 0
    wire_len: int | None = None  # defaults to len(frame)


def write_pcap(
    stream: BinaryIO,
    records: Iterable[Record],
    *,
    linktype: int = 1,
    big_endian: bool = False,
    nanosecond: bool = False,
    snaplen: int = 262144,
) -> None:
    """Write a classic pcap file."""
    order = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
    stream.write(struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))
    unit = 1 if nanosecond else 1000
    head = struct.Struct(order + "IIII")
    for rec in records:
        secs, frac = divmod(rec.ts_ns, 1_000_000_000)
        wire = len(rec.frame) if rec.wire_len is None else rec.wire_len
        stream.write(head.pack(secs, frac // unit, len(rec.frame), wire))
        stream.write(rec.frame)


@dataclass(frozen=True, slots=True)
class Interface:
    """A pcapng interface: link type and timestamp resolution (the if_tsresol byte)."""

    linktype: int = 1
    tsresol: int = 6
    snaplen: int = 0
    tsoffset_s: int = 0


def _block(order: str, kind: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    length = len(body) + 12
    return struct.pack(order + "II", kind, length) + body + struct.pack(order + "I", length)


def _units_per_second(tsresol: int) -> int:
    return 1 << (tsresol & 0x7F) if tsresol & 0x80 else 10 ** (tsresol & 0x7F)


def write_pcapng(
    stream: BinaryIO,
    records: Iterable[Record],
    *,
    interfaces: Sequence[Interface] = (Interface(),),
    big_endian: bool = False,
) -> None:
    """Write one pcapng section with the interfaces and enhanced packet blocks."""
    order = ">" if big_endian else "<"
    stream.write(_block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1)))
    for iface in interfaces:
        options = struct.pack(order + "HHB3x", 9, 1, iface.tsresol)
        if iface.tsoffset_s:
            options += struct.pack(order + "HHq", 14, 8, iface.tsoffset_s)
        options += struct.pack(order + "HH", 0, 0)
        body = struct.pack(order + "HHI", iface.linktype, 0, iface.snaplen) + options
        stream.write(_block(order, 1, body))
    for rec in records:
        iface = interfaces[rec.interface]
        per_second = _units_per_second(iface.tsresol)
        units = (rec.ts_ns - iface.tsoffset_s * 1_000_000_000) * per_second // 1_000_000_000
        wire = len(rec.frame) if rec.wire_len is None else rec.wire_len
        body = struct.pack(
            order + "IIIII", rec.interface, units >> 32, units & 0xFFFFFFFF, len(rec.frame), wire
        )
        stream.write(_block(order, 6, body + rec.frame))
