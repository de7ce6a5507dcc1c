"""Recipients: an organisation in one of the six categories, how it is reached, and whom
its own contributions may name it to.

A person acts for the recipients of their organisation. The public site is a recipient
too (category "computer users and the public", ``publishes``): what is provided to it
is published on ``/public``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access import service as access_service
from mamori.access.principal import Principal
from mamori.dissemination import categories as cat
from mamori.dissemination import guard
from mamori.dissemination.models import (
    EMAIL_MAX,
    NAME_MAX,
    URL_MAX,
    Recipient,
    RecipientRecord,
)
from mamori.errors import Conflict, InvalidInput, NotFound

_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{1,63}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}|[^@\s]{1,64}@localhost")
_ORG_KEY = re.compile(r"organisation:\d{1,12}")
LANGUAGES = ("ja", "en")


def check_email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > EMAIL_MAX or not _EMAIL.fullmatch(value):
        raise InvalidInput("the contact e-mail address is not valid", field="contact_email")
    return value


def check_webhook_url(value: str | None) -> str | None:
    """An http(s) URL with a host, or None; nothing else is ever called."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    parts = urlsplit(value)
    if len(value) > URL_MAX or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("the webhook URL must be an http or https URL with a host",
                           field="webhook_url")
    if parts.username or parts.password:
        raise InvalidInput("the webhook URL must not carry credentials", field="webhook_url")
    return value


def check_consent(value: list[str] | tuple[str, ...] | None) -> list[str]:
    """Audience keys a contributor consents to be named to: a category,
    ``organisation:<id>`` or ``*`` (everyone)."""
    chosen = sorted({v.strip() for v in value or () if v.strip()})
    for key in chosen:
        if key != "*" and not _ORG_KEY.fullmatch(key):
            cat.category(key)
    return chosen


def view(row: RecipientRecord) -> Recipient:
    return Recipient.model_validate(row)


def _resource(row: RecipientRecord | None, code: str) -> guard.Resource:
    return guard.resource(guard.RECIPIENT, code,
                          organisation_id=row.organisation_id if row is not None else None,
                          active_recipient=bool(row is not None and row.active))


def find(session: Session, code: str) -> RecipientRecord | None:
    return session.scalars(select(RecipientRecord).where(RecipientRecord.code == code)).first()


def load(session: Session, principal: Principal, code: str, action: str) -> RecipientRecord:
    """The recipient ``code`` once ``action`` on it is authorized (authorization first, so
    that the answer does not reveal which recipients exist)."""
    row = find(session, code)
    guard.authorize(session=session, principal=principal, action=action,
                    resource=_resource(row, code))
    if row is None:
        raise NotFound(f"no recipient {code[:64]!r}", field="recipient")
    return row


def create_recipient(
    *,
    session: Session,
    principal: Principal,
    code: str,
    category: str,
    name_ja: str,
    name_en: str,
    organisation: str | None = None,
    publishes: bool = False,
    language: str = "ja",
    contact_email: str | None = None,
    webhook_url: str | None = None,
    attribution_consent: list[str] | tuple[str, ...] | None = None,
) -> Recipient:
    """Register a recipient (``organisation`` is an organisation code or id)."""
    guard.authorize(session=session, principal=principal, action="recipient.manage",
                    resource=guard.resource(guard.RECIPIENT, code))
    if not _CODE.fullmatch(code):
        raise InvalidInput("a recipient code is 2-64 characters of a-z, 0-9, '_' and '-'",
                           field="code")
    kind = cat.category(category)
    for field, value in (("name_ja", name_ja), ("name_en", name_en)):
        if not value.strip() or len(value) > NAME_MAX:
            raise InvalidInput(f"{field} must have 1-{NAME_MAX} characters", field=field)
    if language not in LANGUAGES:
        raise InvalidInput("the language is ja or en", field="language")
    if publishes and (kind.code != cat.COMPUTER_USER_PUBLIC or organisation):
        raise InvalidInput("only the public site publishes: category computer_user_public and "
                           "no organisation", field="publishes")
    if not publishes and not organisation:
        raise InvalidInput("a recipient acts through an organisation: name one",
                           field="organisation")
    organisation_id = None
    if organisation:
        organisation_id = access_service.get_organisation(
            session=session, principal=principal, code=organisation).id
    email = check_email(contact_email)
    url = check_webhook_url(webhook_url)
    consent = check_consent(attribution_consent)
    if find(session, code) is not None:
        raise Conflict(f"recipient {code} exists already", field="code")
    if organisation_id is not None and session.scalars(select(RecipientRecord).where(
            RecipientRecord.organisation_id == organisation_id,
            RecipientRecord.category == kind.code)).first() is not None:
        raise Conflict("this organisation is a recipient of this category already",
                       field="organisation")
    row = RecipientRecord(
        code=code, category=kind.code, name_ja=name_ja.strip(), name_en=name_en.strip(),
        organisation_id=organisation_id, publishes=publishes, language=language,
        contact_email=email, webhook_url=url, attribution_consent=consent, active=True,
        created_by=principal.username,
    )
    session.add(row)
    session.flush()
    guard.audit(session=session, principal=principal, action="dissemination.recipient.added",
                object_type="recipient", object_id=code, legal_basis=kind.article,
                details={"category": kind.code, "organisation_id": organisation_id,
                         "publishes": publishes, "webhook": url is not None,
                         "email": email is not None, "attribution_consent": consent})
    return view(row)


def update_recipient(
    *,
    session: Session,
    principal: Principal,
    code: str,
    contact_email: str | None = None,
    webhook_url: str | None = None,
    attribution_consent: list[str] | tuple[str, ...] | None = None,
    language: str | None = None,
    active: bool | None = None,
    rotate_webhook_secret: bool = False,
) -> Recipient:
    """Change how a recipient is reached, whom it consents to be named to, or deactivate it.

    ``None`` leaves a field as it is; an empty string clears an address."""
    row = load(session, principal, code, "recipient.manage")
    changed: dict[str, object] = {}
    if contact_email is not None:
        row.contact_email = check_email(contact_email)
        changed["email"] = row.contact_email is not None
    if webhook_url is not None:
        row.webhook_url = check_webhook_url(webhook_url)
        changed["webhook"] = row.webhook_url is not None
    if attribution_consent is not None:
        row.attribution_consent = check_consent(attribution_consent)
        changed["attribution_consent"] = row.attribution_consent
    if language is not None:
        if language not in LANGUAGES:
            raise InvalidInput("the language is ja or en", field="language")
        row.language = language
        changed["language"] = language
    if active is not None:
        row.active = active
        changed["active"] = active
    if rotate_webhook_secret:
        row.webhook_key_generation += 1
        changed["webhook_key_generation"] = row.webhook_key_generation
    if not changed:
        raise InvalidInput("nothing to change", field="recipient")
    session.flush()
    guard.audit(session=session, principal=principal, action="dissemination.recipient.changed",
                object_type="recipient", object_id=code, details=changed)
    return view(row)


def list_recipients(
    *, session: Session, principal: Principal, category: str | None = None
) -> list[Recipient]:
    guard.authorize(session=session, principal=principal, action="recipient.view",
                    resource=guard.resource(guard.RECIPIENT))
    query = select(RecipientRecord).order_by(RecipientRecord.category, RecipientRecord.code)
    if category is not None:
        query = query.where(RecipientRecord.category == cat.category(category).code)
    return [view(r) for r in session.scalars(query)]


def get_recipient(*, session: Session, principal: Principal, code: str) -> Recipient:
    return view(load(session, principal, code, "recipient.view"))


def webhook_secret(*, session: Session, principal: Principal, code: str) -> str:
    """The secret that verifies this recipient's webhook signatures (managers only)."""
    from mamori.dissemination.keys import webhook_secret as derive

    row = load(session, principal, code, "recipient.manage")
    guard.audit(session=session, principal=principal,
                action="dissemination.recipient.webhook_secret_shown", object_type="recipient",
                object_id=code, details={"generation": row.webhook_key_generation})
    return derive(session, row.code, row.webhook_key_generation)
