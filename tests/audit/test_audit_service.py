"""The audit service on SQLite and PostgreSQL: appends, tree heads, proofs, listing,
and the database's refusal to change or remove what was written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from mamori.audit import keys, service
from mamori.audit.models import AuditEntry, TreeHead
from mamori.audit.verify import (
    canonical_json,
    details_digest,
    entry_leaf,
    tree_head_message,
    verify_consistency,
    verify_inclusion,
    verify_tree_head_signature,
)
from mamori.config import get_settings
from mamori.errors import InvalidInput


def _append(session: Session, n: int, **overrides: Any) -> list[AuditEntry]:
    entries = []
    for i in range(n):
        fields: dict[str, Any] = {
            "actor": f"user{i % 3}",
            "action": "registry.update" if i % 2 else "registry.add",
            "object_type": "CriticalComputer",
            "object_id": str(100 + i),
            "legal_basis": "Art. 7",
            "purpose": "specified_damage_prevention",
            "details": {"changed": ["name"], "count": i},
        }
        fields.update(overrides)
        entries.append(service.record(session=session, **fields))
    return entries


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_entries_are_numbered_from_zero_and_hash_their_fields(session: Session) -> None:
    entries = _append(session, 4)
    session.commit()
    assert [e.seq for e in entries] == [0, 1, 2, 3]
    stored = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    for entry in stored:
        assert entry.details == canonical_json(json.loads(entry.details)).decode()
        assert entry.details_digest == details_digest(json.loads(entry.details))
        fields = {
            "seq": entry.seq,
            "time": entry.time.astimezone(UTC).isoformat(timespec="microseconds")
            .replace("+00:00", "Z"),
            "actor": entry.actor,
            "action": entry.action,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "legal_basis": entry.legal_basis,
            "purpose": entry.purpose,
            "details_digest": entry.details_digest,
        }
        assert entry.leaf_hash == entry_leaf(fields).hex()
        assert entry.time.tzinfo is not None


def test_an_entry_belongs_to_its_transaction(session: Session) -> None:
    _append(session, 2)
    session.commit()
    _append(session, 3)
    session.rollback()
    assert _count(session, AuditEntry) == 2
    again = _append(session, 1)
    session.commit()
    assert again[0].seq == 2  # no gap where the rolled-back entries were
    assert service.verify_log(session=session).ok


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"actor": ""}, "actor"),
        ({"actor": "x" * 201}, "actor"),
        ({"action": "   "}, "action"),
        ({"object_type": 5}, "object type"),
        ({"object_id": "y" * 201}, "object id"),
        ({"purpose": "p" * 501}, "purpose"),
        ({"details": {"at": datetime.now(UTC)}}, "details.at"),
        ({"details": {"n": float("nan")}}, "details.n"),
        ({"details": {1: "x"}}, "key that is not text"),
        ({"details": ["not", "a", "mapping"]}, "mapping"),
        ({"details": {"blob": "z" * 20000}}, "exceed"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    session: Session, overrides: dict[str, Any], field: str
) -> None:
    _append(session, 1)
    session.commit()
    with pytest.raises(InvalidInput) as raised:
        _append(session, 1, **overrides)
    assert field in raised.value.detail
    assert "zzzz" not in raised.value.detail  # values never echo into messages
    session.rollback()
    assert _count(session, AuditEntry) == 1


def test_tree_heads_are_signed_and_cover_the_log(session: Session) -> None:
    empty = service.issue_tree_head(session=session)
    assert empty.tree_size == 0
    _append(session, 5)
    head = service.issue_tree_head(session=session)
    session.commit()
    settings = get_settings()
    public = keys.public_key_raw(settings=settings)
    assert public is not None
    assert head.tree_size == 5 and head.key_id == keys.key_id(settings=settings)
    assert verify_tree_head_signature(
        public_raw=public, timestamp_ms=head.timestamp_ms, tree_size=5,
        root=bytes.fromhex(head.root_hash), signature=bytes.fromhex(head.signature),
    )
    assert not verify_tree_head_signature(
        public_raw=public, timestamp_ms=head.timestamp_ms, tree_size=4,
        root=bytes.fromhex(head.root_hash), signature=bytes.fromhex(head.signature),
    )
    stored = session.scalars(select(TreeHead).order_by(TreeHead.tree_size)).all()
    assert [h.tree_size for h in stored] == [0, 5]
    assert stored[1].timestamp_ms == head.timestamp_ms  # millisecond timestamp round-trips
    message = tree_head_message(timestamp_ms=1, tree_size=2, root=b"\x01" * 32)
    assert len(message) == 8 + 8 + 1 + 32 + 2
    result = service.verify_log(session=session)
    assert result.ok and result.tree_size == 5 and result.tree_heads_checked == 2
    assert result.root_hash == head.root_hash
    assert service.latest_tree_head(session=session).tree_size == 5


def test_proofs_verify_against_signed_roots(session: Session) -> None:
    _append(session, 3)
    small = service.issue_tree_head(session=session)
    _append(session, 8)
    large = service.issue_tree_head(session=session)
    session.commit()
    for seq in range(11):
        proof = service.inclusion_proof(session=session, seq=seq)
        verify_inclusion(index=seq, size=11, leaf=bytes.fromhex(proof.leaf_hash),
                         proof=[bytes.fromhex(p) for p in proof.path],
                         root=bytes.fromhex(large.root_hash))
    early = service.inclusion_proof(session=session, seq=1, tree_size=3)
    assert early.root_hash == small.root_hash
    consistency = service.consistency_proof(session=session, first=3, second=11)
    assert (consistency.first_root, consistency.second_root) == (small.root_hash, large.root_hash)
    verify_consistency(first=3, second=11, first_root=bytes.fromhex(small.root_hash),
                       second_root=bytes.fromhex(large.root_hash),
                       proof=[bytes.fromhex(p) for p in consistency.path])
    for bad in ({"seq": 11}, {"seq": -1}, {"seq": 0, "tree_size": 12}, {"seq": 3, "tree_size": 3}):
        with pytest.raises(InvalidInput):
            service.inclusion_proof(session=session, **bad)
    for first, second in ((0, 3), (4, 3), (1, 12)):
        with pytest.raises(InvalidInput):
            service.consistency_proof(session=session, first=first, second=second)


def test_list_entries_filters_and_pages(session: Session) -> None:
    _append(session, 7)
    _append(session, 2, actor="inspector", action="audit.export", object_type="AuditLog",
            object_id="")
    session.commit()
    page = service.list_entries(session=session, limit=4)
    assert page.total == 9 and [e.seq for e in page.items] == [8, 7, 6, 5]
    page = service.list_entries(session=session, limit=4, offset=8, newest_first=False)
    assert [e.seq for e in page.items] == [8]
    assert service.list_entries(session=session, actor="inspector").total == 2
    assert service.list_entries(session=session, action="registry.update").total == 3
    only = service.list_entries(session=session, object_type="CriticalComputer", object_id="103")
    assert [e.seq for e in only.items] == [3] and only.items[0].details == {
        "changed": ["name"], "count": 3}
    now = datetime.now(UTC)
    assert service.list_entries(session=session, since=now - timedelta(hours=1)).total == 9
    assert service.list_entries(session=session, until=now - timedelta(hours=1)).total == 0
    for bad in ({"limit": 0}, {"limit": 1001}, {"offset": -1},
                {"since": datetime(2025, 1, 1)},
                {"since": now, "until": now - timedelta(seconds=1)}):
        with pytest.raises(InvalidInput):
            service.list_entries(session=session, **bad)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET actor = 'mallory' WHERE seq = 1",
        "DELETE FROM audit_entries WHERE seq = 2",
        "UPDATE audit_tree_heads SET tree_size = 1",
        "DELETE FROM audit_tree_heads",
    ],
)
def test_the_database_refuses_changes(engine: Engine, statement: str) -> None:
    with Session(engine) as session:
        _append(session, 3)
        service.issue_tree_head(session=session)
        session.commit()
    with pytest.raises(DBAPIError) as raised, engine.begin() as conn:
        conn.execute(text(statement))
    assert "append-only" in str(raised.value)
    with Session(engine) as session:
        assert _count(session, AuditEntry) == 3 and _count(session, TreeHead) == 1
        assert service.verify_log(session=session).ok


def test_no_tree_head_is_signed_over_a_tampered_log(engine: Engine, guards_lifted: Any) -> None:
    with Session(engine) as session:
        _append(session, 4)
        service.issue_tree_head(session=session)
        session.commit()
    with guards_lifted(), engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET purpose = 'other' WHERE seq = 2"))
    with Session(engine) as session:
        with pytest.raises(service.AuditLogTampered) as raised:
            service.issue_tree_head(session=session)
        assert "entry 2" in raised.value.detail
        session.rollback()
        assert _count(session, TreeHead) == 1
