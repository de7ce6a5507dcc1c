"""Notifications to the oversight committee (Art 30).

Which events produce a notification is a regulatory parameter (``notification_triggers``);
each notification is stored once (a dedupe key per event and object) and logged in the
audit trail in the transaction of the event that caused it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.governance import constants as c
from mamori.governance.guard import audit, authorize
from mamori.governance.models import Measure, Notification
from mamori.governance.parameter_values import current_value


def triggers(session: Session) -> list[str]:
    _, value = current_value(session, c.PARAM_NOTIFICATION_TRIGGERS)
    return [str(v) for v in value]


def emit(
    *,
    session: Session,
    principal: Principal,
    event: str,
    object_type: str,
    object_id: str,
    occurred_at: datetime,
    details: dict[str, Any] | None = None,
    key: str = "",
) -> Notification | None:
    """Generate the notification for ``event`` if configured and not yet generated."""
    if event not in triggers(session):
        return None
    dedupe_key = f"{event}:{object_type}:{object_id}:{key}"
    existing = session.scalars(
        select(Notification).where(Notification.dedupe_key == dedupe_key)
    ).first()
    if existing is not None:
        return None
    body = dict(details or {})
    notification = Notification(
        dedupe_key=dedupe_key,
        event=event,
        object_type=object_type,
        object_id=object_id,
        occurred_at=occurred_at,
        created_at=utcnow(),
        details=body,
    )
    session.add(notification)
    session.flush()
    audit(
        session=session,
        principal=principal,
        action="governance.notification.generated",
        object_type="committee_notification",
        object_id=str(notification.id),
        legal_basis="Art 30",
        details={"event": event, "object_type": object_type, "object_id": object_id,
                 "occurred_at": occurred_at.isoformat(), **body},
    )
    return notification


def sweep(*, session: Session, principal: Principal, at: datetime | None = None) -> int:
    """Generate the notifications that the passing of time caused (a measure whose last
    approved term ran out has ended). Idempotent; returns how many were generated."""
    at = at or utcnow()
    generated = 0
    for measure in session.scalars(select(Measure)).all():
        approved = [t for t in measure.terms if t.status == c.TERM_APPROVED]
        if not approved or measure.ended_at is not None:
            continue
        last = max(approved, key=lambda t: t.ends_at)
        if last.ends_at <= at and not any(
            t.status == c.TERM_REQUESTED and t.starts_at >= last.ends_at for t in measure.terms
        ):
            made = emit(
                session=session, principal=principal, event=c.EVENT_MEASURE_ENDED,
                object_type="measure", object_id=measure.id, occurred_at=last.ends_at,
                details={"article": measure.article, "term": last.seq, "cause": "period_elapsed"},
                key=f"term{last.seq}",
            )
            generated += made is not None
    return generated


def list_notifications(
    *,
    session: Session,
    principal: Principal,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Notification]:
    authorize(session=session, principal=principal, action="oversight.view",
              resource_type="governance.oversight")
    query = select(Notification).order_by(Notification.occurred_at, Notification.id)
    if since is not None:
        query = query.where(Notification.occurred_at >= since)
    if until is not None:
        query = query.where(Notification.occurred_at < until)
    return list(session.scalars(query).all())
