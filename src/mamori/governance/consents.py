"""Other-purpose consents (他目的利用の同意, Art 23(4)(i)) and prior written arrangements
with receiving bodies (R-2.3-11).

A consent names (ア) which selected communications information — selection batches
and/or a selection period, and the mechanical-information categories — taken from
one agreement's communications; (イ) the body that may use it; (ウ) the specific
purpose. It becomes active only when all three, the digest of the written consent
document and the recorded case-by-case examination (R-2.3-7) are present.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.errors import Conflict, InvalidInput, NotFound
from mamori.governance import constants as c
from mamori.governance import notifications
from mamori.governance.guard import audit, authorize
from mamori.governance.ids import next_id
from mamori.governance.labels import N_
from mamori.governance.models import Agreement, Arrangement, Consent
from mamori.governance.parsing import check_period, parse_digest, parse_list, require_text
from mamori.governance.purposes import check_other_purpose, known_purpose

RESOURCE = "governance.consent"
LEGAL_BASIS = "Art 23(4)(i)"
EDITABLE = ("scope_batches", "scope_categories", "scope_from", "scope_until", "user_body_id",
            "user_body_name", "purpose_code", "purpose_text", "document_digest")


def _get(session: Session, consent_id: str) -> Consent:
    consent = session.get(Consent, consent_id)
    if consent is None:
        raise NotFound(f"consent {consent_id!r} does not exist")
    return consent


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """Validate the consent fields that are given; missing ones stay for later."""
    out: dict[str, Any] = {}
    if values.get("scope_batches") is not None:
        out["scope_batches"] = parse_list(values["scope_batches"], field="(ア) batches")
    if values.get("scope_categories") is not None:
        out["scope_categories"] = parse_list(values["scope_categories"], field="(ア) categories")
    for key in ("scope_from", "scope_until"):
        if values.get(key) is not None:
            out[key] = values[key]
    if values.get("user_body_id") is not None:
        try:
            out["user_body_id"] = int(values["user_body_id"])
        except (TypeError, ValueError):
            raise InvalidInput("(イ) body: expected an organisation id") from None
    if values.get("user_body_name") is not None:
        out["user_body_name"] = str(values["user_body_name"]).strip()[:300]
    if values.get("purpose_code"):
        code = str(values["purpose_code"]).strip()
        if not known_purpose(code):
            raise InvalidInput(f"(ウ) purpose: unknown purpose code {code!r}")
        check_other_purpose(code)
        out["purpose_code"] = code
    if values.get("purpose_text") is not None:
        out["purpose_text"] = str(values["purpose_text"]).strip()
    if values.get("document_digest"):
        out["document_digest"] = parse_digest(values["document_digest"])
    return out


def record_consent(
    *,
    session: Session,
    principal: Principal,
    agreement_id: str,
    scope_batches: list[str] | tuple[str, ...] = (),
    scope_categories: list[str] | tuple[str, ...] = (),
    scope_from: datetime | None = None,
    scope_until: datetime | None = None,
    user_body_id: int | None = None,
    user_body_name: str = "",
    purpose_code: str = "",
    purpose_text: str = "",
    document_digest: str | None = None,
) -> Consent:
    """Record a consent being sought under an agreement in force (as a draft)."""
    authorize(session=session, principal=principal, action="consent.manage",
              resource_type=RESOURCE)
    agreement = session.get(Agreement, agreement_id)
    if agreement is None:
        raise NotFound(f"agreement {agreement_id!r} does not exist")
    if agreement.status != c.AGREEMENT_IN_FORCE:
        raise Conflict(f"agreement {agreement.id} is not in force; consent applies only to "
                       "information selected from an agreement's communications")
    fields = _clean({
        "scope_batches": scope_batches, "scope_categories": scope_categories,
        "scope_from": scope_from, "scope_until": scope_until, "user_body_id": user_body_id,
        "user_body_name": user_body_name, "purpose_code": purpose_code,
        "purpose_text": purpose_text, "document_digest": document_digest,
    })
    if scope_from is not None:
        check_period(scope_from, scope_until, field="(ア) selection period")
    now = utcnow()
    consent = Consent(
        id=next_id(session, Consent.id, c.CONSENT_PREFIX, now),
        agreement_id=agreement.id,
        status=c.CONSENT_DRAFT,
        created_by=principal.username,
        created_at=now,
        **{"scope_batches": [], "scope_categories": [], **fields},
    )
    session.add(consent)
    session.flush()
    audit(session=session, principal=principal, action="governance.consent.recorded",
          object_type="consent", object_id=consent.id, legal_basis=LEGAL_BASIS,
          details={"agreement": agreement.id, "fields": sorted(fields)})
    return consent


def amend_consent(
    *, session: Session, principal: Principal, consent_id: str, **changes: Any
) -> Consent:
    """Fill in or correct the fields of a draft consent."""
    consent = _get(session, consent_id)
    authorize(session=session, principal=principal, action="consent.manage",
              resource_type=RESOURCE, resource_id=consent.id)
    if consent.status != c.CONSENT_DRAFT:
        raise Conflict(f"consent {consent.id} is {consent.status}; only a draft changes")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(sorted(unknown))} of a consent")
    fields = _clean(changes)
    start = fields.get("scope_from", consent.scope_from)
    if start is not None:
        check_period(start, fields.get("scope_until", consent.scope_until),
                     field="(ア) selection period")
    for key, value in fields.items():
        setattr(consent, key, value)
    session.flush()
    audit(session=session, principal=principal, action="governance.consent.amended",
          object_type="consent", object_id=consent.id, legal_basis=LEGAL_BASIS,
          details={"fields": sorted(fields)})
    return consent


def examine_consent(
    *, session: Session, principal: Principal, consent_id: str, examination: str
) -> Consent:
    """Record the case-by-case examination of the conditions, including the scope (R-2.3-7)."""
    consent = _get(session, consent_id)
    authorize(session=session, principal=principal, action="consent.manage",
              resource_type=RESOURCE, resource_id=consent.id)
    if consent.status != c.CONSENT_DRAFT:
        raise Conflict(f"consent {consent.id} is {consent.status}; only a draft is examined")
    consent.examination = require_text(examination, field="examination")
    consent.examined_by = principal.username
    consent.examined_at = utcnow()
    session.flush()
    audit(session=session, principal=principal, action="governance.consent.examined",
          object_type="consent", object_id=consent.id, legal_basis=LEGAL_BASIS)
    return consent


def missing_elements(consent: Consent) -> list[str]:
    """What a consent still lacks before it may be activated."""
    missing = []
    if not (consent.scope_batches or consent.scope_from) or not consent.scope_categories:
        missing.append(N_("(ア) scope of selected information (batches or period, and categories)"))
    if consent.user_body_id is None:
        missing.append(N_("(イ) body that will use it"))
    if not consent.purpose_code or not consent.purpose_text:
        missing.append(N_("(ウ) specific purpose"))
    if not consent.document_digest:
        missing.append(N_("written consent document digest"))
    if not consent.examination:
        missing.append(N_("case-by-case examination"))
    return missing


def activate_consent(*, session: Session, principal: Principal, consent_id: str) -> Consent:
    """Make a complete consent effective."""
    consent = _get(session, consent_id)
    authorize(session=session, principal=principal, action="consent.activate",
              resource_type=RESOURCE, resource_id=consent.id)
    if consent.status != c.CONSENT_DRAFT:
        raise Conflict(f"consent {consent.id} is {consent.status}")
    missing = missing_elements(consent)
    if missing:
        raise InvalidInput(f"consent {consent.id} cannot be activated: missing "
                           + "; ".join(missing))
    check_other_purpose(consent.purpose_code)
    agreement = session.get(Agreement, consent.agreement_id)
    if agreement is None or agreement.status != c.AGREEMENT_IN_FORCE:
        raise Conflict(f"agreement {consent.agreement_id} is not in force")
    now = utcnow()
    consent.status = c.CONSENT_ACTIVE
    consent.activated_by = principal.username
    consent.activated_at = now
    session.flush()
    audit(session=session, principal=principal, action="governance.consent.activated",
          object_type="consent", object_id=consent.id, legal_basis=LEGAL_BASIS,
          purpose=consent.purpose_code,
          details={"agreement": consent.agreement_id, "user_body_id": consent.user_body_id,
                   "batches": consent.scope_batches, "categories": consent.scope_categories,
                   "document_digest": consent.document_digest})
    notifications.emit(session=session, principal=principal, event=c.EVENT_CONSENT_ACTIVATED,
                       object_type="consent", object_id=consent.id, occurred_at=now)
    return consent


def withdraw_consent(*, session: Session, principal: Principal, consent_id: str) -> Consent:
    """The party withdrew its consent (or a draft is dropped); no further use is granted."""
    consent = _get(session, consent_id)
    authorize(session=session, principal=principal, action="consent.manage",
              resource_type=RESOURCE, resource_id=consent.id)
    if consent.status == c.CONSENT_WITHDRAWN:
        raise Conflict(f"consent {consent.id} is already withdrawn")
    consent.status = c.CONSENT_WITHDRAWN
    consent.withdrawn_at = utcnow()
    session.flush()
    audit(session=session, principal=principal, action="governance.consent.withdrawn",
          object_type="consent", object_id=consent.id, legal_basis=LEGAL_BASIS)
    return consent


def list_consents(
    *, session: Session, principal: Principal, agreement_id: str | None = None
) -> list[Consent]:
    authorize(session=session, principal=principal, action="consent.view",
              resource_type=RESOURCE)
    query = select(Consent).order_by(Consent.id)
    if agreement_id is not None:
        query = query.where(Consent.agreement_id == agreement_id)
    return list(session.scalars(query).all())


def get_consent(*, session: Session, principal: Principal, consent_id: str) -> Consent:
    authorize(session=session, principal=principal, action="consent.view",
              resource_type=RESOURCE, resource_id=consent_id)
    return _get(session, consent_id)


def record_arrangement(
    *,
    session: Session,
    principal: Principal,
    body_organisation_id: int,
    body_name: str,
    purposes: list[str] | tuple[str, ...],
    scope: str,
    document_digest: str,
    effective_from: datetime,
    effective_until: datetime | None = None,
) -> Arrangement:
    """Record the prior written arrangement with a body before any provision to it."""
    authorize(session=session, principal=principal, action="consent.manage",
              resource_type="governance.arrangement")
    codes = parse_list(purposes, field="purposes")
    if not codes:
        raise InvalidInput("purposes: name at least one permitted purpose")
    for code in codes:
        if not known_purpose(code):
            raise InvalidInput(f"purposes: unknown purpose code {code!r}")
        check_other_purpose(code)
    check_period(effective_from, effective_until, field="effective period")
    now = utcnow()
    arrangement = Arrangement(
        id=next_id(session, Arrangement.id, c.ARRANGEMENT_PREFIX, now),
        body_organisation_id=int(body_organisation_id),
        body_name=require_text(body_name, field="body name", limit=300),
        purposes=codes,
        scope=require_text(scope, field="scope"),
        document_digest=parse_digest(document_digest),
        effective_from=effective_from,
        effective_until=effective_until,
        created_by=principal.username,
        created_at=now,
    )
    session.add(arrangement)
    session.flush()
    audit(session=session, principal=principal, action="governance.arrangement.recorded",
          object_type="arrangement", object_id=arrangement.id, legal_basis="Art 23(4)",
          details={"body_organisation_id": arrangement.body_organisation_id,
                   "purposes": codes, "document_digest": arrangement.document_digest})
    return arrangement


def list_arrangements(*, session: Session, principal: Principal) -> list[Arrangement]:
    authorize(session=session, principal=principal, action="consent.view",
              resource_type="governance.arrangement")
    return list(session.scalars(select(Arrangement).order_by(Arrangement.id)).all())
