"""How the access domain writes to the audit log.

Most entries go into the caller's transaction, next to the change they describe.
Denials and failed sign-ins are different: the request that caused them is rolled
back, yet the entry must stay (``mamori.audit.independent``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from mamori.audit.independent import write_independently

__all__ = ["record", "record_independently", "write_independently"]


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


def record_independently(session: Session, **entry: Any) -> None:
    """An audit entry that survives a rollback of ``session``'s transaction."""
    from mamori.audit.independent import record_surviving_rollback

    record_surviving_rollback(session, **{**entry, "details": entry.get("details") or {}})
