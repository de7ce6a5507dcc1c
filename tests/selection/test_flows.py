"""Flow readers: nfdump agreement on softflowd exports, captures, round trips, bad input."""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import ipaddress
import json
import os
import shutil
import struct
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.selection.flows import (
    NUMERIC_COLUMNS,
    ExportDecoder,
    FlowBatch,
    FlowFormatError,
    FlowReader,
    FlowSourceError,
    detect_format,
    encode,
    iter_flow_batches,
    read_flows,
)
from mamori.selection.flows.batch import empty_columns
from mamori.selection.flows.export import split_messages

DATA = Path(__file__).parent / "data"
NFDUMP = shutil.which("nfdump")
SOURCES = {"v5": "netflow5", "v9": "netflow9", "ipfix": "ipfix"}


# -- real exports: softflowd -> (our collector file, nfcapd file) ------------------------------


def _ours(batch: FlowBatch, i: int) -> tuple:
    if batch.family[i] == 4:
        src = str(ipaddress.IPv4Address(int(batch.src4[i])))
        dst = str(ipaddress.IPv4Address(int(batch.dst4[i])))
    else:
        src = str(ipaddress.IPv6Address((int(batch.src6_hi[i]) << 64) | int(batch.src6_lo[i])))
        dst = str(ipaddress.IPv6Address((int(batch.dst6_hi[i]) << 64) | int(batch.dst6_lo[i])))
    times = sorted(int(t) // 1_000_000 for t in (batch.start_ns[i], batch.end_ns[i]))
    numbers = (batch.sport, batch.dport, batch.proto, batch.packets, batch.bytes, batch.tcp_flags)
    return (src, dst, *(int(column[i]) for column in numbers), *times)


def _flags(text: str) -> int:
    return sum(1 << (7 - i) for i, c in enumerate("CEUAPRSF") if c in text)


def _ms(text: str) -> int:
    moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1000 + moment.microsecond // 1000


def _theirs(record: dict) -> tuple:
    if "icmp_type" in record:
        sport, dport = 0, record["icmp_type"] * 256 + record["icmp_code"]
    else:
        sport, dport = record["src_port"], record["dst_port"]
    src = record.get("src4_addr") or record["src6_addr"]
    dst = record.get("dst4_addr") or record["dst6_addr"]
    # nfdump 1.7 reports IPFIX flowStart/EndSysUpTime swapped; compare the time span.
    times = sorted((_ms(record["first"]), _ms(record["last"])))
    return (src, dst, sport, dport, record["proto"], record["in_packets"], record["in_bytes"],
            _flags(record.get("tcp_flags", "")), *times)  # fmt: skip


@pytest.mark.skipif(NFDUMP is None, reason="nfdump is not installed (oracle)")
@pytest.mark.parametrize("name", ["v5", "v9", "ipfix"])
def test_matches_nfdump_on_softflowd_exports(name: str) -> None:
    """The same softflowd export, saved by our collector and by nfcapd, reads the same."""
    reader = FlowReader(DATA / f"flows-{name}.bin")
    batches = list(reader)
    assert {b.source for b in batches} == {SOURCES[name]}
    batch = batches[0]
    assert batch.count == reader.stats.records > 60
    assert reader.stats.export.unparseable_sets == 0
    out = subprocess.run(
        [NFDUMP, "-r", str(DATA / f"flows-{name}.nfcapd"), "-o", "json"],
        capture_output=True, text=True, check=True, timeout=60, env={**os.environ, "TZ": "UTC"},
    )  # fmt: skip
    records = [r for r in json.loads(out.stdout) if r.get("type") == "FLOW"]
    assert [_ours(batch, i) for i in range(batch.count)] == [_theirs(r) for r in records]
    assert set(np.unique(batch.family)) <= {4, 6}
    if name != "v5":
        assert (batch.family == 6).any()  # softflowd -6 exports the IPv6 flows too


def test_ipfix_sysuptime_needs_the_options_record() -> None:
    """softflowd's IPFIX times are uptime-relative; the options record gives the epoch."""
    reader = FlowReader(DATA / "flows-ipfix.bin")
    batch = read_flows(DATA / "flows-ipfix.bin")
    list(reader)
    assert reader.stats.export.options_records >= 1
    assert (batch.start_ns > 1_600_000_000 * 10**9).all()


# -- captures of export packets --------------------------------------------------------------


def _pcap(datagrams: list[tuple[int, bytes]], *, snaplen: int = 65535) -> bytes:
    """A classic pcap of Ethernet/IPv4/UDP packets from (source address, payload) pairs."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, 1)]
    for i, (source, payload) in enumerate(datagrams):
        udp = struct.pack("!HHHH", 40000, 2055, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBHII", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0, source,
                         0x7F000001) + udp  # fmt: skip
        frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip
        captured = frame[:snaplen]
        out.append(struct.pack("<IIII", 1_700_000_000 + i, 0, len(captured), len(frame)))
        out.append(captured)
    return b"".join(out)


def _messages(path: Path) -> list[bytes]:
    data = path.read_bytes()
    spans, _ = split_messages(memoryview(data), 0, final=True)
    return [data[a:b] for a, b in spans]


def test_capture_of_export_packets_reads_like_the_file(tmp_path: Path) -> None:
    datagrams = [(0x0A000001, m) for m in _messages(DATA / "flows-ipfix.bin")]
    dns = (0x0A000009, b"\x12\x34\x01\x00\x00\x01" + b"\x00" * 6)
    capture = tmp_path / "export.pcap"
    capture.write_bytes(_pcap([dns, *datagrams]))
    assert detect_format(capture) == "capture"
    reader = FlowReader(capture)
    from_capture = [b for b in reader]
    expected = read_flows(DATA / "flows-ipfix.bin")
    got = from_capture[0]
    for name in NUMERIC_COLUMNS:
        np.testing.assert_array_equal(getattr(got, name), getattr(expected, name))
    assert reader.stats.malformed_datagrams == 0


def test_capture_keeps_templates_per_exporter_and_skips_cut_datagrams(tmp_path: Path) -> None:
    columns = _random_columns(np.random.default_rng(3), 40, v6_share=0.0)
    first = encode.encode_ipfix(columns, per_message=40)
    # A second exporter reuses template id 256 for its IPv6 layout.
    v6 = _random_columns(np.random.default_rng(4), 10, v6_share=1.0)
    second = encode.encode_ipfix(v6, per_message=10)
    second = [m.replace(struct.pack("!HH", 257, 10), struct.pack("!HH", 256, 10)) for m in second]
    second = [_retarget_data(m, 257, 256) for m in second]
    cut = (0x0A000003, first[0])
    capture = tmp_path / "two.pcap"
    body = _pcap([(0x0A000001, first[0]), (0x0A000002, second[0])])
    capture.write_bytes(body)
    reader = FlowReader(capture)
    batch = read_flows(capture)
    list(reader)
    assert batch.count == 50
    assert (batch.family[:40] == 4).all() and (batch.family[40:] == 6).all()
    np.testing.assert_array_equal(batch.src6_lo[40:], v6["src6_lo"])
    truncated = tmp_path / "cut.pcap"
    truncated.write_bytes(_pcap([cut], snaplen=200))
    reader = FlowReader(truncated)
    assert list(reader) == []
    assert reader.stats.skipped_datagrams == 1


def _retarget_data(message: bytes, old: int, new: int) -> bytes:
    """Rename a data set's id in an IPFIX message (test helper for template clashes)."""
    out = bytearray(message)
    pos = 16
    while pos < len(out):
        set_id, length = struct.unpack_from("!HH", out, pos)
        if set_id == old:
            struct.pack_into("!H", out, pos, new)
        pos += length
    return bytes(out)


# -- round trips of generated exports --------------------------------------------------------


def _random_columns(rng: np.random.Generator, n: int, *, v6_share: float = 0.3) -> dict:
    columns = empty_columns(n)
    columns["family"][:] = np.where(rng.random(n) < v6_share, 6, 4)
    v4 = columns["family"] == 4
    columns["src4"][v4] = rng.integers(0, 2**32, v4.sum())
    columns["dst4"][v4] = rng.integers(0, 2**32, v4.sum())
    for name in ("src6_hi", "src6_lo", "dst6_hi", "dst6_lo"):
        columns[name][~v4] = rng.integers(0, 2**64, (~v4).sum(), dtype=np.uint64)
    columns["sport"][:] = rng.integers(0, 2**16, n)
    columns["dport"][:] = rng.integers(0, 2**16, n)
    columns["proto"][:] = rng.choice([6, 17, 132], n)
    columns["packets"][:] = rng.integers(1, 2**32, n)
    columns["bytes"][:] = rng.integers(1, 2**32, n)
    columns["tcp_flags"][:] = rng.integers(0, 256, n)
    start_ms = 1_700_000_000_000 + rng.integers(0, 86_400_000, n)
    columns["start_ns"][:] = start_ms * 1_000_000
    columns["end_ns"][:] = (start_ms + rng.integers(0, 3_600_000, n)) * 1_000_000
    return columns


def _write(tmp_path: Path, name: str, messages: list[bytes]) -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(messages))
    return path


def _assert_same(batch: FlowBatch, columns: dict, order: np.ndarray | None = None) -> None:
    for name in NUMERIC_COLUMNS:
        expected = columns[name] if order is None else columns[name][order]
        np.testing.assert_array_equal(getattr(batch, name), expected, err_msg=name)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 120),
    per_message=st.integers(1, 40),
    kind=st.sampled_from(["v5", "v9", "ipfix", "ipfix-extra"]),
    batch_size=st.integers(1, 200),
)
def test_generated_exports_round_trip(
    tmp_path: Path, seed: int, n: int, per_message: int, kind: str, batch_size: int
) -> None:
    rng = np.random.default_rng(seed)
    columns = _random_columns(rng, n, v6_share=0.0 if kind == "v5" else 0.3)
    order = None
    if kind == "v5":
        messages = encode.encode_v5(columns, per_message=min(per_message, 30))
    elif kind == "v9":
        messages = encode.encode_v9(columns, per_message=per_message, template_every=3)
        order = encode.record_order(columns["family"], per_message)
    else:
        extra = kind == "ipfix-extra"
        messages = encode.encode_ipfix(columns, per_message=per_message, template_every=4,
                                       enterprise_field=extra, variable_field=extra)  # fmt: skip
        order = encode.record_order(columns["family"], per_message)
    path = _write(tmp_path, f"{kind}-{seed}.bin", messages)
    batches = list(iter_flow_batches(path, batch_size=batch_size))
    assert all(b.count <= batch_size for b in batches)
    batch = read_flows(path)
    if kind == "v9":
        columns["tcp_flags"] &= 0xFF  # the v9 writer uses the 1-byte NetFlow field
    _assert_same(batch, columns, order)


def test_streaming_is_chunked_and_batched(tmp_path: Path) -> None:
    columns = _random_columns(np.random.default_rng(9), 500)
    path = _write(tmp_path, "big.bin", encode.encode_ipfix(columns, per_message=7))
    reader = FlowReader(path, batch_size=64, chunk_size=1000)
    batches = list(reader)
    assert [b.count for b in batches[:-1]] == [64] * (len(batches) - 1)
    assert sum(b.count for b in batches) == 500 == reader.stats.records
    assert "count=64" in repr(batches[0]) and "src4" not in repr(batches[0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        batches[0].count = 1  # type: ignore[misc]
    assert not batches[0].src4.flags.writeable


def test_data_before_template_is_counted_not_fatal() -> None:
    columns = _random_columns(np.random.default_rng(5), 60, v6_share=0.0)
    messages = encode.encode_ipfix(columns, per_message=20, template_every=2)
    decoder = ExportDecoder()
    # The second message (no template) arrives first: its set is unparseable.
    for message in (messages[1], messages[0], messages[2]):
        decoder.feed(memoryview(message))
    ((source, out),) = decoder.drain()
    assert source == "ipfix"
    assert decoder.stats.unparseable_sets == 1
    assert decoder.stats.records == len(out["start_ns"]) == 40
    np.testing.assert_array_equal(out["src4"][:20], columns["src4"][:20])


def test_template_withdrawal_and_redefinition() -> None:
    columns = _random_columns(np.random.default_rng(6), 10, v6_share=0.0)
    message = encode.encode_ipfix(columns, per_message=10)[0]
    withdraw = struct.pack("!HHIII", 10, 24, 0, 0, 0) + struct.pack("!HHHH", 2, 8, 256, 0)
    decoder = ExportDecoder()
    decoder.feed(memoryview(message))
    decoder.feed(memoryview(withdraw))
    data_only = _retarget_data(message, 2, 4)  # the template set becomes a reserved set id
    decoder.feed(memoryview(data_only))
    assert decoder.stats.template_withdrawals == 1
    assert decoder.stats.unparseable_sets == 1
    assert decoder.stats.records == 10


def test_templates_are_bounded() -> None:
    decoder = ExportDecoder(max_templates=2)
    for template_id in (256, 257, 258):
        template = struct.pack("!HHHH", 2, 12, template_id, 1) + struct.pack("!HH", 8, 4)
        message = struct.pack("!HHIII", 10, 16 + len(template), 0, 0, 0) + template
        if template_id < 258:
            decoder.feed(memoryview(message))
        else:
            with pytest.raises(FlowFormatError):
                decoder.feed(memoryview(message))


# -- hostile input ---------------------------------------------------------------------------


def _consume(data: bytes) -> None:
    decoder = ExportDecoder()
    spans, _ = split_messages(memoryview(data), 0, final=True)
    for start, end in spans:
        decoder.feed(memoryview(data)[start:end], offset=start)
    decoder.drain()


@settings(max_examples=400, deadline=None)
@given(
    version=st.sampled_from([b"\x00\x05", b"\x00\x09", b"\x00\x0a", b""]),
    data=st.binary(max_size=400),
)
def test_random_bytes_error_or_parse(version: bytes, data: bytes) -> None:
    with contextlib.suppress(FlowFormatError):
        _consume(version + data)


_SAMPLES = {name: (DATA / f"flows-{name}.bin").read_bytes() for name in ("v5", "v9", "ipfix")}


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(sorted(_SAMPLES)),
    cut=st.integers(0, 4000),
    flips=st.lists(st.tuples(st.integers(0, 4000), st.integers(1, 255)), max_size=4),
)
def test_truncated_and_corrupted_exports(name: str, cut: int, flips: list[tuple[int, int]]) -> None:
    data = bytearray(_SAMPLES[name][:cut])
    for position, mask in flips:
        if position < len(data):
            data[position] ^= mask
    try:
        _consume(bytes(data))
    except FlowFormatError as error:
        assert error.offset >= 0
        assert "flow record format error" in str(error)


def test_format_errors_name_offsets(tmp_path: Path) -> None:
    data = _SAMPLES["ipfix"]
    path = _write(tmp_path, "cut.bin", [data[:-5]])
    with pytest.raises(FlowFormatError) as info:
        list(iter_flow_batches(path))
    assert info.value.offset > 0
    junk = _write(tmp_path, "junk.bin", [b"\x00\x07garbage"])
    with pytest.raises(FlowFormatError):
        list(iter_flow_batches(junk))
    with pytest.raises(FlowSourceError):
        list(iter_flow_batches(tmp_path / "missing.bin"))


def test_gzip_input(tmp_path: Path) -> None:
    path = tmp_path / "flows.bin.gz"
    path.write_bytes(gzip.compress(_SAMPLES["v9"]))
    plain = read_flows(DATA / "flows-v9.bin")
    packed = read_flows(path)
    np.testing.assert_array_equal(packed.dst4, plain.dst4)


# -- Zeek logs -------------------------------------------------------------------------------

CONN_TSV = """#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tconn
#open\t2026-11-01-00-00-00
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]
1300475167.096535\tCa\t141.142.220.202\t5353\t224.0.0.251\t5353\tudp\tdns\t-\t-\t-\tS0\t-\t-\t0\tD\t1\t73\t0\t0\t(empty)
1300475168.853899\tCb\t141.142.220.118\t43927\t141.142.2.2\t53\tudp\tdns\t0.000435\t38\t89\tSF\t-\t-\t0\tDd\t1\t66\t1\t117\t-
1300475169.780331\tCc\t2001:db8::1\t49153\t2001:db8::2\t443\ttcp\tssl\t1.5\t100\t200\tSF\t-\t-\t0\tShADadFf\t5\t400\t4\t500\t-
1300475170.1\tCd\t10.0.0.1\t8\t10.0.0.2\t0\ticmp\t-\t-\t-\t-\tOTH\t-\t-\t0\t-\t2\t168\t0\t0\t-
#close\t2026-11-01-00-00-01
"""

DNS_TSV = """#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tdns
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tanswers
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount\tstring\tcount\tstring\tvector[string]
1300475168.853899\tCb\t141.142.220.118\t43927\t141.142.2.2\t53\tudp\t24\t0.000435\twww.example.com\t1\tC_INTERNET\t1\tA\t0\tNOERROR\t192.0.2.7
1300475168.9\tCe\t141.142.220.118\t43928\t141.142.2.2\t53\tudp\t25\t-\ta\\x09b\\x2d.example\t1\tC_INTERNET\t16\tTXT\t-\t-\t-
1300475169.0\tCf\t141.142.220.118\t43929\t141.142.2.2\t53\tudp\t26\t-\t-\t-\t-\t-\t-\t-\t-\t-
"""

SSL_JSON = "\n".join(
    json.dumps(r)
    for r in [
        {"ts": 1700000000.123456, "uid": "Cg", "id.orig_h": "192.0.2.10", "id.orig_p": 50000,
         "id.resp_h": "198.51.100.20", "id.resp_p": 443, "version": "TLSv13",
         "server_name": "www.example.org", "ja3": "98487aa16281980e7d1120d399efb6a4",
         "ja4": "t13d1516h2_8daaf6152771_d8a2da3f94cd", "established": True},
        {"ts": "2026-11-01T00:00:00.5Z", "uid": "Ch", "id.orig_h": "2001:db8::5",
         "id.orig_p": 50001, "id.resp_h": "2001:db8::6", "id.resp_p": 8443,
         "version": "TLSv12", "established": False},
    ]
)  # fmt: skip


def test_zeek_conn_tsv(tmp_path: Path) -> None:
    path = tmp_path / "conn.log"
    path.write_text(CONN_TSV)
    assert detect_format(path) == "zeek"
    batch = read_flows(path)
    assert batch.source == "zeek-conn" and batch.count == 4
    assert batch.qname is None
    assert int(batch.start_ns[0]) == 1300475167_096535000
    assert int(batch.end_ns[1] - batch.start_ns[1]) == 435_000
    assert list(batch.family) == [4, 4, 6, 4]
    assert str(ipaddress.IPv4Address(int(batch.dst4[1]))) == "141.142.2.2"
    assert (int(batch.dst6_hi[2]), int(batch.dst6_lo[2])) == (0x20010DB800000000, 2)
    assert list(batch.proto) == [17, 17, 6, 1]
    assert list(batch.packets) == [1, 2, 9, 2]
    assert list(batch.bytes) == [73, 183, 900, 168]
    assert int(batch.tcp_flags[2]) == 0x02 | 0x12 | 0x10 | 0x01
    assert (int(batch.sport[3]), int(batch.dport[3])) == (0, 8 * 256)


def test_zeek_dns_tsv_escapes_and_unset(tmp_path: Path) -> None:
    path = tmp_path / "dns.log.gz"
    path.write_bytes(gzip.compress(DNS_TSV.encode()))
    batch = read_flows(path)
    assert batch.source == "zeek-dns"
    assert list(batch.qname) == ["www.example.com", "a\tb-.example", None]
    assert int(batch.end_ns[0] - batch.start_ns[0]) == 435_000
    assert batch.sni is None


def test_zeek_ssl_json(tmp_path: Path) -> None:
    path = tmp_path / "ssl.json"
    path.write_text(SSL_JSON + "\n")
    batch = read_flows(path)
    assert batch.source == "zeek-ssl" and batch.count == 2
    assert list(batch.sni) == ["www.example.org", None]
    assert list(batch.ja4) == ["t13d1516h2_8daaf6152771_d8a2da3f94cd", None]
    assert batch.ja3[0] == "98487aa16281980e7d1120d399efb6a4"
    assert int(batch.start_ns[0]) == 1700000000_123456000
    midnight = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
    assert int(batch.start_ns[1]) == midnight * 10**9 + 5 * 10**8
    assert list(batch.proto) == [6, 6] and list(batch.family) == [4, 6]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("#separator \\x09\n#path\tconn\n#fields\tts\tid.orig_h\n1\t2\t3\n", "values"),
        ("#separator \\x09\n#path\tconn\n#fields\tts\tid.orig_h\n1.5\tnot-an-ip\n", "address"),
        ("#separator \\x09\n#path\thttp\n", "none of"),
        ("1.0\t2\n", "#fields"),
        ('{"ts": 1, "history": "S"}\n{"ts": [1], "history": "S"}\n', "timestamp"),
        ('{"ts": 1, "history": "S", "orig_pkts": -4}\n', "counter"),
    ],
)
def test_zeek_errors_name_the_problem_not_the_value(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "bad.log"
    path.write_text(text)
    with pytest.raises(FlowFormatError) as info:
        list(iter_flow_batches(path, format="zeek"))
    assert reason in str(info.value)
    assert "not-an-ip" not in str(info.value)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(st.text(max_size=80), max_size=6), header=st.sampled_from(["tsv", "json"]))
def test_zeek_random_lines(tmp_path: Path, lines: list[str], header: str) -> None:
    from mamori.selection.flows.zeek import iter_zeek

    prefix = ["#separator \\x09", "#path\tconn", "#fields\tts\tid.orig_h\tid.orig_p"]
    body = (prefix if header == "tsv" else []) + lines
    raw = [(line + "\n").encode("utf-8", "surrogatepass") for line in body]
    with contextlib.suppress(FlowFormatError):
        for _, columns in iter_zeek(raw, log="conn"):
            assert set(NUMERIC_COLUMNS) <= set(columns)
