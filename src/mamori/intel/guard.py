"""Authorization and audit for the intel domain, in one place so names stay the same."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from mamori.access import service as access_service
from mamori.access.principal import Principal, Resource
from mamori.audit import service as audit_service
from mamori.intel.labels import Labels

DOMAIN = "intel"
SOURCE = "intel.source"
LEGAL_BASIS = "Act No. 42 of 2025, Art 37"


def authorize(*, session: Session, principal: Principal, action: str,
              labels: Labels | None = None, key: str = "") -> None:
    """``action`` on the domain (no labels) or on objects carrying ``labels``."""
    resource = labels.resource(key=key) if labels is not None else Resource(type=DOMAIN, id=key)
    access_service.authorize(session=session, principal=principal, action=action,
                             resource=resource)


def authorize_source(*, session: Session, principal: Principal, key: str = "") -> None:
    access_service.authorize(session=session, principal=principal, action="intel.sources",
                             resource=Resource(type=SOURCE, id=key))


def permitted(*, session: Session, principal: Principal, action: str) -> bool:
    return bool(access_service.permitted(session=session, principal=principal, action=action,
                                         resource=Resource(type=DOMAIN)))


def audit(*, session: Session, principal: Principal, action: str, object_type: str,
          object_id: object = "", details: dict[str, Any] | None = None) -> None:
    audit_service.record(
        session=session, actor=principal.username, action=action, object_type=object_type,
        object_id=str(object_id), legal_basis=LEGAL_BASIS, purpose=principal.purpose,
        details=details or {},
    )
