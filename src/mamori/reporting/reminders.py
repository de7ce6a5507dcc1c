"""Reminders before report deadlines, and overdue notices, in the portal.

``send_due_reminders`` is the job behind ``mamori report remind``: it may run as often
as wanted, because each notice has a key and is stored once (no reminder is sent twice).
E-mail delivery can later read the same table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.audit import service as audit
from mamori.db import utcnow
from mamori.errors import NotFound
from mamori.reporting.access_rules import authorize_collection
from mamori.reporting.deadlines import due_reminders
from mamori.reporting.lifecycle import versions_of
from mamori.reporting.models import Incident, Notification, NotificationOut
from mamori.reporting.queries import deadlines_of
from mamori.reporting.workflows import load_workflows


def send_due_reminders(
    *, session: Session, principal: Principal, now: datetime | None = None
) -> list[NotificationOut]:
    """Record every reminder and overdue notice that is due and not yet sent."""
    authorize_collection(session=session, principal=principal, action="report.remind")
    now = now or utcnow()
    hours = load_workflows().reminder_hours
    sent: list[Notification] = []
    open_incidents = session.scalars(
        select(Incident).where(Incident.phase != "final").order_by(Incident.id)
    )
    for incident in open_incidents:
        deadlines = deadlines_of(incident, versions_of(session, incident))
        for reminder in due_reminders(deadlines, hours, now):
            key = reminder.key(incident.id)
            if session.scalar(select(Notification.id).where(Notification.dedupe_key == key)):
                continue
            notice = Notification(
                organisation_id=incident.organisation_id, incident_id=incident.id,
                kind="overdue" if reminder.overdue else "reminder",
                report_kind=reminder.kind, due_at=reminder.due_at,
                lead_hours=reminder.lead_hours, dedupe_key=key, created_at=now,
            )
            session.add(notice)
            sent.append(notice)
    session.flush()
    if sent:
        audit.record(
            session=session, actor=principal.username, action="report.reminders_sent",
            object_type="incident_report",
            details={"count": len(sent),
                     "notices": [{"incident_id": n.incident_id, "kind": n.kind,
                                  "report_kind": n.report_kind} for n in sent[:200]]},
        )
    return [NotificationOut.model_validate(n) for n in sent]


def list_notifications(
    *, session: Session, principal: Principal, unread_only: bool = False
) -> list[NotificationOut]:
    """The notices of the principal's own organisation, newest first."""
    authorize_collection(session=session, principal=principal, action="report.notifications",
                         organisation_id=principal.organisation_id)
    query = (select(Notification)
             .where(Notification.organisation_id == principal.organisation_id)
             .order_by(Notification.created_at.desc(), Notification.id.desc()))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return [NotificationOut.model_validate(n) for n in session.scalars(query)]


def mark_notification_read(
    *, session: Session, principal: Principal, notification_id: int
) -> NotificationOut:
    notice = session.get(Notification, notification_id)
    if notice is None:
        raise NotFound(f"no notification {notification_id}", field="notification")
    authorize_collection(session=session, principal=principal, action="report.notifications",
                         organisation_id=notice.organisation_id)
    if notice.read_at is None:
        notice.read_at = utcnow()
        session.flush()
    return NotificationOut.model_validate(notice)
