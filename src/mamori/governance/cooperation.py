"""Cooperation requests to telecom carriers (協力の求め, Art 20; applied mutatis mutandis
to Art 32 and 33 measures) — R-3.2-8, R-3.2-9, R-3.2-10.

Under a measure the Cabinet Office asks a telecom carrier (電気通信事業者) to cooperate:
information on foreign-related telecom facilities (国外関係電気通信設備), the connection
of the receiving equipment, sending communications information. The content and
conditions are explained to the carrier first (事前説明), so a request is sent only
once an explanation is recorded. The carrier cooperates or refuses; a refusal may rest
on a legitimate reason (正当な理由), which people evaluate and may re-evaluate — each
view is a new row. The platform records and tracks; it decides nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.errors import Conflict, InvalidInput, NotFound
from mamori.governance import constants as c
from mamori.governance.guard import audit, authorize
from mamori.governance.ids import next_id
from mamori.governance.measures import measure_status
from mamori.governance.models import (
    CooperationExplanation,
    CooperationOut,
    CooperationRequest,
    Measure,
    RefusalEvaluation,
)
from mamori.governance.parsing import (
    MAX_TEXT,
    parse_choice,
    parse_choices,
    parse_digest,
    require_text,
)

RESOURCE = "governance.cooperation"
OBJECT_TYPE = "cooperation_request"
RESPONSES = (c.COOP_COOPERATING, c.COOP_REFUSED)


def legal_basis(article: int) -> str:
    """Art 20 for an Art 17 measure; for Art 32 and 33 it applies mutatis mutandis."""
    return "Art 20" if article == 17 else f"Art 20 (mutatis mutandis, Art {article})"


def _get(session: Session, request_id: str) -> CooperationRequest:
    request = session.get(CooperationRequest, request_id)
    if request is None:
        raise NotFound(f"cooperation request {request_id!r} does not exist")
    return request


def _manage(session: Session, principal: Principal, request_id: str) -> CooperationRequest:
    authorize(session=session, principal=principal, action="cooperation.manage",
              resource_type=RESOURCE, resource_id=request_id)
    return _get(session, request_id)


def _in_status(request: CooperationRequest, allowed: tuple[str, ...], rule: str) -> None:
    if request.status not in allowed:
        raise Conflict(f"cooperation request {request.id} is {request.status}; {rule}")


def _optional_text(value: str | None, *, field: str) -> str:
    text = (value or "").strip()
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{field}: longer than {MAX_TEXT} characters")
    return text


def _evaluation(value: str | None, note: str | None) -> tuple[str, str]:
    """An evaluation code and its note; a judgement either way must say why."""
    code = parse_choice(value, c.REFUSAL_EVALUATIONS, field="evaluation")
    text = _optional_text(note, field="note")
    if code != c.EVALUATION_UNDER_REVIEW and not text:
        raise InvalidInput(f"note: say why the reason is judged {code.replace('_', ' ')}")
    return code, text


def _audit(session: Session, principal: Principal, request: CooperationRequest, event: str,
           **details: object) -> None:
    """Ids, codes and counts only: the carrier's words and the notes stay in the record."""
    audit(session=session, principal=principal, action=f"governance.cooperation.{event}",
          object_type=OBJECT_TYPE, object_id=request.id,
          legal_basis=legal_basis(request.measure.article),
          details={"measure": request.measure_id, "request": request.id, **details})


def to_out(request: CooperationRequest) -> CooperationOut:
    return CooperationOut.model_validate(request)


def request_cooperation(
    *,
    session: Session,
    principal: Principal,
    measure_id: str,
    carrier: str,
    items: list[str] | tuple[str, ...],
    description: str = "",
    conditions: str = "",
    burden: str = "",
) -> CooperationRequest:
    """Record a draft request to a carrier under a measure that was not refused."""
    authorize(session=session, principal=principal, action="cooperation.manage",
              resource_type=RESOURCE)
    carrier = require_text(carrier, field="carrier", limit=300)
    codes = parse_choices(items, c.COOP_ITEMS, field="item")
    description = _optional_text(description, field="description")
    if c.COOP_ITEM_OTHER in codes and not description:
        raise InvalidInput("description: say what 'other' cooperation is asked")
    measure = session.get(Measure, measure_id)
    if measure is None:
        raise NotFound(f"measure {measure_id!r} does not exist")
    if measure_status(measure) == "refused":
        raise Conflict(f"measure {measure.id} was refused by the committee; no cooperation "
                       "is asked under it")
    now = utcnow()
    request = CooperationRequest(
        id=next_id(session, CooperationRequest.id, c.COOPERATION_PREFIX, now),
        measure_id=measure.id,
        carrier=carrier,
        items=codes,
        description=description,
        conditions=_optional_text(conditions, field="conditions"),
        burden=_optional_text(burden, field="burden considerations"),
        status=c.COOP_DRAFT,
        created_by=principal.username,
        created_at=now,
        measure=measure,
    )
    session.add(request)
    session.flush()
    _audit(session, principal, request, "requested", items=codes,
           conditions=bool(request.conditions), burden=bool(request.burden))
    return request


def record_explanation(
    *,
    session: Session,
    principal: Principal,
    request_id: str,
    method: str,
    summary: str,
    document_digest: str | None = None,
    explained_at: datetime | None = None,
) -> CooperationExplanation:
    """Record that the content and conditions were explained to the carrier (R-3.2-9)."""
    request = _manage(session, principal, request_id)
    code = parse_choice(method, c.EXPLANATION_METHODS, field="method")
    text = require_text(summary, field="summary")
    digest = parse_digest(document_digest, field="explanatory document digest") \
        if document_digest else None
    now = utcnow()
    when = explained_at or now
    if when > now + timedelta(minutes=5):
        raise InvalidInput("explained at: an explanation cannot be recorded in advance")
    _in_status(request, (c.COOP_DRAFT, c.COOP_SENT),
               "explanations are recorded before the carrier answers")
    explanation = CooperationExplanation(
        request_id=request.id, explained_at=when, explained_by=principal.username,
        method=code, summary=text, document_digest=digest, recorded_at=now)
    request.explanations.append(explanation)
    session.flush()
    _audit(session, principal, request, "explained", explanation=explanation.id, method=code,
           document_digest=digest)
    return explanation


def send_request(
    *, session: Session, principal: Principal, request_id: str
) -> CooperationRequest:
    """Mark a draft as sent to the carrier, once it has been explained in advance."""
    request = _manage(session, principal, request_id)
    _in_status(request, (c.COOP_DRAFT,), "only a draft is sent")
    if not request.explanations:
        raise Conflict(f"cooperation request {request.id}: record the advance explanation "
                       "to the carrier (事前説明) before sending it")
    request.status = c.COOP_SENT
    request.sent_by = principal.username
    request.sent_at = utcnow()
    session.flush()
    _audit(session, principal, request, "sent", explanations=len(request.explanations))
    return request


def record_response(
    *,
    session: Session,
    principal: Principal,
    request_id: str,
    outcome: str,
    reason: str | None = None,
    evaluation: str | None = None,
    note: str | None = None,
) -> CooperationRequest:
    """Record the carrier's answer; a refusal carries its stated reason and the Cabinet
    Office's first evaluation of it (under review unless given)."""
    request = _manage(session, principal, request_id)
    answer = parse_choice(outcome, RESPONSES, field="response")
    refusal: tuple[str, str, str] | None = None
    if answer == c.COOP_REFUSED:
        refusal = (require_text(reason, field="reason"),
                   *_evaluation(evaluation or c.EVALUATION_UNDER_REVIEW, note))
    elif reason or evaluation or note:
        raise InvalidInput("reason, evaluation and note are recorded for a refusal only")
    _in_status(request, (c.COOP_SENT,), "only a request sent to the carrier is answered")
    now = utcnow()
    request.status = answer
    request.responded_by = principal.username
    request.responded_at = now
    if refusal is not None:
        request.refusal_reason, code, text = refusal
        request.evaluations.append(RefusalEvaluation(
            evaluation=code, note=text, evaluated_by=principal.username, evaluated_at=now))
    session.flush()
    _audit(session, principal, request, "responded", outcome=answer,
           evaluation=request.evaluation)
    return request


def evaluate_refusal(
    *,
    session: Session,
    principal: Principal,
    request_id: str,
    evaluation: str,
    note: str,
) -> CooperationRequest:
    """Record a new evaluation of a refusal's reason; earlier ones stay as history."""
    request = _manage(session, principal, request_id)
    code, text = _evaluation(evaluation, note)
    _in_status(request, (c.COOP_REFUSED,), "only a refusal is evaluated")
    previous = request.evaluation
    row = RefusalEvaluation(evaluation=code, note=text, evaluated_by=principal.username,
                            evaluated_at=utcnow())
    request.evaluations.append(row)
    session.flush()
    _audit(session, principal, request, "evaluated", evaluation=code, previous=previous,
           evaluation_id=row.id)
    return request


def withdraw_request(
    *, session: Session, principal: Principal, request_id: str
) -> CooperationRequest:
    """The Cabinet Office drops a request that the carrier has not answered."""
    request = _manage(session, principal, request_id)
    _in_status(request, (c.COOP_DRAFT, c.COOP_SENT),
               "only a draft or sent request is withdrawn")
    request.status = c.COOP_WITHDRAWN
    request.withdrawn_by = principal.username
    request.withdrawn_at = utcnow()
    session.flush()
    _audit(session, principal, request, "withdrawn", was_sent=request.sent_at is not None)
    return request


def list_requests(
    *, session: Session, principal: Principal, measure_id: str | None = None
) -> list[CooperationRequest]:
    authorize(session=session, principal=principal, action="cooperation.view",
              resource_type=RESOURCE)
    query = select(CooperationRequest).order_by(CooperationRequest.created_at,
                                                CooperationRequest.id)
    if measure_id is not None:
        if session.get(Measure, measure_id) is None:
            raise NotFound(f"measure {measure_id!r} does not exist")
        query = query.where(CooperationRequest.measure_id == measure_id)
    return list(session.scalars(query).all())


def get_request(
    *, session: Session, principal: Principal, request_id: str
) -> CooperationRequest:
    authorize(session=session, principal=principal, action="cooperation.view",
              resource_type=RESOURCE, resource_id=request_id)
    return _get(session, request_id)
