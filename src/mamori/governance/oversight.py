"""The oversight console's read-only evidence for committee inspectors (R-3.3-20):
the audit log with inclusion and consistency proofs, selection receipts, access to
communications-derived data by handler and purpose, the access policy files, and
CSV exports. Every function authorizes ``oversight.view`` first.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.audit import service as audit_service
from mamori.audit import verify as audit_verify
from mamori.audit.models import AuditEntryOut, EntryPage, format_time
from mamori.errors import InvalidInput, NotFound
from mamori.governance.guard import authorize

RESOURCE = "governance.oversight"
RECEIPT_ACTION = "selection.receipt"
COMMS_ACCESS_ACTIONS = ("access.comms_data", "governance.use.granted", "governance.use.refused")
PAGE = 1000


def _allow(session: Session, principal: Principal, what: str) -> None:
    authorize(session=session, principal=principal, action="oversight.view",
              resource_type=RESOURCE, resource_id=what)


def audit_page(
    *,
    session: Session,
    principal: Principal,
    action: str | None = None,
    actor: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 50,
) -> EntryPage:
    """A page of the audit log, newest first, filtered."""
    _allow(session, principal, "audit_log")
    return audit_service.list_entries(
        session=session, action=action or None, actor=actor or None,
        object_type=object_type or None, object_id=object_id or None, since=since,
        until=until, offset=offset, limit=limit,
    )


def _all_entries(session: Session, **filters: Any) -> Iterator[AuditEntryOut]:
    offset = 0
    while True:
        page = audit_service.list_entries(session=session, offset=offset, limit=PAGE,
                                          newest_first=False, **filters)
        yield from page.items
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return


def entry(*, session: Session, principal: Principal, seq: int) -> AuditEntryOut:
    _allow(session, principal, "audit_log")
    return _entry(session, seq)


def _entry(session: Session, seq: int) -> AuditEntryOut:
    if seq < 0:
        raise InvalidInput("entry: must not be negative")
    page = audit_service.list_entries(session=session, offset=seq, limit=1, newest_first=False)
    if not page.items or page.items[0].seq != seq:
        raise NotFound(f"audit entry {seq} does not exist")
    return page.items[0]


@dataclass(frozen=True)
class ProofCheck:
    """An entry, its inclusion proof, and whether the leaf and the proof verify."""

    entry: AuditEntryOut
    proof: Any
    leaf_matches: bool
    proof_verifies: bool
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.leaf_matches and self.proof_verifies


def check_entry(
    *, session: Session, principal: Principal, seq: int, tree_size: int | None = None
) -> ProofCheck:
    """Recompute an entry's leaf from its fields and verify its RFC 9162 inclusion proof."""
    _allow(session, principal, "audit_log")
    item = _entry(session, seq)
    proof = audit_service.inclusion_proof(session=session, seq=seq, tree_size=tree_size)
    fields = {
        "seq": item.seq, "time": format_time(item.time), "actor": item.actor,
        "action": item.action, "object_type": item.object_type, "object_id": item.object_id,
        "legal_basis": item.legal_basis, "purpose": item.purpose,
        "details_digest": audit_verify.details_digest(item.details),
    }
    leaf = audit_verify.entry_leaf(fields)
    leaf_matches = leaf.hex() == item.leaf_hash == proof.leaf_hash and (
        fields["details_digest"] == item.details_digest
    )
    problem = None if leaf_matches else "the entry's fields do not give its leaf hash"
    try:
        audit_verify.verify_inclusion(
            index=seq, size=proof.tree_size, leaf=bytes.fromhex(proof.leaf_hash),
            proof=[bytes.fromhex(h) for h in proof.path], root=bytes.fromhex(proof.root_hash),
        )
        verifies = True
    except audit_verify.ProofError as exc:
        verifies, problem = False, str(exc)
    return ProofCheck(item, proof, leaf_matches, verifies, problem)


def check_consistency(
    *, session: Session, principal: Principal, first: int, second: int
) -> tuple[Any, bool, str | None]:
    """A consistency proof between two tree sizes, verified here: (proof, ok, problem)."""
    _allow(session, principal, "audit_log")
    proof = audit_service.consistency_proof(session=session, first=first, second=second)
    try:
        audit_verify.verify_consistency(
            first=proof.first, second=proof.second,
            first_root=bytes.fromhex(proof.first_root),
            second_root=bytes.fromhex(proof.second_root),
            proof=[bytes.fromhex(h) for h in proof.path],
        )
        return proof, True, None
    except audit_verify.ProofError as exc:
        return proof, False, str(exc)


def receipts(
    *, session: Session, principal: Principal, offset: int = 0, limit: int = 50
) -> EntryPage:
    """Selection receipts as the selection zone logs them."""
    _allow(session, principal, "receipts")
    return audit_service.list_entries(session=session, action=RECEIPT_ACTION, offset=offset,
                                      limit=limit)


@dataclass(frozen=True)
class AccessRow:
    actor: str
    purpose: str
    action: str
    count: int
    first: datetime
    last: datetime


def comms_access(
    *,
    session: Session,
    principal: Principal,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AccessRow]:
    """Access to communications-derived data and use decisions, by handler and purpose."""
    _allow(session, principal, "comms_access")
    counts: Counter[tuple[str, str, str]] = Counter()
    first: dict[tuple[str, str, str], datetime] = {}
    last: dict[tuple[str, str, str], datetime] = {}
    for action in COMMS_ACCESS_ACTIONS:
        for item in _all_entries(session, action=action, since=since, until=until):
            key = (item.actor, item.purpose or "", item.action)
            counts[key] += 1
            first.setdefault(key, item.time)
            last[key] = item.time
    return [AccessRow(k[0], k[1], k[2], n, first[k], last[k])
            for k, n in sorted(counts.items())]


@dataclass(frozen=True)
class PolicyFile:
    name: str
    text: str


def policy_files(*, session: Session, principal: Principal) -> list[PolicyFile]:
    """The access policy and schema files exactly as the engine loads them."""
    _allow(session, principal, "policies")
    folder = resources.files("mamori.access").joinpath("policies")
    files = [f for f in folder.iterdir() if f.name.endswith((".cedar", ".cedarschema"))]
    return [PolicyFile(f.name, f.read_text(encoding="utf-8"))
            for f in sorted(files, key=lambda f: f.name)]


def rows_to_csv(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(header))
    for row in rows:
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, datetime) else v
                         for v in row])
    return buffer.getvalue()


def export_audit_csv(
    *,
    session: Session,
    principal: Principal,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> str:
    """The (filtered) audit log as CSV, oldest first, with each entry's leaf hash."""
    _allow(session, principal, "export")
    return rows_to_csv(
        ("seq", "time", "actor", "action", "object_type", "object_id", "legal_basis",
         "purpose", "details_digest", "leaf_hash"),
        ((e.seq, e.time, e.actor, e.action, e.object_type, e.object_id, e.legal_basis,
          e.purpose, e.details_digest, e.leaf_hash)
         for e in _all_entries(session, action=action or None, since=since, until=until)),
    )
