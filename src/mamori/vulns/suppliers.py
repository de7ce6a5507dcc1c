"""Suppliers of computers (電子計算機等供給者): who they are on the platform, their business
ministry (the ministry that may request measures of them, R-5.2-2), and the CPE vendor
names under which their products appear in the register.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access import service as access
from mamori.access.principal import Principal
from mamori.errors import Conflict, InvalidInput, NotFound
from mamori.registry import service as registry
from mamori.vulns import guard
from mamori.vulns.models import Supplier, SupplierOut

_VENDOR = re.compile(r"[a-z0-9][a-z0-9._\-]{0,99}")
NAME_MAX = 300


def _ministries(session: Session, principal: Principal) -> dict[str, object]:
    settings = registry.registry_settings(session=session, principal=principal)
    return dict(settings["ministries"]["value"])


def add_supplier(
    *,
    session: Session,
    principal: Principal,
    name: str,
    business_ministry: str,
    name_en: str | None = None,
    organisation: str | None = None,
    cpe_vendors: list[str] | tuple[str, ...] = (),
) -> SupplierOut:
    """Register a supplier; ``organisation`` is the code its staff sign in with."""
    guard.authorize(session=session, principal=principal, action="vulns.supplier_manage",
                    resource=guard.domain())
    clean = " ".join(name.split())
    if not clean or len(clean) > NAME_MAX:
        raise InvalidInput(f"a supplier needs a name of 1-{NAME_MAX} characters", field="name")
    ministries = _ministries(session, principal)
    if business_ministry not in ministries:
        raise InvalidInput(f"unknown ministry; ministries are: {', '.join(ministries)}",
                           field="business_ministry")
    vendors = sorted({v.strip().lower() for v in cpe_vendors if v.strip()})
    bad = [i for i, v in enumerate(vendors) if not _VENDOR.fullmatch(v)]
    if bad:
        raise InvalidInput("a CPE vendor is lower case letters, digits, '.', '_' and '-'",
                           field="cpe_vendors")
    organisation_id: int | None = None
    if organisation:
        found = access.get_organisation(session=session, principal=principal,
                                        code=organisation.strip())
        if found.kind != "supplier":
            raise InvalidInput("the organisation is not of the kind supplier",
                               field="organisation")
        organisation_id = int(found.id)
    if session.scalars(select(Supplier.id).where(Supplier.name == clean)).first():
        raise Conflict("a supplier of this name is registered already", field="name")
    row = Supplier(name=clean, name_en=(name_en or "").strip() or None,
                   organisation_id=organisation_id, business_ministry=business_ministry,
                   cpe_vendors=vendors, created_by=principal.username)
    session.add(row)
    session.flush()
    guard.audit(session=session, principal=principal, action="vulns.supplier.added",
                object_type="vulns.supplier", object_id=row.id,
                details={"organisation_id": organisation_id, "ministry": business_ministry})
    return SupplierOut.model_validate(row)


def list_suppliers(*, session: Session, principal: Principal) -> list[SupplierOut]:
    guard.authorize(session=session, principal=principal, action="vulns.supplier_manage",
                    resource=guard.domain())
    return [SupplierOut.model_validate(r)
            for r in session.scalars(select(Supplier).order_by(Supplier.name))]


def load_supplier(session: Session, supplier_id: int) -> Supplier:
    row = session.get(Supplier, supplier_id)
    if row is None:
        raise NotFound(f"no supplier {supplier_id}", field="supplier")
    return row


def find_supplier(session: Session, name: str) -> Supplier | None:
    return session.scalars(select(Supplier).where(Supplier.name == name)).first()
