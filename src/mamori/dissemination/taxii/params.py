"""Parsing what a TAXII 2.1 client sends: filters, timestamps, limits, media types.

Everything here reads untrusted input; a malformed value is a ``TaxiiInputError`` that
names the parameter, never echoes the value.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from mamori.errors import InvalidInput

TAXII_MEDIA = "application/taxii+json;version=2.1"
STIX_MEDIA = "application/stix+json;version=2.1"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_LIST = 100

_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$")
_STIX_ID = re.compile(
    r"^[a-z][a-z0-9-]{1,62}[a-z0-9]--"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_STIX_TYPE = re.compile(r"^[a-z][a-z0-9-]{1,62}[a-z0-9]$")
_SPEC_VERSIONS = ("2.0", "2.1")
_VERSION_WORDS = ("first", "last", "all")


class TaxiiInputError(InvalidInput):
    status_code = 400
    title = "Bad TAXII request"


def parse_timestamp(value: str, field: str) -> datetime:
    """A STIX timestamp (``YYYY-MM-DDTHH:MM:SS[.s]Z``), to microsecond precision."""
    match = _TIMESTAMP.match(value or "")
    if match is None:
        raise TaxiiInputError(f"{field}: expected a timestamp like 2026-01-31T09:00:00.000Z",
                              field=field)
    year, month, day, hour, minute, second, fraction = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                        micros, tzinfo=UTC)
    except ValueError:
        raise TaxiiInputError(f"{field}: not a valid date and time", field=field) from None


def format_timestamp(value: datetime) -> str:
    """UTC with microseconds and ``Z``: what ``date_added`` and the headers carry."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def version_key(value: str) -> str:
    """A sortable key for an object version (its ``modified`` or ``created``)."""
    return format_timestamp(parse_timestamp(value, "version"))


def is_stix_id(value: str) -> bool:
    return bool(_STIX_ID.match(value))


def is_stix_type(value: str) -> bool:
    return bool(_STIX_TYPE.match(value))


def _items(raw: str, field: str) -> list[str]:
    parts = [p.strip() for p in raw.split(",")]
    if not parts or any(not p for p in parts) or len(parts) > MAX_LIST:
        raise TaxiiInputError(f"{field}: expected 1-{MAX_LIST} comma-separated values",
                              field=field)
    return parts


@dataclass(frozen=True)
class VersionFilter:
    """``match[version]``: first, last, all and/or exact versions (default: last)."""

    first: bool = False
    last: bool = True
    all: bool = False
    exact: tuple[str, ...] = ()

    def canonical(self) -> list[str]:
        words = [w for w, on in (("all", self.all), ("first", self.first),
                                 ("last", self.last)) if on]
        return words + sorted(self.exact)


def parse_versions(raw: str | None) -> VersionFilter:
    if raw is None:
        return VersionFilter()
    first = last = every = False
    exact: set[str] = set()
    for item in _items(raw, "match[version]"):
        if item == "first":
            first = True
        elif item == "last":
            last = True
        elif item == "all":
            every = True
        else:
            exact.add(format_timestamp(parse_timestamp(item, "match[version]")))
    return VersionFilter(first=first, last=last, all=every, exact=tuple(sorted(exact)))


@dataclass(frozen=True)
class Filters:
    """The filters of one objects/manifest/versions request."""

    added_after: datetime | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: VersionFilter = VersionFilter()
    spec_versions: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    next: str | None = None

    def digest(self, scope: str) -> str:
        """What a ``next`` cursor is bound to: the scope and every filter but the page."""
        body = json.dumps({
            "scope": scope,
            "added_after": format_timestamp(self.added_after) if self.added_after else None,
            "ids": sorted(self.ids), "types": sorted(self.types),
            "versions": self.versions.canonical(), "spec": sorted(self.spec_versions),
        }, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()[:32]


def parse_filters(
    query: Mapping[str, str], *, allowed: frozenset[str], max_limit: int = MAX_LIMIT
) -> Filters:
    """The filters in ``query``; ``allowed`` names the match fields this endpoint takes
    (``id``, ``type``, ``version``, ``spec_version``). Other ``match[...]`` fields are
    ignored, as the specification permits."""
    added_after = None
    if "added_after" in query:
        added_after = parse_timestamp(query["added_after"], "added_after")
    limit = DEFAULT_LIMIT if max_limit >= DEFAULT_LIMIT else max_limit
    if "limit" in query:
        raw = query["limit"].strip()
        if not raw.isdigit() or len(raw) > 9 or int(raw) < 1:
            raise TaxiiInputError("limit: expected a whole number from 1", field="limit")
        limit = min(int(raw), max_limit)
    ids: tuple[str, ...] = ()
    if "id" in allowed and "match[id]" in query:
        ids = tuple(sorted(set(_items(query["match[id]"], "match[id]"))))
        if not all(is_stix_id(i) for i in ids):
            raise TaxiiInputError("match[id]: expected STIX identifiers", field="match[id]")
    types: tuple[str, ...] = ()
    if "type" in allowed and "match[type]" in query:
        types = tuple(sorted(set(_items(query["match[type]"], "match[type]"))))
        if not all(is_stix_type(t) for t in types):
            raise TaxiiInputError("match[type]: expected STIX type names", field="match[type]")
    versions = VersionFilter()
    if "version" in allowed:
        versions = parse_versions(query.get("match[version]"))
    specs: tuple[str, ...] = ()
    if "spec_version" in allowed and "match[spec_version]" in query:
        specs = tuple(sorted(set(_items(query["match[spec_version]"], "match[spec_version]"))))
        if not all(s in _SPEC_VERSIONS for s in specs):
            raise TaxiiInputError("match[spec_version]: expected 2.0 or 2.1",
                                  field="match[spec_version]")
    token = query.get("next")
    if token is not None and not token:
        raise TaxiiInputError("next: empty", field="next")
    return Filters(added_after=added_after, ids=ids, types=types, versions=versions,
                   spec_versions=specs, limit=limit, next=token)


def accepts_taxii(accept: str | None) -> bool:
    """Whether an ``Accept`` header admits the TAXII 2.1 media type."""
    if not accept:
        return True
    for part in accept.split(","):
        kind, _, params = part.strip().partition(";")
        kind = kind.strip().lower()
        if kind in ("*/*", "application/*"):
            return True
        if kind == "application/taxii+json":
            version = _param(params, "version")
            return version in (None, "2.1")
    return False


def is_taxii_content(content_type: str | None) -> bool:
    """Whether a request body is declared as TAXII 2.1 JSON."""
    if not content_type:
        return False
    kind, _, params = content_type.partition(";")
    return kind.strip().lower() == "application/taxii+json" and _param(params, "version") in (
        None, "2.1")


def _param(params: str, name: str) -> str | None:
    for item in params.split(";"):
        key, _, value = item.partition("=")
        if key.strip().lower() == name:
            return value.strip().strip('"')
    return None
