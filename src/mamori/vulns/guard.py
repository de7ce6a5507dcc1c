"""How the vulnerability domain asks the one choke point, and how it writes the audit log.

Resources: ``vulns.feed`` (imports, matching), ``vulns.vulnerability`` (SECRET while
undisclosed), ``vulns.operator`` (an operator's exposure: its organisation, and whether
the asking liaison's ministry supervises it), ``vulns.case`` (a coordination case: the
supplier's organisation, SECRET until published, and whether the asking liaison's
ministry is the supplier's business ministry) and ``vulns`` for the rest.
"""

from __future__ import annotations

from functools import partial

from sqlalchemy.orm import Session

from mamori.access import service as access
from mamori.access.principal import Principal, Resource
from mamori.audit import service as audit_service

LEGAL_BASIS = "Act No. 42 of 2025, Arts 40-42"
MATCHER = Principal.system("vulns-matcher")


def principal_ministry(session: Session, principal: Principal) -> str | None:
    """The organisation code of a ministry liaison's ministry (None for other roles)."""
    if "ministry_liaison" not in principal.roles or principal.organisation_id is None:
        return None
    cache: dict[tuple[str, int], str | None] = session.info.setdefault("vulns_ministry", {})
    key = (principal.username, principal.organisation_id)
    if key not in cache:
        organisation = access.get_organisation(
            session=session, principal=principal, code=str(principal.organisation_id))
        cache[key] = organisation.code if organisation.kind == "supervising_ministry" else None
    return cache[key]


def domain(organisation_id: int | None = None) -> Resource:
    return Resource(type="vulns", organisation_id=organisation_id)


def feed() -> Resource:
    return Resource(type="vulns.feed")


def vulnerability(key: str, undisclosed: bool) -> Resource:
    return Resource(type="vulns.vulnerability", id=key,
                    labels=frozenset({"SECRET" if undisclosed else "PUBLIC"}))


def operator(
    session: Session, principal: Principal, *, operator_id: int, organisation_id: int | None,
    supervising_ministry: str,
) -> Resource:
    ministry = principal_ministry(session, principal)
    return Resource(
        type="vulns.operator", id=str(operator_id), organisation_id=organisation_id,
        attrs={"supervised_by_principal": ministry is not None
               and ministry == supervising_ministry},
    )


def case(
    session: Session, principal: Principal, *, reference: str, organisation_id: int | None,
    business_ministry: str, published: bool, sent: bool,
) -> Resource:
    ministry = principal_ministry(session, principal)
    return Resource(
        type="vulns.case", id=reference, organisation_id=organisation_id,
        labels=frozenset({"PUBLIC" if published else "SECRET"}),
        attrs={"business_ministry_is_principal": ministry is not None
               and ministry == business_ministry, "sent": sent},
    )


# The one authorization choke point, re-exported so this domain's callers import one module.
authorize = access.authorize
permitted = access.permitted


# One audit entry in the caller's transaction, by the principal (ids, counts, codes only).
audit = partial(audit_service.record_by, legal_basis=LEGAL_BASIS)
