"""Correlation values: what two facts from different sources can have in common.

Each value normalises to ``(kind, key, plen)``, the row the correlation index stores:

- ``ipv4``/``ipv6``: ``key`` is the network address as fixed-width hex (sorts like the
  number) and ``plen`` the prefix length, so CIDR containment is a handful of exact
  look-ups and "everything inside this network" is one key range;
- ``domain``: labels reversed (``example.c2.www``), so parent domains are exact keys
  and sub-domains one key range;
- ``url``, ``hash`` (``sha256:<hex>``), ``cve``, ``attack`` (ATT&CK technique), ``ja4``
  and ``pseudo`` (a pseudonymised address, only comparable within its key epoch).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from mamori.errors import InvalidInput

KINDS: tuple[str, ...] = ("ipv4", "ipv6", "domain", "url", "hash", "cve", "attack", "ja4",
                          "pseudo")
KEY_MAX = 400

_CVE = re.compile(r"^CVE-\d{4}-\d{4,19}$", re.IGNORECASE)
_ATTACK = re.compile(r"^T\d{4}(?:\.\d{3})?$", re.IGNORECASE)
_JA4 = re.compile(r"^[tqd]\d{2}[di]\d{4}[a-z0-9]{2}_[0-9a-f]{12}_[0-9a-f]{12}$", re.IGNORECASE)
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
HASH_ALGORITHMS: dict[str, tuple[str, int]] = {
    "md5": ("md5", 32), "sha1": ("sha1", 40), "sha-1": ("sha1", 40),
    "sha256": ("sha256", 64), "sha-256": ("sha256", 64),
    "sha512": ("sha512", 128), "sha-512": ("sha512", 128),
    "sha3-256": ("sha3-256", 64), "sha3-512": ("sha3-512", 128),
}
_BY_LENGTH = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}


@dataclass(frozen=True, order=True)
class Value:
    """One normalised correlation value."""

    kind: str
    key: str
    plen: int = 0

    @property
    def text(self) -> str:
        """The value as people write it."""
        if self.kind in ("ipv4", "ipv6"):
            address = ipaddress.ip_address(int(self.key, 16)) if self.kind == "ipv4" else \
                ipaddress.IPv6Address(int(self.key, 16))
            full = 32 if self.kind == "ipv4" else 128
            return str(address) if self.plen == full else f"{address}/{self.plen}"
        if self.kind == "domain":
            return ".".join(reversed(self.key.split(".")))
        return self.key

    @property
    def label(self) -> str:
        """``kind:text``, unambiguous in lists of mixed values."""
        return f"{self.kind}:{self.text}"


class NotAValue(InvalidInput):
    """A value that is not one of the correlation kinds."""


def _bad(kind: str) -> NotAValue:
    return NotAValue(f"not a valid {kind} value", field="value")


_DOTTED = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")


def ip_value(text: str) -> Value:
    """An address or CIDR network (host bits are cleared)."""
    quick = _DOTTED.match(text.strip())
    if quick is not None and not any(len(g) > 1 and g[0] == "0" for g in quick.groups()):
        a, b, c, d = (int(g) for g in quick.groups())
        if a <= 255 and b <= 255 and c <= 255 and d <= 255:  # the common case, fast
            return Value("ipv4", f"{(a << 24) | (b << 16) | (c << 8) | d:08x}", 32)
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise _bad("IP address or network") from None
    if network.version == 4:
        return Value("ipv4", f"{int(network.network_address):08x}", network.prefixlen)
    mapped = network.network_address.ipv4_mapped
    if mapped is not None and network.prefixlen >= 96:
        return Value("ipv4", f"{int(mapped):08x}", network.prefixlen - 96)
    return Value("ipv6", f"{int(network.network_address):032x}", network.prefixlen)


def ip_bounds(value: Value) -> tuple[str, str]:
    """The first and last address of an IP value, as keys."""
    bits = 32 if value.kind == "ipv4" else 128
    start = int(value.key, 16)
    end = start | ((1 << (bits - value.plen)) - 1)
    width = bits // 4
    return f"{start:0{width}x}", f"{end:0{width}x}"


def supernets(value: Value, lengths: Iterable[int] | None = None) -> list[Value]:
    """Every network strictly containing ``value`` (shortest prefix first); only those of
    the prefix ``lengths`` given, when given."""
    bits = 32 if value.kind == "ipv4" else 128
    number = int(value.key, 16)
    width = bits // 4
    found = []
    chosen = range(0, value.plen) if lengths is None else sorted(
        p for p in lengths if 0 <= p < value.plen)
    for plen in chosen:
        mask = ((1 << plen) - 1) << (bits - plen) if plen else 0
        found.append(Value(value.kind, f"{number & mask:0{width}x}", plen))
    return found


def domain_value(text: str) -> Value:
    """A domain name: lower-cased, IDNA-encoded, trailing dot removed, labels reversed."""
    name = text.strip().rstrip(".").lower()
    if not name or len(name) > 253:
        raise _bad("domain")
    try:
        name = name.encode("idna").decode("ascii") if not name.isascii() else name
    except UnicodeError:
        raise _bad("domain") from None
    labels = name.split(".")
    if any(not _LABEL.match(label) for label in labels):
        raise _bad("domain")
    if all(label.isdigit() for label in labels):
        raise _bad("domain")
    return Value("domain", ".".join(reversed(labels)))


def parent_domains(value: Value) -> list[Value]:
    """The parents of a domain that still name an organisation (two labels or more)."""
    labels = value.key.split(".")
    return [Value("domain", ".".join(labels[:n])) for n in range(2, len(labels))]


def domain_range(value: Value) -> tuple[str, str]:
    """Key bounds of every strict sub-domain: ``[key + ".", key + "/")``."""
    return value.key + ".", value.key + "/"


def _host_value(host: str) -> Value:
    try:
        return ip_value(host.strip("[]"))
    except InvalidInput:
        return domain_value(host)


def url_value(text: str) -> tuple[Value, Value | None]:
    """A URL (scheme and host lower-cased, default port and fragment dropped) and the
    value of its host. Very long URLs are keyed by their SHA-256."""
    raw = text.strip()
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise _bad("URL") from None
    if not parts.scheme or not parts.hostname:
        raise _bad("URL")
    scheme = parts.scheme.lower()
    host = _host_value(parts.hostname)
    host_text = host.text if host.kind == "domain" else (
        f"[{host.text}]" if host.kind == "ipv6" else host.text)
    netloc = host_text if port is None or _DEFAULT_PORTS.get(scheme) == port \
        else f"{host_text}:{port}"
    if parts.username or parts.password:
        netloc = "@" + netloc
    normal = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    if len(normal) > KEY_MAX:
        normal = "sha256:" + hashlib.sha256(normal.encode("utf-8")).hexdigest()
    return Value("url", normal), host


def hash_value(algorithm: str, hexdigest: str) -> Value:
    """A file hash of a known algorithm, as ``algorithm:hex`` (lower case)."""
    known = HASH_ALGORITHMS.get(algorithm.strip().lower())
    digest_text = hexdigest.strip().lower()
    if known is None or len(digest_text) != known[1] or not _HEX.match(digest_text):
        raise _bad("hash")
    return Value("hash", f"{known[0]}:{digest_text}")


def cve_value(text: str) -> Value:
    if not _CVE.match(text.strip()):
        raise _bad("CVE")
    return Value("cve", text.strip().upper())


def attack_value(text: str) -> Value:
    if not _ATTACK.match(text.strip()):
        raise _bad("ATT&CK technique")
    return Value("attack", text.strip().upper())


def ja4_value(text: str) -> Value:
    if not _JA4.match(text.strip()):
        raise _bad("JA4")
    return Value("ja4", text.strip().lower())


def pseudo_value(epoch: str, address: str) -> Value:
    """A pseudonymised address: equal only to the same pseudonym of the same key epoch."""
    return Value("pseudo", f"{epoch}:{ip_value(address).text}")


_PARSERS = {
    "ipv4": ip_value, "ipv6": ip_value, "ip": ip_value, "domain": domain_value,
    "url": lambda t: url_value(t)[0], "cve": cve_value, "attack": attack_value,
    "ja4": ja4_value,
}


def parse_value(text: str) -> Value:
    """Whatever a person types: an IP or CIDR, a domain, a URL, a hash, a CVE, an ATT&CK
    technique or a JA4 fingerprint; ``kind:value`` forces the kind."""
    raw = (text or "").strip()
    if not raw:
        raise NotAValue("give a value to look up", field="value")
    if len(raw) > 2048:
        raise NotAValue("the value is longer than 2048 characters", field="value")
    kind, sep, rest = raw.partition(":")
    if sep and kind.lower() in _PARSERS and not rest.startswith("//"):
        return _PARSERS[kind.lower()](rest)
    if sep and kind.lower() in HASH_ALGORITHMS and not rest.startswith("//"):
        return hash_value(kind, rest)
    if _CVE.match(raw):
        return cve_value(raw)
    if _ATTACK.match(raw):
        return attack_value(raw)
    if _JA4.match(raw):
        return ja4_value(raw)
    if _HEX.match(raw) and len(raw) in _BY_LENGTH:
        return hash_value(_BY_LENGTH[len(raw)], raw)
    if "://" in raw:
        return url_value(raw)[0]
    try:
        return ip_value(raw)
    except InvalidInput:
        pass
    try:
        return domain_value(raw)
    except InvalidInput:
        raise NotAValue(
            "not a value mamori correlates: give an IP address or CIDR, a domain, a URL, "
            "a file hash, a CVE id, an ATT&CK technique or a JA4 fingerprint", field="value",
        ) from None
