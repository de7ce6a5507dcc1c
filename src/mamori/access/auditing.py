"""How the access domain writes to the audit log.

Most entries go into the caller's transaction, next to the change they describe.
Denials and failed sign-ins are different: the request that caused them is rolled
back, yet the entry must stay. Those are written in a transaction of their own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# How long an independent audit write may wait for locks the caller's own transaction
# holds before it falls back to that transaction.
_LOCK_WAIT = "2s"


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    purpose: str | None = None,
    legal_basis: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """One audit entry in ``session``'s transaction."""
    from mamori.audit import service as audit_service

    audit_service.record(
        session=session,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        legal_basis=legal_basis,
        purpose=purpose,
        details=details or {},
    )


def _engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind.engine if isinstance(bind, Connection) else bind


def _caller_holds_locks(session: Session, dialect: str) -> bool:
    """True when the caller's open transaction holds locks a second writer would wait on.

    SQLite: the caller's connection has written (it holds the one write lock).
    PostgreSQL: the caller holds an advisory lock (the audit log's append lock).
    """
    if not session.in_transaction():
        return False
    connection = session.connection()
    if dialect == "sqlite":
        return bool(getattr(connection.connection.dbapi_connection, "in_transaction", False))
    if dialect == "postgresql":
        held = connection.execute(
            text(
                "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                "AND pid = pg_backend_pid() AND granted LIMIT 1"
            )
        ).first()
        return held is not None
    return False


def write_independently(session: Session, write: Callable[[Session], object]) -> bool:
    """Run ``write`` in a transaction of its own, committed at once.

    Returns False, having changed nothing, when that transaction would have to wait on
    locks the caller's own open transaction holds.
    """
    engine = _engine_of(session)
    if _caller_holds_locks(session, engine.dialect.name):
        return False
    try:
        with Session(engine) as own:
            if engine.dialect.name == "postgresql":
                own.execute(text(f"SET LOCAL lock_timeout = '{_LOCK_WAIT}'"))
            write(own)
            own.commit()
    except DBAPIError:
        return False
    return True


def record_independently(session: Session, **entry: Any) -> None:
    """An audit entry that survives a rollback of ``session``'s transaction.

    When a separate transaction cannot be written without waiting on the caller's own
    locks (SQLite: the caller has written already), the entry goes into the caller's
    transaction instead.
    """
    if not write_independently(session, lambda own: record(own, **entry)):
        log.info("audit entry %s written in the caller's transaction", entry.get("action"))
        record(session, **entry)
