"""A small world for the reporting tests: the Cabinet Office, two ministries, two
operators with computers in the registry, and the people who file and receive reports.

Organisations and accounts are made through ``mamori.access.service``, operators and
computers through ``mamori.registry.service``; principals are the real value objects
whose roles go through the real Cedar policies on every call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.audit.models import AuditEntry

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "mamori" / "reporting" / "examples"
PASSWORD = "correct horse battery staple"
NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


@dataclass
class World:
    orgs: dict[str, int] = field(default_factory=dict)
    people: dict[str, Principal] = field(default_factory=dict)
    operators: dict[str, int] = field(default_factory=dict)
    computers: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Principal:
        return self.people[name]


def example(name: str, **changes: Any) -> dict[str, Any]:
    doc = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    doc["computers"] = []  # the examples' ids are the demo's; tests name their own
    doc.pop("incident", None)
    doc.update(changes)
    return doc


def audit_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def audit_count(session: Session, action: str) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == action)) or 0)


def _person(name: str, role: str, org_id: int, kind: str) -> Principal:
    return Principal(username=name, roles=frozenset({role}), organisation_id=org_id,
                     organisation_kind=kind, mfa=True)


def build_world(session: Session, *, accounts: bool = False) -> World:
    """Organisations, operators and computers; ``accounts`` also makes a user per person
    (needed only for API tokens: password hashing is slow on purpose)."""
    from mamori.access import service as access
    from mamori.registry import service as registry

    world = World()
    boot = access.bootstrap_principal(session=session)
    orgs = [
        ("cabinet_office", "内閣府", "Cabinet Office", "cabinet_office", None),
        ("meti", "経済産業省", "METI", "supervising_ministry", None),
        ("mlit", "国土交通省", "MLIT", "supervising_ministry", None),
        ("sakura", "さくら電力", "Sakura Electric", "operator", "electricity"),
        ("hikari", "ひかり鉄道", "Hikari Railway", "operator", "railway"),
        ("aoba", "あおばセキュリティ", "Aoba Security", "council_member", None),
    ]
    for code, ja, en, kind, sector in orgs:
        org = access.create_organisation(session=session, principal=boot, code=code,
                                         name_ja=ja, name_en=en, kind=kind, sector=sector)
        world.orgs[code] = int(org.id)
    if accounts:
        access.create_user(session=session, principal=boot, username="r-admin",
                           display_name="Admin", roles=["admin"],
                           organisation_id=world.orgs["cabinet_office"], password=PASSWORD)
        session.flush()
    admin = _person("r-admin", "admin", world.orgs["cabinet_office"], "cabinet_office")
    people = [
        ("r-analyst", "analyst", "cabinet_office"),
        ("r-meti", "ministry_liaison", "meti"),
        ("r-mlit", "ministry_liaison", "mlit"),
        ("r-sakura", "operator", "sakura"),
        ("r-hikari", "operator", "hikari"),
        ("r-aoba", "council_member", "aoba"),
    ]
    world.people["admin"] = admin
    kinds = {code: kind for code, _, _, kind, _ in orgs}
    for username, role, org in people:
        if accounts:
            access.create_user(session=session, principal=admin, username=username,
                               display_name=username, roles=[role],
                               organisation_id=world.orgs[org], password=PASSWORD)
        world.people[username.removeprefix("r-")] = _person(
            username, role, world.orgs[org], kinds[org])
    session.flush()
    for key, name, sector, org in (("sakura", "さくら電力株式会社", "electricity", "sakura"),
                                   ("hikari", "ひかり鉄道株式会社", "railway", "hikari")):
        operator = registry.add_operator(session=session, principal=admin, name=name,
                                         name_en=key.title(), sector=sector, organisation=org)
        world.operators[key] = operator.id
    computers = [
        ("plc", "sakura", "PLC-1", "plc", "critical_equipment", True),
        ("fw", "sakura", "FW-1", "firewall", "internet_boundary", True),
        ("vendor", "sakura", "Vendor-HMI", "hmi", "critical_equipment", False),
        ("rail", "hikari", "Signal-1", "plc", "critical_equipment", True),
    ]
    for key, operator, name, category, zone, managed in computers:
        entry = registry.ComputerEntry(name=name, device_category=category, zone=zone,
                                       directly_managed=managed,
                                       manager_name=None if managed else "Vendor Co.",
                                       manager_contact=None if managed else "vendor@example.jp")
        computer = registry.create_computer(session=session, principal=admin,
                                            operator_id=world.operators[operator], entry=entry)
        world.computers[key] = computer.id
    session.flush()
    return world


@pytest.fixture
def world(session: Session) -> World:
    built = build_world(session)
    session.commit()
    return built


@dataclass
class WebWorld:
    world: World
    tokens: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def web_world(env) -> WebWorld:
    """The world in the database the settings point at, with an API token per person."""
    from mamori.access import service as access
    from mamori.db import session_scope

    with session_scope() as session:
        built = build_world(session, accounts=True)
    tokens = {}
    with session_scope() as session:
        for who in ("sakura", "hikari", "analyst", "meti", "mlit", "admin"):
            principal = built[who]
            tokens[who] = access.issue_api_token(session=session, principal=principal,
                                                 username=principal.username, name="test")
    return WebWorld(built, tokens)


@pytest.fixture
def client(env):
    from fastapi.testclient import TestClient

    from mamori.config import reset_settings_cache
    from mamori.web.app import create_app

    reset_settings_cache()
    return TestClient(create_app(), follow_redirects=False)


@pytest.fixture
def live_server(env):
    """The app served by uvicorn on a free loopback port, on the test database."""
    import socket
    import threading
    import time

    import uvicorn

    from mamori.config import reset_settings_cache
    from mamori.web.app import create_app

    reset_settings_cache()
    app = create_app()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
