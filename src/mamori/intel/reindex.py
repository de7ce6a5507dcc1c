"""Rebuilding the correlation index and the reference table from the stored objects.

The index is kept up to date on every write; a rebuild is for after an upgrade that
extracts more (a new value kind, a pattern the parser now reads). It is linear in the
number of values: one pass over the latest versions, in chunks of ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.intel import bulk, guard
from mamori.intel.labels import Labels
from mamori.intel.models import IndexRow, ObjectRow, PrefixLengthRow, RefRow
from mamori.intel.store import (
    _INDEX_COLUMNS,
    _REF_COLUMNS,
    correlation_rows,
    note_prefix_lengths,
)

CHUNK = 20_000


@dataclass(frozen=True)
class Reindexed:
    objects: int
    values: int
    references: int


def rebuild(session: Session, *, chunk: int = CHUNK) -> Reindexed:
    """Drop and rebuild the index and references of every latest, unrevoked version."""
    import json

    if bulk.is_postgresql(session):  # no dead rows left behind
        session.execute(text("TRUNCATE intel_index, intel_ref, intel_prefix_length"))
    else:
        session.execute(delete(IndexRow))
        session.execute(delete(RefRow))
        session.execute(delete(PrefixLengthRow))
    last = session.scalar(select(func.max(ObjectRow.id))) or 0
    objects = values = references = 0
    start = 0
    while start <= last:
        rows = session.execute(
            select(ObjectRow.id, ObjectRow.label_set_id, ObjectRow.body).where(
                ObjectRow.id >= start, ObjectRow.id < start + chunk,
                ObjectRow.latest.is_(True), ObjectRow.revoked.is_(False))).all()
        index_rows: list[tuple[object, ...]] = []
        ref_rows: list[tuple[object, ...]] = []
        for row_id, label_set, body in rows:
            index, refs, _ = correlation_rows(json.loads(body), row_id, label_set)
            index_rows += index
            ref_rows += refs
        bulk.insert_rows(session, IndexRow.__table__, _INDEX_COLUMNS, index_rows,  # type: ignore[arg-type]
                     plain=True)
        bulk.insert_rows(session, RefRow.__table__, _REF_COLUMNS, ref_rows,  # type: ignore[arg-type]
                     plain=True)
        note_prefix_lengths(session, index_rows)
        objects += len(rows)
        values += len(index_rows)
        references += len(ref_rows)
        start += chunk
    return Reindexed(objects, values, references)


def reindex(*, session: Session, principal: Principal) -> Reindexed:
    """Rebuild the correlation index (audited). It touches every label set, COMMS
    included, so only the platform's job and designated handlers may run it."""
    guard.authorize(session=session, principal=principal, action="intel.ingest",
                    labels=Labels(comms=True), key="reindex")
    result = rebuild(session)
    guard.audit(session=session, principal=principal, action="intel.reindexed",
                object_type="intel.index", details={"objects": result.objects,
                                                    "values": result.values})
    return result
