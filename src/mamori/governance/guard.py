"""The two calls every governance change makes: authorize first, audit in the same
transaction. Kept in one place so that action names stay consistent."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from mamori.access import service as access_service
from mamori.access.principal import Principal, Resource
from mamori.audit import service as audit_service


def authorize(
    *,
    session: Session,
    principal: Principal,
    action: str,
    resource_type: str,
    resource_id: str = "",
    labels: frozenset[str] = frozenset(),
    organisation_id: int | None = None,
    **attrs: Any,
) -> None:
    """Raise ``Forbidden`` unless the access policy permits ``action`` on the resource."""
    access_service.authorize(
        session=session,
        principal=principal,
        action=action,
        resource=Resource(
            type=resource_type,
            id=resource_id,
            labels=labels,
            organisation_id=organisation_id,
            attrs=attrs,
        ),
    )


def permitted(
    *,
    session: Session,
    principal: Principal,
    action: str,
    resource_type: str,
    resource_id: str = "",
    **attrs: Any,
) -> bool:
    """Whether ``action`` would be permitted (for showing or hiding links and nav entries)."""
    return bool(
        access_service.permitted(
            session=session,
            principal=principal,
            action=action,
            resource=Resource(type=resource_type, id=resource_id, attrs=attrs),
        )
    )


def audit(
    *,
    session: Session,
    principal: Principal,
    action: str,
    object_type: str,
    object_id: str = "",
    legal_basis: str | None = None,
    purpose: str | None = None,
    details: dict[str, Any] | None = None,
) -> Any:
    """One audit entry in the caller's transaction; returns the entry."""
    return audit_service.record(
        session=session,
        actor=principal.username,
        action=action,
        object_type=object_type,
        object_id=object_id,
        legal_basis=legal_basis,
        purpose=purpose,
        details=details or {},
    )
