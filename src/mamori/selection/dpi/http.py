"""HTTP/1.x requests (RFC 9112): the method and the Host header value, nothing else.

The request target (URI), other headers and the body never leave this module:
the parser checks the request line's shape, then scans header lines for
``Host``. Work is bounded by :data:`MAX_HEAD` bytes and :data:`MAX_HEADERS` lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import Incomplete, ParseError

PROTOCOL = "HTTP"
MAX_HEAD = 16_384
MAX_HEADERS = 128
MAX_METHOD = 32
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_VERSION = re.compile(rb"HTTP/1\.[0-9]\Z")
_HOST = re.compile(rb"[!-~]{1,255}\Z")


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    version: str
    """``HTTP/1.0`` or ``HTTP/1.1``."""
    host: str | None
    """The Host header's value (host and optional port), or ``None`` when absent."""


def parse_http_request(payload: bytes | memoryview) -> HttpRequest:
    """Parse the request head at the start of ``payload``.

    Raises :class:`Incomplete` when the request line or the head is cut before a
    Host header is found, :class:`ParseError` when it is not an HTTP/1.x request.
    """
    data = bytes(payload[:MAX_HEAD])
    line_end = data.find(b"\r\n")
    if line_end < 0:
        if len(data) >= MAX_HEAD:
            raise ParseError(PROTOCOL, 0, "request line longer than the head limit")
        _check_method_prefix(data)
        raise Incomplete(PROTOCOL, 0, "request line incomplete")
    parts = data[:line_end].split(b" ")
    if len(parts) != 3 or not parts[1]:
        raise ParseError(PROTOCOL, 0, "request line is not method, target, version")
    method, _, version = parts
    if len(method) > MAX_METHOD or not _TOKEN.match(method):
        raise ParseError(PROTOCOL, 0, "method is not a token")
    if not _VERSION.match(version):
        raise ParseError(PROTOCOL, line_end, "version is not HTTP/1.x")
    pos = line_end + 2
    for _ in range(MAX_HEADERS):
        end = data.find(b"\r\n", pos)
        if end < 0:
            raise Incomplete(PROTOCOL, pos, "header section incomplete")
        if end == pos:
            return HttpRequest(method.decode("ascii"), version.decode("ascii"), None)
        name, colon, value = data[pos:end].partition(b":")
        if not colon or not _TOKEN.match(name):
            raise ParseError(PROTOCOL, pos, "header line has no field name")
        if name.lower() == b"host":
            host = value.strip(b" \t")
            if not _HOST.match(host):
                raise ParseError(PROTOCOL, pos, "Host value is not a printable host")
            return HttpRequest(method.decode("ascii"), version.decode("ascii"), host.decode())
        pos = end + 2
    raise ParseError(PROTOCOL, pos, f"more than {MAX_HEADERS} header lines before Host")


def _check_method_prefix(data: bytes) -> None:
    head = data.split(b" ", 1)[0]
    if not head:
        raise ParseError(PROTOCOL, 0, "empty request line")
    if len(head) > MAX_METHOD or not _TOKEN.match(head):
        raise ParseError(PROTOCOL, 0, "method is not a token")
