"""Consultations (相談, R-4.2-11): an operator asks whether something must be notified;
the Cabinet Office or the supervising ministry answers, and the answer stays with the
operator's record (and the computer's, when the question is about one)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.errors import Conflict, NotFound
from mamori.registry import guard
from mamori.registry.computers import load_computer
from mamori.registry.entries import clean_text
from mamori.registry.messages import N_, RegistryInputError
from mamori.registry.models import NAME_MAX, TEXT_MAX, Consultation, ConsultationRecord
from mamori.registry.operators import load_operator, viewable_operator

OPEN = "open"
ANSWERED = "answered"
CONCLUSIONS: dict[str, dict[str, str]] = {
    "notification_required": {"ja": "届出が必要", "en": "Notification required"},
    "not_required": {"ja": "届出は不要", "en": "Notification not required"},
    "see_answer": {"ja": "回答のとおり", "en": "See the answer"},
}


def _text(value: str | None, field: str, limit: int) -> str:
    text = clean_text(value, field=field, limit=limit)
    if text is None:
        raise RegistryInputError(N_("this field must not be empty"), field=field)
    return text


def ask(
    *, session: Session, principal: Principal, operator_id: int, subject: str, question: str,
    computer_id: int | None = None,
) -> Consultation:
    """Record an operator's question."""
    operator = viewable_operator(
        session=session, principal=principal, operator_id=operator_id, action="registry.consult"
    )
    if computer_id is not None and load_computer(session, computer_id).operator_id != operator.id:
        raise RegistryInputError(
            N_("the computer belongs to another operator"), field="computer"
        )
    row = ConsultationRecord(
        operator_id=operator.id, computer_id=computer_id,
        subject=_text(subject, "subject", NAME_MAX), question=_text(question, "question", TEXT_MAX),
        status=OPEN, asked_by=principal.username, asked_at=utcnow(),
    )
    session.add(row)
    session.flush()
    guard.audit(
        session=session, principal=principal, action="registry.consultation.asked",
        object_type="registry.consultation", object_id=row.id,
        details={"operator_id": operator.id, "computer_id": computer_id},
    )
    return Consultation.model_validate(row)


def _load(session: Session, consultation_id: int) -> ConsultationRecord:
    row = session.get(ConsultationRecord, consultation_id)
    if row is None:
        raise NotFound(f"no consultation {consultation_id}", field="consultation")
    return row


def answer(
    *, session: Session, principal: Principal, consultation_id: int, answer: str,
    conclusion: str,
) -> Consultation:
    """Answer a question once; the answer is kept with the record."""
    row = _load(session, consultation_id)
    guard.authorize_operator(
        session=session, principal=principal, action="registry.answer",
        operator=load_operator(session, row.operator_id),
    )
    if conclusion not in CONCLUSIONS:
        raise RegistryInputError(
            N_("the conclusion is one of: %(conclusions)s"), field="conclusion",
            conclusions=", ".join(CONCLUSIONS),
        )
    if row.status == ANSWERED:
        raise Conflict("this consultation is answered already", field="consultation")
    row.answer = _text(answer, "answer", TEXT_MAX)
    row.conclusion = conclusion
    row.status = ANSWERED
    row.answered_by = principal.username
    row.answered_at = utcnow()
    session.flush()
    guard.audit(
        session=session, principal=principal, action="registry.consultation.answered",
        object_type="registry.consultation", object_id=row.id,
        details={"operator_id": row.operator_id, "conclusion": conclusion},
    )
    return Consultation.model_validate(row)


def get_consultation(
    *, session: Session, principal: Principal, consultation_id: int
) -> Consultation:
    row = _load(session, consultation_id)
    viewable_operator(session=session, principal=principal, operator_id=row.operator_id)
    return Consultation.model_validate(row)


def list_consultations(
    *, session: Session, principal: Principal, operator_id: int, computer_id: int | None = None
) -> list[Consultation]:
    viewable_operator(session=session, principal=principal, operator_id=operator_id)
    query = select(ConsultationRecord).where(ConsultationRecord.operator_id == operator_id)
    if computer_id is not None:
        query = query.where(ConsultationRecord.computer_id == computer_id)
    rows = session.scalars(query.order_by(ConsultationRecord.asked_at.desc()))
    return [Consultation.model_validate(r) for r in rows]


def open_consultations(*, session: Session, principal: Principal) -> list[Consultation]:
    """Unanswered questions of every operator ``principal`` may answer, oldest first."""
    guard.authorize_registry(session=session, principal=principal, action="operator.list")
    rows = session.scalars(
        select(ConsultationRecord).where(ConsultationRecord.status == OPEN)
        .order_by(ConsultationRecord.asked_at)
    )
    allowed: dict[int, bool] = {}
    found: list[Consultation] = []
    for row in rows:
        if row.operator_id not in allowed:
            allowed[row.operator_id] = guard.permitted_operator(
                session=session, principal=principal, action="registry.answer",
                operator=load_operator(session, row.operator_id),
            )
        if allowed[row.operator_id]:
            found.append(Consultation.model_validate(row))
    return found
