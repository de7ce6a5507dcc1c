"""``mamori vulns import``: files, folders and bulk zips, each file all-or-nothing.

A file is parsed completely before anything is written, then written inside a savepoint
with its provenance row (kind, digest, when fetched, who imported it). A malformed
single file raises and changes nothing; in a folder or a bulk zip, each malformed file
is reported and left out while the others are kept. A file already imported (same
digest) is not imported twice. Afterwards the register is matched again for the product
keys the import touched.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.errors import InvalidInput, MamoriError, NotFound
from mamori.vulns import guard, matcher
from mamori.vulns.ingest import (
    FeedError,
    Unit,
    detect,
    fetched_at,
    files_under,
    parse_unit,
    read_file,
    zip_units,
)
from mamori.vulns.ingest.kev import VENDORED
from mamori.vulns.ingest.store import Key, store_feed
from mamori.vulns.models import ImportReport, ImportResult, VulnSource

LEGAL_BASIS = "Act No. 42 of 2025, Art 37 (organisation and analysis)"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _source(session: Session, principal: Principal, *, kind: str, name: str, data: bytes,
            path: Path) -> VulnSource:
    source = VulnSource(kind=kind, name=name[:300], digest=_digest(data), size=len(data),
                        fetched_at=fetched_at(path), imported_by=principal.username)
    session.add(source)
    session.flush()
    return source


def _store_unit(session: Session, unit: Unit, source: VulnSource, keys: set[Key]) -> int:
    """Parse and store one unit in a savepoint; returns the records stored."""
    feed = parse_unit(unit)
    with session.begin_nested():
        stored = store_feed(session, feed, source)
        source.records += stored.records
        source.skipped += stored.skipped_criteria
        if feed.catalog_version:
            source.catalog_version = feed.catalog_version
        source.released_at = feed.released or source.released_at
        session.flush()
    keys |= stored.keys
    return stored.records


def _import_zip(session: Session, principal: Principal, path: Path, data: bytes,
                keys: set[Key]) -> ImportReport:
    """Each record of the zip is its own unit; an unreadable zip stores nothing."""
    failures: list[str] = []
    records = 0
    found: set[Key] = set()
    with session.begin_nested():
        source = _source(session, principal, kind="cve5", name=path.name, data=data, path=path)
        for unit in zip_units(data, path.name):
            try:
                records += _store_unit(session, unit, source, found)
            except MamoriError as exc:
                failures.append(exc.detail)
    keys |= found
    return ImportReport(
        path=str(path), kind="cve5", source_id=source.id, records=records,
        skipped_criteria=source.skipped, unchanged=False,
        error=(f"{len(failures)} record(s) left out; first: {failures[0]}" if failures
               else None))


def _import_file(session: Session, principal: Principal, path: Path,
                 keys: set[Key]) -> ImportReport:
    data = read_file(path)
    existing = session.scalars(select(VulnSource).where(VulnSource.digest == _digest(data))
                               ).first()
    if existing is not None:
        return ImportReport(path=str(path), kind=existing.kind, source_id=existing.id,
                            records=existing.records, skipped_criteria=existing.skipped,
                            unchanged=True)
    kind = detect(data, path.name)
    if kind == "zip":
        return _import_zip(session, principal, path, data, keys)
    unit = Unit(path.name, data)
    parse_unit(unit)  # a malformed file fails here, before any row is written
    with session.begin_nested():
        source = _source(session, principal, kind=kind, name=path.name, data=data, path=path)
        records = _store_unit(session, unit, source, keys)
    return ImportReport(path=str(path), kind=kind, source_id=source.id, records=records,
                        skipped_criteria=source.skipped, unchanged=False)


def import_path(*, session: Session, principal: Principal, path: Path) -> ImportResult:
    """Import a KEV catalogue, CVE JSON 5 records, JVN VULDEF or CSAF 2.0 advisories from
    a file, a folder or a cvelistV5 bulk zip (kinds are detected by content)."""
    guard.authorize(session=session, principal=principal, action="vulns.import",
                    resource=guard.feed())
    if not path.exists():
        raise NotFound("no such file or folder", field="path")
    single = path.is_file()
    files = [path] if single else files_under(path)
    if not files:
        raise InvalidInput("the folder holds no .json, .xml or .zip file", field="path")
    keys: set[Key] = set()
    reports: list[ImportReport] = []
    for file in files:
        try:
            reports.append(_import_file(session, principal, file, keys))
        except MamoriError as exc:
            if single:
                raise
            reports.append(ImportReport(path=str(file), kind="unknown", source_id=None,
                                        records=0, skipped_criteria=0, unchanged=False,
                                        error=exc.detail))
    refreshed = matcher.refresh(session, principal=principal, keys=keys) if keys else None
    new_matches = len(refreshed.new) if refreshed else 0
    stored = [r for r in reports if r.source_id is not None and not r.unchanged]
    if stored:
        guard.audit(session=session, principal=principal, action="vulns.imported",
                    object_type="vulns.source", object_id=stored[0].source_id or "",
                    legal_basis=LEGAL_BASIS,
                    details={"sources": [r.source_id for r in stored][:200],
                             "kinds": sorted({r.kind for r in stored}),
                             "records": sum(r.records for r in stored),
                             "failed_files": sum(1 for r in reports if r.error),
                             "new_matches": new_matches})
    return ImportResult(files=reports, new_matches=new_matches,
                        notices=refreshed.notices if refreshed else 0)


def import_vendored_kev(*, session: Session, principal: Principal) -> ImportResult:
    """The KEV catalogue shipped with mamori (``vulns/data``, CC0 1.0)."""
    return import_path(session=session, principal=principal, path=VENDORED)


__all__ = ["FeedError", "import_path", "import_vendored_kev"]
