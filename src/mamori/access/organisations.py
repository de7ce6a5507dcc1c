"""Organisations: the kinds the Act knows, and the directory of them."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access import auditing
from mamori.access.authorization import authorize, deny
from mamori.access.models import Organisation, OrganisationRecord
from mamori.access.principal import Principal, Resource
from mamori.access.principals import BOOTSTRAP, admin_exists
from mamori.errors import Conflict, InvalidInput, NotFound

ORGANISATION_KINDS: dict[str, dict[str, str]] = {
    "cabinet_office": {"ja": "内閣府", "en": "Cabinet Office"},
    "national_cybersecurity_office": {
        "ja": "内閣官房国家サイバー統括室",
        "en": "National Cybersecurity Office",
    },
    "supervising_ministry": {"ja": "所管省庁", "en": "Supervising ministry"},
    "administrative_body": {"ja": "行政機関等", "en": "Administrative body"},
    "operator": {"ja": "特別社会基盤事業者", "en": "Special infrastructure operator"},
    "supplier": {"ja": "電子計算機等供給者", "en": "Computer supplier"},
    "oversight_committee": {
        "ja": "サイバー通信情報監理委員会",
        "en": "Cyber Communications Information Oversight Committee",
    },
    "council_member": {"ja": "協議会の構成員", "en": "Council member"},
    "contractor": {"ja": "受託者", "en": "Contractor"},
    "foreign_government": {"ja": "外国の政府等", "en": "Foreign government body"},
    "computer_user": {"ja": "電子計算機を使用する者等", "en": "Computer user"},
}

_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{1,63}")


def _validate(code: str, name_ja: str, name_en: str, kind: str) -> None:
    if not _CODE.fullmatch(code):
        raise InvalidInput(
            "an organisation code is 2-64 characters of a-z, 0-9, '_' and '-'", field="code"
        )
    for field, value in (("name_ja", name_ja), ("name_en", name_en)):
        if not value.strip() or len(value) > 200:
            raise InvalidInput(f"{field} must have 1-200 characters", field=field)
    if kind not in ORGANISATION_KINDS:
        raise InvalidInput(
            f"unknown organisation kind; kinds are: {', '.join(ORGANISATION_KINDS)}",
            field="kind",
        )


def create_organisation(
    *,
    session: Session,
    principal: Principal,
    code: str,
    name_ja: str,
    name_en: str,
    kind: str,
    sector: str | None = None,
) -> Organisation:
    """Register an organisation (administrators, or the first start)."""
    authorize(
        session=session, principal=principal, action="organisation.add",
        resource=Resource(type="organisation", id=code),
    )
    if principal.username == BOOTSTRAP and admin_exists(session):
        raise deny(
            session=session, principal=principal, action="organisation.add",
            resource=Resource(type="organisation", id=code),
            reason="an administrator exists: act as an administrator (--as)",
        )
    _validate(code, name_ja, name_en, kind)
    if sector is not None and not _CODE.fullmatch(sector):
        raise InvalidInput("a sector is 2-64 characters of a-z, 0-9, '_' and '-'", field="sector")
    if session.scalars(select(OrganisationRecord).where(OrganisationRecord.code == code)).first():
        raise Conflict(f"organisation {code} exists already", field="code")
    row = OrganisationRecord(
        code=code, name_ja=name_ja.strip(), name_en=name_en.strip(), kind=kind, sector=sector
    )
    session.add(row)
    session.flush()
    auditing.record(
        session, actor=principal.username, action="organisation.add",
        object_type="organisation", object_id=str(row.id),
        details={"code": code, "kind": kind, "sector": sector},
    )
    return Organisation.model_validate(row)


def list_organisations(*, session: Session, principal: Principal) -> list[Organisation]:
    authorize(
        session=session, principal=principal, action="organisation.list",
        resource=Resource(type="organisation"),
    )
    rows = session.scalars(select(OrganisationRecord).order_by(OrganisationRecord.code))
    return [Organisation.model_validate(r) for r in rows]


def get_organisation(*, session: Session, principal: Principal, code: str) -> Organisation:
    """An organisation by its code (or its numeric id)."""
    authorize(
        session=session, principal=principal, action="organisation.list",
        resource=Resource(type="organisation", id=code),
    )
    query = select(OrganisationRecord)
    if code.isdecimal() and len(code) < 12:
        query = query.where(OrganisationRecord.id == int(code))
    else:
        query = query.where(OrganisationRecord.code == code)
    row = session.scalars(query).first()
    if row is None:
        raise NotFound(f"no organisation {code[:64]!r}", field="org")
    return Organisation.model_validate(row)
