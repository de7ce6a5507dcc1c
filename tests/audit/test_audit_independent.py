"""Entries that must outlive their transaction (denials, failed sign-ins, refusals) are
kept exactly once, whether the caller's transaction commits, rolls back, is closed
without either, or rolls back a savepoint that held them; on SQLite and PostgreSQL,
including when the caller already holds the locks an independent write would need."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from mamori.audit import service
from mamori.audit.independent import record_surviving_rollback
from mamori.audit.models import AuditEntry


def _actions(engine: Engine) -> list[str]:
    with Session(engine) as fresh:
        return list(fresh.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def _kept(session: Session, name: str = "t.denied") -> None:
    record_surviving_rollback(session, actor="t", action=name, object_type="t",
                              object_id="1", details={"reason": "test"})


def _caller_writes(session: Session) -> None:
    """Take the locks: the caller's own entry (SQLite write lock; PostgreSQL append lock)."""
    service.record(session=session, actor="t", action="t.change", object_type="t")


def _rollback(session: Session) -> None:
    session.rollback()


def _close(session: Session) -> None:
    session.close()


@pytest.mark.parametrize("end", [_rollback, _close], ids=["rollback", "close"])
@pytest.mark.parametrize("holding", [False, True], ids=["free", "holding-locks"])
def test_kept_once_when_the_caller_does_not_commit(
        engine: Engine, holding: bool, end: Callable[[Session], None]) -> None:
    with Session(engine) as session:
        if holding:
            _caller_writes(session)
        _kept(session)
        end(session)
    assert _actions(engine) == ["t.denied"]


@pytest.mark.parametrize("holding", [False, True], ids=["free", "holding-locks"])
def test_kept_once_when_the_caller_commits(engine: Engine, holding: bool) -> None:
    with Session(engine) as session:
        if holding:
            _caller_writes(session)
        _kept(session)
        session.commit()
    assert sorted(_actions(engine)) == sorted(["t.denied"] + (["t.change"] if holding else []))


def test_a_rolled_back_savepoint_does_not_take_the_entry_with_it(engine: Engine) -> None:
    with Session(engine) as session:
        _caller_writes(session)
        savepoint = session.begin_nested()
        _kept(session, "t.inner")
        savepoint.rollback()
        released = session.begin_nested()
        _kept(session, "t.released")
        released.commit()
        session.commit()
    assert sorted(_actions(engine)) == ["t.change", "t.inner", "t.released"]


def test_one_session_over_several_transactions(engine: Engine) -> None:
    with Session(engine) as session:
        _caller_writes(session)
        _kept(session, "t.first")
        session.rollback()
        _caller_writes(session)
        _kept(session, "t.second")
        session.commit()
        _caller_writes(session)
        session.rollback()
    assert sorted(_actions(engine)) == ["t.change", "t.first", "t.second"]
    with Session(engine) as fresh:
        assert fresh.scalar(select(func.count()).select_from(AuditEntry)) == 3
        assert service.verify_log(session=fresh).ok  # no gap, no duplicate sequence number
