"""Authorization and audit for the intel domain, in one place so names stay the same."""

from __future__ import annotations

from functools import partial

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


# One audit entry in the caller's transaction, by the principal (ids, counts, codes only).
audit = partial(audit_service.record_by, legal_basis=LEGAL_BASIS)
