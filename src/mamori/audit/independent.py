"""Audit entries that must outlive the transaction that caused them.

A denial, a failed sign-in or a refused provision is recorded although the request
that caused it is rolled back. Such an entry is written in a transaction of its own.
When that transaction would wait on locks the caller's open transaction holds (SQLite
after the caller wrote: one writer at a time; PostgreSQL while the caller holds the
log's append lock), the entry goes into the caller's transaction instead and is
remembered: should that transaction end without committing, the entry is written
again on its own once the locks are gone. Either way exactly one copy is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, SessionTransaction

from mamori.audit import service

log = logging.getLogger(__name__)

# How long an independent write may wait for locks before it falls back to the caller's
# transaction.
_LOCK_WAIT = "2s"
_PENDING = "mamori.audit.pending"


def _engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind.engine if isinstance(bind, Connection) else bind


def _caller_holds_locks(session: Session, dialect: str) -> bool:
    """True when the caller's open transaction holds locks a second writer would wait on."""
    if not session.in_transaction():
        return False
    connection = session.connection()
    if dialect == "sqlite":
        return bool(getattr(connection.connection.dbapi_connection, "in_transaction", False))
    if dialect == "postgresql":
        held = connection.execute(text(
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
            "AND pid = pg_backend_pid() AND granted LIMIT 1")).first()
        return held is not None
    return False


def write_independently(session: Session, write: Callable[[Session], object]) -> bool:
    """Run ``write`` in a transaction of its own, committed at once.

    Returns False, having changed nothing, when that transaction would have to wait on
    locks the caller's own open transaction holds."""
    engine = _engine_of(session)
    if _caller_holds_locks(session, engine.dialect.name):
        return False
    return _write(engine, write)


def _write(engine: Engine, write: Callable[[Session], object]) -> bool:
    try:
        with Session(engine) as own:
            if engine.dialect.name == "postgresql":
                own.execute(text(f"SET LOCAL lock_timeout = '{_LOCK_WAIT}'"))
            write(own)
            own.commit()
    except DBAPIError:
        return False
    return True


@dataclass
class _Pending:
    entry: dict[str, Any]
    transaction: SessionTransaction  # the innermost one the entry was written in
    undone: bool = False  # a savepoint holding it was rolled back


def record_surviving_rollback(session: Session, **entry: Any) -> None:
    """One audit entry (the arguments of :func:`service.record`) that is kept whether
    or not ``session``'s transaction commits."""
    if write_independently(session, partial(_record, entry=entry)):
        return
    service.record(session=session, **entry)
    pending: list[_Pending] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_soft_rollback", _rolled_back)
        event.listen(session, "after_commit", _committed)
        event.listen(session, "after_transaction_end", _ended)
    current = session.get_nested_transaction() or session.get_transaction()
    assert current is not None  # service.record flushed in it
    pending.append(_Pending(entry, current))


def _record(own: Session, *, entry: dict[str, Any]) -> None:
    service.record(session=own, **entry)


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def _rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    for item in session.info.get(_PENDING, []):
        if _within(item.transaction, previous_transaction):
            item.undone = True


def _committed(session: Session) -> None:
    """Entries that were not undone by a savepoint were committed with the transaction."""
    session.info[_PENDING][:] = [p for p in session.info[_PENDING] if p.undone]


def _ended(session: Session, transaction: SessionTransaction) -> None:
    """When the outermost transaction is over, its locks are gone: write what it did not
    commit, each in a transaction of its own."""
    if transaction.parent is not None:
        return
    pending: list[_Pending] = session.info.get(_PENDING, [])
    if not pending:
        return
    items, pending[:] = list(pending), []
    engine = _engine_of(session)
    for item in items:
        try:
            written = _write(engine, partial(_record, entry=item.entry))
        except SQLAlchemyError as exc:
            written = False
            log.error("audit entry %s could not be rewritten: %s", item.entry.get("action"),
                      type(exc).__name__)
        if not written:
            log.error("audit entry %s lost with a rolled-back transaction",
                      item.entry.get("action"))
