"""STIX 2.1 essentials the store needs: ids, timestamps, object classes, references,
deterministic ids of cyber-observables (STIX 2.1 §2.9) and canonical JSON.

Kept small and dependency-free so that ingesting a million objects stays fast; the
``stix2`` library is used by the tests as the independent check.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
# Our own namespace for the ids of objects mamori creates from its sources.
MAMORI_NAMESPACE = uuid.UUID("9b1c5a0e-6d2f-5f4e-8a71-6d616d6f7269")

SCO_TYPES = frozenset({
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr",
    "email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex",
    "network-traffic", "process", "software", "url", "user-account",
    "windows-registry-key", "x509-certificate",
})
SRO_TYPES = frozenset({"relationship", "sighting"})
META_TYPES = frozenset({"marking-definition", "language-content", "extension-definition"})

# The properties that make up a cyber-observable's deterministic id (STIX 2.1 §2.9 and
# each object's "ID Contributing Properties").
ID_CONTRIBUTING: dict[str, tuple[str, ...]] = {
    "artifact": ("hashes", "payload_bin"),
    "autonomous-system": ("number",),
    "directory": ("path",),
    "domain-name": ("value",),
    "email-addr": ("value",),
    "email-message": ("from_ref", "subject", "body"),
    "file": ("hashes", "name", "extensions", "parent_directory_ref"),
    "ipv4-addr": ("value",),
    "ipv6-addr": ("value",),
    "mac-addr": ("value",),
    "mutex": ("name",),
    "network-traffic": ("start", "end", "src_ref", "dst_ref", "src_port", "dst_port",
                        "protocols", "extensions"),
    "process": (),
    "software": ("name", "cpe", "swid", "vendor", "version"),
    "url": ("value",),
    "user-account": ("account_type", "user_id", "account_login"),
    "windows-registry-key": ("key", "values"),
    "x509-certificate": ("hashes", "serial_number"),
}
_HASH_PREFERENCE = ("MD5", "SHA-1", "SHA-256", "SHA-512")
PSEUDONYM_EPOCH = "x_mamori_pseudonym_epoch"

TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$")
ID_RE = re.compile(
    r"^([a-z0-9][a-z0-9-]{1,248}[a-z0-9])--"
    r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
)
TIMESTAMP_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$"
)
# References that say who made or marked an object: they tie everything a producer made
# together, so they are provenance, not correlation.
NON_CORRELATING_REFS = frozenset({"created_by_ref", "object_marking_refs"})


def parse_timestamp(text: object) -> datetime | None:
    """A STIX timestamp (``YYYY-MM-DDTHH:MM:SS[.fraction]Z``) as aware UTC, else None.

    Fractions beyond microseconds are truncated (ordering only; the text is kept).
    """
    if not isinstance(text, str):
        return None
    match = TIMESTAMP_RE.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute),
                        min(int(second), 59) if second == "60" else int(second), micros,
                        tzinfo=UTC)
    except ValueError:
        return None


def format_timestamp(value: datetime) -> str:
    """Millisecond STIX timestamp of an aware datetime."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def is_sco(obj: Mapping[str, Any]) -> bool:
    """Cyber-observables, and custom objects without ``created``/``modified``, are
    identified by content: they have no versions of their own."""
    kind = obj.get("type")
    if kind in SCO_TYPES:
        return True
    return kind not in SRO_TYPES and kind not in META_TYPES and "modified" not in obj \
        and "created" not in obj


def canonical(obj: Any) -> str:
    """JSON with sorted keys and no spaces (RFC 8785-like for our purposes)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(obj: Any) -> str:
    return hashlib.sha256(canonical(obj).encode("utf-8")).hexdigest()


def _contributing(kind: str, obj: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in ID_CONTRIBUTING.get(kind, ()):
        if name not in obj:
            continue
        value = obj[name]
        if name == "hashes" and isinstance(value, Mapping):
            chosen = next((h for h in _HASH_PREFERENCE if h in value), None)
            if chosen is None:
                continue
            value = {chosen: value[chosen]}
        found[name] = value
    return found


def sco_id(kind: str, obj: Mapping[str, Any]) -> str:
    """The deterministic id of a cyber-observable (UUIDv5 over its contributing
    properties); a random-free fallback over the whole object when none is present."""
    contributing = _contributing(kind, obj)
    if PSEUDONYM_EPOCH in obj:
        # A pseudonym is not the address it looks like: its id must differ from it.
        contributing[PSEUDONYM_EPOCH] = obj[PSEUDONYM_EPOCH]
    if not contributing:
        contributing = {k: v for k, v in obj.items() if k not in ("id", "type", "spec_version")}
    return f"{kind}--{uuid.uuid5(SCO_NAMESPACE, canonical(contributing))}"


def make_sco(kind: str, **properties: Any) -> dict[str, Any]:
    """A cyber-observable with its deterministic id."""
    obj: dict[str, Any] = {"type": kind, "spec_version": "2.1", **properties}
    obj["id"] = sco_id(kind, obj)
    return obj


def mamori_id(kind: str, *parts: object) -> str:
    """A stable id for an object mamori creates (same inputs, same id)."""
    name = "/".join(str(p) for p in (kind, *parts))
    return f"{kind}--{uuid.uuid5(MAMORI_NAMESPACE, name)}"


def references(obj: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Every (property, referenced id) of ``obj``, nested ones included, except the
    provenance references (``created_by_ref``, markings)."""
    yield from _references(obj, "")


def _references(value: Any, name: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str) or key in NON_CORRELATING_REFS or \
                    key == "granular_markings":
                continue
            if key.endswith("_ref") and isinstance(item, str) and ID_RE.match(item):
                yield key, item
            elif key.endswith("_refs") and isinstance(item, list):
                for ref in item:
                    if isinstance(ref, str) and ID_RE.match(ref):
                        yield key, ref
            elif isinstance(item, Mapping | list):
                yield from _references(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item, name)
