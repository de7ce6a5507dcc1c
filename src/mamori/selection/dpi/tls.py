"""TLS ClientHello (RFC 8446 section 4.1.2) at the start of a TCP payload, and its fingerprints.

The parser reads one TLS record holding one ClientHello handshake message;
a ClientHello spread over several records or segments raises
:class:`Incomplete`. It returns the mechanical fields a selector needs: the
offered versions, cipher suites, extension types, groups, point formats and
signature algorithms, the SNI host name and the ALPN protocol names, plus JA3
(Salesforce) and JA4 (FoxIO) fingerprints. GREASE values (RFC 8701) are
dropped from every fingerprint input.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .errors import Incomplete, ParseError

PROTOCOL = "TLS"
CHANGE_CIPHER_SPEC = 20
HANDSHAKE = 22
CLIENT_HELLO = 1
EXT_SNI = 0x0000
EXT_GROUPS = 0x000A
EXT_POINT_FORMATS = 0x000B
EXT_SIGNATURE_ALGORITHMS = 0x000D
EXT_ALPN = 0x0010
EXT_SUPPORTED_VERSIONS = 0x002B
MAX_NAME = 255
_JA4_VERSIONS = {
    0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3", 0x0200: "s2",
    0xFEFF: "d1", 0xFEFD: "d2", 0xFEFC: "d3",
}  # fmt: skip


def is_grease(value: int) -> bool:
    """RFC 8701 GREASE: 0x0A0A, 0x1A1A, ... 0xFAFA."""
    return (value & 0x0F0F) == 0x0A0A and (value >> 8) == (value & 0xFF)


@dataclass(frozen=True, slots=True)
class ClientHello:
    record_version: int
    legacy_version: int
    supported_versions: tuple[int, ...]
    cipher_suites: tuple[int, ...]
    extensions: tuple[int, ...]
    """Extension types in wire order."""
    groups: tuple[int, ...]
    point_formats: tuple[int, ...]
    signature_algorithms: tuple[int, ...]
    sni: str | None
    alpn: tuple[str, ...]
    ja3: str
    ja3_md5: str
    ja4: str


class _Reader:
    """Bounds-checked big-endian reads over the payload; errors name offsets only."""

    def __init__(self, data: bytes, start: int, end: int) -> None:
        self.data, self.pos, self.end = data, start, end

    def need(self, n: int, what: str) -> None:
        if self.pos + n > self.end:
            raise ParseError(PROTOCOL, self.pos, f"{what} runs past its enclosing length")

    def u8(self, what: str) -> int:
        self.need(1, what)
        self.pos += 1
        return self.data[self.pos - 1]

    def u16(self, what: str) -> int:
        self.need(2, what)
        self.pos += 2
        return (self.data[self.pos - 2] << 8) | self.data[self.pos - 1]

    def block(self, size_bytes: int, what: str) -> _Reader:
        length = self.u8(what) if size_bytes == 1 else self.u16(what)
        self.need(length, what)
        inner = _Reader(self.data, self.pos, self.pos + length)
        self.pos += length
        return inner

    def u16_list(self, what: str) -> tuple[int, ...]:
        if (self.end - self.pos) % 2:
            raise ParseError(PROTOCOL, self.pos, f"{what} has an odd length")
        return tuple(self.u16(what) for _ in range((self.end - self.pos) // 2))

    @property
    def left(self) -> int:
        return self.end - self.pos


def parse_client_hello(payload: bytes | memoryview) -> ClientHello:
    """Parse the ClientHello that begins ``payload`` (a TLS record).

    Raises :class:`Incomplete` when the record or the handshake message goes on
    beyond the bytes given, :class:`ParseError` for anything else.
    """
    data = bytes(payload[: 6 + 5 + 0x4000 + 2048])  # one record at most
    if data[:1] == bytes([CHANGE_CIPHER_SPEC]) and data[1:2] == b"\x03" and data[3:6] == b"\0\1\1":
        data = data[6:]  # TLS 1.3 middlebox compatibility: a ChangeCipherSpec first
    if len(data) < 5:
        raise Incomplete(PROTOCOL, 0, "record header incomplete")
    if data[0] != HANDSHAKE:
        raise ParseError(PROTOCOL, 0, "not a handshake record")
    record_version = (data[1] << 8) | data[2]
    if data[1] != 3:
        raise ParseError(PROTOCOL, 1, "record version is not TLS")
    record_length = (data[3] << 8) | data[4]
    if len(data) < 5 + record_length:
        raise Incomplete(PROTOCOL, 5, "record continues in a later segment")
    record = _Reader(data, 5, 5 + record_length)
    if record.u8("handshake type") != CLIENT_HELLO:
        raise ParseError(PROTOCOL, 5, "handshake message is not a ClientHello")
    record.need(3, "handshake length")
    length = int.from_bytes(data[record.pos : record.pos + 3], "big")
    record.pos += 3
    if length > record.left:
        raise Incomplete(PROTOCOL, record.pos, "ClientHello continues in a later record")
    hello = _Reader(data, record.pos, record.pos + length)
    legacy_version = hello.u16("legacy version")
    hello.need(32, "random")
    hello.pos += 32
    session = hello.block(1, "session id")
    if session.left > 32:
        raise ParseError(PROTOCOL, session.pos, "session id longer than 32 bytes")
    ciphers = hello.block(2, "cipher suites").u16_list("cipher suites")
    hello.block(1, "compression methods")
    extensions: list[int] = []
    groups: tuple[int, ...] = ()
    formats: tuple[int, ...] = ()
    sigalgs: tuple[int, ...] = ()
    versions: tuple[int, ...] = ()
    sni: str | None = None
    alpn: tuple[bytes, ...] = ()
    if hello.left:
        block = hello.block(2, "extensions")
        while block.left:
            ext_type = block.u16("extension type")
            body = block.block(2, "extension")
            extensions.append(ext_type)
            if ext_type == EXT_SNI and sni is None:
                sni = _server_name(body)
            elif ext_type == EXT_GROUPS:
                groups = body.block(2, "supported groups").u16_list("supported groups")
            elif ext_type == EXT_POINT_FORMATS:
                inner = body.block(1, "point formats")
                formats = tuple(inner.u8("point format") for _ in range(inner.left))
            elif ext_type == EXT_SIGNATURE_ALGORITHMS:
                sigalgs = body.block(2, "signature algorithms").u16_list("signature algorithms")
            elif ext_type == EXT_ALPN:
                alpn = _alpn(body)
            elif ext_type == EXT_SUPPORTED_VERSIONS:
                versions = body.block(1, "supported versions").u16_list("supported versions")
    ja3 = ja3_string(legacy_version, ciphers, extensions, groups, formats)
    return ClientHello(
        record_version=record_version,
        legacy_version=legacy_version,
        supported_versions=versions,
        cipher_suites=ciphers,
        extensions=tuple(extensions),
        groups=groups,
        point_formats=formats,
        signature_algorithms=sigalgs,
        sni=sni,
        alpn=tuple(p.decode("ascii", "backslashreplace") for p in alpn),
        ja3=ja3,
        ja3_md5=hashlib.md5(ja3.encode(), usedforsecurity=False).hexdigest(),
        ja4=ja4(
            legacy_version=legacy_version,
            supported_versions=versions,
            cipher_suites=ciphers,
            extensions=extensions,
            signature_algorithms=sigalgs,
            has_sni=EXT_SNI in extensions,
            first_alpn=alpn[0] if alpn else None,
        ),
    )


def _server_name(body: _Reader) -> str | None:
    names = body.block(2, "server name list")
    while names.left:
        kind = names.u8("server name type")
        name = names.block(2, "server name")
        if kind == 0:
            raw = name.data[name.pos : name.end]
            if not 0 < len(raw) <= MAX_NAME or any(b <= 0x20 or b >= 0x7F for b in raw):
                raise ParseError(PROTOCOL, name.pos, "server name is not a printable host name")
            return raw.decode("ascii")
    return None


def _alpn(body: _Reader) -> tuple[bytes, ...]:
    protocols = body.block(2, "ALPN list")
    out = []
    while protocols.left:
        entry = protocols.block(1, "ALPN protocol")
        out.append(entry.data[entry.pos : entry.end])
    return tuple(out)


def ja3_string(
    version: int,
    ciphers: tuple[int, ...] | list[int],
    extensions: tuple[int, ...] | list[int],
    groups: tuple[int, ...],
    formats: tuple[int, ...],
) -> str:
    """``SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats``."""

    def join(values: tuple[int, ...] | list[int]) -> str:
        return "-".join(str(v) for v in values if not is_grease(v))

    return ",".join((str(version), join(ciphers), join(extensions), join(groups), join(formats)))


def ja4(
    *,
    legacy_version: int,
    supported_versions: tuple[int, ...],
    cipher_suites: tuple[int, ...],
    extensions: list[int] | tuple[int, ...],
    signature_algorithms: tuple[int, ...],
    has_sni: bool,
    first_alpn: bytes | None,
    transport: str = "t",
) -> str:
    """The JA4 fingerprint ``a_b_c`` per the FoxIO specification."""
    versions = [v for v in supported_versions if not is_grease(v)]
    version = max(versions) if versions else legacy_version
    ciphers = [c for c in cipher_suites if not is_grease(c)]
    exts = [e for e in extensions if not is_grease(e)]
    part_a = (
        f"{transport}{_JA4_VERSIONS.get(version, '00')}{'d' if has_sni else 'i'}"
        f"{min(len(ciphers), 99):02d}{min(len(exts), 99):02d}{_alpn_chars(first_alpn)}"
    )
    part_b = _hash12(",".join(sorted(f"{c:04x}" for c in ciphers))) if ciphers else "0" * 12
    hashed = sorted(f"{e:04x}" for e in exts if e not in (EXT_SNI, EXT_ALPN))
    sigalgs = [f"{s:04x}" for s in signature_algorithms if not is_grease(s)]
    if not hashed:
        part_c = "0" * 12
    else:
        text = ",".join(hashed)
        if sigalgs:
            text += "_" + ",".join(sigalgs)
        part_c = _hash12(text)
    return f"{part_a}_{part_b}_{part_c}"


def _alpn_chars(value: bytes | None) -> str:
    if not value:
        return "00"
    first, last = value[0], value[-1]
    if chr(first).isalnum() and chr(last).isalnum() and first < 0x80 and last < 0x80:
        return chr(first) + chr(last)
    text = value.hex()
    return text[0] + text[-1]


def _hash12(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]
