"""Feedback (R-5.1-2, R-5.1-3, R-4.2-24): recipients acknowledge a provision, rate it and
say what they did; analysts see it per product; operators who reported see what became
of their reports (the Basic Policy's feedback loop).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.dissemination import guard
from mamori.dissemination.models import (
    TEXT_MAX,
    AcknowledgementRecord,
    Feedback,
    FeedbackRecord,
    ProvisionRecord,
    RecipientRecord,
)
from mamori.dissemination.provisions import load_provision
from mamori.errors import InvalidInput


def _acknowledge(session: Session, principal: Principal, row: ProvisionRecord) -> bool:
    """Record the acknowledgement once; False when it was recorded before."""
    exists = session.scalars(select(AcknowledgementRecord).where(
        AcknowledgementRecord.provision_id == row.id)).first()
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(AcknowledgementRecord(provision_id=row.id,
                                              acknowledged_by=principal.username))
    except IntegrityError:
        return False
    guard.audit(session=session, principal=principal,
                action="dissemination.provision.acknowledged", object_type="provision",
                object_id=row.id, details={"tier": row.tier})
    return True


def acknowledge(*, session: Session, principal: Principal, provision_id: int) -> datetime:
    """The recipient confirms it received the provision; returns when it first did."""
    row = load_provision(session, principal, provision_id, "provision.feedback")
    _acknowledge(session, principal, row)
    ack = session.scalars(select(AcknowledgementRecord).where(
        AcknowledgementRecord.provision_id == row.id)).one()
    return ack.acknowledged_at


def give_feedback(
    *,
    session: Session,
    principal: Principal,
    provision_id: int,
    rating: int,
    action_taken: str,
) -> Feedback:
    """Rate a provision 1–5 and say what was done with it (acknowledges it too)."""
    row = load_provision(session, principal, provision_id, "provision.feedback")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput("the rating is a whole number from 1 to 5", field="rating")
    action_taken = (action_taken or "").strip()
    if not action_taken or len(action_taken) > TEXT_MAX:
        raise InvalidInput(f"say what you did with it (1-{TEXT_MAX} characters)",
                           field="action_taken")
    _acknowledge(session, principal, row)
    record = FeedbackRecord(provision_id=row.id, rating=rating, action_taken=action_taken,
                            given_by=principal.username)
    session.add(record)
    session.flush()
    guard.audit(session=session, principal=principal, action="dissemination.feedback.given",
                object_type="provision", object_id=row.id,
                details={"feedback_id": record.id, "rating": rating,
                         "action_length": len(action_taken)})
    return Feedback.model_validate(record)


@dataclass(frozen=True)
class FeedbackEntry:
    provision_id: int
    recipient: str
    category: str
    tier: int
    acknowledged_at: datetime | None
    ratings: list[Feedback] = field(default_factory=list)


@dataclass(frozen=True)
class ProductFeedback:
    """What the recipients of one product said, provision by provision."""

    product_id: str
    entries: list[FeedbackEntry]

    @property
    def provisions(self) -> int:
        return len(self.entries)

    @property
    def acknowledged(self) -> int:
        return sum(1 for e in self.entries if e.acknowledged_at is not None)

    @property
    def average_rating(self) -> float | None:
        ratings = [f.rating for e in self.entries for f in e.ratings]
        return round(sum(ratings) / len(ratings), 2) if ratings else None


def product_feedback(*, session: Session, principal: Principal, product_id: str
                     ) -> ProductFeedback:
    """Analysts see, per product, who acknowledged, how they rated it and what they did."""
    guard.authorize(session=session, principal=principal, action="feedback.view",
                    resource=guard.resource(guard.PROVISION, product_id))
    entries = []
    for row in session.scalars(select(ProvisionRecord).where(
            ProvisionRecord.product_id == product_id).order_by(ProvisionRecord.id)):
        recipient = session.get(RecipientRecord, row.recipient_id)
        ack = session.scalars(select(AcknowledgementRecord).where(
            AcknowledgementRecord.provision_id == row.id)).first()
        ratings = [Feedback.model_validate(f) for f in session.scalars(
            select(FeedbackRecord).where(FeedbackRecord.provision_id == row.id)
            .order_by(FeedbackRecord.id))]
        entries.append(FeedbackEntry(
            provision_id=row.id, recipient=recipient.code if recipient else "",
            category=row.category, tier=row.tier,
            acknowledged_at=ack.acknowledged_at if ack else None, ratings=ratings))
    return ProductFeedback(product_id=product_id, entries=entries)


def feedback_of(session: Session, provision_id: int) -> tuple[datetime | None, list[Feedback]]:
    """A provision's acknowledgement and feedback (the caller has authorized reading it)."""
    ack = session.scalars(select(AcknowledgementRecord).where(
        AcknowledgementRecord.provision_id == provision_id)).first()
    rows = session.scalars(select(FeedbackRecord).where(
        FeedbackRecord.provision_id == provision_id).order_by(FeedbackRecord.id))
    return (ack.acknowledged_at if ack else None, [Feedback.model_validate(r) for r in rows])

