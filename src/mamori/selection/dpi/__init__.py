"""Application-layer parsers for candidate packets: DNS, TLS ClientHello, HTTP/1.x.

Each parser takes a payload slice (``bytes`` or ``memoryview``), does bounded
work, and returns only mechanical fields: DNS names, types and rcode; TLS SNI,
ALPN, JA3 and JA4; the HTTP method and Host value. Record data, URIs and
bodies never leave a parser. On bad input they raise :class:`ParseError`
(:class:`Incomplete` when more bytes are needed), which names offsets, never bytes.
"""

from __future__ import annotations

from .dns import DnsAnswer, DnsMessage, DnsQuestion, parse_dns
from .errors import Incomplete, ParseError
from .http import HttpRequest, parse_http_request
from .tls import ClientHello, is_grease, ja3_string, ja4, parse_client_hello

__all__ = [
    "ClientHello",
    "DnsAnswer",
    "DnsMessage",
    "DnsQuestion",
    "HttpRequest",
    "Incomplete",
    "ParseError",
    "is_grease",
    "ja3_string",
    "ja4",
    "parse_client_hello",
    "parse_dns",
    "parse_http_request",
]
