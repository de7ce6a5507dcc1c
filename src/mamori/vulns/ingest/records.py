"""What every feed parser produces: records in one shape, whatever the feed.

A parser reads a whole file before anything is stored, and raises
:class:`FeedError` naming the file, the record and the field that is wrong — never the
content — so that a malformed feed changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from mamori.errors import InvalidInput
from mamori.vulns.matching.applicability import DATABASE, UNAFFECTED, Platform, Range

CVE_ID = re.compile(r"CVE-[0-9]{4}-[0-9]{4,19}")
JVN_ID = re.compile(r"JVNDB-[0-9]{4}-[0-9]{6}|JVN#?[0-9]{8}|JVNVU#?[0-9]{8}")
KINDS = ("kev", "cve5", "jvn", "csaf")
TEXT_LIMIT = 8000
TITLE_LIMIT = 300


class FeedError(InvalidInput):
    """A feed file that cannot be read; nothing of it is stored."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}", location=where)


@dataclass(frozen=True)
class GroupSpec:
    """One applicability statement before it is stored (see ``matching.applicability``)."""

    scheme: str
    key: tuple[str, ...]
    ranges: tuple[Range, ...]
    default_status: str = UNAFFECTED
    version_scheme: str = "dotted"
    part: str = "*"
    rest: tuple[str, ...] = ()
    platforms: tuple[Platform, ...] = ()
    authority: str = DATABASE


@dataclass
class VulnRecord:
    """What one origin says about one vulnerability."""

    key: str
    origin: str
    locator: str
    cve_id: str | None = None
    aliases: list[str] = field(default_factory=list)
    updated: datetime | None = None
    published: datetime | None = None
    title: str | None = None
    title_ja: str | None = None
    description: str | None = None
    description_ja: str | None = None
    cvss_score: float | None = None
    cvss_vector: str | None = None
    severity: str | None = None
    cwes: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    kev: dict[str, Any] | None = None
    groups: list[GroupSpec] = field(default_factory=list)
    skipped_criteria: int = 0

    def data(self) -> dict[str, Any]:
        """The fact as stored (JSON-ready)."""
        return {
            "title": self.title, "title_ja": self.title_ja, "description": self.description,
            "description_ja": self.description_ja, "cvss_score": self.cvss_score,
            "cvss_vector": self.cvss_vector, "severity": self.severity, "cwes": self.cwes,
            "references": self.references[:50], "aliases": self.aliases, "kev": self.kev,
            "published": self.published.isoformat() if self.published else None,
        }


@dataclass
class ParsedFeed:
    kind: str
    records: list[VulnRecord]
    catalog_version: str | None = None
    released: datetime | None = None


def text(value: Any, where: str, name: str, *, limit: int = TEXT_LIMIT,
         required: bool = False) -> str | None:
    """An optional string field, trimmed; anything else is a FeedError."""
    if value is None:
        if required:
            raise FeedError(where, f"{name} is missing")
        return None
    if not isinstance(value, str):
        raise FeedError(where, f"{name} is not text")
    value = value.strip()
    if required and not value:
        raise FeedError(where, f"{name} is empty")
    return value[:limit] or None


def timestamp(value: Any, where: str, name: str) -> datetime | None:
    """An ISO 8601 date or date-time → aware UTC (a date-time without zone is UTC)."""
    raw = text(value, where, name, limit=64)
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        try:
            day = date.fromisoformat(raw[:10])
        except ValueError as exc:
            raise FeedError(where, f"{name} is not an ISO 8601 date") from exc
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def day(value: Any, where: str, name: str) -> date | None:
    moment = timestamp(value, where, name)
    return moment.date() if moment else None


def severity_of(score: float | None) -> str | None:
    """CVSS v3 qualitative rating of a base score."""
    if score is None:
        return None
    if score == 0:
        return "none"
    if score < 4:
        return "low"
    if score < 7:
        return "medium"
    if score < 9:
        return "high"
    return "critical"
