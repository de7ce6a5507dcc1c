"""In-portal notices of the vulnerability domain: a new match, a vulnerability now
exploited in Japan, a case sent to a supplier, a request for measures.

Each notice is addressed to one organisation and stored once (``dedupe_key``); the
operator's supervising ministry gets a copy of what its operators get (R-5.2-9).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.errors import NotFound
from mamori.registry import service as registry
from mamori.vulns import guard
from mamori.vulns.models import NotificationOut, Vulnerability, VulnNotification

KINDS = {
    "new_match": ("新たに該当する脆弱性", "Newly matching vulnerability"),
    "exploited_in_japan": ("国内での悪用を確認", "Exploitation in Japan confirmed"),
    "case_sent": ("公表前の脆弱性の連絡", "Undisclosed vulnerability notified"),
    "measure_request": ("措置の要請（法第42条）", "Request for measures (Art 42)"),
    "case_update": ("調整案件の更新", "Coordination case updated"),
}


def send(
    session: Session, *, organisation_id: int | None, kind: str, subject: str, key: str,
    operator_id: int | None = None, vulnerability_id: int | None = None,
    case_id: int | None = None, computers: int = 0,
) -> bool:
    """Store one notice unless it was sent before; True when stored."""
    if organisation_id is None:
        return False
    dedupe = f"{kind}:{organisation_id}:{key}"[:200]
    if session.scalars(select(VulnNotification.id).where(
            VulnNotification.dedupe_key == dedupe)).first():
        return False
    session.add(VulnNotification(
        organisation_id=organisation_id, operator_id=operator_id, kind=kind,
        vulnerability_id=vulnerability_id, case_id=case_id, subject=subject[:300],
        computers=computers, dedupe_key=dedupe))
    session.flush()
    return True


def to_operator(
    *, session: Session, principal: Principal, operator_id: int, kind: str,
    vulnerability: Vulnerability, computers: int = 0,
) -> int:
    """The notice to an operator's organisation and to its supervising ministry."""
    operator = registry.get_operator(session=session, principal=principal,
                                     operator_id=operator_id)
    ministry = registry.operator_supervising_ministry(session=session, principal=principal,
                                                      operator_id=operator_id)
    sent = 0
    for organisation in (operator.organisation_id, ministry.organisation_id):
        sent += send(session, organisation_id=organisation, kind=kind,
                     subject=vulnerability.key, key=f"{operator_id}:{vulnerability.id}",
                     operator_id=operator_id, vulnerability_id=vulnerability.id,
                     computers=computers)
    return sent  # the caller's audit entry counts the notices it caused


def list_notifications(
    *, session: Session, principal: Principal, unread_only: bool = False
) -> list[NotificationOut]:
    """The notices of the principal's own organisation, newest first."""
    guard.authorize(session=session, principal=principal, action="vulns.notifications",
                    resource=guard.domain(principal.organisation_id))
    query = (select(VulnNotification)
             .where(VulnNotification.organisation_id == principal.organisation_id)
             .order_by(VulnNotification.created_at.desc(), VulnNotification.id.desc()))
    if unread_only:
        query = query.where(VulnNotification.read_at.is_(None))
    return [NotificationOut.model_validate(n) for n in session.scalars(query)]


def mark_read(*, session: Session, principal: Principal, notification_id: int) -> NotificationOut:
    notice = session.get(VulnNotification, notification_id)
    if notice is None:
        raise NotFound(f"no notification {notification_id}", field="notification")
    guard.authorize(session=session, principal=principal, action="vulns.notifications",
                    resource=guard.domain(notice.organisation_id))
    if notice.read_at is None:
        notice.read_at = utcnow()
        session.flush()
    return NotificationOut.model_validate(notice)
