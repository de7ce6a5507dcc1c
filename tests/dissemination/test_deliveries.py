"""Notices of a provision: HMAC-signed webhooks to a local HTTP server (with a failure,
retries and every attempt recorded) and e-mail through a local SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.dissemination import service, webhooks
from mamori.dissemination.models import DeliveryAttemptRecord
from mamori.dissemination.settings import reset_delivery_settings

from .conftest import World

JOB = Principal.system("dissemination-delivery")


class Receiver:
    """A webhook receiver that answers the statuses it is told to, in order."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver([500])
    yield found
    found.close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("MAMORI_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MAMORI_SMTP_PORT", str(port))
    monkeypatch.setenv("MAMORI_MAIL_FROM", "alerts@mamori.test")
    monkeypatch.setenv("MAMORI_PORTAL_URL", "https://portal.mamori.test")
    reset_delivery_settings()
    yield box
    controller.stop()
    reset_delivery_settings()


def test_signed_webhook_retries_and_email_notice(world: World, receiver: Receiver,
                                                 mailbox: Mailbox) -> None:
    world.entitle()
    service.update_recipient(session=world.session, principal=world.analyst, code="aoba",
                             webhook_url=receiver.url, contact_email="soc@aoba.test")
    made = world.provide("council_member", 2)
    world.session.commit()
    first = service.deliver_pending(session=world.session, principal=JOB)
    world.session.commit()
    by_channel = {d.channel: d for d in first}
    assert by_channel["email"].status == "delivered"
    hook = by_channel["webhook"]
    assert hook.status == "pending" and hook.attempts == 1
    assert hook.next_attempt_at is not None and hook.next_attempt_at > utcnow()
    # Not due yet: nothing is tried.
    assert service.deliver_pending(session=world.session, principal=JOB) == []
    second = service.deliver_pending(session=world.session, principal=JOB,
                                     now=hook.next_attempt_at + timedelta(seconds=1))
    world.session.commit()
    assert [(d.channel, d.status, d.attempts) for d in second] == [("webhook", "delivered", 2)]
    attempts = world.session.scalars(select(DeliveryAttemptRecord).where(
        DeliveryAttemptRecord.delivery_id == hook.id).order_by(DeliveryAttemptRecord.id)).all()
    assert [(a.outcome, a.status_code) for a in attempts] == [("http_error", 500),
                                                              ("delivered", 200)]
    # Both deliveries carry a signature the recipient verifies with its secret.
    secret = service.webhook_secret(session=world.session, principal=world.analyst, code="aoba")
    for headers, body in receiver.requests:
        signature = headers[webhooks.SIGNATURE_HEADER]
        stamp = int(signature.split(",")[0].removeprefix("t="))
        assert webhooks.verify(secret, signature, body, now=stamp)
        assert not webhooks.verify(secret, signature, body + b" ", now=stamp)
        assert not webhooks.verify("whsec_other", signature, body, now=stamp)
        assert not webhooks.verify(secret, signature, body, now=stamp + 3600)
        payload = json.loads(body)
        assert payload["provision"]["id"] == made.id and payload["bundle"]["objects"]
    # The mail says where to read it, never what it is (tier 2).
    [mail] = mailbox.messages
    assert mail["To"] == "soc@aoba.test" and mail["From"] == "alerts@mamori.test"
    text = mail.get_payload(decode=True).decode("utf-8")
    assert f"https://portal.mamori.test/provisions/{made.id}" in text
    assert made.title_ja not in mail["Subject"] and "attacker detail" not in text
    history = service.list_deliveries(session=world.session, principal=world.analyst,
                                      provision_id=made.id)
    assert {d.channel: len(a) for d, a in history} == {"webhook": 2, "email": 1}


def test_a_receiver_that_never_answers_fails_after_the_last_attempt(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMORI_DELIVERY_MAX_ATTEMPTS", "2")
    monkeypatch.delenv("MAMORI_SMTP_HOST", raising=False)
    reset_delivery_settings()
    closed = Receiver([])
    url = closed.url
    closed.close()
    world.entitle()
    service.update_recipient(session=world.session, principal=world.analyst, code="aoba",
                             webhook_url=url)
    world.provide("council_member", 3)
    world.session.commit()
    now = utcnow()
    for step in range(2):
        tried = service.deliver_pending(session=world.session, principal=JOB,
                                        now=now + timedelta(hours=step))
        assert [d.attempts for d in tried] == [step + 1]
    assert tried[0].status == "failed"
    later = now + timedelta(days=1)
    assert service.deliver_pending(session=world.session, principal=JOB, now=later) == []
    outcomes = world.session.scalars(select(DeliveryAttemptRecord.outcome)).all()
    assert outcomes == ["network_error", "network_error"]


def test_delivery_is_for_the_platform_and_analysts_only(world: World) -> None:
    from mamori.errors import Forbidden

    with pytest.raises(Forbidden):
        service.deliver_pending(session=world.session, principal=world.member("aoba"))
    started = time.monotonic()
    assert service.deliver_pending(session=world.session, principal=world.analyst) == []
    assert time.monotonic() - started < 30
