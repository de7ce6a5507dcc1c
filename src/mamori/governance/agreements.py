"""Party agreements (当事者協定, Art 13): template, drafts, consultation notes, conclusion
with the signed document's digest, and end.

A draft that is not concluded is withdrawn, which deletes it and its notes; the audit
entries of a draft carry its id only, never the party. So nothing in the platform can
read that a party declined (R-2.3-3). The party is named in the audit log from
conclusion on.
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
from mamori.governance.models import Agreement, ConsultationNote
from mamori.governance.parameter_values import current_value
from mamori.governance.parsing import (
    check_period,
    parse_digest,
    parse_party_identifiers,
    require_text,
)

RESOURCE = "governance.agreement"
LEGAL_BASIS = "Art 13"


def agreement_template(*, session: Session) -> tuple[int, list[dict[str, str]]]:
    """(version, items): the standard items every agreement addresses."""
    version, items = current_value(session, c.PARAM_AGREEMENT_TEMPLATE)
    return version, [dict(item) for item in items]


def _get(session: Session, agreement_id: str) -> Agreement:
    agreement = session.get(Agreement, agreement_id)
    if agreement is None:
        raise NotFound(f"agreement {agreement_id!r} does not exist")
    return agreement


def _draft(session: Session, agreement_id: str) -> Agreement:
    agreement = _get(session, agreement_id)
    if agreement.status != c.AGREEMENT_DRAFT:
        raise Conflict(f"agreement {agreement.id} is {agreement.status}; only a draft changes")
    return agreement


def _clean_items(items: dict[str, str] | None, template_keys: list[str]) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for key, text in (items or {}).items():
        if key not in template_keys:
            raise InvalidInput(f"items: {key!r} is not an item of the agreement template")
        cleaned[key] = require_text(text, field=f"items.{key}")
    return cleaned


def create_agreement(
    *,
    session: Session,
    principal: Principal,
    party_name: str,
    party_organisation_id: int | None = None,
    comm_scope: str = "",
    party_identifiers: list[str] | tuple[str, ...] = (),
    delivery_method: str = "",
    priority: int | None = None,
    items: dict[str, str] | None = None,
    deviations: str = "",
) -> Agreement:
    """Start a draft agreement from the current template."""
    authorize(session=session, principal=principal, action="agreement.draft",
              resource_type=RESOURCE)
    party_name = require_text(party_name, field="party name", limit=300)
    if priority is not None and not 1 <= priority <= 9:
        raise InvalidInput("priority: expected 1 (highest) to 9")
    version, template = agreement_template(session=session)
    now = utcnow()
    agreement = Agreement(
        id=next_id(session, Agreement.id, c.AGREEMENT_PREFIX, now),
        party_name=party_name,
        party_organisation_id=party_organisation_id,
        status=c.AGREEMENT_DRAFT,
        priority=priority,
        template_version=version,
        items=_clean_items(items, [t["key"] for t in template]),
        deviations=(deviations or "").strip(),
        comm_scope=(comm_scope or "").strip(),
        party_identifiers=parse_party_identifiers(party_identifiers),
        delivery_method=(delivery_method or "").strip(),
        created_by=principal.username,
        created_at=now,
    )
    session.add(agreement)
    session.flush()
    audit(session=session, principal=principal, action="governance.agreement.draft_created",
          object_type="agreement", object_id=agreement.id, legal_basis=LEGAL_BASIS)
    return agreement


def update_draft(
    *, session: Session, principal: Principal, agreement_id: str, **changes: Any
) -> Agreement:
    """Change a draft's negotiated content (items, scope, identifiers, delivery, priority)."""
    agreement = _draft(session, agreement_id)
    authorize(session=session, principal=principal, action="agreement.draft",
              resource_type=RESOURCE, resource_id=agreement.id)
    allowed = {"items", "deviations", "comm_scope", "party_identifiers", "delivery_method",
               "priority", "party_name", "party_organisation_id"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(sorted(unknown))} of an agreement")
    values = {k: v for k, v in changes.items() if v is not None}
    if "items" in values:
        _, template = agreement_template(session=session)
        merged = dict(agreement.items or {})
        merged.update(_clean_items(values["items"], [t["key"] for t in template]))
        values["items"] = merged
    if "party_identifiers" in values:
        values["party_identifiers"] = parse_party_identifiers(values["party_identifiers"])
    if "party_name" in values:
        values["party_name"] = require_text(values["party_name"], field="party name", limit=300)
    if "priority" in values and not 1 <= int(values["priority"]) <= 9:
        raise InvalidInput("priority: expected 1 (highest) to 9")
    for key in ("deviations", "comm_scope", "delivery_method"):
        if key in values:
            values[key] = str(values[key]).strip()
    for key, value in values.items():
        setattr(agreement, key, value)
    session.flush()
    audit(session=session, principal=principal, action="governance.agreement.draft_updated",
          object_type="agreement", object_id=agreement.id, legal_basis=LEGAL_BASIS,
          details={"fields": sorted(values)})
    return agreement


def add_consultation_note(
    *, session: Session, principal: Principal, agreement_id: str, note: str
) -> ConsultationNote:
    """Record what was discussed with the party (negotiation notes, no communications)."""
    agreement = _get(session, agreement_id)
    authorize(session=session, principal=principal, action="agreement.draft",
              resource_type=RESOURCE, resource_id=agreement.id)
    if agreement.status == c.AGREEMENT_ENDED:
        raise Conflict(f"agreement {agreement.id} has ended")
    entry = ConsultationNote(agreement_id=agreement.id, author=principal.username,
                             created_at=utcnow(), note=require_text(note, field="note"))
    session.add(entry)
    session.flush()
    audit(session=session, principal=principal, action="governance.agreement.note_added",
          object_type="agreement", object_id=agreement.id, legal_basis=LEGAL_BASIS,
          details={"note_id": entry.id})
    return entry


def conclude_agreement(
    *,
    session: Session,
    principal: Principal,
    agreement_id: str,
    signed_digest: str,
    effective_from: datetime,
    effective_until: datetime | None = None,
) -> Agreement:
    """Bring a draft into force: every template item agreed, scope of communications set,
    the signed document's digest and the effective period recorded."""
    agreement = _draft(session, agreement_id)
    authorize(session=session, principal=principal, action="agreement.conclude",
              resource_type=RESOURCE, resource_id=agreement.id)
    digest = parse_digest(signed_digest, field="signed document digest")
    check_period(effective_from, effective_until, field="effective period")
    now = utcnow()
    if effective_until is not None and effective_until <= now:
        raise InvalidInput("effective period: already over")
    _, template = agreement_template(session=session)
    missing = [t["key"] for t in template if not (agreement.items or {}).get(t["key"])]
    if missing:
        raise InvalidInput(f"items: the agreement does not yet address {', '.join(missing)}")
    if not agreement.comm_scope:
        raise InvalidInput("communications scope: say which communications the party provides")
    agreement.status = c.AGREEMENT_IN_FORCE
    agreement.signed_digest = digest
    agreement.effective_from = effective_from
    agreement.effective_until = effective_until
    agreement.concluded_at = now
    session.flush()
    audit(session=session, principal=principal, action="governance.agreement.concluded",
          object_type="agreement", object_id=agreement.id, legal_basis=LEGAL_BASIS,
          details={"party": agreement.party_name, "signed_digest": digest,
                   "effective_from": effective_from.isoformat(),
                   "effective_until": effective_until.isoformat() if effective_until else None,
                   "template_version": agreement.template_version,
                   "deviations": bool(agreement.deviations)})
    notifications.emit(session=session, principal=principal, event=c.EVENT_AGREEMENT_CONCLUDED,
                       object_type="agreement", object_id=agreement.id, occurred_at=now)
    return agreement


def end_agreement(
    *, session: Session, principal: Principal, agreement_id: str, reason: str,
    at: datetime | None = None,
) -> Agreement:
    """End an agreement in force; acquisition under it stops at ``at`` (default now)."""
    agreement = _get(session, agreement_id)
    authorize(session=session, principal=principal, action="agreement.conclude",
              resource_type=RESOURCE, resource_id=agreement.id)
    if agreement.status != c.AGREEMENT_IN_FORCE:
        raise Conflict(f"agreement {agreement.id} is {agreement.status}, not in force")
    reason = require_text(reason, field="reason")
    when = at or utcnow()
    if agreement.effective_from is not None and when < agreement.effective_from:
        when = agreement.effective_from
    agreement.status = c.AGREEMENT_ENDED
    agreement.ended_at = when
    session.flush()
    audit(session=session, principal=principal, action="governance.agreement.ended",
          object_type="agreement", object_id=agreement.id, legal_basis=LEGAL_BASIS,
          details={"ended_at": when.isoformat(), "reason": reason})
    return agreement


def withdraw_draft(*, session: Session, principal: Principal, agreement_id: str) -> None:
    """Drop a draft that was not concluded, with its notes; no trace names the party."""
    agreement = _draft(session, agreement_id)
    authorize(session=session, principal=principal, action="agreement.draft",
              resource_type=RESOURCE, resource_id=agreement.id)
    session.delete(agreement)
    session.flush()
    audit(session=session, principal=principal, action="governance.agreement.draft_withdrawn",
          object_type="agreement", object_id=agreement_id, legal_basis=LEGAL_BASIS)


def list_agreements(
    *, session: Session, principal: Principal, status: str | None = None
) -> list[Agreement]:
    authorize(session=session, principal=principal, action="agreement.view",
              resource_type=RESOURCE)
    if status is not None and status not in c.AGREEMENT_STATUSES:
        raise InvalidInput(f"status: expected one of {', '.join(c.AGREEMENT_STATUSES)}")
    query = select(Agreement).order_by(Agreement.priority.is_(None), Agreement.priority,
                                       Agreement.id)
    if status is not None:
        query = query.where(Agreement.status == status)
    return list(session.scalars(query).all())


def get_agreement(*, session: Session, principal: Principal, agreement_id: str) -> Agreement:
    authorize(session=session, principal=principal, action="agreement.view",
              resource_type=RESOURCE, resource_id=agreement_id)
    return _get(session, agreement_id)
