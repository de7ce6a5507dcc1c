"""Generated sample traffic for the demo, the tests and the benchmarks.

Builds DNS, TLS ClientHello and HTTP/1.1 payloads and mixed captures from header
fields (via :mod:`.readers.synthetic`). Payload text is whatever the caller passes:
nothing here comes from real traffic.
"""

from __future__ import annotations

import ipaddress
import random
import struct
from collections.abc import Iterator, Sequence
from pathlib import Path

from .readers.synthetic import TCP, UDP, Record, SyntheticPacket, build_frame, write_pcap


def ip(text: str) -> int:
    return int(ipaddress.ip_address(text))


def _name(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        out += bytes([len(raw)]) + raw
    return out + b"\x00"


def dns_query(name: str, qtype: int = 1, ident: int = 0x1234) -> bytes:
    return struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + _name(name) + struct.pack(
        ">HH", qtype, 1
    )


def dns_txt_response(name: str, texts: Sequence[bytes], ident: int = 0x1234) -> bytes:
    """A response with one TXT answer holding ``texts`` (character strings)."""
    rdata = b"".join(bytes([len(t)]) + t for t in texts)
    answer = b"\xc0\x0c" + struct.pack(">HHIH", 16, 1, 300, len(rdata)) + rdata
    return (
        struct.pack(">HHHHHH", ident, 0x8180, 1, 1, 0, 0)
        + _name(name)
        + struct.pack(">HH", 16, 1)
        + answer
    )


def _ext(kind: int, body: bytes) -> bytes:
    return struct.pack(">HH", kind, len(body)) + body


def tls_client_hello(
    sni: str | None,
    *,
    ciphers: Sequence[int] = (0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F),
    alpn: Sequence[bytes] = (b"h2", b"http/1.1"),
) -> bytes:
    """A TLS 1.3 ClientHello record (random fixed, no session id)."""
    exts = b""
    if sni is not None:
        host = sni.encode("ascii")
        entry = b"\x00" + struct.pack(">H", len(host)) + host
        exts += _ext(0x0000, struct.pack(">H", len(entry)) + entry)
    groups = struct.pack(">HHH", 0x001D, 0x0017, 0x0018)
    exts += _ext(0x000A, struct.pack(">H", len(groups)) + groups)
    exts += _ext(0x000B, b"\x01\x00")
    sigs = struct.pack(">HHH", 0x0403, 0x0804, 0x0401)
    exts += _ext(0x000D, struct.pack(">H", len(sigs)) + sigs)
    if alpn:
        names = b"".join(bytes([len(a)]) + a for a in alpn)
        exts += _ext(0x0010, struct.pack(">H", len(names)) + names)
    exts += _ext(0x002B, b"\x04\x03\x04\x03\x03")
    suites = b"".join(struct.pack(">H", c) for c in ciphers)
    body = (
        b"\x03\x03" + bytes(range(32)) + b"\x00"
        + struct.pack(">H", len(suites)) + suites + b"\x01\x00"
        + struct.pack(">H", len(exts)) + exts
    )  # fmt: skip
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack(">H", len(handshake)) + handshake


def http_request(host: str, target: str = "/", headers: Sequence[tuple[str, str]] = ()) -> bytes:
    lines = [f"GET {target} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def tcp(src: str, dst: str, sport: int, dport: int, payload: bytes = b"", flags: int = 0x018,
        ttl: int = 64) -> SyntheticPacket:  # fmt: skip
    return SyntheticPacket(
        family=ipaddress.ip_address(src).version, src=ip(src), dst=ip(dst), proto=TCP,
        sport=sport, dport=dport, tcp_flags=flags, payload=payload, ttl=ttl,
    )  # fmt: skip


def udp(src: str, dst: str, sport: int, dport: int, payload: bytes = b"", ttl: int = 64
        ) -> SyntheticPacket:  # fmt: skip
    return SyntheticPacket(
        family=ipaddress.ip_address(src).version, src=ip(src), dst=ip(dst), proto=UDP,
        sport=sport, dport=dport, payload=payload, ttl=ttl,
    )  # fmt: skip


def write_capture(path: Path, packets: Sequence[SyntheticPacket], start_ns: int,
                  step_ns: int = 1_000_000) -> Path:  # fmt: skip
    """A classic pcap of ``packets`` spaced ``step_ns`` apart from ``start_ns``."""
    with open(path, "wb") as handle:
        write_pcap(
            handle,
            (Record(build_frame(p), start_ns + i * step_ns) for i, p in enumerate(packets)),
        )
    return path


def mixed_packets(
    count: int, *, rng: random.Random, c2: Sequence[str], start_ns: int, c2_share: float = 0.01
) -> Iterator[Record]:
    """A mix of foreign traffic (TCP/UDP, v4/v6, empty to full-size payloads) in which
    about ``c2_share`` of the packets go to one of the ``c2`` addresses."""
    filler = bytes(1400)
    ts = start_ns
    c2_ints = [ip(a) for a in c2 if ipaddress.ip_address(a).version == 4]
    for _ in range(count):
        family = 6 if rng.random() < 0.2 else 4
        bits = 32 if family == 4 else 128
        src = rng.getrandbits(bits)
        dst = rng.getrandbits(bits)
        if family == 4 and c2_ints and rng.random() < c2_share:
            dst = rng.choice(c2_ints)
        roll = rng.random()
        proto = TCP if roll < 0.75 else UDP
        size_roll = rng.random()
        size = 0 if size_roll < 0.4 else 550 if size_roll < 0.7 else 1400
        packet = SyntheticPacket(
            family=family, src=src, dst=dst, proto=proto, sport=rng.randint(1024, 65535),
            dport=rng.choice((80, 443, 8080, 123, 25)), payload=filler[:size],
        )  # fmt: skip
        ts += rng.randint(1_000, 20_000)
        yield Record(build_frame(packet), ts)
