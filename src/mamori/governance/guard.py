"""The two calls every governance change makes: authorize first, audit in the same
transaction. Kept in one place so that action names stay consistent."""

from __future__ import annotations

from functools import partial
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


# One audit entry in the caller's transaction, by the principal (ids, counts, codes only).
audit = partial(audit_service.record_by, purpose=None)
