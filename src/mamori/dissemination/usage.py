"""Usage attestations (利用状況の確認, R-2.3-12): after selected communications information
was provided, the receiving body says how it used it, and analysts check that the use
stayed within the consent governance decided on.

A provision carrying such information (it has a use decision) opens one request in the
provision's transaction, due ``MAMORI_DISSEMINATION_ATTESTATION_DAYS`` (90) days after
provision.
The recipient attests once, through the portal or the API, as its own action on the
provision (``provision.feedback``): the purpose it used the information for (only the
provision's, which the consent covers), how, whether and with whom it shared it onward,
whether it still holds it and until when. A second attestation is a Conflict — what
was attested stays as it was; a correction goes to the analysts, whose review note
records it. Analysts review (``provision.review``): within consent, outside consent
(audited as ``dissemination.usage.outside_consent``, for the oversight committee) or
unclear. Status: requested → attested → reviewed; a request still open after its due
date is overdue. Audit entries carry ids, codes and lengths, never the free text.

The records hold the receiving body's account of its use, not the provided content, so
they carry no COMMS label: analysts review them although the provision itself stays
communications-derived inside the Cabinet Office.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.dissemination import guard
from mamori.dissemination.entitled import recipients_of
from mamori.dissemination.models import (
    TEXT_MAX,
    ProvisionRecord,
    RecipientRecord,
    UsageAttestation,
    UsageAttestationRecord,
    UsageRequest,
    UsageRequestRecord,
)
from mamori.dissemination.provisions import load_provision
from mamori.dissemination.safeguards import local_date
from mamori.dissemination.settings import delivery_settings
from mamori.errors import Conflict, InvalidInput, NotFound

REQUESTED, ATTESTED, REVIEWED = "requested", "attested", "reviewed"
STATUSES = (REQUESTED, ATTESTED, REVIEWED)
WITHIN_CONSENT, OUTSIDE_CONSENT, UNCLEAR = "within_consent", "outside_consent", "unclear"
OUTCOMES = (WITHIN_CONSENT, OUTSIDE_CONSENT, UNCLEAR)
PURPOSES_MAX = 10
OBJECT_TYPE = "usage_request"


@dataclass(frozen=True)
class Statement:
    """An attestation as it is stored, after :func:`check_statement`."""

    purposes: tuple[str, ...]
    usage: str
    shared_onward: bool
    shared_with: str | None
    still_held: bool
    kept_until: date | None


def _text(value: object, name: str, what: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > TEXT_MAX:
        raise InvalidInput(f"{name}: {what} (1-{TEXT_MAX} characters)", field=name)
    return text


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{name}: expected true or false", field=name)
    return value


def check_statement(*, allowed_purpose: str, purposes: object, usage: object,
                    shared_onward: object, shared_with: object, still_held: object,
                    kept_until: object, today: date) -> Statement:
    """The attestation to store, or InvalidInput naming the first wrong field (never
    echoing what was sent)."""
    if not isinstance(purposes, list | tuple) or not 1 <= len(purposes) <= PURPOSES_MAX \
            or not all(isinstance(p, str) for p in purposes):
        raise InvalidInput(f"purposes: name the purpose you used it for ({allowed_purpose})",
                           field="purposes")
    codes = tuple(dict.fromkeys(p.strip() for p in purposes))
    if codes != (allowed_purpose,):
        raise InvalidInput(
            f"purposes: the information was provided for {allowed_purpose} only, the purpose "
            "the consent covers; attest its use for that purpose alone (any other use is "
            "outside consent: tell the Cabinet Office)", field="purposes")
    text = _text(usage, "usage", "say how you used it")
    shared = _flag(shared_onward, "shared_onward")
    if shared:
        onward: str | None = _text(shared_with, "shared_with", "say with whom you shared it")
    elif shared_with is None or (isinstance(shared_with, str) and not shared_with.strip()):
        onward = None
    else:
        raise InvalidInput("shared_with: only when it was shared onward", field="shared_with")
    held = _flag(still_held, "still_held")
    if kept_until is not None and (isinstance(kept_until, datetime)
                                   or not isinstance(kept_until, date)):
        raise InvalidInput("kept_until: expected a date (YYYY-MM-DD)", field="kept_until")
    if kept_until is not None and not held:
        raise InvalidInput("kept_until: only for information you still hold",
                           field="kept_until")
    if kept_until is not None and kept_until < today:
        raise InvalidInput("kept_until: a date from today on (information no longer held "
                           "was disposed of)", field="kept_until")
    return Statement(purposes=codes, usage=text, shared_onward=shared, shared_with=onward,
                     still_held=held, kept_until=kept_until)


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """Still open after its due date."""
    return and_(UsageRequestRecord.status == REQUESTED, UsageRequestRecord.due_at < now)


def _views(session: Session, rows: list[UsageRequestRecord], now: datetime
           ) -> list[UsageRequest]:
    """Requests as people see them, with their provision, recipient and attestation
    loaded in three queries whatever the number of rows."""
    if not rows:
        return []
    provisions = {p.id: p for p in session.scalars(select(ProvisionRecord).where(
        ProvisionRecord.id.in_({r.provision_id for r in rows})))}
    recipients = {r.id: r for r in session.scalars(select(RecipientRecord).where(
        RecipientRecord.id.in_({r.recipient_id for r in rows})))}
    statements = {a.request_id: a for a in session.scalars(select(UsageAttestationRecord)
                  .where(UsageAttestationRecord.request_id.in_([r.id for r in rows])))}
    views = []
    for row in rows:
        provision, recipient = provisions.get(row.provision_id), recipients.get(row.recipient_id)
        statement = statements.get(row.id)
        views.append(UsageRequest.model_validate(row).model_copy(update={
            "recipient_code": recipient.code if recipient else "",
            "category": provision.category if provision else "",
            "product_id": provision.product_id if provision else "",
            "tier": provision.tier if provision else 1,
            "overdue": row.status == REQUESTED and row.due_at < now,
            "attestation": UsageAttestation.model_validate(statement) if statement else None}))
    return views


def _view(session: Session, row: UsageRequestRecord, now: datetime) -> UsageRequest:
    return _views(session, [row], now)[0]


# --- opening a request (inside provide) --------------------------------------------------


def open_request(session: Session, principal: Principal, provision: ProvisionRecord
                 ) -> UsageRequestRecord | None:
    """In the provision's transaction: ask the receiving body to attest its use of the
    selected information; nothing for a provision without it."""
    if provision.use_decision_id is None:
        return None
    days = delivery_settings().dissemination_attestation_days
    row = UsageRequestRecord(
        provision_id=provision.id, recipient_id=provision.recipient_id,
        organisation_id=provision.organisation_id, use_decision_id=provision.use_decision_id,
        purpose=provision.purpose, status=REQUESTED, requested_by=principal.username,
        requested_at=provision.provided_at,
        due_at=provision.provided_at + timedelta(days=days))
    session.add(row)
    session.flush()
    guard.audit(session=session, principal=principal, action="dissemination.usage.requested",
                object_type=OBJECT_TYPE, object_id=row.id, legal_basis=provision.legal_basis,
                details={"provision_id": provision.id, "organisation_id": row.organisation_id,
                         "use_decision_id": row.use_decision_id, "purpose": row.purpose,
                         "due_at": row.due_at.isoformat()})
    return row


# --- the recipient's side ------------------------------------------------------------------


def attest(
    *,
    session: Session,
    principal: Principal,
    provision_id: int,
    purposes: list[str],
    usage: str,
    shared_onward: bool,
    shared_with: str | None = None,
    still_held: bool,
    kept_until: date | None = None,
) -> UsageRequest:
    """The receiving body attests how it used a provision's selected information (once)."""
    provision = load_provision(session, principal, provision_id, "provision.feedback")
    row = session.scalars(select(UsageRequestRecord).where(
        UsageRequestRecord.provision_id == provision.id)).first()
    if row is None:
        raise NotFound(f"no usage attestation is asked for provision {provision.id}: it "
                       "carries no selected communications information", field="provision")
    if row.status != REQUESTED:
        raise Conflict(f"the use of provision {provision.id} was attested already; to "
                       "correct it, tell the Cabinet Office, whose review records it",
                       field="attestation")
    now = utcnow()
    statement = check_statement(
        allowed_purpose=row.purpose, purposes=purposes, usage=usage,
        shared_onward=shared_onward, shared_with=shared_with, still_held=still_held,
        kept_until=kept_until, today=local_date(now))
    try:
        with session.begin_nested():
            session.add(UsageAttestationRecord(
                request_id=row.id, purposes=list(statement.purposes), usage=statement.usage,
                shared_onward=statement.shared_onward, shared_with=statement.shared_with,
                still_held=statement.still_held, kept_until=statement.kept_until,
                attested_by=principal.username, attested_at=now))
    except IntegrityError:
        raise Conflict(f"the use of provision {provision.id} was attested already",
                       field="attestation") from None
    row.status = ATTESTED
    session.flush()
    guard.audit(session=session, principal=principal, action="dissemination.usage.attested",
                object_type=OBJECT_TYPE, object_id=row.id,
                details={"provision_id": provision.id, "purposes": list(statement.purposes),
                         "usage_length": len(statement.usage),
                         "shared_onward": statement.shared_onward,
                         "shared_with_length": len(statement.shared_with or ""),
                         "still_held": statement.still_held,
                         "kept_until": statement.kept_until.isoformat()
                         if statement.kept_until else None,
                         "late": now > row.due_at})
    return _view(session, row, now)


def pending_for(*, session: Session, principal: Principal) -> list[UsageRequest]:
    """The requests the principal's organisation has still to answer, soonest due first."""
    ids = [r.id for r in recipients_of(session, principal)]
    if not ids:
        return []
    now = utcnow()
    rows = session.scalars(select(UsageRequestRecord).where(
        UsageRequestRecord.recipient_id.in_(ids), UsageRequestRecord.status == REQUESTED)
        .order_by(UsageRequestRecord.due_at, UsageRequestRecord.id))
    return _views(session, list(rows), now)


def request_of(session: Session, provision_id: int) -> UsageRequest | None:
    """A provision's request, if any (the caller has authorized reading the provision)."""
    row = session.scalars(select(UsageRequestRecord).where(
        UsageRequestRecord.provision_id == provision_id)).first()
    return _view(session, row, utcnow()) if row is not None else None


# --- the Cabinet Office's side -----------------------------------------------------------


def list_attestations(*, session: Session, principal: Principal, overdue: bool = False,
                      limit: int = 200) -> list[UsageRequest]:
    """Every request with its attestation and review (analysts, handlers, the committee),
    soonest due first; ``overdue`` keeps those still open after their due date."""
    guard.authorize(session=session, principal=principal, action="provision.view",
                    resource=guard.resource(guard.PROVISION, "attestations"))
    now = utcnow()
    query = select(UsageRequestRecord).order_by(
        UsageRequestRecord.due_at, UsageRequestRecord.id).limit(max(1, min(limit, 1000)))
    if overdue:
        query = query.where(overdue_clause(now))
    return _views(session, list(session.scalars(query)), now)


def review(
    *,
    session: Session,
    principal: Principal,
    request_id: int,
    outcome: str,
    note: str | None = None,
) -> UsageRequest:
    """An analyst's finding on an attestation; outside consent is audited on its own."""
    if isinstance(request_id, bool) or not isinstance(request_id, int):
        raise InvalidInput("request: expected a whole number", field="request")
    row = session.get(UsageRequestRecord, request_id)
    guard.authorize(session=session, principal=principal, action="provision.review",
                    resource=guard.resource(guard.PROVISION, f"attestation/{request_id}",
                                            organisation_id=row.organisation_id
                                            if row is not None else None))
    if row is None:
        raise NotFound(f"no attestation request {request_id}", field="request")
    if outcome not in OUTCOMES:
        raise InvalidInput(f"outcome: one of {', '.join(OUTCOMES)}", field="outcome")
    text = (note or "").strip() if isinstance(note, str | None) else None
    if text is None or len(text) > TEXT_MAX:
        raise InvalidInput(f"note: at most {TEXT_MAX} characters", field="note")
    if outcome != WITHIN_CONSENT and not text:
        raise InvalidInput("note: say what is outside consent or unclear", field="note")
    if row.status != ATTESTED:
        raise Conflict(f"request {row.id} is {row.status}: only an attested use is reviewed",
                       field="request")
    now = utcnow()
    done = session.execute(
        update(UsageRequestRecord)
        .where(UsageRequestRecord.id == row.id, UsageRequestRecord.status == ATTESTED)
        .values(status=REVIEWED, outcome=outcome, review_note=text or None,
                reviewed_by=principal.username, reviewed_at=now)
        .execution_options(synchronize_session=False))
    if getattr(done, "rowcount", 0) != 1:
        raise Conflict(f"request {row.id} was reviewed meanwhile", field="request")
    session.refresh(row)
    details: dict[str, Any] = {"provision_id": row.provision_id,
                               "organisation_id": row.organisation_id,
                               "use_decision_id": row.use_decision_id, "outcome": outcome,
                               "note_length": len(text)}
    action = "dissemination.usage.outside_consent" if outcome == OUTSIDE_CONSENT else \
        "dissemination.usage.reviewed"
    guard.audit(session=session, principal=principal, action=action, object_type=OBJECT_TYPE,
                object_id=row.id, details=details)
    return _view(session, row, now)
