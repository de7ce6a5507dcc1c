"""Selectors (selection criteria) and their canonical, digestible content.

A selector set version is a list of :class:`Selector` plus YARA sources. Its
canonical form is sorted JSON; the SHA-256 of that form is the digest every
selection receipt names, so anyone holding the set can show which criteria a
batch was selected with.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mamori.errors import InvalidInput

IP = "ip"
PORT = "port"
DOMAIN = "domain"
DOMAIN_SUFFIX = "domain_suffix"
JA3 = "ja3"
JA4 = "ja4"
KINDS = (IP, PORT, DOMAIN, DOMAIN_SUFFIX, JA3, JA4)
YARA = "yara"

PORT_PROTOCOLS = ("tcp", "udp", "sctp", "any")
JA3_RE = re.compile(r"^[0-9a-f]{32}$")
JA4_RE = re.compile(r"^[tqd][0-9a-z]{2}[di][0-9]{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$")
LABEL_RE = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
ID_RE = re.compile(r"^[A-Za-z0-9_.:\-/@]{1,120}$")
FORMAT = "mamori-selectors/1"


@dataclass(frozen=True, order=True, slots=True)
class Selector:
    """One criterion: ``kind`` from :data:`KINDS`, a normalised ``value`` and an id.

    The id is what selected records and receipts name: ``kind:value`` for plain
    lists, the indicator id for STIX. Several selectors may share an id.
    """

    kind: str
    value: str
    id: str


@dataclass(frozen=True, slots=True)
class YaraSource:
    """YARA rules as imported; rule ids are ``yara:<rule name>``."""

    name: str
    text: str


@dataclass
class Parsed:
    """What one imported file yielded, and what it skipped (with reasons, no values)."""

    source: str
    format: str
    selectors: list[Selector] = field(default_factory=list)
    yara: list[YaraSource] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "accepted": len(self.selectors) + len(self.yara),
            "skipped": len(self.skipped),
            "skipped_reasons": sorted(Counter(self.skipped).items())[:20],
        }


@dataclass(frozen=True)
class SelectorContent:
    """The full, canonical content of one selector set version."""

    selectors: tuple[Selector, ...]
    yara: tuple[YaraSource, ...] = ()

    @classmethod
    def build(
        cls, selectors: Iterable[Selector], yara: Iterable[YaraSource] = ()
    ) -> SelectorContent:
        return cls(tuple(sorted(set(selectors))), tuple(sorted(set(yara), key=lambda y: y.name)))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "selectors": [[s.kind, s.value, s.id] for s in self.selectors],
            "yara": [{"name": y.name, "text": y.text} for y in self.yara],
        }

    def canonical(self) -> bytes:
        return json.dumps(
            self.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()

    @classmethod
    def from_json(cls, text: str) -> SelectorContent:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise InvalidInput("selector set content has an unknown format")
        return cls(
            tuple(Selector(k, v, i) for k, v, i in data["selectors"]),
            tuple(YaraSource(y["name"], y["text"]) for y in data["yara"]),
        )

    def counts(self) -> dict[str, int]:
        counts = Counter(s.kind for s in self.selectors)
        out = {kind: counts.get(kind, 0) for kind in KINDS}
        out[YARA] = len(self.yara)
        return out

    def is_empty(self) -> bool:
        return not self.selectors and not self.yara


# --- normalisation ---------------------------------------------------------------------


def normalise_ip(value: str) -> str:
    """An address or CIDR as compressed text; a host route (/32, /128) as the address."""
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError as exc:
        raise ValueError("not an IP address or CIDR") from exc
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


def normalise_port(value: str) -> str:
    """``proto/port`` with proto one of tcp, udp, sctp or any (a bare number is any)."""
    text = value.strip().lower()
    proto, _, port = text.rpartition("/")
    proto = proto or "any"
    if proto not in PORT_PROTOCOLS:
        raise ValueError("port protocol must be tcp, udp, sctp or any")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError("port must be a number from 0 to 65535")
    return f"{proto}/{int(port)}"


def normalise_domain(value: str) -> str:
    """Lower-case A-label form without the trailing dot; raises ValueError when invalid."""
    text = value.strip().rstrip(".").lower()
    if not text:
        raise ValueError("empty domain name")
    try:
        ascii_name = text.encode("idna").decode("ascii") if not text.isascii() else text
    except UnicodeError as exc:
        raise ValueError("domain name cannot be encoded as IDNA") from exc
    if len(ascii_name) > 253:
        raise ValueError("domain name is longer than 253 characters")
    if not all(LABEL_RE.match(label) for label in ascii_name.split(".")):
        raise ValueError("domain name has an invalid label")
    return ascii_name


def domain_selector(value: str, ident: str | None = None) -> Selector:
    """``*.example.com`` or ``.example.com``: the name and every name below it;
    anything else: exactly that name."""
    text = value.strip()
    if text.startswith("*."):
        kind, text = DOMAIN_SUFFIX, text[2:]
    elif text.startswith("."):
        kind, text = DOMAIN_SUFFIX, text[1:]
    else:
        kind = DOMAIN
    name = normalise_domain(text)
    return Selector(kind, name, ident or f"{kind}:{name}")


def make_selector(kind: str, value: str, ident: str | None = None) -> Selector:
    """A validated, normalised selector; ValueError names what is wrong, not the value."""
    if ident is not None and not ID_RE.match(ident):
        raise ValueError("selector id has characters outside A-Z a-z 0-9 _ . : - / @")
    if kind == IP:
        norm = normalise_ip(value)
    elif kind == PORT:
        norm = normalise_port(value)
    elif kind in (DOMAIN, DOMAIN_SUFFIX):
        if kind == DOMAIN_SUFFIX and not value.strip().startswith(("*.", ".")):
            value = "*." + value.strip()
        return domain_selector(value, ident)
    elif kind == JA3:
        norm = value.strip().lower()
        if not JA3_RE.match(norm):
            raise ValueError("a JA3 fingerprint is 32 hexadecimal digits")
    elif kind == JA4:
        norm = value.strip().lower()
        if not JA4_RE.match(norm):
            raise ValueError("not a JA4 fingerprint (e.g. t13d1516h2_8daaf6152771_b186095e22b6)")
    else:
        raise ValueError(f"unknown selector kind (one of {', '.join(KINDS)})")
    return Selector(kind, norm, ident or f"{kind}:{norm}")
