"""Reading the store within a scope: current versions, chosen versions, typed records.

"Current" is per reader: among the versions a reader may see, the one with the latest
``modified`` (observables: the latest delivered). Every query here takes a
:class:`~mamori.intel.visibility.Scope`, so nothing outside it is ever read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from mamori.intel.models import (
    ImportRow,
    LineageRow,
    ObjectRow,
    Provenance,
    ProvenanceRow,
    StixRecord,
)
from mamori.intel.visibility import Scope

CHUNK = 900


def _newest(rows: Iterable[ObjectRow]) -> dict[str, ObjectRow]:
    """The newest row per STIX id among ``rows``."""
    best: dict[str, ObjectRow] = {}
    for row in rows:
        current = best.get(row.stix_id)
        if current is None or _rank(row) > _rank(current):
            best[row.stix_id] = row
    return best


def _rank(row: ObjectRow) -> tuple[Any, ...]:
    return (row.modified is not None, row.modified or row.stored_at, row.stored_at, row.version)


def current_rows(session: Session, scope: Scope, stix_ids: Sequence[str]) -> dict[str, ObjectRow]:
    """The current visible row of each id (ids the reader cannot see are simply absent)."""
    found: list[ObjectRow] = []
    ids = sorted(set(stix_ids))
    for start in range(0, len(ids), CHUNK):
        found += session.scalars(
            select(ObjectRow).where(ObjectRow.stix_id.in_(ids[start:start + CHUNK]),
                                    ObjectRow.latest.is_(True),
                                    scope.where(ObjectRow.label_set_id))
        ).all()
    return _newest(found)


def rows_by_id(session: Session, scope: Scope, row_ids: Iterable[int]) -> dict[int, ObjectRow]:
    found: dict[int, ObjectRow] = {}
    ids = sorted(set(row_ids))
    for start in range(0, len(ids), CHUNK):
        for row in session.scalars(select(ObjectRow).where(
                ObjectRow.id.in_(ids[start:start + CHUNK]), scope.where(ObjectRow.label_set_id))):
            found[row.id] = row
    return found


def versions(session: Session, scope: Scope, stix_id: str) -> list[ObjectRow]:
    """Every visible version of one id, oldest first."""
    rows = session.scalars(select(ObjectRow).where(ObjectRow.stix_id == stix_id,
                                                   scope.where(ObjectRow.label_set_id))).all()
    return sorted(rows, key=_rank)


def visible_objects(scope: Scope) -> Select[Any]:
    """A query of every visible row (callers add conditions and ordering)."""
    return select(ObjectRow).where(scope.where(ObjectRow.label_set_id))


def records(session: Session, scope: Scope, rows: Sequence[ObjectRow]) -> list[StixRecord]:
    """Typed records of ``rows`` with provenance and lineage."""
    if not rows:
        return []
    row_ids = [r.id for r in rows]
    lineage: dict[int, list[str]] = {}
    merges: dict[int, list[tuple[int, Any, Any]]] = {}
    for start in range(0, len(row_ids), CHUNK):
        part = row_ids[start:start + CHUNK]
        for object_id, derived in session.execute(
                select(LineageRow.object_id, LineageRow.derived_from)
                .where(LineageRow.object_id.in_(part))):
            lineage.setdefault(object_id, []).append(derived)
        for object_id, import_id, context, at in session.execute(
                select(ProvenanceRow.object_id, ProvenanceRow.import_id, ProvenanceRow.context,
                       ProvenanceRow.recorded_at)
                .where(ProvenanceRow.object_id.in_(part)).order_by(ProvenanceRow.id)):
            merges.setdefault(object_id, []).append((import_id, context, at))
    import_ids = {r.import_id for r in rows} | {m[0] for ms in merges.values() for m in ms}
    imports = {i.id: i for i in session.scalars(
        select(ImportRow).where(ImportRow.id.in_(sorted(import_ids))))}
    result = []
    for row in rows:
        first = imports.get(row.import_id)
        provenance = [_provenance(first, row.context, row.stored_at)] if first else []
        provenance += [_provenance(imports[i], context, at)
                       for i, context, at in merges.get(row.id, []) if i in imports]
        result.append(StixRecord(
            stix_id=row.stix_id, type=row.stix_type, version=row.version, modified=row.modified,
            latest=row.latest, revoked=row.revoked, labels=scope.labels[row.label_set_id],
            object=json.loads(row.body), provenance=provenance,
            derived_from=sorted(lineage.get(row.id, [])), name=row.name,
        ))
    return result


def _provenance(row: ImportRow, context: Any, at: Any) -> Provenance:
    return Provenance(import_id=row.id, kind=row.kind, source=row.source, actor=row.actor,
                      at=at, context=context)
