"""Capture readers: round trips of generated captures, structure errors, hostile input."""

from __future__ import annotations

import gzip
import io
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.errors import InvalidInput
from mamori.selection.readers import (
    CaptureFormatError,
    CaptureReader,
    CaptureSourceError,
    PacketBatch,
    PacketFlag,
    PacketStatus,
    iter_packet_batches,
)
from mamori.selection.readers.synthetic import (
    Interface,
    Record,
    SyntheticPacket,
    build_frame,
    transport,
    write_pcap,
    write_pcapng,
)

HYPO = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SECRET = b"SECRET-CONTENT-0123456789"


# -- helpers ---------------------------------------------------------------------------


def pcap_bytes(records: list[Record], **kwargs: object) -> bytes:
    out = io.BytesIO()
    write_pcap(out, records, **kwargs)  # type: ignore[arg-type]
    return out.getvalue()


def pcapng_bytes(records: list[Record], **kwargs: object) -> bytes:
    out = io.BytesIO()
    write_pcapng(out, records, **kwargs)  # type: ignore[arg-type]
    return out.getvalue()


def read_all(source: object, **kwargs: object) -> tuple[list[PacketBatch], CaptureReader]:
    reader = CaptureReader(source, **kwargs)  # type: ignore[arg-type]
    return list(reader), reader


def rows(batches: list[PacketBatch]) -> list[dict[str, object]]:
    """Per-packet fields as plain Python values, payload copied for comparison."""
    out = []
    for b in batches:
        for i in range(b.count):
            out.append(
                {
                    "ts": int(b.ts_ns[i]),
                    "iface": int(b.interface[i]),
                    "linktype": int(b.linktype[i]),
                    "wire": int(b.wire_len[i]),
                    "cap": int(b.cap_len[i]),
                    "status": PacketStatus(int(b.status[i])),
                    "flags": PacketFlag(int(b.flags[i])),
                    "family": int(b.family[i]),
                    "src": int(b.src4[i]) if b.family[i] == 4
                    else (int(b.src6_hi[i]) << 64) | int(b.src6_lo[i]),
                    "dst": int(b.dst4[i]) if b.family[i] == 4
                    else (int(b.dst6_hi[i]) << 64) | int(b.dst6_lo[i]),
                    "proto": int(b.proto[i]),
                    "ttl": int(b.ttl[i]),
                    "sport": int(b.sport[i]),
                    "dport": int(b.dport[i]),
                    "tcp_flags": int(b.tcp_flags[i]),
                    "icmp": (int(b.icmp_type[i]), int(b.icmp_code[i])),
                    "frag": (int(b.frag_id[i]), int(b.frag_offset[i])),
                    "vlans": (int(b.vlan_count[i]), int(b.vlan_outer[i]), int(b.vlan_inner[i])),
                    "payload": bytes(b.payload(i)) if b.flags[i] & PacketFlag.PAYLOAD else None,
                    "frame": bytes(b.frame(i)),
                }
            )  # fmt: skip
    return out


def expected(pkt: SyntheticPacket, linktype: int) -> dict[str, object]:
    """What the reader must report for a synthetic packet."""
    nonfirst = pkt.frag_offset > 0
    ports = pkt.proto in (6, 17, 132) and not nonfirst
    icmp = pkt.proto in (1, 58) and not nonfirst
    flags = PacketFlag.PAYLOAD
    if ports:
        flags |= PacketFlag.PORTS
    if icmp:
        flags |= PacketFlag.ICMP
    if pkt.is_fragment:
        flags |= PacketFlag.FRAGMENT
    if pkt.more_fragments:
        flags |= PacketFlag.MORE_FRAGMENTS
    if pkt.family == 4 and pkt.dont_fragment:
        flags |= PacketFlag.DONT_FRAGMENT
    payload = transport(pkt) if nonfirst or pkt.proto not in (6, 17, 1, 58, 132) else pkt.payload
    vlans = pkt.vlans if linktype == 1 else ()
    frag_id = pkt.frag_id & 0xFFFF if pkt.family == 4 else pkt.frag_id
    return {
        "status": PacketStatus.OK,
        "flags": flags,
        "family": pkt.family,
        "src": pkt.src,
        "dst": pkt.dst,
        "proto": pkt.proto,
        "ttl": pkt.ttl,
        "sport": pkt.sport if ports else 0,
        "dport": pkt.dport if ports else 0,
        "tcp_flags": pkt.tcp_flags if pkt.proto == 6 and not nonfirst else 0,
        "icmp": (pkt.icmp_type, pkt.icmp_code) if icmp else (0, 0),
        "frag": (frag_id if pkt.is_fragment or pkt.family == 4 else 0, pkt.frag_offset),
        "vlans": (len(vlans), vlans[0] if vlans else 0, vlans[1] if len(vlans) > 1 else 0),
        "payload": payload,
    }


def assert_packet(row: dict[str, object], pkt: SyntheticPacket, linktype: int) -> None:
    want = expected(pkt, linktype)
    got = {key: row[key] for key in want}
    assert got == want


# -- strategies ------------------------------------------------------------------------

PAYLOAD = st.binary(max_size=48)


@st.composite
def packets(draw: st.DrawFn, linktype: int = 1) -> SyntheticPacket:
    family = 6 if linktype == 229 else draw(st.sampled_from([4, 6]))
    bits = 32 if family == 4 else 128
    proto = draw(st.sampled_from([6, 17, 132, 47, 1 if family == 4 else 58]))
    fragment = draw(st.sampled_from(["none", "first", "later"]))
    frag_offset = 0 if fragment != "later" else draw(st.integers(1, 8000)) * 8
    more = fragment == "first" or (fragment == "later" and draw(st.booleans()))
    ext: tuple[int, ...] = ()
    if family == 6:
        ext = tuple(draw(st.lists(st.sampled_from([0, 43, 60, 51]), max_size=3)))
        if fragment != "none":
            ext += (44,)
    return SyntheticPacket(
        family=family,
        src=draw(st.integers(0, 2**bits - 1)),
        dst=draw(st.integers(0, 2**bits - 1)),
        proto=proto,
        sport=draw(st.integers(0, 65535)),
        dport=draw(st.integers(0, 65535)),
        tcp_flags=draw(st.integers(0, 0x0FFF)),
        ttl=draw(st.integers(0, 255)),
        icmp_type=draw(st.integers(0, 255)),
        icmp_code=draw(st.integers(0, 255)),
        payload=draw(PAYLOAD),
        vlans=tuple(draw(st.lists(st.integers(0, 4095), max_size=2))) if linktype == 1 else (),
        frag_id=draw(st.integers(0, 2**32 - 1)) if family == 6 else draw(st.integers(0, 65535)),
        frag_offset=frag_offset,
        more_fragments=more,
        dont_fragment=family == 4 and fragment == "none" and draw(st.booleans()),
        ipv6_ext=ext,
    )


LINKTYPES = [1, 101, 113, 276, 0, 108, 228, 229, 12, 14]
TIMES = st.integers(0, 2**32 - 1).map(lambda s: s * 1_000_000_000) | st.integers(
    0, (2**32 - 1) * 1_000_000_000
)


# -- round trips -----------------------------------------------------------------------


@HYPO
@given(
    linktype=st.sampled_from(LINKTYPES),
    data=st.data(),
    big=st.booleans(),
    nano=st.booleans(),
)
def test_pcap_round_trip(linktype: int, data: st.DataObject, big: bool, nano: bool) -> None:
    pkts = data.draw(st.lists(packets(linktype), min_size=1, max_size=12))
    times = data.draw(st.lists(TIMES, min_size=len(pkts), max_size=len(pkts)))
    records = [Record(build_frame(p, linktype), t) for p, t in zip(pkts, times, strict=True)]
    blob = pcap_bytes(records, linktype=linktype, big_endian=big, nanosecond=nano)
    batches, reader = read_all(io.BytesIO(blob), batch_size=5)
    got = rows(batches)
    assert len(got) == len(pkts) == reader.stats.packets
    assert reader.stats.format == "pcap" and reader.stats.nanosecond == nano
    for row, pkt, rec in zip(got, pkts, records, strict=True):
        assert row["ts"] == (rec.ts_ns if nano else rec.ts_ns // 1000 * 1000)
        assert row["linktype"] == linktype
        assert row["cap"] == row["wire"] == len(rec.frame)
        assert row["frame"] == rec.frame
        assert_packet(row, pkt, linktype)


@HYPO
@given(data=st.data(), big=st.booleans())
def test_pcapng_round_trip_several_interfaces(data: st.DataObject, big: bool) -> None:
    ifaces = data.draw(
        st.lists(
            st.builds(
                Interface,
                linktype=st.sampled_from(LINKTYPES),
                tsresol=st.sampled_from([0, 3, 6, 9, 0x80 | 10, 0x80 | 30]),
                tsoffset_s=st.sampled_from([0, 0, 3600]),
            ),
            min_size=1,
            max_size=4,
        )
    )
    count = data.draw(st.integers(1, 12))
    records, pkts = [], []
    for _ in range(count):
        index = data.draw(st.integers(0, len(ifaces) - 1))
        pkt = data.draw(packets(ifaces[index].linktype))
        ts = data.draw(st.integers(3600 * 10**9, 2**33 * 10**9))
        records.append(Record(build_frame(pkt, ifaces[index].linktype), ts, interface=index))
        pkts.append(pkt)
    blob = pcapng_bytes(records, interfaces=ifaces, big_endian=big)
    batches, reader = read_all(io.BytesIO(blob), batch_size=4)
    got = rows(batches)
    assert len(got) == count
    assert reader.stats.interfaces == len(ifaces) and reader.stats.sections == 1
    for row, pkt, rec in zip(got, pkts, records, strict=True):
        iface = ifaces[rec.interface]
        per_second = 1 << (iface.tsresol & 0x7F) if iface.tsresol & 0x80 else 10**iface.tsresol
        units = (rec.ts_ns - iface.tsoffset_s * 10**9) * per_second // 10**9
        secs, rem = divmod(units, per_second)
        assert row["ts"] == secs * 10**9 + rem * 10**9 // per_second + iface.tsoffset_s * 10**9
        assert row["iface"] == rec.interface
        assert row["linktype"] == iface.linktype
        assert row["frame"] == rec.frame
        assert_packet(row, pkt, iface.linktype)


def test_path_stream_gzip_and_unmapped_agree(tmp_path: Path) -> None:
    pkts = [SyntheticPacket(src=i, dst=i + 1, sport=i, payload=bytes([i]) * i) for i in range(50)]
    blob = pcap_bytes([Record(build_frame(p), i * 1000) for i, p in enumerate(pkts)])
    plain = tmp_path / "a.pcap"
    plain.write_bytes(blob)
    packed = tmp_path / "a.pcap.gz"
    packed.write_bytes(gzip.compress(blob))
    want = rows(read_all(plain, batch_size=7, chunk_size=256)[0])
    assert len(want) == 50
    for source, options in [
        (io.BytesIO(blob), {}),
        (plain, {"memory_map": False}),
        (str(plain), {"chunk_size": 64}),
        (packed, {}),
    ]:
        got, _reader = read_all(source, **{"batch_size": 7, "chunk_size": 256, **options})
        assert rows(got) == want
    assert read_all(packed)[1].stats.compressed


def test_records_spanning_many_small_chunks_and_batch_boundaries(tmp_path: Path) -> None:
    pkts = [SyntheticPacket(src=i, payload=b"x" * (i % 300)) for i in range(400)]
    records = [Record(build_frame(p), i) for i, p in enumerate(pkts)]
    path = tmp_path / "b.pcapng"
    path.write_bytes(pcapng_bytes(records, interfaces=[Interface(tsresol=9)]))
    for memory_map in (True, False):
        batches, reader = read_all(path, batch_size=33, chunk_size=100, memory_map=memory_map)
        assert all(b.count <= 33 for b in batches)
        got = rows(batches)
        assert [r["src"] for r in got] == list(range(400))
        assert [r["ts"] for r in got] == list(range(400))
        assert reader.stats.packets == 400 and reader.stats.status[PacketStatus.OK] == 400


# -- pcapng specifics ------------------------------------------------------------------


def _block(order: str, kind: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    return (
        struct.pack(order + "II", kind, len(body) + 12)
        + body
        + struct.pack(order + "I", len(body) + 12)
    )


def _shb(order: str, major: int = 1) -> bytes:
    return _block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, major, 0, -1))


def _idb(order: str, linktype: int, snaplen: int = 0, options: bytes = b"") -> bytes:
    return _block(order, 1, struct.pack(order + "HHI", linktype, 0, snaplen) + options)


def test_pcapng_sections_of_both_byte_orders_spb_pb_and_skipped_blocks() -> None:
    frame_a = build_frame(SyntheticPacket(src=1, dst=2), 1)
    frame_b = build_frame(SyntheticPacket(family=6, src=3, dst=4, proto=17), 101)
    blob = (
        _shb("<")
        + _idb("<", 1)
        + _block("<", 3, struct.pack("<I", len(frame_a)) + frame_a)  # simple packet block
        + _block("<", 4, b"\0\0\0\0")  # name resolution: skipped
        + _block("<", 0x40000BAD, b"custom")  # custom block: skipped
        + _shb(">")
        + _idb(">", 1)
        + _idb(">", 101, options=struct.pack(">HHB3xHH", 9, 1, 3, 0, 0))
        + _block(">", 2, struct.pack(">HHIIII", 1, 0, 0, 5, len(frame_b), 999) + frame_b)
        + _block(">", 5, struct.pack(">IIIHH", 0, 0, 0, 0, 0))  # statistics: skipped
    )
    batches, reader = read_all(io.BytesIO(blob))
    got = rows(batches)
    assert [r["src"] for r in got] == [1, 3]
    assert got[0]["ts"] == 0 and got[0]["iface"] == 0  # simple packets carry no time
    assert got[1]["ts"] == 5_000_000 and got[1]["iface"] == 1 and got[1]["wire"] == 999
    assert got[1]["proto"] == 17 and got[1]["family"] == 6
    assert reader.stats.sections == 2 and reader.stats.interfaces == 3
    assert reader.stats.big_endian


def test_spb_respects_interface_snaplen() -> None:
    frame = build_frame(SyntheticPacket(payload=b"y" * 100), 1)
    spb = _block("<", 3, struct.pack("<I", len(frame)) + frame)
    got = rows(read_all(io.BytesIO(_shb("<") + _idb("<", 1, snaplen=60) + spb))[0])
    assert got[0]["cap"] == 60 and got[0]["wire"] == len(frame)
    assert got[0]["status"] is PacketStatus.OK and got[0]["sport"] == 12345
    assert got[0]["payload"] == b"y" * 6


# -- link layers and malformed packets ------------------------------------------------


def _eth(ethertype: int, body: bytes) -> bytes:
    return b"\x02" * 6 + b"\x04" * 6 + struct.pack(">H", ethertype) + body


IP4 = build_frame(SyntheticPacket(src=0x01020304, dst=0x05060708, proto=17, sport=53), 101)


@pytest.mark.parametrize(
    ("linktype", "frame"),
    [
        (1, _eth(0x8100, b"\x00\x07\x88\xa8\x00\x08\x08\x00" + IP4)),  # odd tag order still walks
        (1, _eth(0x0034, b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + IP4)),  # LLC/SNAP
        (1, _eth(0x8847, b"\x00\x01\x00\xff\x00\x02\x01\xff" + IP4)),  # two MPLS labels
        (1, _eth(0x8864, b"\x11\x00\x00\x01\x00\x20\x00\x21" + IP4)),  # PPPoE session
        (1, _eth(0x88E5, b"\x20\x00\x00\x00\x00\x01" + b"\0" * 8 + b"\x08\x00" + IP4)),  # MACsec
        (1, _eth(0x894F, b"\x00\x02\x02\x01\x00\x00\x01\xff" + IP4)),  # NSH
        (9, b"\xff\x03\x00\x21" + IP4),  # PPP
        (9, b"\x21" + IP4),  # PPP with compressed protocol field
        (104, b"\x0f\x00\x08\x00" + IP4),  # Cisco HDLC
        (0, struct.pack(">I", 2) + IP4),  # NULL written by a big-endian host
        (0, struct.pack("<I", 2) + IP4),
        (108, struct.pack(">I", 2) + IP4),
    ],
)
def test_encapsulations_reach_ipv4(linktype: int, frame: bytes) -> None:
    got = rows(read_all(io.BytesIO(pcap_bytes([Record(frame, 0)], linktype=linktype)))[0])[0]
    assert got["status"] is PacketStatus.OK
    assert (got["src"], got["dst"], got["proto"], got["sport"]) == (0x01020304, 0x05060708, 17, 53)


def _status(linktype: int, frame: bytes) -> dict[str, object]:
    return rows(read_all(io.BytesIO(pcap_bytes([Record(frame, 0)], linktype=linktype)))[0])[0]


def _ip4(total: int, proto: int = 6, ihl: int = 5, version: int = 4) -> bytes:
    return struct.pack(
        ">BBHHHBBHII", (version << 4) | ihl, 0, total, 1, 0, 9, proto, 0, 0x0A000001, 0x0A000002
    )


def test_packet_level_problems_are_statuses_not_errors() -> None:
    tcp_bad_offset = struct.pack(">HHIIHHHH", 80, 81, 0, 0, (3 << 12) | 0x12, 0, 0, 0)
    cases = [
        (1, _eth(0x0806, b"\0" * 28), PacketStatus.NOT_IP, 0),  # ARP
        (147, b"whatever", PacketStatus.UNSUPPORTED_LINK, 0),
        (1, b"\0" * 10, PacketStatus.TRUNCATED, 0),
        (1, _eth(0x0800, _ip4(40)[:15]), PacketStatus.TRUNCATED, 0),
        (1, _eth(0x0800, _ip4(40, version=5)), PacketStatus.MALFORMED, 0),
        (1, _eth(0x0800, _ip4(40, ihl=4)), PacketStatus.MALFORMED, 0),
        (1, _eth(0x0800, _ip4(12)), PacketStatus.MALFORMED, 0),  # total below header length
        (1, _eth(0x0800, _ip4(40) + tcp_bad_offset), PacketStatus.MALFORMED, 4),
        (1, _eth(0x0800, _ip4(40) + tcp_bad_offset[:6]), PacketStatus.TRUNCATED, 4),
        (101, b"\x70" + b"\0" * 30, PacketStatus.NOT_IP, 0),
        (1, _eth(0x86DD, IP4), PacketStatus.MALFORMED, 0),  # no IPv4 under IPv6's type
        (1, _eth(0x0800, build_frame(SyntheticPacket(family=6), 101)), PacketStatus.OK, 6),
    ]
    for linktype, frame, status, family in cases:
        got = _status(linktype, frame)
        assert (got["status"], got["family"]) == (status, family), frame
    # Ports survive a truncated or malformed TCP header; addresses too.
    got = _status(1, _eth(0x0800, _ip4(40) + tcp_bad_offset[:6]))
    assert (got["sport"], got["dport"], got["src"]) == (80, 81, 0x0A000001)


def test_ipv4_options_offload_length_and_ipv6_jumbo() -> None:
    udp = struct.pack(">HHHH", 7, 9, 12, 0) + b"abcd"
    options = _ip4(20 + 8 + len(udp), proto=17, ihl=7) + b"\x01" * 8 + udp
    got = _status(101, options)
    assert (got["sport"], got["payload"]) == (7, b"abcd")
    offload = _ip4(0, proto=17) + udp  # total length 0: segmentation offload
    got = _status(101, offload)
    assert (got["status"], got["sport"], got["payload"]) == (PacketStatus.OK, 7, b"abcd")
    jumbo = struct.pack(">IHBB", 0x60000000, 0, 17, 1) + b"\0" * 32 + udp
    got = _status(229, jumbo)
    assert (got["family"], got["sport"], got["payload"]) == (6, 7, b"abcd")


def test_ethernet_trailer_and_snaplen_bound_the_payload() -> None:
    pkt = SyntheticPacket(proto=17, payload=b"hello")
    frame = build_frame(pkt) + b"\0" * 20  # Ethernet padding beyond the IP length
    assert _status(1, frame)["payload"] == b"hello"
    short = Record(build_frame(pkt)[:-3], 0, wire_len=len(build_frame(pkt)))
    got = rows(read_all(io.BytesIO(pcap_bytes([short])))[0])[0]
    assert got["status"] is PacketStatus.OK and got["payload"] == b"he"


# -- structural errors -------------------------------------------------------------------


def _one_pcap(frame: bytes = IP4) -> bytes:
    return pcap_bytes([Record(frame, 0)], linktype=101)


@pytest.mark.parametrize(
    ("blob", "offset", "words"),
    [
        (b"", 0, "too short"),
        (b"hello world, not a capture", 0, "unknown magic"),
        (_one_pcap()[:20], 20, "header is truncated"),
        (_one_pcap()[:4] + b"\x01\x00" + _one_pcap()[6:], 4, "major version"),
        (_one_pcap()[:-1], 24, "ends inside a record"),
        (_one_pcap()[:30], 24, "ends inside a record"),
        (_one_pcap()[:32] + struct.pack("<I", 300_000) + _one_pcap()[36:], 24, "exceeds the limit"),
        (_shb("<")[:20], 0, "section header is truncated"),
        (_shb("<", major=2), 12, "major version 2"),
        (_shb("<")[:8] + b"XXXX" + _shb("<")[12:], 8, "byte-order magic"),
        (_shb("<") + _block("<", 6, b"\0" * 20), 28, "interface that was not described"),
        (_shb("<") + _block("<", 3, b"\0" * 8), 28, "interface that was not described"),
        (_shb("<") + struct.pack("<III", 6, 14, 14), 28, "multiple of 4"),
        (_shb("<") + struct.pack("<IIII", 6, 16, 0, 20), 28, "trailing length"),
        (
            _shb("<")
            + _idb("<", 1)
            + _block("<", 6, b"\0" * 12 + struct.pack("<I", 9) + b"\0" * 4),
            48,
            "shorter than its fields",
        ),
        (_shb("<") + _idb("<", 1, options=struct.pack("<HH", 2, 200)), 44, "option overruns"),
        (_shb("<") + _idb("<", 1, options=struct.pack("<HHB3x", 9, 1, 99)), 48, "resolution"),
    ],
)
def test_structural_errors_name_offset_and_reason(blob: bytes, offset: int, words: str) -> None:
    seen: list[PacketBatch] = []
    with pytest.raises(CaptureFormatError) as info:
        seen.extend(CaptureReader(io.BytesIO(blob)))
    assert seen == []  # nothing leaves from a capture that fits one chunk
    assert isinstance(info.value, InvalidInput)
    assert info.value.offset == offset and words in info.value.reason
    assert f"offset {offset}" in info.value.detail


def test_missing_file_and_non_seekable_validation(tmp_path: Path) -> None:
    with pytest.raises(CaptureSourceError):
        list(CaptureReader(tmp_path / "absent.pcap"))

    class OneWay(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, b: memoryview) -> int:  # type: ignore[override]
            return self.inner.readinto(b)

    with pytest.raises(CaptureSourceError):
        list(CaptureReader(OneWay(_one_pcap()), validate_first=True))  # type: ignore[arg-type]
    assert rows(list(CaptureReader(OneWay(_one_pcap()))))[0]["src"] == 0x01020304  # type: ignore[arg-type]
    with pytest.raises(CaptureSourceError):
        list(CaptureReader(OneWay(gzip.compress(_one_pcap()))))  # type: ignore[arg-type]


def test_corrupt_gzip_is_a_format_error() -> None:
    packed = bytearray(gzip.compress(_one_pcap() * 3))
    packed[len(packed) // 2] ^= 0xFF
    with pytest.raises(CaptureFormatError):
        list(CaptureReader(io.BytesIO(bytes(packed))))


def test_messages_and_reprs_carry_no_content() -> None:
    frame = build_frame(SyntheticPacket(payload=SECRET))
    blob = pcap_bytes([Record(frame, 0)] * 3)
    batches, reader = read_all(io.BytesIO(blob))
    assert SECRET not in repr(batches).encode() and SECRET not in repr(reader.stats).encode()
    assert bytes(batches[0].payload(0)) == SECRET
    with pytest.raises(CaptureFormatError) as info:
        list(CaptureReader(io.BytesIO(blob[:-5])))
    text = (str(info.value) + repr(info.value.problem())).encode()
    assert SECRET not in text and SECRET[:8] not in text


def test_batches_are_read_only() -> None:
    batch = next(iter(CaptureReader(io.BytesIO(_one_pcap()))))
    with pytest.raises(ValueError):
        batch.src4[0] = 1
    with pytest.raises(ValueError):
        batch.buffer[0] = 1
    with pytest.raises(TypeError):
        batch.payload(0)[0] = 1


# -- truncation semantics ------------------------------------------------------------------


def _layout(blob: bytes, ng: bool) -> tuple[int, list[int], list[bool]]:
    """Where the file (or section) header ends, where each record or block ends,
    and which of those carry a packet."""
    header = struct.unpack_from("<I", blob, 4)[0] if ng else 24
    ends, carries = [], []
    pos = header
    while pos < len(blob):
        if ng:
            kind, length = struct.unpack_from("<II", blob, pos)
        else:
            kind, length = 6, 16 + struct.unpack_from("<I", blob, pos + 8)[0]
        carries.append(kind == 6)
        pos += length
        ends.append(pos)
    return header, ends, carries


@HYPO
@given(data=st.data(), ng=st.booleans())
def test_truncated_files_fail_whole_or_yield_only_complete_records(
    data: st.DataObject, ng: bool
) -> None:
    pkts = data.draw(st.lists(packets(), min_size=1, max_size=8))
    records = [Record(build_frame(p), i * 1000) for i, p in enumerate(pkts)]
    blob = pcapng_bytes(records) if ng else pcap_bytes(records)
    header, ends, carries = _layout(blob, ng)
    cut = data.draw(st.integers(0 if ng else 24, len(blob)))
    part = blob[:cut]
    starts = [header, *ends]
    done = sum(1 for end in ends if end <= cut)  # records or blocks complete
    complete = sum(1 for end, p in zip(ends, carries, strict=True) if p and end <= cut)
    clean = cut in starts
    chunk = data.draw(st.sampled_from([64, 1 << 20]))
    strict = CaptureReader(io.BytesIO(part), chunk_size=chunk, batch_size=3)
    if cut < header:  # inside the file or section header: never a capture
        for mode in (strict, CaptureReader(io.BytesIO(part), tolerate_truncated_tail=True)):
            with pytest.raises(CaptureFormatError):
                list(mode)
        return
    if clean:
        assert len(rows(list(strict))) == complete
    else:
        seen: list[PacketBatch] = []
        with pytest.raises(CaptureFormatError) as info:
            seen.extend(strict)
        assert info.value.offset == starts[done]
        if chunk > len(blob):
            assert seen == []
    tolerant = CaptureReader(io.BytesIO(part), chunk_size=chunk, tolerate_truncated_tail=True)
    got = rows(list(tolerant))
    assert [r["src"] for r in got] == [p.src for p in pkts[:complete]]
    assert tolerant.stats.truncated_tail_offset == (None if clean else starts[done])


def test_validate_first_yields_nothing_from_a_broken_multi_chunk_file(tmp_path: Path) -> None:
    records = [Record(build_frame(SyntheticPacket(src=i)), i) for i in range(500)]
    path = tmp_path / "broken.pcap"
    path.write_bytes(pcap_bytes(records)[:-7])
    streamed: list[PacketBatch] = []
    with pytest.raises(CaptureFormatError):
        streamed.extend(CaptureReader(path, chunk_size=4096, batch_size=50))
    assert streamed  # streaming without validation: earlier batches did leave
    checked: list[PacketBatch] = []
    with pytest.raises(CaptureFormatError):
        checked.extend(CaptureReader(path, chunk_size=4096, batch_size=50, validate_first=True))
    assert checked == []
    good = tmp_path / "good.pcap"
    good.write_bytes(pcap_bytes(records))
    reader = CaptureReader(good, chunk_size=4096, validate_first=True)
    assert sum(b.count for b in reader) == 500 and reader.stats.packets == 500


# -- hostile input -------------------------------------------------------------------------

PREFIXES = [
    b"",
    _one_pcap()[:24],
    pcap_bytes([], linktype=1, big_endian=True, nanosecond=True),
    _shb("<"),
    _shb(">") + _idb(">", 1),
    _shb("<") + _idb("<", 113),
]


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.sampled_from(PREFIXES),
    tail=st.binary(max_size=600),
    chunk=st.sampled_from([64, 4096]),
)
def test_random_bytes_never_crash_or_hang(prefix: bytes, tail: bytes, chunk: int) -> None:
    for tolerant in (False, True):
        reader = CaptureReader(
            io.BytesIO(prefix + tail), chunk_size=chunk, tolerate_truncated_tail=tolerant
        )
        try:
            for batch in reader:
                assert np.all(batch.status <= PacketStatus.MALFORMED)
                assert np.all(
                    batch.payload_offset.astype(np.int64) + batch.payload_length
                    <= len(batch.buffer)
                )
        except CaptureFormatError as exc:
            assert 0 <= exc.offset <= len(prefix) + len(tail)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_mutated_valid_captures_never_crash(data: st.DataObject) -> None:
    pkts = data.draw(st.lists(packets(), min_size=1, max_size=5))
    ng = data.draw(st.booleans())
    records = [Record(build_frame(p), i) for i, p in enumerate(pkts)]
    blob = bytearray(pcapng_bytes(records) if ng else pcap_bytes(records))
    for _ in range(data.draw(st.integers(1, 6))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    try:
        for batch in CaptureReader(io.BytesIO(bytes(blob)), chunk_size=128):
            for i in range(batch.count):
                start = int(batch.data_offset[i])
                assert start + int(batch.cap_len[i]) <= len(batch.buffer)
                assert len(batch.payload(i)) == int(batch.payload_length[i])
    except CaptureFormatError:
        pass


# -- bounded memory --------------------------------------------------------------------------


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _big_capture(path: Path, copies: int) -> None:
    records = [
        Record(build_frame(SyntheticPacket(src=i, payload=b"z" * (i % 700))), i)
        for i in range(2000)
    ]
    block = pcap_bytes(records)[24:]
    with open(path, "wb") as out:
        out.write(pcap_bytes([]))
        for _ in range(copies):
            out.write(block)


@pytest.mark.parametrize("memory_map", [True, False])
def test_memory_stays_flat_as_the_input_grows(tmp_path: Path, memory_map: bool) -> None:
    import tracemalloc

    small, large = tmp_path / "small.pcap", tmp_path / "large.pcap"
    _big_capture(small, 3)  # about 2 MB
    _big_capture(large, 30)  # about 20 MB
    peaks = {}
    for path in (small, large):
        options = {"chunk_size": 1 << 20, "batch_size": 4096, "memory_map": memory_map}
        list(CaptureReader(path, **options))  # warm the compiled code and page cache
        tracemalloc.start()
        rss_before = _rss_kib()
        rss_peak = 0
        packets = 0
        for batch in CaptureReader(path, **options):
            packets += batch.count
            rss_peak = max(rss_peak, _rss_kib() - rss_before)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peaks[path] = (traced_peak, rss_peak, packets)
    (small_traced, small_rss, n_small), (large_traced, large_rss, n_large) = peaks.values()
    assert n_large == 10 * n_small
    assert large_traced < small_traced * 1.5 + (1 << 20)
    assert large_rss < small_rss * 1.5 + 4096  # KiB


def test_iter_packet_batches_is_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "c.pcap"
    path.write_bytes(_one_pcap() + b"\0\0")
    with pytest.raises(CaptureFormatError):
        list(iter_packet_batches(path))
    got = list(iter_packet_batches(path, tolerate_truncated_tail=True, batch_size=1))
    assert len(got) == 1 and got[0].count == 1
