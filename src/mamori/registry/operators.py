"""Operators (特別社会基盤事業者), their sector and supervising ministry (所管省庁), and
their sites.

An operator record is linked to the ``mamori.access`` organisation its staff belong
to; that link is what lets them reach their own register and nothing else.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access import service as access_service
from mamori.access.principal import Principal, Resource
from mamori.errors import Conflict, NotFound
from mamori.registry import configuration, guard
from mamori.registry.entries import clean_text
from mamori.registry.messages import N_, RegistryInputError
from mamori.registry.models import (
    NAME_MAX,
    Operator,
    OperatorRecord,
    Site,
    SiteRecord,
    SupervisingMinistry,
)


def load_operator(session: Session, operator_id: int) -> OperatorRecord:
    row = session.get(OperatorRecord, operator_id)
    if row is None:
        raise NotFound(f"no operator {operator_id}", field="operator")
    return row


def viewable_operator(
    *, session: Session, principal: Principal, operator_id: int, action: str = "registry.view"
) -> OperatorRecord:
    """The operator, once ``action`` on its register is authorized."""
    row = load_operator(session, operator_id)
    guard.authorize_operator(session=session, principal=principal, action=action, operator=row)
    return row


def _organisation_id(session: Session, principal: Principal, organisation: str) -> int:
    found = access_service.get_organisation(
        session=session, principal=principal, code=organisation.strip()
    )
    if found.kind != "operator":
        raise RegistryInputError(
            N_("the organisation is not of the kind operator"), field="organisation"
        )
    return int(found.id)


def add_operator(
    *,
    session: Session,
    principal: Principal,
    name: str,
    sector: str,
    name_en: str | None = None,
    organisation: str | None = None,
    supervising_ministry: str | None = None,
) -> Operator:
    """Register a special infrastructure operator; its ministry defaults from its sector."""
    guard.authorize_registry(session=session, principal=principal, action="operator.add")
    clean_name = clean_text(name, field="name", limit=NAME_MAX)
    if clean_name is None:
        raise RegistryInputError(N_("an operator needs a name"), field="name")
    values = configuration.current(session)
    sectors = values["sectors"]
    code = (sector or "").strip()
    if code not in sectors:
        raise RegistryInputError(
            N_("unknown sector; sectors are: %(sectors)s"), field="sector",
            sectors=", ".join(sectors),
        )
    ministry = (supervising_ministry or "").strip() or sectors[code]["ministry"]
    if ministry not in values["ministries"]:
        raise RegistryInputError(
            N_("unknown ministry; ministries are: %(ministries)s"), field="ministry",
            ministries=", ".join(values["ministries"]),
        )
    if session.scalars(select(OperatorRecord.id).where(OperatorRecord.name == clean_name)).first():
        raise Conflict("an operator of this name is registered already", field="name")
    organisation_id = _organisation_id(session, principal, organisation) if organisation else None
    row = OperatorRecord(
        name=clean_name,
        name_en=clean_text(name_en, field="name_en", limit=NAME_MAX),
        organisation_id=organisation_id,
        sector=code,
        supervising_ministry=ministry,
        created_by=principal.username,
    )
    session.add(row)
    session.flush()
    guard.audit(
        session=session, principal=principal, action="registry.operator.added",
        object_type="registry.operator", object_id=row.id,
        details={"sector": code, "supervising_ministry": ministry,
                 "organisation_id": organisation_id},
    )
    return Operator.model_validate(row)


def link_operator(
    *, session: Session, principal: Principal, operator_id: int, organisation: str
) -> Operator:
    """Link an operator to the organisation its staff sign in with."""
    row = load_operator(session, operator_id)
    guard.authorize_operator(
        session=session, principal=principal, action="operator.edit", operator=row
    )
    row.organisation_id = _organisation_id(session, principal, organisation)
    session.flush()
    guard.audit(
        session=session, principal=principal, action="registry.operator.linked",
        object_type="registry.operator", object_id=row.id,
        details={"organisation_id": row.organisation_id},
    )
    return Operator.model_validate(row)


def get_operator(*, session: Session, principal: Principal, operator_id: int) -> Operator:
    return Operator.model_validate(
        viewable_operator(session=session, principal=principal, operator_id=operator_id)
    )


def list_operators(
    *, session: Session, principal: Principal, sector: str | None = None
) -> list[Operator]:
    """The operators whose register ``principal`` may view (an operator: its own)."""
    guard.authorize_registry(session=session, principal=principal, action="operator.list")
    query = select(OperatorRecord).order_by(OperatorRecord.id)
    if sector:
        query = query.where(OperatorRecord.sector == sector)
    return [
        Operator.model_validate(row)
        for row in session.scalars(query)
        if guard.permitted_operator(
            session=session, principal=principal, action="registry.view", operator=row
        )
    ]


def operator_supervising_ministry(
    *, session: Session, principal: Principal, operator_id: int
) -> SupervisingMinistry:
    """The operator's supervising ministry, for routing reports and advisories (R-5.2-2)."""
    row = viewable_operator(session=session, principal=principal, operator_id=operator_id)
    names = configuration.current(session)["ministries"].get(row.supervising_ministry, {})
    organisation_id: int | None = None
    directory = Resource(type="organisation", id=row.supervising_ministry)
    if access_service.permitted(
        session=session, principal=principal, action="organisation.list", resource=directory
    ):
        try:
            found = access_service.get_organisation(
                session=session, principal=principal, code=row.supervising_ministry
            )
            organisation_id = int(found.id)
        except NotFound:  # the ministry has no organisation on the platform yet
            organisation_id = None
    return SupervisingMinistry(
        code=row.supervising_ministry,
        name_ja=names.get("ja", row.supervising_ministry),
        name_en=names.get("en", row.supervising_ministry),
        organisation_id=organisation_id,
    )


def site_for(
    session: Session, principal: Principal, operator: OperatorRecord, name: str
) -> SiteRecord:
    """The operator's site of this name, created if new (imports name sites freely)."""
    row = session.scalars(
        select(SiteRecord).where(SiteRecord.operator_id == operator.id, SiteRecord.name == name)
    ).first()
    if row is None:
        row = SiteRecord(operator_id=operator.id, name=name, created_by=principal.username)
        session.add(row)
        session.flush()
    return row


def add_site(
    *, session: Session, principal: Principal, operator_id: int, name: str,
    address: str | None = None,
) -> Site:
    row = viewable_operator(
        session=session, principal=principal, operator_id=operator_id, action="registry.notify"
    )
    clean_name = clean_text(name, field="site", limit=NAME_MAX)
    if clean_name is None:
        raise RegistryInputError(N_("a site needs a name"), field="site")
    exists = session.scalars(
        select(SiteRecord.id).where(SiteRecord.operator_id == row.id, SiteRecord.name == clean_name)
    ).first()
    if exists:
        raise Conflict("this operator has a site of this name already", field="site")
    site = SiteRecord(
        operator_id=row.id, name=clean_name,
        address=clean_text(address, field="address", limit=300), created_by=principal.username,
    )
    session.add(site)
    session.flush()
    guard.audit(
        session=session, principal=principal, action="registry.site.added",
        object_type="registry.site", object_id=site.id, details={"operator_id": row.id},
    )
    return Site.model_validate(site)


def list_sites(*, session: Session, principal: Principal, operator_id: int) -> list[Site]:
    row = viewable_operator(session=session, principal=principal, operator_id=operator_id)
    sites = session.scalars(
        select(SiteRecord).where(SiteRecord.operator_id == row.id).order_by(SiteRecord.name)
    )
    return [Site.model_validate(s) for s in sites]
