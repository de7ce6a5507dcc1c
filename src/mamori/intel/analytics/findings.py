"""Findings: what the analytics conclude, with evidence, confidence and review.

A finding is labelled like everything it was derived from (its evidence), so a finding
drawn from selected communications is COMMS and invisible to whoever may not see
COMMS; its key is a digest of its kind and evidence, so a re-run updates it instead of
duplicating it, and a review (confirmed or rejected) survives re-runs. Each finding is
also stored as STIX: a ``grouping`` of its evidence plus what the analytic built
(campaigns, infrastructure, relationships), with lineage to the evidence.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.errors import InvalidInput, NotFound
from mamori.intel import guard, read, stix, store
from mamori.intel.ingest.bundle import import_objects
from mamori.intel.ingest.common import stamp
from mamori.intel.labels import Labels, union_all
from mamori.intel.models import FindingOut, FindingRow, ObjectRow
from mamori.intel.visibility import VIEW, scope

KINDS = ("cross_sector_campaign", "c2_structure", "shared_bots", "lotl", "exposure")
STATUSES = ("open", "confirmed", "rejected")
NOTE_MAX = 10_000


@dataclass
class Draft:
    """A finding as an analytic proposes it."""

    kind: str
    key_parts: list[Any]
    confidence: int
    params: dict[str, Any]
    evidence: dict[str, Any]
    evidence_ids: list[str]
    labels: Labels
    title: str
    objects: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return hashlib.sha256(stix.canonical([self.kind, self.key_parts]).encode()).hexdigest()


def evidence_labels(session: Session, object_ids: Iterable[str], analyze: Any) -> Labels:
    """The union of the labels of the current versions of ``object_ids``."""
    rows = read.current_rows(session, analyze, list(object_ids))
    if not rows:
        return Labels(secret=True)  # no readable evidence: never less than confidential
    return union_all(analyze.labels[r.label_set_id] for r in rows.values())


def save(session: Session, principal: Principal, draft: Draft) -> FindingRow:
    """Create or update the finding and store its STIX representation."""
    now = utcnow()
    grouping = {
        "type": "grouping", "spec_version": "2.1",
        "id": stix.mamori_id("grouping", "finding", draft.key), "name": draft.title,
        "context": "suspicious-activity", "object_refs": sorted(set(draft.evidence_ids)),
        "confidence": max(0, min(100, draft.confidence)),
        "x_mamori_finding": {"kind": draft.kind, "params": draft.params},
    }
    objects = [*draft.objects, grouping]
    fresh, _ = stamp(session, objects, draft.labels, now)
    if fresh:
        import_objects(session=session, principal=principal, objects=fresh,
                       source=f"analytics:{draft.kind}", labels=draft.labels, kind="analytics",
                       derived_from={o["id"]: tuple(sorted(set(draft.evidence_ids)))
                                     for o in fresh},
                       action="intel.analyze")
    row = session.scalar(select(FindingRow).where(FindingRow.key == draft.key))
    label_id = store.label_set_id(session, draft.labels)
    if row is None:
        row = FindingRow(kind=draft.kind, key=draft.key, label_set_id=label_id,
                         confidence=draft.confidence, status="open", params=draft.params,
                         evidence=draft.evidence, stix_id=grouping["id"], created_at=now,
                         updated_at=now)
        session.add(row)
    elif (row.confidence, row.params, row.evidence, row.label_set_id) != (
            draft.confidence, draft.params, draft.evidence, label_id):
        row.confidence, row.params, row.evidence = draft.confidence, draft.params, draft.evidence
        row.label_set_id = label_id
        row.updated_at = now
    session.flush()
    return row


def finding_out(row: FindingRow, labels: Labels) -> FindingOut:
    return FindingOut(id=row.id, kind=row.kind, confidence=row.confidence, status=row.status,
                      labels=labels, params=row.params, evidence=row.evidence,
                      stix_id=row.stix_id, created_at=row.created_at, updated_at=row.updated_at,
                      reviewed_by=row.reviewed_by, reviewed_at=row.reviewed_at,
                      review_note=row.review_note)


def list_findings(
    *, session: Session, principal: Principal, kind: str | None = None,
    status: str | None = None, limit: int = 200,
) -> list[FindingOut]:
    """The findings the principal may see, most confident first."""
    guard.authorize(session=session, principal=principal, action=VIEW)
    reader = scope(session=session, principal=principal)
    query = select(FindingRow).where(reader.where(FindingRow.label_set_id))
    if kind:
        if kind not in KINDS:
            raise InvalidInput(f"finding kinds are: {', '.join(KINDS)}", field="kind")
        query = query.where(FindingRow.kind == kind)
    if status:
        if status not in STATUSES:
            raise InvalidInput(f"finding statuses are: {', '.join(STATUSES)}", field="status")
        query = query.where(FindingRow.status == status)
    rows = list(session.scalars(query.order_by(FindingRow.confidence.desc(),
                                               FindingRow.id).limit(max(1, min(limit, 2000)))))
    from mamori.intel.visibility import audit_comms_access

    audit_comms_access(session=session, principal=principal, scope_=reader,
                       label_set_ids={r.label_set_id for r in rows}, action=VIEW,
                       what="findings")
    return [finding_out(r, reader.labels[r.label_set_id]) for r in rows]


def get_finding(*, session: Session, principal: Principal, finding_id: int) -> FindingOut:
    guard.authorize(session=session, principal=principal, action=VIEW)
    reader = scope(session=session, principal=principal)
    row = session.get(FindingRow, finding_id)
    if row is None or not reader.sees(row.label_set_id):
        raise NotFound(f"no finding {finding_id}", field="finding")
    from mamori.intel.visibility import audit_comms_access

    audit_comms_access(session=session, principal=principal, scope_=reader,
                       label_set_ids={row.label_set_id}, action=VIEW, what=f"finding:{row.id}")
    return finding_out(row, reader.labels[row.label_set_id])


def _clean_text(text: str | None, field: str, *, required: bool) -> str:
    cleaned = (text or "").strip()
    if required and not cleaned:
        raise InvalidInput("write the text of the note", field=field)
    if len(cleaned) > NOTE_MAX:
        raise InvalidInput(f"at most {NOTE_MAX} characters", field=field)
    return cleaned


def review(
    *, session: Session, principal: Principal, finding_id: int, decision: str,
    note: str | None = None,
) -> FindingOut:
    """Confirm or reject a finding (stored as a STIX opinion on its grouping)."""
    if decision not in ("confirmed", "rejected"):
        raise InvalidInput("decide confirmed or rejected", field="decision")
    text = _clean_text(note, "note", required=False)
    reader = scope(session=session, principal=principal)
    row = session.get(FindingRow, finding_id)
    if row is None or not reader.sees(row.label_set_id):
        raise NotFound(f"no finding {finding_id}", field="finding")
    labels = reader.labels[row.label_set_id]
    guard.authorize(session=session, principal=principal, action="intel.review", labels=labels,
                    key=str(row.id))
    now = utcnow()
    opinion: dict[str, Any] = {
        "type": "opinion", "spec_version": "2.1",
        "id": stix.mamori_id("opinion", row.key, principal.username),
        "created": stix.format_timestamp(now), "modified": stix.format_timestamp(now),
        "opinion": "agree" if decision == "confirmed" else "disagree",
        "object_refs": [row.stix_id] if row.stix_id else [],
        "authors": [principal.username],
    }
    if text:
        opinion["explanation"] = text
    if row.stix_id:
        existing = read.current_rows(session, reader, [opinion["id"]])
        if opinion["id"] in existing:
            opinion["created"] = read.records(session, reader, [existing[opinion["id"]]])[
                0].object.get("created", opinion["created"])
        import_objects(session=session, principal=principal, objects=[opinion],
                       source=f"review:{principal.username}", labels=labels, kind="review",
                       action="intel.review")
    row.status = decision
    row.reviewed_by = principal.username
    row.reviewed_at = now
    row.review_note = text or None
    session.flush()
    guard.audit(session=session, principal=principal, action="intel.finding_reviewed",
                object_type="intel.finding", object_id=row.id,
                details={"decision": decision, "kind": row.kind})
    return finding_out(row, labels)


def add_note(
    *, session: Session, principal: Principal, stix_id: str, text: str,
    abstract: str | None = None,
) -> str:
    """A STIX note on an object the principal may see, labelled like that object."""
    body = _clean_text(text, "text", required=True)
    if not stix.ID_RE.match((stix_id or "").strip()):
        raise InvalidInput("not a STIX id (<type>--<UUID>)", field="stix_id")
    reader = scope(session=session, principal=principal)
    rows = read.current_rows(session, reader, [stix_id.strip()])
    target: ObjectRow | None = rows.get(stix_id.strip())
    if target is None:
        raise NotFound(f"no object {stix_id.strip()} in the store", field="stix_id")
    labels = reader.labels[target.label_set_id]
    guard.authorize(session=session, principal=principal, action="intel.annotate",
                    labels=labels, key=target.stix_id)
    now = stix.format_timestamp(utcnow())
    note: dict[str, Any] = {
        "type": "note", "spec_version": "2.1",
        "id": stix.mamori_id("note", target.stix_id, principal.username, now),
        "created": now, "modified": now, "content": body, "authors": [principal.username],
        "object_refs": [target.stix_id],
    }
    if abstract and abstract.strip():
        note["abstract"] = abstract.strip()[:300]
    import_objects(session=session, principal=principal, objects=[note],
                   source=f"note:{principal.username}", labels=labels, kind="note",
                   derived_from={note["id"]: (target.stix_id,)}, action="intel.annotate")
    return str(note["id"])
