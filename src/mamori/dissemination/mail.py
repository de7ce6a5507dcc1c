"""E-mail notices of a provision, sent with ``smtplib`` to the recipient's address.

A notice says that something was provided and where to read it; it never carries the
product itself. Tiers 1 and 2 are not even named by title: mail is not a safe channel
for confidential information.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from mamori.dissemination.categories import TIER_NAMES
from mamori.dissemination.settings import DeliverySettings


@dataclass(frozen=True)
class Notice:
    provision_id: int
    tier: int
    title_ja: str
    title_en: str
    language: str
    portal_url: str


def compose(notice: Notice, *, sender: str, to: str) -> EmailMessage:
    tier_ja, tier_en = TIER_NAMES[notice.tier]
    link = f"{notice.portal_url.rstrip('/')}/provisions/{notice.provision_id}"
    if notice.tier == 3:
        subject_ja, subject_en = notice.title_ja, notice.title_en
    else:
        subject_ja = f"情報提供のお知らせ（第{notice.provision_id}号）"
        subject_en = f"Information provided to you (No. {notice.provision_id})"
    ja = (f"{tier_ja}が提供されました。\nポータルで内容を確認し、受領の確認と"
          f"ご意見をお寄せください。\n{link}\n")
    en = (f"{tier_en} (tier {notice.tier}) was provided to you.\nRead it in the portal, "
          f"acknowledge it and tell us what you did with it.\n{link}\n")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="mamori.invalid")
    if notice.language == "ja":
        message["Subject"] = f"[mamori] {subject_ja}"
        message.set_content(f"{ja}\n--\n{en}")
    else:
        message["Subject"] = f"[mamori] {subject_en}"
        message.set_content(f"{en}\n--\n{ja}")
    return message


class MailNotConfigured(Exception):
    """No SMTP server is configured (``MAMORI_SMTP_HOST``)."""


def send(message: EmailMessage, settings: DeliverySettings) -> None:
    """Hand one message to the SMTP server; raises ``smtplib.SMTPException`` or ``OSError``."""
    if not settings.smtp_host:
        raise MailNotConfigured
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username and settings.smtp_password:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)
