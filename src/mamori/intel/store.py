"""Writing the store: versions, label sets, merges, lineage and the incremental
correlation index, in batches, in the caller's transaction.

An object version is identified by (STIX id, label set, ``modified``); cyber-observables
have no ``modified`` and are versioned by content in arrival order. The same version
delivered again is *merged* (its provenance grows); a different object under an
existing id and ``modified`` is *rejected*, never silently replaced or dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from mamori.db import utcnow
from mamori.intel import bulk, stix, validate
from mamori.intel.extract import display_name, extract
from mamori.intel.labels import HANDLING_PROPERTY, Labels
from mamori.intel.models import (
    ImportRow,
    IndexRow,
    LabelSetRow,
    LineageRow,
    ObjectRow,
    PrefixLengthRow,
    ProvenanceRow,
    RefRow,
    Rejection,
)
from mamori.intel.visibility import forget

BATCH = 2000
_OBJECT_COLUMNS = ("id", "stix_id", "stix_type", "version", "modified", "label_set_id",
                   "latest", "revoked", "content_hash", "name", "body", "import_id", "context",
                   "stored_at")
_INDEX_COLUMNS = ("kind", "key", "plen", "label_set_id", "object_id")
_REF_COLUMNS = ("ref", "label_set_id", "object_id", "prop")


@dataclass
class Incoming:
    """One object to store, with its labels and where it came from."""

    obj: Any
    labels: Labels
    index: int = 0
    derived_from: tuple[str, ...] = ()
    context: dict[str, Any] | None = None


@dataclass
class Outcome:
    stored: int = 0
    merged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stored_ids: list[str] = field(default_factory=list)
    label_sets: set[int] = field(default_factory=set)
    label_ids: dict[str, int] = field(default_factory=dict)


@dataclass
class _Version:
    row_id: int | None
    version: int
    modified: datetime | None
    content_hash: str
    latest: bool
    revoked: bool


def label_set_id(session: Session, labels: Labels, cache: dict[str, int] | None = None) -> int:
    """The id of ``labels``' row, created on first use (``cache``: one call's memo)."""
    key = labels.key
    if cache is not None and key in cache:
        return cache[key]
    found = session.scalar(select(LabelSetRow.id).where(LabelSetRow.key == key))
    if found is None:
        row = LabelSetRow(key=key, comms=labels.comms, provision_derived=labels.provision_derived,
                          secret=labels.secret, public=labels.public)
        session.add(row)
        session.flush()
        found = row.id
        forget(session)
    if cache is not None:
        cache[key] = int(found)
    return int(found)


def labels_of(session: Session, label_set: int) -> Labels:
    key = session.scalar(select(LabelSetRow.key).where(LabelSetRow.id == label_set))
    return Labels.from_key(key or "0000")


def _modified(obj: dict[str, Any]) -> datetime | None:
    if stix.is_sco(obj):
        return None
    return stix.parse_timestamp(obj.get("modified") or obj.get("created"))


def _newer(a: _Version, b: _Version) -> bool:
    """Whether ``a`` supersedes ``b`` (later ``modified``; arrival order for observables)."""
    if a.modified is None or b.modified is None:
        return a.version > b.version
    return (a.modified, a.version) > (b.modified, b.version)


def store_objects(
    session: Session, *, items: Iterable[Incoming], import_row: ImportRow,
    batch: int = BATCH, keep_ids: bool = False,
) -> Outcome:
    """Store, merge or reject each item; returns the counts and reasons."""
    outcome = Outcome()
    chunk: list[Incoming] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= batch:
            _store_batch(session, chunk, import_row, outcome, keep_ids)
            chunk = []
    if chunk:
        _store_batch(session, chunk, import_row, outcome, keep_ids)
    return outcome


def _prepare(item: Incoming, outcome: Outcome) -> tuple[dict[str, Any], str] | None:
    obj = item.obj
    if isinstance(obj, dict) and HANDLING_PROPERTY in obj:
        obj = {k: v for k, v in obj.items() if k != HANDLING_PROPERTY}
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")) \
        if isinstance(obj, dict) else ""
    reason = validate.check(obj, size=len(body.encode("utf-8")) if body else 0)
    if reason is not None:
        ident = obj.get("id") if isinstance(obj, dict) and isinstance(obj.get("id"), str) \
            else None
        if ident is not None and not stix.ID_RE.match(ident):
            ident = None
        outcome.rejected.append(Rejection(index=item.index, id=ident, reason=reason))
        return None
    return obj, body


def _existing(session: Session, keys: set[tuple[str, int]]
              ) -> dict[tuple[str, int], list[_Version]]:
    found: dict[tuple[str, int], list[_Version]] = {}
    ids = sorted({k[0] for k in keys})
    for start in range(0, len(ids), 900):
        rows = session.execute(
            select(ObjectRow.id, ObjectRow.stix_id, ObjectRow.label_set_id, ObjectRow.version,
                   ObjectRow.modified, ObjectRow.content_hash, ObjectRow.latest,
                   ObjectRow.revoked)
            .where(ObjectRow.stix_id.in_(ids[start:start + 900]))
        ).all()
        for row in rows:
            key = (row.stix_id, row.label_set_id)
            if key in keys:
                found.setdefault(key, []).append(_Version(
                    row.id, row.version, row.modified, row.content_hash, row.latest,
                    row.revoked))
    return found


@dataclass
class _New:
    version: _Version
    key: tuple[str, int]
    obj: dict[str, Any]
    body: str
    item: Incoming


def _store_batch(session: Session, chunk: list[Incoming], import_row: ImportRow,
                 outcome: Outcome, keep_ids: bool) -> None:
    prepared: list[tuple[Incoming, dict[str, Any], str, int]] = []
    for item in chunk:
        ready = _prepare(item, outcome)
        if ready is None:
            continue
        ls_id = label_set_id(session, item.labels, outcome.label_ids)
        prepared.append((item, ready[0], ready[1], ls_id))
    keys = {(obj["id"], ls_id) for _, obj, _, ls_id in prepared}
    versions = _existing(session, keys)
    new_rows: list[_New] = []
    merges: list[tuple[_Version, Incoming, _New | None]] = []
    demoted: set[int] = set()
    for item, obj, body, ls_id in prepared:
        key = (obj["id"], ls_id)
        content_hash = stix.digest(obj)
        modified = _modified(obj)
        known = versions.setdefault(key, [])
        same = next((v for v in known if (v.modified == modified if modified is not None
                                          else v.content_hash == content_hash)), None)
        if same is not None:
            if same.content_hash == content_hash:
                pending = next((n for n in new_rows if n.version is same), None)
                merges.append((same, item, pending))
                outcome.merged += 1
            else:
                outcome.rejected.append(Rejection(
                    index=item.index, id=obj["id"],
                    reason="another object with this id and modified time is stored already "
                           "(a changed object needs a later modified time)"))
            continue
        version = _Version(None, max((v.version for v in known), default=0) + 1, modified,
                           content_hash, False, bool(obj.get("revoked", False)))
        current = next((v for v in known if v.latest), None)
        if current is None or _newer(version, current):
            version.latest = True
            if current is not None:
                current.latest = False
                if current.row_id is not None:
                    demoted.add(current.row_id)
        known.append(version)
        new_rows.append(_New(version, key, obj, body, item))
        outcome.stored += 1
        outcome.label_sets.add(ls_id)
        if keep_ids:
            outcome.stored_ids.append(obj["id"])
    _write(session, new_rows, merges, demoted, import_row, outcome)


def _write(session: Session, new_rows: list[_New], merges: list[tuple[_Version, Incoming,
           _New | None]], demoted: set[int], import_row: ImportRow, outcome: Outcome) -> None:
    table = ObjectRow.__table__
    now = utcnow()
    if demoted:
        ids = sorted(demoted)
        for start in range(0, len(ids), 900):
            part = ids[start:start + 900]
            session.execute(update(ObjectRow).where(ObjectRow.id.in_(part)).values(latest=False)
                            .execution_options(synchronize_session=False))
        drop_index(session, ids)
    if new_rows:
        records = [
            (n.key[0], n.obj["type"], n.version.version, n.version.modified, n.key[1],
             n.version.latest, n.version.revoked, n.version.content_hash,
             display_name(n.obj), n.body, import_row.id, n.item.context, now)
            for n in new_rows
        ]
        # the import row is written already, so on SQLite this transaction holds the lock
        ids = bulk.allocate_ids(session, table, len(records))  # type: ignore[arg-type]
        bulk.insert_rows(session, table, _OBJECT_COLUMNS,  # type: ignore[arg-type]
                         [(i, *r) for i, r in zip(ids, records, strict=True)],
                         json_columns=("context",))
        for n, row_id in zip(new_rows, ids, strict=True):
            n.version.row_id = row_id
    _index_new(session, new_rows, outcome)
    lineage = [(n.version.row_id, d) for n in new_rows for d in sorted(set(n.item.derived_from))]
    bulk.insert_rows(session, LineageRow.__table__, ("object_id", "derived_from"),  # type: ignore[arg-type]
                     lineage, plain=True)
    provenance = [(version.row_id, import_row.id, item.context, now)
                  for version, item, _ in merges if version.row_id is not None]
    bulk.insert_rows(session, ProvenanceRow.__table__,  # type: ignore[arg-type]
                     ("object_id", "import_id", "context", "recorded_at"), provenance,
                     json_columns=("context",))


def _index_new(session: Session, new_rows: list[_New], outcome: Outcome) -> None:
    index_rows: list[tuple[Any, ...]] = []
    ref_rows: list[tuple[Any, ...]] = []
    for n in new_rows:
        if not n.version.latest or n.version.revoked:
            continue
        index, refs, warnings = correlation_rows(n.obj, n.version.row_id or 0, n.key[1])
        index_rows.extend(index)
        ref_rows.extend(refs)
        outcome.warnings.extend(f"object {n.obj['id']}: {w}" for w in warnings)
    bulk.insert_rows(session, IndexRow.__table__, _INDEX_COLUMNS, index_rows,  # type: ignore[arg-type]
                     plain=True)
    bulk.insert_rows(session, RefRow.__table__, _REF_COLUMNS, ref_rows,  # type: ignore[arg-type]
                     plain=True)
    note_prefix_lengths(session, index_rows)


def note_prefix_lengths(session: Session, index_rows: Sequence[tuple[Any, ...]]) -> None:
    """Record the network prefix lengths of new index rows (all but full addresses)."""
    found = {(kind, plen) for kind, _, plen, _, _ in index_rows
             if (kind == "ipv4" and plen < 32) or (kind == "ipv6" and plen < 128)}
    if not found:
        return
    known = {tuple(r) for r in session.execute(select(PrefixLengthRow.kind,
                                                      PrefixLengthRow.plen))}
    for kind, plen in sorted(found - known):
        session.add(PrefixLengthRow(kind=kind, plen=plen))
    session.flush()


def prefix_lengths(session: Session) -> dict[str, frozenset[int]]:
    found: dict[str, set[int]] = {}
    for kind, plen in session.execute(select(PrefixLengthRow.kind, PrefixLengthRow.plen)):
        found.setdefault(kind, set()).add(int(plen))
    return {k: frozenset(v) for k, v in found.items()}


def correlation_rows(obj: dict[str, Any], object_id: int, ls_id: int
                     ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[str]]:
    """The index and reference rows of one latest object version."""
    found = extract(obj)
    index = [(value.kind, value.key, value.plen, ls_id, object_id)
             for value in sorted(found.values)]
    refs = sorted({(ref, ls_id, object_id, prop[:64]) for prop, ref in stix.references(obj)
                   if ref != obj["id"]})
    return index, refs, found.warnings


def drop_index(session: Session, object_ids: Sequence[int]) -> None:
    """Remove the index and reference rows of object rows that are no longer latest."""
    for start in range(0, len(object_ids), 900):
        part = list(object_ids[start:start + 900])
        session.execute(delete(IndexRow).where(IndexRow.object_id.in_(part))
                        .execution_options(synchronize_session=False))
        session.execute(delete(RefRow).where(RefRow.object_id.in_(part))
                        .execution_options(synchronize_session=False))


def new_import(session: Session, *, kind: str, source: str, actor: str, labels: Labels,
               details: dict[str, Any] | None = None) -> ImportRow:
    row = ImportRow(kind=kind, source=source[:300], actor=actor,
                    label_set_id=label_set_id(session, labels), details=details or {})
    session.add(row)
    session.flush()
    return row


def finish_import(session: Session, row: ImportRow, outcome: Outcome) -> None:
    row.stored = outcome.stored
    row.merged = outcome.merged
    row.rejected = len(outcome.rejected)
    row.details = {
        **(row.details or {}),
        "rejections": [r.model_dump() for r in outcome.rejected[:1000]],
        "warnings": outcome.warnings[:1000],
    }
    session.flush()


def iter_bodies(rows: Iterable[Any]) -> Iterator[dict[str, Any]]:
    for row in rows:
        yield json.loads(row.body)
