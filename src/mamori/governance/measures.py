"""Transmission measures (Art 17 外外, Art 32 特定外内, Art 33 特定内外) and the oversight
committee's approvals (承認の求め, Art 18).

A measure has terms: the original request and each renewal. Only a committee
inspector decides a term, never the person who requested it; selection may run only
inside an approved term (see ``mamori.governance.gate``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.errors import Conflict, Forbidden, InvalidInput, NotFound
from mamori.governance import constants as c
from mamori.governance import notifications
from mamori.governance.guard import audit, authorize
from mamori.governance.ids import next_id
from mamori.governance.models import Measure, MeasureOut, MeasureTerm, TermOut
from mamori.governance.parameter_values import current_value
from mamori.governance.parsing import check_period, parse_list, require_text

RESOURCE = "governance.measure"


def _legal_basis(article: int) -> str:
    return f"Art {article}"


def _get(session: Session, measure_id: str) -> Measure:
    measure = session.get(Measure, measure_id)
    if measure is None:
        raise NotFound(f"measure {measure_id!r} does not exist")
    return measure


def measure_status(measure: Measure, at: datetime | None = None) -> str:
    """A one-word summary: requested, approved, in_force, renewal_requested, expired,
    refused or ended."""
    at = at or utcnow()
    if measure.ended_at is not None and measure.ended_at <= at:
        return "ended"
    terms = measure.terms
    approved = [t for t in terms if t.status == c.TERM_APPROVED]
    pending = [t for t in terms if t.status == c.TERM_REQUESTED]
    if any(t.starts_at <= at < t.ends_at for t in approved):
        return "renewal_requested" if pending else "in_force"
    if pending:
        return "renewal_requested" if approved else "requested"
    if not approved:
        return "refused"
    if at < min(t.starts_at for t in approved):
        return "approved"
    return "expired"


def to_out(measure: Measure, at: datetime | None = None) -> MeasureOut:
    return MeasureOut(
        id=measure.id,
        article=measure.article,
        kind=c.MEASURE_ARTICLES[measure.article][0],
        status=measure_status(measure, at),
        grounds=measure.grounds,
        target_act=measure.target_act,
        carrier=measure.carrier,
        facilities=list(measure.facilities or []),
        created_by=measure.created_by,
        created_at=measure.created_at,
        ended_at=measure.ended_at,
        terms=[TermOut.model_validate(t) for t in measure.terms],
    )


def request_measure(
    *,
    session: Session,
    principal: Principal,
    article: int,
    grounds: str,
    target_act: str = "",
    carrier: str = "",
    facilities: list[str] | tuple[str, ...] = (),
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> Measure:
    """Record a measure and its approval request to the committee."""
    authorize(session=session, principal=principal, action="measure.request",
              resource_type=RESOURCE, article=article)
    if article not in c.MEASURE_ARTICLES:
        raise InvalidInput("article: a transmission measure is under Art 17, 32 or 33")
    grounds = require_text(grounds, field="grounds")
    now = utcnow()
    start = starts_at or now
    if ends_at is None:
        _, days = current_value(session, c.PARAM_MEASURE_TERM_DAYS)
        ends_at = start + timedelta(days=int(days))
    check_period(start, ends_at)
    if ends_at <= now:
        raise InvalidInput("period: the requested period has already ended")
    measure = Measure(
        id=next_id(session, Measure.id, c.MEASURE_PREFIX, now),
        article=article,
        grounds=grounds,
        target_act=(target_act or "").strip(),
        carrier=(carrier or "").strip(),
        facilities=parse_list(facilities, field="facilities"),
        created_by=principal.username,
        created_at=now,
    )
    measure.terms.append(
        MeasureTerm(seq=1, starts_at=start, ends_at=ends_at, status=c.TERM_REQUESTED,
                    grounds=grounds, requested_by=principal.username, requested_at=now)
    )
    session.add(measure)
    session.flush()
    audit(session=session, principal=principal, action="governance.measure.requested",
          object_type="measure", object_id=measure.id, legal_basis=_legal_basis(article),
          details={"article": article, "term": 1, "starts_at": start.isoformat(),
                   "ends_at": ends_at.isoformat(), "carrier": measure.carrier,
                   "facilities": measure.facilities})
    return measure


def _pending_term(measure: Measure) -> MeasureTerm:
    pending = [t for t in measure.terms if t.status == c.TERM_REQUESTED]
    if not pending:
        raise Conflict(f"measure {measure.id} has no request awaiting a decision")
    return pending[-1]


def _decide(
    *, session: Session, principal: Principal, measure_id: str, approve: bool, note: str | None
) -> Measure:
    action = "measure.approve" if approve else "measure.refuse"
    measure = _get(session, measure_id)
    pending = [t for t in measure.terms if t.status == c.TERM_REQUESTED]
    requested_by = pending[-1].requested_by if pending else ""
    try:
        authorize(session=session, principal=principal, action=action, resource_type=RESOURCE,
                  resource_id=measure.id, article=measure.article, requested_by=requested_by)
    except Forbidden:
        if requested_by == principal.username and "committee_inspector" in principal.roles:
            # the denial is already audited; say why in plain words
            raise Forbidden(
                f"measure {measure.id}: a request cannot be decided by the person who made it"
            ) from None
        raise
    if measure.ended_at is not None:
        raise Conflict(f"measure {measure.id} has been ended")
    term = _pending_term(measure)
    if term.requested_by == principal.username:
        raise Forbidden("a request cannot be decided by the person who made it")
    now = utcnow()
    if approve and term.ends_at <= now:
        raise Conflict(f"measure {measure.id}: the requested period has already ended")
    term.status = c.TERM_APPROVED if approve else c.TERM_REFUSED
    term.decided_by = principal.username
    term.decided_at = now
    term.decision_note = (note or "").strip() or None
    session.flush()
    review_seconds = int((now - term.requested_at).total_seconds())
    audit(session=session, principal=principal,
          action="governance.measure.approved" if approve else "governance.measure.refused",
          object_type="measure", object_id=measure.id, legal_basis=_legal_basis(measure.article),
          details={"article": measure.article, "term": term.seq,
                   "starts_at": term.starts_at.isoformat(), "ends_at": term.ends_at.isoformat(),
                   "requested_by": term.requested_by, "review_seconds": review_seconds,
                   "renewal": term.seq > 1})
    if approve:
        event = c.EVENT_MEASURE_STARTED if term.seq == 1 else c.EVENT_MEASURE_RENEWED
        occurred = max(term.starts_at, now) if term.seq == 1 else now
    else:
        event, occurred = c.EVENT_MEASURE_REFUSED, now
    notifications.emit(
        session=session, principal=principal, event=event, object_type="measure",
        object_id=measure.id, occurred_at=occurred, key=f"term{term.seq}",
        details={"article": measure.article, "term": term.seq,
                 "starts_at": term.starts_at.isoformat(), "ends_at": term.ends_at.isoformat()},
    )
    return measure


def approve_measure(
    *, session: Session, principal: Principal, measure_id: str, note: str | None = None
) -> Measure:
    """The committee approves the pending request or renewal (committee inspectors only)."""
    return _decide(session=session, principal=principal, measure_id=measure_id, approve=True,
                   note=note)


def refuse_measure(
    *, session: Session, principal: Principal, measure_id: str, note: str | None = None
) -> Measure:
    """The committee refuses the pending request or renewal (committee inspectors only)."""
    return _decide(session=session, principal=principal, measure_id=measure_id, approve=False,
                   note=note)


def renew_measure(
    *,
    session: Session,
    principal: Principal,
    measure_id: str,
    ends_at: datetime,
    grounds: str,
    starts_at: datetime | None = None,
) -> Measure:
    """Request a further term; it starts when the approved period ends unless given and
    may not overlap any approved or pending term."""
    measure = _get(session, measure_id)
    authorize(session=session, principal=principal, action="measure.request",
              resource_type=RESOURCE, resource_id=measure.id, article=measure.article)
    grounds = require_text(grounds, field="grounds")
    if measure.ended_at is not None:
        raise Conflict(f"measure {measure.id} has been ended and cannot be renewed")
    approved = [t for t in measure.terms if t.status == c.TERM_APPROVED]
    if not approved:
        raise Conflict(f"measure {measure.id} has no approved period to renew")
    if any(t.status == c.TERM_REQUESTED for t in measure.terms):
        raise Conflict(f"measure {measure.id} already has a request awaiting a decision")
    start = starts_at or max(t.ends_at for t in approved)
    check_period(start, ends_at)
    for term in measure.terms:
        if term.status != c.TERM_REFUSED and start < term.ends_at and term.starts_at < ends_at:
            raise InvalidInput(
                f"period: overlaps term {term.seq} of measure {measure.id}; a renewal starts "
                "at or after the end of the approved period"
            )
    now = utcnow()
    if ends_at <= now:
        raise InvalidInput("period: the requested period has already ended")
    seq = max(t.seq for t in measure.terms) + 1
    measure.terms.append(
        MeasureTerm(seq=seq, starts_at=start, ends_at=ends_at, status=c.TERM_REQUESTED,
                    grounds=grounds, requested_by=principal.username, requested_at=now)
    )
    session.flush()
    audit(session=session, principal=principal, action="governance.measure.renewal_requested",
          object_type="measure", object_id=measure.id, legal_basis=_legal_basis(measure.article),
          details={"article": measure.article, "term": seq, "starts_at": start.isoformat(),
                   "ends_at": ends_at.isoformat()})
    return measure


def end_measure(
    *, session: Session, principal: Principal, measure_id: str, reason: str,
    at: datetime | None = None,
) -> Measure:
    """Stop a measure before its approved period runs out (from ``at``, default now)."""
    measure = _get(session, measure_id)
    authorize(session=session, principal=principal, action="measure.end",
              resource_type=RESOURCE, resource_id=measure.id, article=measure.article)
    reason = require_text(reason, field="reason")
    if measure.ended_at is not None:
        raise Conflict(f"measure {measure.id} has already been ended")
    now = utcnow()
    when = at or now
    if when < now - timedelta(minutes=5):
        raise InvalidInput("at: a measure cannot be ended in the past")
    measure.ended_at = when
    measure.ended_by = principal.username
    measure.end_reason = reason
    for term in measure.terms:
        if term.status == c.TERM_REQUESTED:
            term.status = c.TERM_REFUSED
            term.decision_note = "withdrawn: measure ended"
    session.flush()
    audit(session=session, principal=principal, action="governance.measure.ended",
          object_type="measure", object_id=measure.id, legal_basis=_legal_basis(measure.article),
          details={"article": measure.article, "ended_at": when.isoformat()})
    if any(t.status == c.TERM_APPROVED and t.starts_at <= when for t in measure.terms):
        notifications.emit(
            session=session, principal=principal, event=c.EVENT_MEASURE_ENDED,
            object_type="measure", object_id=measure.id, occurred_at=when, key="ended",
            details={"article": measure.article, "cause": "ended"},
        )
    return measure


def list_measures(
    *, session: Session, principal: Principal, article: int | None = None
) -> list[Measure]:
    authorize(session=session, principal=principal, action="measure.view",
              resource_type=RESOURCE)
    query = select(Measure).order_by(Measure.created_at, Measure.id)
    if article is not None:
        query = query.where(Measure.article == article)
    return list(session.scalars(query).all())


def get_measure(*, session: Session, principal: Principal, measure_id: str) -> Measure:
    authorize(session=session, principal=principal, action="measure.view",
              resource_type=RESOURCE, resource_id=measure_id)
    return _get(session, measure_id)
