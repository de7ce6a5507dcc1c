"""The reporting portal in a real headless browser (Debian's chromium driven by
Playwright): an operator files a preliminary report through the form, then an update,
and uploads a report file with the progress bar."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
PASSWORD = "correct horse battery staple"
EXAMPLE = (Path(__file__).resolve().parents[2] / "src" / "mamori" / "reporting" / "examples"
           / "preliminary.json")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("MAMORI_REQUIRE_TOOLS"),
    reason="/usr/bin/chromium is not installed (Debian package chromium)",
)


def _seed() -> dict[str, int]:
    """An operator organisation with one account, and its operator and computer."""
    from mamori.access import service as access
    from mamori.access.principal import Principal
    from mamori.db import session_scope
    from mamori.registry import service as registry

    with session_scope() as session:
        boot = access.bootstrap_principal(session=session)
        cao = access.create_organisation(session=session, principal=boot, code="cao",
                                         name_ja="内閣府", name_en="Cabinet Office",
                                         kind="cabinet_office")
        op_org = access.create_organisation(session=session, principal=boot, code="sakura",
                                            name_ja="さくら電力", name_en="Sakura Electric",
                                            kind="operator", sector="electricity")
        access.create_user(session=session, principal=boot, username="e2e-admin",
                           display_name="Admin", roles=["admin"], organisation_id=cao.id,
                           password=PASSWORD)
        admin = Principal(username="e2e-admin", roles=frozenset({"admin"}), mfa=True,
                          organisation_id=cao.id, organisation_kind="cabinet_office")
        access.create_user(session=session, principal=admin, username="e2e-operator",
                           display_name="Operator", roles=["operator"],
                           organisation_id=op_org.id, password=PASSWORD, language="en")
        operator = registry.add_operator(session=session, principal=admin,
                                         name="さくら電力株式会社", sector="electricity",
                                         organisation="sakura")
        computer = registry.create_computer(
            session=session, principal=admin, operator_id=operator.id,
            entry=registry.ComputerEntry(name="PLC-1", device_category="plc",
                                         zone="critical_equipment", directly_managed=True))
        return {"operator": operator.id, "computer": computer.id}


@pytest.fixture
def portal(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, int]]]:
    """uvicorn on a free loopback port with a fresh SQLite MAMORI_HOME."""
    import uvicorn

    from mamori.config import reset_settings_cache
    from mamori.db import get_engine, init_db
    from mamori.db.session import dispose_engines
    from mamori.web.app import create_app

    monkeypatch.setenv("MAMORI_HOME", str(tmp_path))
    monkeypatch.setenv("MAMORI_DATABASE_URL", f"sqlite:///{tmp_path / 'mamori.db'}")
    monkeypatch.delenv("MAMORI_DEMO", raising=False)
    reset_settings_cache()
    dispose_engines()
    init_db(get_engine())
    ids = _seed()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", ids
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    dispose_engines()
    reset_settings_cache()


def _local(hours_ago: int) -> str:
    from zoneinfo import ZoneInfo

    from mamori.db import utcnow

    return (utcnow() - timedelta(hours=hours_ago)).astimezone(
        ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%dT%H:%M")


def test_file_a_preliminary_report_and_an_update(portal, tmp_path) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, ids = portal
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        page = browser.new_page(locale="en-US")
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{base}/login?lang=en")
        page.fill("#username", "e2e-operator")
        page.fill("#password", PASSWORD)
        page.locator("form[action='/login'] button[type=submit]").click()
        page.wait_for_url(lambda url: "/login" not in url)

        # The form explains what is missing, beside the field, and files nothing.
        page.goto(f"{base}/reports/new?lang=en")
        page.get_by_role("button", name="File the report").click()
        expect(page.locator("#title-errors")).to_contain_text("Enter a title")
        expect(page.locator("#stage-errors")).to_contain_text("Choose the stage")

        page.fill("#f-title", "Suspicious traffic from PLC-1")
        page.fill("#f-detected_at", _local(5))
        page.fill("#f-aware_at", _local(4))
        page.select_option("#f-stage", "detected_inside")
        page.check("input[name=stage_uncertain]")
        page.fill("#f-summary", "PLC-1 talked to an unknown address; under investigation.")
        page.check("input[name=summary_uncertain]")
        page.fill("input[name=impact_not_obtainable]", "The vendor has not answered yet.")
        page.check(f"input[name=computer_{ids['computer']}]")
        page.fill("#f-techniques", "T0869, T0886?")
        page.fill("#f-indicators", "ipv4-addr 203.0.113.45\ndomain-name c2.example.net ?")
        page.get_by_role("button", name="File the report").click()
        page.wait_for_url("**/reports/*?filed=1")
        expect(page.locator(".current-version")).to_have_text("Version 1")
        expect(page.locator("body")).to_contain_text("Preliminary report filed")
        expect(page.locator("body")).to_contain_text("Reportable")

        # The update starts from the last version; the operator adds what it learned.
        page.get_by_role("link", name="File an update").click()
        expect(page.locator("#f-title")).to_have_value("Suspicious traffic from PLC-1")
        page.select_option("#f-stage", "confirmed_compromise")
        page.uncheck("input[name=stage_uncertain]")
        page.fill("#f-summary", "The maintenance laptop was compromised and relayed traffic.")
        page.uncheck("input[name=summary_uncertain]")
        page.get_by_role("button", name="File the report").click()
        page.wait_for_url("**/reports/*?filed=1")
        expect(page.locator(".current-version")).to_have_text("Version 2")
        expect(page.locator("#v1")).to_contain_text("uncertain")
        expect(page.locator("#v2")).to_contain_text("Intrusion confirmed")

        # A report file, uploaded with the progress bar.
        report = tmp_path / "report.json"
        doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
        doc.update(computers=[ids["computer"]],
                   detected_at=_local(3) + ":00+09:00", aware_at=_local(2) + ":00+09:00")
        report.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        page.goto(f"{base}/reports/upload?lang=en")
        page.set_input_files("#u-file", str(report))
        page.get_by_role("button", name="Upload and file").click()
        page.wait_for_url("**/reports/*?filed=1")
        expect(page.locator(".current-version")).to_have_text("Version 1")
        browser.close()
    assert not [e for e in errors if "Content Security Policy" in e]
