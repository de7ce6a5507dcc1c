"""Authorization and audit for the register, in one place so action names stay the same.

Every record of the register belongs to one operator, and the operator's organisation
owns it: ``authorize`` gets a resource of type ``registry.operator`` carrying that
organisation (the organisation boundary of ``access.cedar``), the sector and the
supervising ministry. A supervising-ministry liaison (所管省庁連絡担当) sees only the
operators whose ministry is the liaison's own organisation; the policy reads that from
the ``supervised_by_principal`` tag, which this module derives from the operator's
configured ministry and the liaison's organisation code.
"""

from __future__ import annotations

from functools import partial

from sqlalchemy.orm import Session

from mamori.access import service as access_service
from mamori.access.principal import Principal, Resource
from mamori.audit import service as audit_service
from mamori.registry.models import OperatorRecord

OPERATOR = "registry.operator"
REGISTRY = "registry"
LEGAL_BASIS = "Act No. 42 of 2025, Art 4"


def principal_ministry(session: Session, principal: Principal) -> str | None:
    """The organisation code of a ministry liaison's organisation (None for other roles)."""
    if "ministry_liaison" not in principal.roles or principal.organisation_id is None:
        return None
    cache: dict[tuple[str, int], str | None] = session.info.setdefault("registry_ministry", {})
    key = (principal.username, principal.organisation_id)
    if key not in cache:
        organisation = access_service.get_organisation(
            session=session, principal=principal, code=str(principal.organisation_id)
        )
        cache[key] = organisation.code if organisation.kind == "supervising_ministry" else None
    return cache[key]


def operator_resource(
    session: Session, principal: Principal, operator: OperatorRecord
) -> Resource:
    ministry = principal_ministry(session, principal)
    return Resource(
        type=OPERATOR,
        id=str(operator.id),
        organisation_id=operator.organisation_id,
        attrs={
            "sector": operator.sector,
            "supervising_ministry": operator.supervising_ministry,
            "supervised_by_principal": ministry is not None
            and ministry == operator.supervising_ministry,
        },
    )


def authorize_operator(
    *, session: Session, principal: Principal, action: str, operator: OperatorRecord
) -> None:
    """Raise ``Forbidden`` unless ``action`` on this operator's register is permitted."""
    access_service.authorize(
        session=session, principal=principal, action=action,
        resource=operator_resource(session, principal, operator),
    )


def permitted_operator(
    *, session: Session, principal: Principal, action: str, operator: OperatorRecord
) -> bool:
    """The same decision without auditing: for filtering lists and hiding links."""
    return bool(access_service.permitted(
        session=session, principal=principal, action=action,
        resource=operator_resource(session, principal, operator),
    ))


def authorize_registry(
    *, session: Session, principal: Principal, action: str, key: str = ""
) -> None:
    """Actions on the register as a whole (adding operators, settings, overviews)."""
    access_service.authorize(
        session=session, principal=principal, action=action,
        resource=Resource(type=REGISTRY, id=key),
    )


def permitted_registry(*, session: Session, principal: Principal, action: str) -> bool:
    return bool(access_service.permitted(
        session=session, principal=principal, action=action, resource=Resource(type=REGISTRY),
    ))


# One audit entry in the caller's transaction, by the principal (ids, counts, codes only).
audit = partial(audit_service.record_by, legal_basis=LEGAL_BASIS)
