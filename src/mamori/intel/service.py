"""The intel domain's public API: the STIX store, correlation, ingest, analytics,
findings, notes and partners' TAXII collections.

Keyword-only functions taking ``session=`` and ``principal=``. Every read goes through
the visibility filter (:mod:`mamori.intel.visibility`): what a principal may not see
is never read, so no result, count or correlation can reveal it. Objects come back as
:class:`~mamori.intel.models.StixRecord` with the STIX dict, labels, provenance and
derivation lineage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.errors import InvalidInput, NotFound
from mamori.intel import exclusions, export, guard, read, stix
from mamori.intel import retention as _retention  # noqa: F401  (registers the data class)
from mamori.intel import values as v
from mamori.intel.analytics.findings import add_note, get_finding, list_findings
from mamori.intel.analytics.findings import review as review_finding
from mamori.intel.analytics.run import AnalysisSummary, analyze
from mamori.intel.correlation import lookup
from mamori.intel.ingest import bundle as bundle_ingest
from mamori.intel.ingest.common import IngestSummary
from mamori.intel.ingest.registry import ingest_registry
from mamori.intel.ingest.reporting import ingest_reports
from mamori.intel.ingest.selection import ingest_selected
from mamori.intel.ingest.taxii import add_source, list_sources, pull_all, pull_source
from mamori.intel.ingest.vulns import ingest_vulns
from mamori.intel.labels import Labels, build_labels
from mamori.intel.models import (
    FindingOut,
    ImportResult,
    ImportRow,
    ObjectRow,
    RelatedResult,
    StixRecord,
)
from mamori.intel.reindex import Reindexed, reindex
from mamori.intel.related import walk_related
from mamori.intel.settings import intel_settings
from mamori.intel.visibility import VIEW, audit_comms_access, scope

SEARCH_MAX = 500
HOPS_MAX = 4


def _not_found(stix_id: str) -> NotFound:
    # The same answer whether the object does not exist or the reader may not see it.
    return NotFound(f"no object {stix_id} in the store", field="stix_id")


def _check_id(stix_id: str) -> str:
    text = (stix_id or "").strip()
    if not stix.ID_RE.match(text):
        raise InvalidInput("not a STIX id (<type>--<UUID>)", field="stix_id")
    return text


def _labels(labels: Labels | Iterable[str] | None, source: str | None,
            consent: Iterable[str] | None) -> Labels:
    if isinstance(labels, Labels):
        if consent is not None:
            if not source:
                raise InvalidInput("a consent belongs to an attributed source", field="consent")
            return labels.union(build_labels(source=source, consent=consent))
        return labels
    names = list(labels) if labels is not None else ["SECRET"]
    return build_labels(names, source=source if (consent is not None or "ATTRIBUTED" in
                                                 {n.upper() for n in names}) else None,
                        consent=consent)


# --- reading ----------------------------------------------------------------------------


def get_object(
    *, session: Session, principal: Principal, stix_id: str, version: int | str | None = None
) -> StixRecord:
    """One object: its current version, or ``version`` (the n-th visible version, 1 =
    oldest, or a ``modified`` timestamp)."""
    guard.authorize(session=session, principal=principal, action=VIEW)
    stix_id = _check_id(stix_id)
    reader = scope(session=session, principal=principal)
    rows = read.versions(session, reader, stix_id)
    if not rows:
        raise _not_found(stix_id)
    if version is None:
        chosen = read._newest(rows)[stix_id]
    elif isinstance(version, int):
        if not 1 <= version <= len(rows):
            raise NotFound(f"object {stix_id} has no version {version}", field="version")
        chosen = rows[version - 1]
    else:
        when = stix.parse_timestamp(version)
        match = [r for r in rows if when is not None and r.modified == when]
        if not match:
            raise NotFound(f"object {stix_id} has no version modified at that time",
                           field="version")
        chosen = match[-1]
    audit_comms_access(session=session, principal=principal, scope_=reader,
                       label_set_ids={chosen.label_set_id}, action=VIEW, what=stix_id)
    return read.records(session, reader, [chosen])[0]


def list_versions(*, session: Session, principal: Principal, stix_id: str) -> list[StixRecord]:
    """Every version of an object the principal may see, oldest first (the timeline)."""
    guard.authorize(session=session, principal=principal, action=VIEW)
    stix_id = _check_id(stix_id)
    reader = scope(session=session, principal=principal)
    rows = read.versions(session, reader, stix_id)
    if not rows:
        raise _not_found(stix_id)
    audit_comms_access(session=session, principal=principal, scope_=reader,
                       label_set_ids={r.label_set_id for r in rows}, action=VIEW, what=stix_id)
    return read.records(session, reader, rows)


def get_objects(
    *, session: Session, principal: Principal, ids: Iterable[str]
) -> list[StixRecord]:
    """The current versions of ``ids`` that the principal may see (others are absent)."""
    guard.authorize(session=session, principal=principal, action=VIEW)
    wanted = [_check_id(i) for i in ids]
    reader = scope(session=session, principal=principal)
    rows = read.current_rows(session, reader, wanted)
    chosen = [rows[i] for i in dict.fromkeys(wanted) if i in rows]
    audit_comms_access(session=session, principal=principal, scope_=reader,
                       label_set_ids={r.label_set_id for r in chosen}, action=VIEW,
                       what="objects")
    return read.records(session, reader, chosen)


def search(
    *, session: Session, principal: Principal, query: str, types: Iterable[str] | None = None,
    limit: int = 50,
) -> list[StixRecord]:
    """Objects matching ``query``: a value (IP, CIDR, domain, URL, hash, CVE, technique,
    JA4) through the correlation index, a STIX id, or text in the object's name."""
    guard.authorize(session=session, principal=principal, action=VIEW)
    text = " ".join((query or "").split())
    if not text:
        raise InvalidInput("give something to search for", field="query")
    limit = max(1, min(int(limit), SEARCH_MAX))
    kinds = sorted({t.strip() for t in types or () if t.strip()})
    reader = scope(session=session, principal=principal)
    rows: list[ObjectRow]
    if stix.ID_RE.match(text):
        rows = list(read.current_rows(session, reader, [text]).values())
    else:
        found: dict[int, ObjectRow] = {}
        try:
            value = v.parse_value(text)
        except InvalidInput:
            value = None
        if value is not None:
            hits = lookup(session, reader, value, cap=max(limit, intel_settings().fanout_cap))
            found.update(read.rows_by_id(session, reader, hits.all_objects))
        pattern = f"%{text.lower()[:200]}%"
        named = (read.visible_objects(reader)
                 .where(ObjectRow.latest.is_(True), ObjectRow.revoked.is_(False),
                        func.lower(ObjectRow.name).like(pattern))
                 .order_by(ObjectRow.stored_at.desc(), ObjectRow.id.desc())
                 .limit(limit * 4))
        if kinds:
            named = named.where(ObjectRow.stix_type.in_(kinds))
        found.update({row.id: row for row in session.scalars(named).all()})
        rows = list(read._newest(found.values()).values())
    if kinds:
        rows = [r for r in rows if r.stix_type in kinds]
    rows = sorted(rows, key=lambda r: (r.stix_type, r.name, r.stix_id))[:limit]
    audit_comms_access(session=session, principal=principal, scope_=reader,
                       label_set_ids={r.label_set_id for r in rows}, action=VIEW, what="search")
    return read.records(session, reader, rows)


def related(
    *, session: Session, principal: Principal, value_or_id: str, hops: int = 2,
    limit: int | None = None,
) -> RelatedResult:
    """Everything related to a value or a STIX id within ``hops`` (see
    :mod:`mamori.intel.related`): the objects, why they are related, and which values
    were not followed (ubiquitous beyond the fan-out cap, or on the exclusion list)."""
    guard.authorize(session=session, principal=principal, action=VIEW)
    if not 1 <= int(hops) <= HOPS_MAX:
        raise InvalidInput(f"hops: 1 to {HOPS_MAX}", field="hops")
    settings = intel_settings()
    limit = settings.related_limit if limit is None else max(1, min(int(limit), 100_000))
    reader = scope(session=session, principal=principal)
    text = (value_or_id or "").strip()
    start_rows: list[int] = []
    start_value: v.Value | None = None
    if stix.ID_RE.match(text):
        rows = read.current_rows(session, reader, [text])
        if not rows:
            raise _not_found(text)
        start_rows = [rows[text].id]
        query = text
    else:
        start_value = v.parse_value(text)
        query = start_value.label
    result = walk_related(session, reader, start_rows=start_rows, start_value=start_value,
                          hops=int(hops), cap=settings.fanout_cap, limit=limit,
                          exclusions=exclusions.current(), query=query)
    if any(node.labels.comms for node in result.nodes):
        audit_comms_access(session=session, principal=principal, scope_=reader,
                           label_set_ids=set(reader.comms), action=VIEW, what="related")
    return result


# --- import and export -------------------------------------------------------------------


def import_bundle(
    *, session: Session, principal: Principal, bundle: Mapping[str, Any], source: str,
    labels: Labels | Iterable[str] | None = None, consent: Iterable[str] | None = None,
    attributed_to: str | None = None,
) -> ImportResult:
    """Import a STIX 2.1 bundle under ``labels`` (default SECRET); ``attributed_to`` and
    ``consent`` add ATTRIBUTED(source, consent). Reports what was stored, merged and
    rejected (with reasons)."""
    chosen = _labels(labels, attributed_to, consent)
    return bundle_ingest.import_bundle(session=session, principal=principal, bundle=bundle,
                                       source=source, labels=chosen)


def import_file(
    *, session: Session, principal: Principal, path: Path, source: str | None = None,
    labels: Labels | Iterable[str] | None = None, consent: Iterable[str] | None = None,
    attributed_to: str | None = None,
) -> ImportResult:
    """Import a bundle file (JSON)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path.name}: {exc.strerror or 'unreadable'}",
                           field="file") from None
    parsed = bundle_ingest.parse_bundle_text(data, name=path.name)
    return import_bundle(session=session, principal=principal, bundle=parsed,
                         source=source or f"file:{path.name}", labels=labels, consent=consent,
                         attributed_to=attributed_to)


def export_bundle(
    *, session: Session, principal: Principal, types: Iterable[str] | None = None,
    since: datetime | None = None, current_only: bool = False, include_revoked: bool = True,
) -> dict[str, Any]:
    """Everything the principal may see as one STIX 2.1 bundle (every version unless
    ``current_only``); each object carries its labels in ``x_mamori_handling``."""
    guard.authorize(session=session, principal=principal, action="intel.export")
    reader = scope(session=session, principal=principal, action="intel.export")
    result, seen = export.bundle_dict(session, reader, types=_types(types), since=since,
                                      current_only=current_only,
                                      include_revoked=include_revoked)
    _audit_export(session, principal, reader, seen, len(result["objects"]), "api")
    return result


def export_to_file(
    *, session: Session, principal: Principal, path: Path, types: Iterable[str] | None = None,
    since: datetime | None = None, current_only: bool = False, include_revoked: bool = True,
) -> int:
    """Like :func:`export_bundle`, streamed to ``path``; returns the object count."""
    guard.authorize(session=session, principal=principal, action="intel.export")
    reader = scope(session=session, principal=principal, action="intel.export")
    if path.is_dir():
        raise InvalidInput(f"{path.name} is a folder", field="file")
    try:
        with path.open("w", encoding="utf-8") as handle:
            count, seen = export.write_bundle(session, reader, handle, types=_types(types),
                                              since=since, current_only=current_only,
                                              include_revoked=include_revoked)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {path.name}: {exc.strerror or 'unwritable'}",
                           field="file") from None
    _audit_export(session, principal, reader, seen, count, "file")
    return count


def _types(types: Iterable[str] | None) -> list[str] | None:
    chosen = sorted({t.strip() for t in types or () if t.strip()})
    return chosen or None


def _audit_export(session: Session, principal: Principal, reader: Any, seen: set[int],
                  count: int, where: str) -> None:
    audit_comms_access(session=session, principal=principal, scope_=reader,
                       label_set_ids=seen, action="intel.export", what="export")
    guard.audit(session=session, principal=principal, action="intel.exported",
                object_type="intel.bundle", details={"objects": count, "to": where})


def list_imports(
    *, session: Session, principal: Principal, limit: int = 50
) -> list[dict[str, Any]]:
    """Recent imports the principal may see (an import is labelled like what it wrote)."""
    guard.authorize(session=session, principal=principal, action=VIEW)
    reader = scope(session=session, principal=principal)
    rows = session.scalars(select(ImportRow).where(reader.where(ImportRow.label_set_id))
                           .order_by(ImportRow.id.desc()).limit(max(1, min(limit, 500))))
    return [{"id": r.id, "kind": r.kind, "source": r.source, "actor": r.actor,
             "at": r.started_at, "stored": r.stored, "merged": r.merged,
             "rejected": r.rejected, "details": r.details} for r in rows]


# --- ingest, analytics, findings, notes, partners' feeds ---------------------------------

SOURCES = ("reporting", "registry", "vulns", "selection")


def ingest(
    *, session: Session, principal: Principal, sources: Iterable[str] | None = None
) -> list[IngestSummary]:
    """Bring what landed in the platform's own sources into the store (each source keeps
    a cursor, so a run stores only what is new). Vulnerabilities run after reports and
    the register, so that the CVEs and computers they mention are known."""
    chosen = list(dict.fromkeys(sources or SOURCES))
    unknown = sorted(set(chosen) - set(SOURCES))
    if unknown:
        raise InvalidInput(f"sources are: {', '.join(SOURCES)}", field="sources")
    runners = {"reporting": ingest_reports, "registry": ingest_registry,
               "vulns": ingest_vulns, "selection": ingest_selected}
    return [runners[name](session=session, principal=principal)
            for name in SOURCES if name in chosen]


__all__ = [
    "SOURCES",
    "AnalysisSummary",
    "FindingOut",
    "ImportResult",
    "IngestSummary",
    "Reindexed",
    "RelatedResult",
    "StixRecord",
    "add_note",
    "add_source",
    "analyze",
    "export_bundle",
    "export_to_file",
    "get_finding",
    "get_object",
    "get_objects",
    "import_bundle",
    "import_file",
    "ingest",
    "ingest_registry",
    "ingest_reports",
    "ingest_selected",
    "ingest_vulns",
    "list_findings",
    "list_imports",
    "list_sources",
    "list_versions",
    "pull_all",
    "pull_source",
    "reindex",
    "related",
    "review_finding",
    "search",
]
