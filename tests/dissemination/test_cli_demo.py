"""``mamori recipient`` and ``mamori provision`` as people run them, and the demo step:
one recipient account per category, one product in three tiers, visible in the portal
and over TAXII, and safe to run twice."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import select

from mamori.audit.models import AuditEntry
from mamori.config import reset_settings_cache
from mamori.dissemination.taxii.params import TAXII_MEDIA
from mamori.errors import MamoriError

from .conftest import World
from .conftest import run_cli as _run


def test_recipient_and_provision_commands(world: World, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    world.account("ana", "analyst", "cao")
    world.account("kaori", "council_member", "aoba")
    analyst, member = world.token("ana"), world.token("kaori")
    world.session.commit()
    shown = _run(monkeypatch, analyst, "ana", "recipient", "matrix", "--json")
    assert json.loads(shown.output)["categories"]["council_member"]["tiers"] == [2, 3]
    refused = _run(monkeypatch, analyst, "ana", "provision", "send", world.product,
                   "--tier", "2", "--to", "aoba", "--purpose", "damage_prevention")
    assert isinstance(refused, MamoriError) and "refused" in refused.detail
    world.session.rollback()
    assert world.session.scalars(select(AuditEntry.object_id).where(
        AuditEntry.action == "dissemination.provision.refused")).all() == ["aoba"]
    done = _run(monkeypatch, analyst, "ana", "recipient", "safeguards", "aoba",
                "--consent-on", "2026-01-05", "--consent-ref", "C-1", "--safeguards-ref",
                "S-1")
    assert "recorded for aoba" in done.output
    sent = _run(monkeypatch, analyst, "ana", "provision", "send", world.product, "--tier",
                "2", "--to", "aoba", "--purpose", "damage_prevention", "--no-notify")
    assert "tier 2 to aoba (Art 45(3))" in sent.output
    listed = _run(monkeypatch, member, "kaori", "provision", "list", "--received", "--json")
    [item] = json.loads(listed.output)
    rated = _run(monkeypatch, member, "kaori", "provision", "feedback", str(item["id"]),
                 "--rating", "5", "--did", "Blocked at the firewall.")
    assert "recorded" in rated.output
    feedback = _run(monkeypatch, analyst, "ana", "provision", "product-feedback",
                    world.product)
    assert json.loads(feedback.output)["average_rating"] == 5
    stats = _run(monkeypatch, analyst, "ana", "provision", "stats", "--from", "2000-01-01",
                 "--until", "2100-01-01")
    assert "council_member tier 2\t1" in stats.output
    denied = _run(monkeypatch, member, "kaori", "provision", "stats", "--from", "2000-01-01",
                  "--until", "2100-01-01")
    assert isinstance(denied, MamoriError)


def test_demo_step(session: Any, env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from mamori.access import demo as access_demo
    from mamori.access import service as access
    from mamori.dissemination import demo

    monkeypatch.setenv("MAMORI_DEMO", "1")
    reset_settings_cache()
    console = Console(record=True, width=200)
    access_demo.seed(session=session, console=console)
    demo.seed(session=session, console=console)
    session.commit()
    demo.seed(session=session, console=console)  # a second run changes nothing
    session.commit()
    assert "demo-agency, demo-foreign, demo-council, demo-sio, demo-public, demo-vendor" in \
        console.export_text().replace("\n", " ")
    from mamori.dissemination import provisions

    tiers: dict[str, set[int]] = {}
    for username in demo.ACCOUNTS:
        principal = access.principal_for_user(session=session, username=username, via="web")
        received = provisions.received(session=session, principal=principal)
        assert len(received) == 1, username
        tiers.setdefault(received[0].category, set()).add(received[0].tier)
    assert len(tiers) == 6 and set().union(*tiers.values()) == {1, 2, 3}
    assert len(provisions.published(session)) == 1
    # Over TAXII, with API tokens of the demo accounts: the council member's tier 2 holds
    # the confidential staging host, the public user's tier 3 does not.
    admin = access.principal_for_user(session=session, username="demo-admin", via="web")
    tokens = {u: access.issue_api_token(session=session, principal=admin, username=u,
                                        name="taxii") for u in ("demo-council", "demo-public")}
    session.commit()
    client = TestClient(create_app_for_demo())
    seen = {}
    for username, token in tokens.items():
        raw = base64.b64encode(f"{username}:{token}".encode()).decode()
        headers = {"Authorization": f"Basic {raw}", "Accept": TAXII_MEDIA}
        [collection] = client.get("/taxii2/mamori/collections/", headers=headers).json()[
            "collections"]
        seen[username] = json.dumps(client.get(
            f"/taxii2/mamori/collections/{collection['id']}/objects/",
            headers=headers).json()["objects"])
    assert "203.0.113.200" in seen["demo-council"]
    assert "203.0.113.200" not in seen["demo-public"] and "192.0.2.10" in seen["demo-public"]
    token = tokens["demo-council"]
    page = client.get("/provisions?lang=en", headers={
        "Authorization": f"Bearer {token}", "Accept": "text/html"})
    assert page.status_code == 200 and "Demo: attack infrastructure" in page.text


def create_app_for_demo() -> Any:
    from mamori.web.app import create_app

    return create_app()
