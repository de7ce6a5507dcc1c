"""Notices of a provision by webhook and e-mail, with every attempt recorded.

A provision schedules its notices in its own transaction; sending happens afterwards
(``deliver_pending``), so that a slow or failing receiver never holds up or undoes a
provision. A failed attempt is retried with exponential back-off up to the configured
number of attempts; each attempt is a row (when, outcome, HTTP status — never a body).
"""

from __future__ import annotations

import smtplib
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.dissemination import guard, keys, mail, objects, webhooks
from mamori.dissemination.models import (
    Delivery,
    DeliveryAttemptRecord,
    DeliveryRecord,
    ProvisionRecord,
    RecipientRecord,
)
from mamori.dissemination.settings import DeliverySettings, delivery_settings

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
WEBHOOK = "webhook"
EMAIL = "email"


def schedule(session: Session, provision: ProvisionRecord, recipient: RecipientRecord) -> int:
    """Create the notices a provision needs; returns how many."""
    now = utcnow()
    targets = []
    if recipient.webhook_url:
        targets.append((WEBHOOK, recipient.webhook_url))
    if recipient.contact_email:
        targets.append((EMAIL, recipient.contact_email))
    for channel, target in targets:
        session.add(DeliveryRecord(provision_id=provision.id, channel=channel, target=target,
                                   status=PENDING, attempts=0, next_attempt_at=now))
    session.flush()
    return len(targets)


def _payload(session: Session, provision: ProvisionRecord, recipient: RecipientRecord
             ) -> dict[str, object]:
    return {
        "event": webhooks.EVENT,
        "provision": {
            "id": provision.id, "recipient": recipient.code, "category": provision.category,
            "product_id": provision.product_id, "product_version": provision.product_version,
            "tier": provision.tier, "title_ja": provision.title_ja,
            "title_en": provision.title_en, "purpose": provision.purpose,
            "legal_basis": provision.legal_basis, "digest": provision.digest,
            "provided_at": provision.provided_at.isoformat(),
        },
        "bundle": {"type": "bundle", "id": f"bundle--{_bundle_uuid(provision)}",
                   "objects": objects.of_provision(session, provision.id)},
    }


def _bundle_uuid(provision: ProvisionRecord) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mamori:provision:{provision.id}"))


def _attempt(session: Session, delivery: DeliveryRecord, settings: DeliverySettings,
             now: datetime) -> tuple[str, int | None]:
    provision = session.get(ProvisionRecord, delivery.provision_id)
    assert provision is not None
    recipient = session.get(RecipientRecord, provision.recipient_id)
    assert recipient is not None
    if delivery.channel == WEBHOOK:
        secret = keys.webhook_secret(session, recipient.code, recipient.webhook_key_generation)
        result = webhooks.post(delivery.target, body=webhooks.encode(
            _payload(session, provision, recipient)), secret=secret, delivery_id=delivery.id,
            timestamp=int(now.timestamp()), timeout=settings.webhook_timeout_seconds)
        return result.outcome, result.status_code
    notice = mail.Notice(provision_id=provision.id, tier=provision.tier,
                         title_ja=provision.title_ja, title_en=provision.title_en,
                         language=recipient.language, portal_url=settings.portal_url)
    try:
        mail.send(mail.compose(notice, sender=settings.mail_from, to=delivery.target), settings)
    except mail.MailNotConfigured:
        return "mail_not_configured", None
    except smtplib.SMTPResponseException as exc:
        return "smtp_error", exc.smtp_code
    except (smtplib.SMTPException, OSError):
        return "smtp_error", None
    return DELIVERED, 250


def deliver_pending(
    *,
    session: Session,
    principal: Principal,
    provision_id: int | None = None,
    now: datetime | None = None,
) -> list[Delivery]:
    """Try every notice that is due (of one provision, or all); returns those tried."""
    guard.authorize(session=session, principal=principal, action="provision.deliver",
                    resource=guard.resource(guard.DOMAIN))
    settings = delivery_settings()
    now = now or utcnow()
    query = select(DeliveryRecord).where(DeliveryRecord.status == PENDING,
                                         DeliveryRecord.next_attempt_at <= now)
    if provision_id is not None:
        query = query.where(DeliveryRecord.provision_id == provision_id)
    tried: list[Delivery] = []
    for delivery in session.scalars(query.order_by(DeliveryRecord.id)).all():
        outcome, code = _attempt(session, delivery, settings, now)
        delivery.attempts += 1
        session.add(DeliveryAttemptRecord(delivery_id=delivery.id, attempted_at=now,
                                          outcome=outcome, status_code=code))
        if outcome == DELIVERED:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = \
                DELIVERED, now, None
        elif delivery.attempts >= settings.delivery_max_attempts:
            delivery.status, delivery.next_attempt_at = FAILED, None
        else:
            delivery.next_attempt_at = now + timedelta(
                seconds=settings.delivery_backoff_seconds * 2 ** (delivery.attempts - 1))
        session.flush()
        guard.audit(session=session, principal=principal,
                    action="dissemination.delivery.attempted",
                    object_type="provision", object_id=delivery.provision_id,
                    details={"delivery_id": delivery.id, "channel": delivery.channel,
                             "attempt": delivery.attempts, "outcome": outcome,
                             "status": delivery.status, "status_code": code})
        tried.append(Delivery.model_validate(delivery))
    return tried


def list_deliveries(
    *, session: Session, principal: Principal, provision_id: int
) -> list[tuple[Delivery, list[tuple[datetime, str, int | None]]]]:
    """A provision's notices and their attempts (analysts, inspectors)."""
    guard.authorize(session=session, principal=principal, action="provision.view",
                    resource=guard.resource(guard.PROVISION, provision_id))
    found = []
    for delivery in session.scalars(select(DeliveryRecord).where(
            DeliveryRecord.provision_id == provision_id).order_by(DeliveryRecord.id)):
        attempts = [(a.attempted_at, a.outcome, a.status_code) for a in session.scalars(
            select(DeliveryAttemptRecord).where(
                DeliveryAttemptRecord.delivery_id == delivery.id)
            .order_by(DeliveryAttemptRecord.id))]
        found.append((Delivery.model_validate(delivery), attempts))
    return found
