"""Application-layer parsers against tshark on real captures, known fingerprints, hostile input."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.errors import InvalidInput
from mamori.selection.dpi import (
    Incomplete,
    ParseError,
    is_grease,
    ja3_string,
    ja4,
    parse_client_hello,
    parse_dns,
    parse_http_request,
)
from mamori.selection.readers import PacketFlag, iter_packet_batches

TSHARK = shutil.which("tshark")
MERGECAP = shutil.which("mergecap")
needs_tshark = pytest.mark.skipif(
    TSHARK is None or MERGECAP is None, reason="tshark/mergecap are not installed (oracle)"
)


def _traces(shared_data: Path) -> Path:
    return shared_data / "pcaps" / "zeek-traces"


def _payloads(path: Path, proto: int) -> Iterator[tuple[int, bytes]]:
    """``(frame number, transport payload)`` of the packets of one protocol, via the readers."""
    frame = 0
    for batch in iter_packet_batches(path):
        has_payload = batch.has(PacketFlag.PAYLOAD)
        for i in range(batch.count):
            frame += 1
            if batch.proto[i] == proto and has_payload[i] and batch.payload_length[i]:
                yield frame, bytes(batch.payload(i))


def _merged(paths: list[Path], dest: Path) -> Path:
    """One pcapng of all ``paths`` back to back, so the oracle starts once per test."""
    assert MERGECAP is not None
    command = [MERGECAP, "-a", "-F", "pcapng", "-w", str(dest), *map(str, paths)]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return dest


def _tshark(path: Path, display_filter: str, fields: list[str]) -> dict[int, list[str]]:
    assert TSHARK is not None
    command = [TSHARK, "-n", "-r", str(path), "-o", "tcp.desegment_tcp_streams:FALSE"]
    command += ["-Y", display_filter, "-T", "fields", "-E", "separator=\t"]
    command += ["-E", "occurrence=a", "-E", "aggregator=|", "-e", "frame.number"]
    for name in fields:
        command += ["-e", name]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=120)
    rows = {}
    for line in out.stdout.splitlines():
        number, *values = line.split("\t")
        rows[int(number)] = values
    return rows


# -- TLS -------------------------------------------------------------------------------------


def _tshark_has_field(name: str) -> bool:
    assert TSHARK is not None
    fields = subprocess.run([TSHARK, "-G", "fields"], capture_output=True, text=True, timeout=120)
    return f"\t{name}\t" in fields.stdout


@needs_tshark
def test_client_hellos_match_tshark(shared_data: Path, tmp_path: Path) -> None:
    """JA3 string and hash, SNI (and JA4 where tshark has it) on every ClientHello in the traces."""
    fields = ["tls.handshake.ja3_full", "tls.handshake.ja3", "tls.handshake.extensions_server_name"]
    with_ja4 = _tshark_has_field("tls.handshake.ja4")
    if with_ja4:
        fields.append("tls.handshake.ja4")
    path = _merged(sorted((_traces(shared_data) / "tls").glob("*.pcap")), tmp_path / "tls.pcapng")
    oracle = _tshark(path, "tls.handshake.type == 1 && tcp", fields)
    compared = 0
    for frame, payload in _payloads(path, 6):
        if frame not in oracle or not oracle[frame][0]:
            continue
        try:
            hello = parse_client_hello(payload)
        except ParseError:
            continue  # SSLv2-format hellos, which tshark also fingerprints
        values = oracle[frame]
        assert hello.ja3 == values[0], frame
        assert hello.ja3_md5 == values[1], frame
        assert (hello.sni or "") == values[2], frame
        if with_ja4:
            assert hello.ja4 == values[3], frame
        compared += 1
    assert compared >= 50


def _extension(kind: int, body: bytes) -> bytes:
    return struct.pack("!HH", kind, len(body)) + body


def _u16s(values: list[int]) -> bytes:
    return b"".join(struct.pack("!H", v) for v in values)


def build_client_hello(
    *,
    ciphers: list[int],
    extensions: list[int],
    sni: str | None = None,
    alpn: list[bytes] = (),  # type: ignore[assignment]
    groups: list[int] = (),  # type: ignore[assignment]
    formats: list[int] = (),  # type: ignore[assignment]
    sigalgs: list[int] = (),  # type: ignore[assignment]
    versions: list[int] = (),  # type: ignore[assignment]
    legacy_version: int = 0x0303,
) -> bytes:
    """A TLS record with one ClientHello whose extensions come in the given order."""
    bodies = []
    for kind in extensions:
        if kind == 0x0000:
            name = (sni or "").encode()
            entry = b"\0" + struct.pack("!H", len(name)) + name
            body = struct.pack("!H", len(entry)) + entry
        elif kind == 0x0010:
            items = b"".join(bytes([len(p)]) + p for p in alpn)
            body = struct.pack("!H", len(items)) + items
        elif kind == 0x000A:
            body = struct.pack("!H", 2 * len(groups)) + _u16s(list(groups))
        elif kind == 0x000B:
            body = bytes([len(formats)]) + bytes(formats)
        elif kind == 0x000D:
            body = struct.pack("!H", 2 * len(sigalgs)) + _u16s(list(sigalgs))
        elif kind == 0x002B:
            body = bytes([2 * len(versions)]) + _u16s(list(versions))
        else:
            body = b""
        bodies.append(_extension(kind, body))
    ext_block = b"".join(bodies)
    hello = (
        struct.pack("!H", legacy_version)
        + bytes(32)
        + b"\x20"
        + bytes(32)
        + struct.pack("!H", 2 * len(ciphers))
        + _u16s(ciphers)
        + b"\x01\x00"
        + struct.pack("!H", len(ext_block))
        + ext_block
    )
    handshake = b"\x01" + len(hello).to_bytes(3, "big") + hello
    return b"\x16\x03\x01" + struct.pack("!H", len(handshake)) + handshake


# A published browser ClientHello (Chrome 143, with ECH): JA4_ro gives the ciphers,
# extensions and signature algorithms in wire order, JA3 the groups and point formats.
KNOWN = {
    "ciphers": [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8,
                0xC013, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035],
    "extensions": [0x002D, 0x0033, 0x0010, 0xFE0D, 0x0017, 0x44CD, 0x0000, 0x000B, 0x000A,
                   0x002B, 0xFF01, 0x0023, 0x0012, 0x0005, 0x000D, 0x001B],
    "sigalgs": [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601],
    "groups": [4588, 29, 23, 24],
    "formats": [0],
    "ja4": "t13d1516h2_8daaf6152771_d8a2da3f94cd",
    "ja3": "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,"
           "45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0",
    "ja3_md5": "98487aa16281980e7d1120d399efb6a4",
}  # fmt: skip


def test_known_browser_fingerprint_with_grease() -> None:
    grease = [0x1A1A, 0x8A8A]
    record = build_client_hello(
        ciphers=[grease[0], *KNOWN["ciphers"]],
        extensions=[grease[1], *KNOWN["extensions"], grease[0]],
        sni="tls.example.com",
        alpn=[b"h2", b"http/1.1"],
        groups=[grease[0], *KNOWN["groups"]],
        formats=KNOWN["formats"],
        sigalgs=KNOWN["sigalgs"],
        versions=[grease[1], 0x0304, 0x0303],
    )
    hello = parse_client_hello(record)
    assert hello.ja4 == KNOWN["ja4"]
    assert hello.ja3 == KNOWN["ja3"]
    assert hello.ja3_md5 == KNOWN["ja3_md5"]
    assert hello.sni == "tls.example.com"
    assert hello.alpn == ("h2", "http/1.1")
    assert hello.supported_versions == (grease[1], 0x0304, 0x0303)


def test_ja4_spec_rules() -> None:
    """Counts cap at 99, SNI/ALPN leave the extension hash, empty lists hash to zeros."""
    base = dict(legacy_version=0x0303, supported_versions=(), signature_algorithms=())
    empty = ja4(**base, cipher_suites=(), extensions=[], has_sni=False, first_alpn=None)
    assert empty == "t12i000000_000000000000_000000000000"
    many = ja4(
        **base,
        cipher_suites=tuple(range(1, 150)),
        extensions=list(range(1, 120)),
        has_sni=True,
        first_alpn=b"h3",
    )
    assert many.startswith("t12d9999h3_")
    only_sni = ja4(**base, cipher_suites=(1,), extensions=[0, 16], has_sni=True, first_alpn=b"x")
    assert only_sni.endswith("_000000000000")
    assert only_sni.startswith("t12d0102xx_")
    ciphers = ja4(**base, cipher_suites=(0x0035, 0x002F), extensions=[], has_sni=False,
                  first_alpn=None)  # fmt: skip
    digest = hashlib.sha256(b"002f,0035").hexdigest()[:12]
    assert ciphers.split("_")[1] == digest
    non_alnum = ja4(**base, cipher_suites=(1,), extensions=[16], has_sni=False,
                    first_alpn=b"\xab\xcd")  # fmt: skip
    assert non_alnum[8:10] == "ad"
    ssl3 = ja4(legacy_version=0x0300, supported_versions=(), signature_algorithms=(),
               cipher_suites=(1,), extensions=[], has_sni=False, first_alpn=None)  # fmt: skip
    assert ssl3.startswith("ts3i")


def test_grease_values() -> None:
    assert all(is_grease(0x0A0A + 0x1010 * i) for i in range(16))
    assert not is_grease(0x0A0B)
    assert not is_grease(0x1301)
    assert ja3_string(771, [0x0A0A, 1], [0x1A1A], (0x2A2A, 29), (0,)) == "771,1,,29,0"


def test_incomplete_and_foreign_records() -> None:
    record = build_client_hello(ciphers=[0x1301], extensions=[0x0000], sni="a.example")
    with pytest.raises(Incomplete):
        parse_client_hello(record[:-3])
    with pytest.raises(Incomplete):
        parse_client_hello(record[:3])
    # A ClientHello announced longer than its record continues in a later record.
    split = bytearray(record)
    split[3:5] = struct.pack("!H", 20)
    with pytest.raises(Incomplete):
        parse_client_hello(bytes(split[: 5 + 20]))
    with pytest.raises(ParseError):
        parse_client_hello(b"\x17\x03\x03\x00\x05hello")
    with pytest.raises(ParseError):
        parse_client_hello(b"GET / HTTP/1.1\r\n")
    ccs = b"\x14\x03\x03\x00\x01\x01"
    assert parse_client_hello(ccs + record).sni == "a.example"


def test_errors_carry_no_payload_bytes() -> None:
    secret = b"very-secret-host.example"
    record = build_client_hello(ciphers=[1], extensions=[0], sni=secret.decode())
    broken = record.replace(secret, secret[:-1] + b"\x00")
    with pytest.raises(ParseError) as info:
        parse_client_hello(broken)
    assert isinstance(info.value, InvalidInput)
    text = str(info.value) + repr(info.value.problem())
    assert "secret" not in text
    assert info.value.offset > 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_client_hello_random_bytes(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse_client_hello(data)


@settings(max_examples=200, deadline=None)
@given(
    ciphers=st.lists(st.integers(0, 0xFFFF), max_size=40),
    extensions=st.lists(
        st.sampled_from([0x0000, 0x000A, 0x000B, 0x000D, 0x0010, 0x002B, 0x0017, 0x0A0A, 0xFF01]),
        max_size=12,
        unique=True,
    ),
    sni=st.from_regex(r"[a-z0-9]{1,20}(\.[a-z]{2,6}){1,2}", fullmatch=True),
    alpn=st.lists(st.binary(min_size=1, max_size=12), min_size=1, max_size=3),
    cut=st.integers(0, 400),
    flip=st.integers(0, 400),
)
def test_client_hello_round_trip_and_mutation(
    ciphers: list[int], extensions: list[int], sni: str, alpn: list[bytes], cut: int, flip: int
) -> None:
    record = build_client_hello(
        ciphers=ciphers,
        extensions=extensions,
        sni=sni,
        alpn=alpn,
        groups=[29, 23],
        formats=[0],
        sigalgs=[0x0403],
        versions=[0x0304],
    )
    hello = parse_client_hello(record)
    assert hello.cipher_suites == tuple(ciphers)
    assert hello.extensions == tuple(extensions)
    assert hello.sni == (sni if 0x0000 in extensions else None)
    if 0x0010 in extensions:
        assert len(hello.alpn) == len(alpn)
    assert hello.ja4[:4] == ("t13" if 0x002B in extensions else "t12") + (
        "d" if 0x0000 in extensions else "i"
    )
    mutated = bytearray(record[: max(cut, 1)])
    if flip < len(mutated):
        mutated[flip] ^= 0xFF
    with contextlib.suppress(ParseError):
        parse_client_hello(bytes(mutated))


# -- DNS -------------------------------------------------------------------------------------


def _tshark_name(name: str) -> str:
    return "." if name == "<Root>" else name


@needs_tshark
def test_dns_matches_tshark(shared_data: Path, tmp_path: Path) -> None:
    """Question names and types, rcode and answer owner names/types on the DNS traces."""
    fields = ["dns.flags.rcode", "dns.qry.name", "dns.qry.type", "dns.count.answers",
              "dns.resp.name", "dns.resp.type"]  # fmt: skip
    paths = sorted(_traces(shared_data).glob("dns*.pcap"))
    paths += sorted((_traces(shared_data) / "dns").glob("*.pcap"))
    path = _merged(paths, tmp_path / "dns.pcapng")
    oracle = _tshark(path, "dns && !_ws.malformed && !_ws.expert.severity >= warning", fields)
    compared = 0
    for proto, tcp in ((17, False), (6, True)):
        for frame, payload in _payloads(path, proto):
            if frame not in oracle:
                continue
            rcode, qnames, qtypes, ancount, rnames, rtypes = oracle[frame]
            try:
                message = parse_dns(payload, tcp=tcp)
            except ParseError:
                continue
            if message.opcode != 0 or any("\\" in q.name for q in message.questions):
                continue  # UPDATE sections and escaped labels are shown differently
            if rcode:  # tshark shows the rcode of responses only
                assert message.rcode == int(rcode) & 0xF, frame
            names = [_tshark_name(n) for n in qnames.split("|")] if qnames else []
            assert [q.name for q in message.questions] == names, frame
            types = [int(t) for t in qtypes.split("|")] if qtypes else []
            assert [q.qtype for q in message.questions] == types, frame
            count = int(ancount or 0)
            resp_names = [_tshark_name(n) for n in rnames.split("|")] if rnames else []
            resp_types = [int(t) for t in rtypes.split("|")] if rtypes else []
            assert [a.name for a in message.answers] == resp_names[:count], frame
            assert [a.rtype for a in message.answers] == resp_types[:count], frame
            compared += 1
    assert compared >= 30


def _dns_message(names: list[str], *, answers: int = 0, compress: bool = True) -> bytes:
    """A query/response naming ``names``; later names point at the first when ``compress``."""
    out = bytearray(struct.pack("!HHHHHH", 0x1234, 0x8180, len(names), answers, 0, 0))
    first_at = None
    for name in names:
        if compress and first_at is not None and name == names[0]:
            out += struct.pack("!H", 0xC000 | first_at)
        else:
            if first_at is None:
                first_at = len(out)
            for label in name.split(".") if name != "." else []:
                out += bytes([len(label)]) + label.encode()
            out += b"\0"
        out += struct.pack("!HH", 1, 1)
    for _ in range(answers):
        out += struct.pack("!HHHIH", 0xC000 | 12, 16, 1, 60, 5) + b"\x04txt!"
    return bytes(out)


def test_dns_compression_answers_and_tcp() -> None:
    message = _dns_message(["www.example.com", "www.example.com"], answers=2)
    parsed = parse_dns(message)
    assert [q.name for q in parsed.questions] == ["www.example.com", "www.example.com"]
    assert [(a.name, a.rtype) for a in parsed.answers] == [("www.example.com", 16)] * 2
    assert parsed.is_response and parsed.rcode == 0 and parsed.answer_count == 2
    assert "txt!" not in repr(parsed)
    framed = struct.pack("!H", len(message)) + message
    assert parse_dns(framed, tcp=True) == parsed
    with pytest.raises(Incomplete):
        parse_dns(framed[:-1], tcp=True)
    assert parse_dns(_dns_message(["."])).questions[0].name == "."


@pytest.mark.parametrize(
    "tail",
    [
        b"\xc0\x0c",  # points at itself
        b"\x01a\xc0\x0c",  # points back into its own labels
        b"\xc0\x20",  # points forwards
        b"\x80",  # reserved label type
        b"\x05ab",  # label past the end
        (b"\x3f" + b"a" * 63) * 4 + b"\0",  # longer than 255 octets
    ],
)
def test_dns_hostile_names(tail: bytes) -> None:
    header = struct.pack("!HHHHHH", 1, 0, 1, 0, 0, 0)
    with pytest.raises(ParseError):
        parse_dns(header + tail + b"\0\1\0\1")


def test_dns_labels_are_escaped() -> None:
    header = struct.pack("!HHHHHH", 1, 0, 1, 0, 0, 0)
    parsed = parse_dns(header + b"\x03a.b\x02\x00\x7f\x00\x00\x01\x00\x01")
    assert parsed.questions[0].name == "a\\.b.\\000\\127"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.booleans())
def test_dns_random_bytes(data: bytes, tcp: bool) -> None:
    with contextlib.suppress(ParseError):
        parse_dns(data, tcp=tcp)


@settings(max_examples=150, deadline=None)
@given(
    names=st.lists(
        st.from_regex(r"[a-z0-9-]{1,12}(\.[a-z0-9-]{1,12}){0,4}", fullmatch=True),
        min_size=1,
        max_size=4,
    ),
    answers=st.integers(0, 3),
    compress=st.booleans(),
    cut=st.integers(0, 200),
)
def test_dns_round_trip_and_truncation(
    names: list[str], answers: int, compress: bool, cut: int
) -> None:
    message = _dns_message(names, answers=answers, compress=compress)
    parsed = parse_dns(message)
    assert [q.name for q in parsed.questions] == names
    assert len(parsed.answers) == answers
    if cut < len(message):
        with contextlib.suppress(ParseError):
            parse_dns(message[:cut])


# -- HTTP ------------------------------------------------------------------------------------


def test_http_host_only() -> None:
    request = (
        b"GET /private/path?token=abc HTTP/1.1\r\nUser-Agent: x\r\nhost:  example.org:8080 \r\n\r\n"
    )
    parsed = parse_http_request(request)
    assert (parsed.method, parsed.version) == ("GET", "HTTP/1.1")
    assert parsed.host == "example.org:8080"
    assert "private" not in repr(parsed) and "token" not in repr(parsed)
    assert parse_http_request(b"HEAD / HTTP/1.0\r\n\r\n").host is None
    with pytest.raises(Incomplete):
        parse_http_request(b"GET /private/path HTTP/1.1\r\nAccept: */*\r\n")
    with pytest.raises(Incomplete):
        parse_http_request(b"GET /priv")
    for bad in (
        b"\x16\x03\x01\x00",
        b"GET /a HTTP/2.0\r\n\r\n",
        b"GET  HTTP/1.1\r\n\r\n",
        b"GET /a HTTP/1.1\r\nno colon\r\n\r\n",
        b"GET /a HTTP/1.1\r\nHost: a b\r\n\r\n",
    ):
        with pytest.raises(ParseError) as info:
            parse_http_request(bad)
        assert "/a" not in str(info.value)


@needs_tshark
def test_http_matches_tshark(shared_data: Path, tmp_path: Path) -> None:
    paths = sorted((_traces(shared_data) / "http").glob("*.pcap"))
    path = _merged(paths, tmp_path / "http.pcapng")
    oracle = _tshark(path, "http.request", ["http.request.method", "http.host"])
    compared = 0
    for frame, payload in _payloads(path, 6):
        if frame not in oracle:
            continue
        try:
            parsed = parse_http_request(payload)
        except ParseError:
            continue
        method, host = oracle[frame]
        assert parsed.method == method.split("|")[0], frame
        assert (parsed.host or "") == host.split("|")[0], frame
        compared += 1
    assert compared >= 20


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_http_random_bytes(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse_http_request(data)


@settings(max_examples=100, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "OPTIONS"]),
    host=st.from_regex(r"[a-z0-9.-]{1,40}(:[0-9]{1,5})?", fullmatch=True),
    headers=st.lists(st.from_regex(r"X-[A-Za-z]{1,8}: [ -~]{0,20}", fullmatch=True), max_size=5),
)
def test_http_round_trip(method: str, host: str, headers: list[str]) -> None:
    head = f"{method} /p HTTP/1.1\r\n" + "".join(h + "\r\n" for h in headers)
    parsed = parse_http_request((head + f"Host: {host}\r\n\r\n").encode())
    assert (parsed.method, parsed.host) == (method, host)
