"""DNS messages (RFC 1035) over UDP, or over TCP with the two-byte length prefix.

Only mechanical fields leave the parser: the header (id, flags, opcode, rcode),
the questions (name, type, class) and the owner names and types of the answer
records. Record data (addresses, TXT strings, ...) is skipped by length and
never decoded. Work is bounded: at most :data:`MAX_QUESTIONS` questions and
:data:`MAX_ANSWERS` answers are read, a name is at most 255 octets, and a
compression pointer must point strictly backwards (no loops) with at most
:data:`MAX_POINTERS` jumps per name.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import Incomplete, ParseError

PROTOCOL = "DNS"
HEADER = 12
MAX_QUESTIONS = 16
MAX_ANSWERS = 128
MAX_POINTERS = 32
MAX_NAME = 255
_PRINTABLE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_*")


@dataclass(frozen=True, slots=True)
class DnsQuestion:
    name: str
    """Presentation form without the final dot (``.`` for the root)."""
    qtype: int
    qclass: int


@dataclass(frozen=True, slots=True)
class DnsAnswer:
    name: str
    rtype: int


@dataclass(frozen=True, slots=True)
class DnsMessage:
    id: int
    is_response: bool
    opcode: int
    rcode: int
    authoritative: bool
    truncated: bool
    recursion_desired: bool
    recursion_available: bool
    questions: tuple[DnsQuestion, ...]
    answers: tuple[DnsAnswer, ...]
    answer_count: int
    """ANCOUNT as written in the header (``answers`` holds at most :data:`MAX_ANSWERS`)."""


def parse_dns(payload: bytes | memoryview, *, tcp: bool = False) -> DnsMessage:
    """Parse one DNS message; with ``tcp`` the payload starts with the length prefix.

    Raises :class:`ParseError` (or :class:`Incomplete` when a TCP message needs
    more bytes) and nothing else.
    """
    data = bytes(payload)
    if tcp:
        if len(data) < 2:
            raise Incomplete(PROTOCOL, 0, "TCP length prefix incomplete")
        length = int.from_bytes(data[:2], "big")
        if len(data) - 2 < length:
            raise Incomplete(PROTOCOL, 2, "message continues in a later segment")
        data = data[2 : 2 + length]
    if len(data) < HEADER:
        raise ParseError(PROTOCOL, 0, "shorter than the 12-byte header")
    ident = int.from_bytes(data[0:2], "big")
    flags = int.from_bytes(data[2:4], "big")
    qdcount = int.from_bytes(data[4:6], "big")
    ancount = int.from_bytes(data[6:8], "big")
    pos = HEADER
    questions = []
    for _ in range(min(qdcount, MAX_QUESTIONS)):
        name, pos = read_name(data, pos)
        if pos + 4 > len(data):
            raise ParseError(PROTOCOL, pos, "question truncated")
        qtype = int.from_bytes(data[pos : pos + 2], "big")
        qclass = int.from_bytes(data[pos + 2 : pos + 4], "big")
        questions.append(DnsQuestion(name, qtype, qclass))
        pos += 4
    answers = []
    if qdcount <= MAX_QUESTIONS:
        for _ in range(min(ancount, MAX_ANSWERS)):
            name, pos = read_name(data, pos)
            if pos + 10 > len(data):
                raise ParseError(PROTOCOL, pos, "resource record header truncated")
            rtype = int.from_bytes(data[pos : pos + 2], "big")
            rdlength = int.from_bytes(data[pos + 8 : pos + 10], "big")
            pos += 10
            if pos + rdlength > len(data):
                raise ParseError(PROTOCOL, pos, "resource record data truncated")
            pos += rdlength
            answers.append(DnsAnswer(name, rtype))
    return DnsMessage(
        id=ident,
        is_response=bool(flags & 0x8000),
        opcode=(flags >> 11) & 0xF,
        rcode=flags & 0xF,
        authoritative=bool(flags & 0x0400),
        truncated=bool(flags & 0x0200),
        recursion_desired=bool(flags & 0x0100),
        recursion_available=bool(flags & 0x0080),
        questions=tuple(questions),
        answers=tuple(answers),
        answer_count=ancount,
    )


def read_name(data: bytes, pos: int) -> tuple[str, int]:
    """The name at ``pos`` in presentation form, and the position after it."""
    labels: list[str] = []
    octets = 1
    jumps = 0
    end: int | None = None
    floor = pos  # a pointer must target bytes before the name part that holds it
    while True:
        if pos >= len(data):
            raise ParseError(PROTOCOL, pos, "name runs past the end of the message")
        length = data[pos]
        kind = length & 0xC0
        if kind == 0xC0:
            if pos + 1 >= len(data):
                raise ParseError(PROTOCOL, pos, "compression pointer truncated")
            target = ((length & 0x3F) << 8) | data[pos + 1]
            if end is None:
                end = pos + 2
            jumps += 1
            if target >= floor or jumps > MAX_POINTERS:
                raise ParseError(PROTOCOL, pos, "compression pointer does not point backwards")
            pos = floor = target
            continue
        if kind:
            raise ParseError(PROTOCOL, pos, "unsupported label type")
        if length == 0:
            name = ".".join(labels) if labels else "."
            return name, (end if end is not None else pos + 1)
        if pos + 1 + length > len(data):
            raise ParseError(PROTOCOL, pos, "label runs past the end of the message")
        octets += length + 1
        if octets > MAX_NAME:
            raise ParseError(PROTOCOL, pos, "name longer than 255 octets")
        labels.append(_label(data[pos + 1 : pos + 1 + length]))
        pos += 1 + length


def _label(raw: bytes) -> str:
    """A label in presentation form: ``\\.``/``\\\\`` and ``\\DDD`` escapes (RFC 4343)."""
    if all(b in _PRINTABLE for b in raw):
        return raw.decode("ascii")
    out = []
    for b in raw:
        if b in _PRINTABLE:
            out.append(chr(b))
        elif b in (0x2E, 0x5C):
            out.append("\\" + chr(b))
        elif 0x21 <= b <= 0x7E:
            out.append(chr(b))
        else:
            out.append(f"\\{b:03d}")
    return "".join(out)
