"""Authorization and audit for provision, in one place so that action names and resource
shapes stay the same everywhere.

Resources: ``dissemination.recipient`` and ``dissemination.provision`` carry the
recipient's organisation, so that the organisation boundary of ``access.cedar`` keeps a
recipient to its own provisions; the tag ``active_recipient`` says the organisation
acts as a recipient now, ``contribute`` that its collection accepts objects. A
provision whose content came from selected communications information carries the
``COMMS`` label inside the Cabinet Office until it is provided.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from mamori.access import service as access_service
from mamori.access.principal import Resource
from mamori.audit import service as audit_service

log = logging.getLogger(__name__)

DOMAIN = "dissemination"
RECIPIENT = "dissemination.recipient"
PROVISION = "dissemination.provision"


def resource(
    kind: str,
    ident: str | int = "",
    *,
    organisation_id: int | None = None,
    labels: frozenset[str] = frozenset(),
    **tags: Any,
) -> Resource:
    return Resource(type=kind, id=str(ident), labels=labels, organisation_id=organisation_id,
                    attrs=tags)


# The one authorization choke point, re-exported so this domain's callers import one module.
authorize = access_service.authorize
permitted = access_service.permitted


# One audit entry in the caller's transaction, by the principal (ids, counts, codes only).
audit = partial(audit_service.record_by, purpose=None)


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind.engine if isinstance(bind, Connection) else bind


def audit_refusal(*, session: Session, entry: dict[str, Any]) -> bool:
    """Write a refusal's audit entry in a transaction of its own, so that it survives the
    rollback of the request; True when written.

    When that would wait on locks the caller's transaction holds (SQLite after the caller
    wrote; PostgreSQL while the caller holds the audit log's append lock) nothing is
    written and the caller records the entry after its rollback (``record_refusal``).
    """
    engine = _engine(session)
    if _holds_locks(session, engine.dialect.name):
        return False
    try:
        with Session(engine) as own:
            if engine.dialect.name == "postgresql":
                own.execute(text("SET LOCAL lock_timeout = '2s'"))
            audit_service.record(session=own, **entry)
            own.commit()
    except DBAPIError:
        log.info("refusal audit entry left to the caller")
        return False
    return True


def _holds_locks(session: Session, dialect: str) -> bool:
    if not session.in_transaction():
        return False
    connection = session.connection()
    if dialect == "sqlite":
        return bool(getattr(connection.connection.dbapi_connection, "in_transaction", False))
    if dialect == "postgresql":  # the audit log's append lock is an advisory lock
        held = connection.execute(text(
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
            "AND pid = pg_backend_pid() AND granted LIMIT 1")).first()
        return held is not None
    return False
