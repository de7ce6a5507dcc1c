"""Storing parsed feeds: facts per origin, their applicability, and the merged summary.

A newer statement from an origin replaces that origin's older one (an older record
than the stored one is left aside); a new KEV catalogue replaces the KEV set, and one
older than the stored catalogue is refused. Callers run this inside a savepoint so
that a file is stored whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from mamori.db import utcnow
from mamori.errors import Conflict
from mamori.vulns.ingest.records import FeedError, GroupSpec, ParsedFeed, VulnRecord
from mamori.vulns.matching.applicability import HINT, Platform, Range
from mamori.vulns.models import Applicability, VulnAlias, Vulnerability, VulnFact, VulnSource

# Whose words head the merged summary: the CNA, then a vendor's CSAF, the ADPs, JVN, KEV.
_PRECEDENCE = ("cve5:cna", "csaf:", "cve5:adp:", "jvn:", "kev", "case:")

Key = tuple[str, ...]


@dataclass
class Stored:
    """What storing a feed changed: the product keys whose statements changed."""

    records: int = 0
    stale: int = 0
    skipped_criteria: int = 0
    keys: set[Key] = field(default_factory=set)
    vulnerability_ids: set[int] = field(default_factory=set)


def key_of(row: Applicability) -> Key:
    """The index key of a stored statement (name hints live among CPE keys)."""
    if row.scheme == "purl":
        return ("purl", row.key_1, row.key_2, row.key_3)
    return ("cpe", row.key_1, row.key_2)


def spec_key(spec: GroupSpec) -> Key:
    scheme = "cpe" if spec.scheme == "name" else spec.scheme
    return (scheme, *spec.key)


def _rank(origin: str) -> int:
    return next((i for i, p in enumerate(_PRECEDENCE) if origin.startswith(p)), len(_PRECEDENCE))


def newest_kev_version(session: Session) -> str | None:
    return session.scalar(select(func.max(VulnSource.catalog_version))
                          .where(VulnSource.kind == "kev"))


def find_vulnerability(session: Session, key: str) -> Vulnerability | None:
    row = session.scalars(select(Vulnerability).where(Vulnerability.key == key)).first()
    if row is not None:
        return row
    alias = session.scalars(select(VulnAlias).where(VulnAlias.alias == key)).first()
    return session.get(Vulnerability, alias.vulnerability_id) if alias else None


def vulnerability_for(
    session: Session, record: VulnRecord, known: dict[str, Vulnerability | None] | None = None
) -> tuple[Vulnerability, bool]:
    """The vulnerability a record speaks of (created if new) and whether it is new.

    ``known`` holds what a bulk look-up found (``None``: known to be absent)."""
    if known is not None and record.key in known:
        row = known[record.key]
    else:
        row = find_vulnerability(session, record.key)
    if row is not None:
        return row, False
    row = Vulnerability(key=record.key, cve_id=record.cve_id, cwes=[])
    session.add(row)
    session.flush()
    if known is not None:
        known[record.key] = row
    return row, True


def preload(session: Session, keys: list[str]) -> dict[str, Vulnerability | None]:
    """Vulnerabilities by key or alias for a whole feed, in a few queries."""
    known: dict[str, Vulnerability | None] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        for row in session.scalars(select(Vulnerability).where(Vulnerability.key.in_(chunk))):
            known[row.key] = row
        for alias in session.scalars(select(VulnAlias).where(VulnAlias.alias.in_(chunk))):
            known.setdefault(alias.alias, session.get(Vulnerability, alias.vulnerability_id))
    for key in keys:
        known.setdefault(key, None)
    return known


def add_groups(session: Session, fact: VulnFact, groups: list[GroupSpec]) -> set[Key]:
    keys: set[Key] = set()
    for spec in groups:
        padded = (*spec.key, "", "")[:3]
        session.add(Applicability(
            fact_id=fact.id, vulnerability_id=fact.vulnerability_id, scheme=spec.scheme,
            key_1=padded[0], key_2=padded[1], key_3=padded[2], part=spec.part,
            rest=list(spec.rest), ranges=[r.as_json() for r in spec.ranges],
            default_status=spec.default_status, version_scheme=spec.version_scheme,
            platforms=[p.as_json() for p in spec.platforms], authority=spec.authority,
        ))
        keys.add(spec_key(spec))
    return keys


def _drop_fact(session: Session, fact: VulnFact) -> set[Key]:
    rows = list(session.scalars(select(Applicability).where(Applicability.fact_id == fact.id)))
    keys = {key_of(r) for r in rows}
    session.execute(delete(Applicability).where(Applicability.fact_id == fact.id))
    return keys


def refresh_summary(
    session: Session, vuln: Vulnerability, facts: list[VulnFact] | None = None
) -> None:
    """The vulnerability's headline fields, merged from its facts by precedence."""
    if facts is None:
        facts = list(session.scalars(select(VulnFact).where(
            VulnFact.vulnerability_id == vuln.id)))
    facts = sorted(facts, key=lambda f: (_rank(f.origin), f.origin))
    def first(name: str) -> object:
        return next((f.data.get(name) for f in facts if f.data.get(name) not in (None, "", [])),
                    None)
    vuln.title = first("title")  # type: ignore[assignment]
    vuln.title_ja = first("title_ja")  # type: ignore[assignment]
    vuln.description = first("description")  # type: ignore[assignment]
    vuln.description_ja = first("description_ja")  # type: ignore[assignment]
    score = first("cvss_score")
    vuln.cvss_score = float(score) if isinstance(score, int | float) else None
    vuln.cvss_vector = first("cvss_vector")  # type: ignore[assignment]
    vuln.severity = first("severity")  # type: ignore[assignment]
    vuln.cwes = sorted({c for f in facts for c in (f.data.get("cwes") or [])})
    published = first("published")
    if isinstance(published, str):
        vuln.published_at = datetime.fromisoformat(published)
    kev = next((f.data.get("kev") for f in facts if f.origin == "kev"), None)
    vuln.kev = kev is not None
    vuln.kev_date_added = date.fromisoformat(kev["dateAdded"]) if kev else None
    vuln.kev_due_date = date.fromisoformat(kev["dueDate"]) if kev else None
    vuln.updated_at = utcnow()


def _aliases(session: Session, vuln: Vulnerability, record: VulnRecord) -> None:
    for alias in record.aliases:
        if alias == vuln.key:
            continue
        if session.scalars(select(VulnAlias.id).where(VulnAlias.alias == alias)).first():
            continue
        if session.scalars(select(Vulnerability.id).where(Vulnerability.key == alias)).first():
            continue
        session.add(VulnAlias(alias=alias, vulnerability_id=vuln.id))


def store_record(session: Session, record: VulnRecord, source: VulnSource, out: Stored,
                 known: dict[str, Vulnerability | None] | None = None) -> None:
    vuln, created = vulnerability_for(session, record, known)
    if record.cve_id and not vuln.cve_id:
        vuln.cve_id = record.cve_id
    fact = None if created else session.scalars(select(VulnFact).where(
        VulnFact.vulnerability_id == vuln.id, VulnFact.origin == record.origin)).first()
    replaced = fact is not None
    if fact is not None:
        if (fact.record_updated_at and record.updated
                and record.updated < fact.record_updated_at):
            out.stale += 1
            return
        out.keys |= _drop_fact(session, fact)
        fact.source_id = source.id
        fact.locator = record.locator
        fact.record_updated_at = record.updated
        fact.data = record.data()
        fact.imported_at = utcnow()
    else:
        fact = VulnFact(vulnerability_id=vuln.id, origin=record.origin, source_id=source.id,
                        locator=record.locator, record_updated_at=record.updated,
                        data=record.data())
        session.add(fact)
    session.flush()
    out.keys |= add_groups(session, fact, record.groups)
    if record.aliases:
        _aliases(session, vuln, record)
    session.flush()
    if not created and (replaced or any(g.authority != HINT for g in record.groups)):
        # Name hints give way to structured statements (and come back without them): the
        # products they name must be matched again whenever the facts change.
        out.keys |= {key_of(r) for r in session.scalars(select(Applicability).where(
            Applicability.vulnerability_id == vuln.id, Applicability.authority == HINT))}
    refresh_summary(session, vuln, [fact] if created else None)
    out.records += 1
    out.skipped_criteria += record.skipped_criteria
    out.vulnerability_ids.add(vuln.id)


def store_feed(session: Session, feed: ParsedFeed, source: VulnSource) -> Stored:
    """Store every record of ``feed`` under ``source`` (inside the caller's savepoint)."""
    out = Stored()
    seen: set[tuple[str, str]] = set()
    for record in feed.records:
        if (record.key, record.origin) in seen:
            raise FeedError(source.name, f"{record.locator} repeats {record.key}")
        seen.add((record.key, record.origin))
    if feed.kind == "kev":
        newest = newest_kev_version(session)
        if newest is not None and feed.catalog_version is not None and (
                feed.catalog_version < newest):
            raise Conflict(f"{source.name}: KEV catalogue {feed.catalog_version} is older than "
                           f"the stored {newest}; nothing was imported")
        listed = {r.key for r in feed.records}
        for fact in list(session.scalars(select(VulnFact).where(VulnFact.origin == "kev"))):
            vuln = session.get(Vulnerability, fact.vulnerability_id)
            if vuln is not None and vuln.key not in listed:
                out.keys |= _drop_fact(session, fact)
                session.delete(fact)
                session.flush()
                refresh_summary(session, vuln)
                out.vulnerability_ids.add(vuln.id)
    known = preload(session, sorted({r.key for r in feed.records}))
    for record in feed.records:
        store_record(session, record, source, out, known)
    return out


def load_group_row(row: Applicability) -> tuple[tuple[Range, ...], tuple[Platform, ...]]:
    return (tuple(Range.from_json(r) for r in row.ranges),
            tuple(Platform.from_json(p) for p in row.platforms))
