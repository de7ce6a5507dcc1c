"""An attacker with database administrator rights drops the append-only triggers and
alters, deletes or reorders entries of a real database; verification catches each and
names the first entry that can no longer be trusted."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from mamori.audit import service
from mamori.audit.models import AuditEntry, format_time
from mamori.audit.verify import details_digest, entry_leaf

SIZE = 8  # entries; signed tree heads at sizes 3 and 8


def _build(session: Session) -> None:
    for i in range(SIZE):
        service.record(
            session=session, actor=f"analyst{i % 2}", action="intel.add",
            object_type="Indicator", object_id=f"ind-{i}", purpose="specified_damage_prevention",
            details={"n": i},
        )
        if i + 1 in (3, SIZE):
            service.issue_tree_head(session=session)
    session.commit()


def _row(conn: Connection, seq: int) -> dict[str, Any]:
    with Session(bind=conn) as session:
        entry = session.get(AuditEntry, seq)
        assert entry is not None
        return {c.name: getattr(entry, c.name) for c in AuditEntry.__table__.columns}


def _rehash(conn: Connection, seq: int, **changes: Any) -> None:
    """Change fields of entry ``seq`` and recompute its digest and leaf hash, as a careful
    attacker would, so that only the signed tree heads can tell."""
    row = {**_row(conn, seq), **changes}
    row["details_digest"] = details_digest(json.loads(row["details"]))
    leaf = entry_leaf({**row, "time": format_time(row["time"])}).hex()
    conn.execute(
        text("UPDATE audit_entries SET actor = :actor, object_id = :object_id,"
             " details = :details, details_digest = :digest, leaf_hash = :leaf WHERE seq = :seq"),
        {"actor": row["actor"], "object_id": row["object_id"], "details": row["details"],
         "digest": row["details_digest"], "leaf": leaf, "seq": seq},
    )


def _swap_seq(conn: Connection, a: int, b: int) -> None:
    conn.execute(text("UPDATE audit_entries SET seq = -1 WHERE seq = :a"), {"a": a})
    conn.execute(text("UPDATE audit_entries SET seq = :a WHERE seq = :b"), {"a": a, "b": b})
    conn.execute(text("UPDATE audit_entries SET seq = :b WHERE seq = -1"), {"b": b})


def _swap_contents(conn: Connection, a: int, b: int) -> None:
    """Reorder two entries while keeping every stored leaf hash self-consistent."""
    first, second = _row(conn, a), _row(conn, b)
    for target, source in ((a, second), (b, first)):
        _rehash(conn, target, actor=source["actor"], object_id=source["object_id"],
                details=source["details"])


# (name, tampering, first bad entry, words the reason contains)
CASES: list[tuple[str, Callable[[Connection], None], int, str]] = [
    ("alter a field",
     lambda c: c.execute(text("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 5")),
     5, "leaf hash"),
    ("alter the details",
     lambda c: c.execute(text("UPDATE audit_entries SET details = :d WHERE seq = 4"),
                         {"d": '{"n":99}'}),
     4, "digest"),
    ("alter and rehash",
     lambda c: _rehash(c, 6, actor="mallory"), 3, "signed by tree head of size 8"),
    ("delete an entry",
     lambda c: c.execute(text("DELETE FROM audit_entries WHERE seq = 2")), 2, "missing"),
    ("delete the newest entry",
     lambda c: c.execute(text("DELETE FROM audit_entries WHERE seq = 7")), 7, "missing"),
    ("reorder by sequence number", lambda c: _swap_seq(c, 5, 6), 5, "leaf hash"),
    ("reorder and rehash", lambda c: _swap_contents(c, 1, 2), 0, "tree head of size 3"),
]


@pytest.mark.parametrize(("name", "tamper", "first_bad", "words"), CASES,
                         ids=[c[0] for c in CASES])
def test_verify_log_catches_tampering(
    engine: Engine, guards_lifted: Any, name: str, tamper: Callable[[Connection], None],
    first_bad: int, words: str,
) -> None:
    with Session(engine) as session:
        _build(session)
        assert service.verify_log(session=session).ok
    with guards_lifted(), engine.begin() as conn:
        tamper(conn)
    with Session(engine) as session:
        result = service.verify_log(session=session)
    assert not result.ok, name
    assert result.first_bad_seq == first_bad, result
    assert words in (result.reason or ""), result


def test_forged_tree_heads_are_caught(engine: Engine, guards_lifted: Any) -> None:
    with Session(engine) as session:
        _build(session)
    with guards_lifted(), engine.begin() as conn:
        conn.execute(text("UPDATE audit_tree_heads SET tree_size = 2 WHERE tree_size = 3"))
    with Session(engine) as session:
        result = service.verify_log(session=session)
    assert not result.ok and result.first_bad_seq is None
    assert "invalid signature" in (result.reason or "")


CLI_CASES = [c for c in CASES if c[0] in (
    "alter a field", "alter and rehash", "delete an entry", "reorder by sequence number")]


@pytest.mark.parametrize(("name", "tamper", "first_bad", "words"), CLI_CASES,
                         ids=[c[0] for c in CLI_CASES])
def test_mamori_audit_verify_exits_1_naming_the_entry(
    engine: Engine, guards_lifted: Any, audit_cli: Any, name: str,
    tamper: Callable[[Connection], None], first_bad: int, words: str,
) -> None:
    with Session(engine) as session:
        _build(session)
    intact = audit_cli("verify")
    assert intact.exit_code == 0, intact.output
    with guards_lifted(), engine.begin() as conn:
        tamper(conn)
    result = audit_cli("verify")
    assert result.exit_code == 1, result.output
    assert f" {first_bad}" in result.output.splitlines()[0]
    assert words in result.output
