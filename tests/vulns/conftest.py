"""A small world for the vulnerability tests: the Cabinet Office, two ministries, two
operators with registered computers, two suppliers, and the people who act for them.

Everything is made through the other domains' services; principals are real value
objects, so every call goes through the real Cedar policies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.audit.models import AuditEntry
from mamori.registry import service as registry
from mamori.registry.entries import ComponentEntry, ComputerEntry
from worlds import seed_organisations

DATA = Path(__file__).parent / "data"
CVE_DIR = DATA / "cve"


@dataclass
class World:
    orgs: dict[str, int] = field(default_factory=dict)
    people: dict[str, Principal] = field(default_factory=dict)
    operators: dict[str, int] = field(default_factory=dict)
    computers: dict[str, int] = field(default_factory=dict)
    components: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Principal:
        return self.people[name]


ORGS = (
    ("cabinet_office", "内閣府", "Cabinet Office", "cabinet_office", None),
    ("meti", "経済産業省", "METI", "supervising_ministry", None),
    ("mlit", "国土交通省", "MLIT", "supervising_ministry", None),
    ("sakura", "さくら電力", "Sakura Electric", "operator", "electricity"),
    ("hikari", "ひかり鉄道", "Hikari Railway", "operator", "railway"),
    ("tsubasa", "つばさシステムズ", "Tsubasa Systems", "supplier", None),
    ("kaede", "かえで工業", "Kaede Industries", "supplier", None),
)
PEOPLE = (
    ("admin", "admin", "cabinet_office"),
    ("analyst", "analyst", "cabinet_office"),
    ("meti", "ministry_liaison", "meti"),
    ("mlit", "ministry_liaison", "mlit"),
    ("sakura", "operator", "sakura"),
    ("hikari", "operator", "hikari"),
    ("tsubasa", "supplier", "tsubasa"),
    ("kaede", "supplier", "kaede"),
)

EMS = [
    ComponentEntry(name="OpenSSH", version="9.6p1",
                   cpe="cpe:2.3:a:openbsd:openssh:9.6p1:*:*:*:*:*:*:*"),
    ComponentEntry(name="log4j-core", version="2.14.1",
                   purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
    ComponentEntry(name="Windows Server 2019",
                   cpe="cpe:2.3:o:microsoft:windows_server_2019:-:*:*:*:*:*:*:*"),
    ComponentEntry(name="openssl", version="3.0.13",
                   cpe="cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*"),
]
RTU = [
    ComponentEntry(name="RTU-500 firmware", version="4.2.1",
                   cpe="cpe:2.3:o:example_controls:rtu-500_firmware:4.2.1:*:*:*:*:*:*:*"),
    ComponentEntry(name="RTU-500", cpe="cpe:2.3:h:example_controls:rtu-500:-:*:*:*:*:*:*:*"),
]
ROUTER = [
    ComponentEntry(name="Archer AX21 firmware", version="1.1.2",
                   cpe="cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.2:*:*:*:*:*:*:*"),
    ComponentEntry(name="Archer AX21", cpe="cpe:2.3:h:tp-link:archer_ax21:3.0:*:*:*:*:*:*:*"),
    ComponentEntry(name="OpenSSH", version="9.8p1",
                   cpe="cpe:2.3:a:openbsd:openssh:9.8p1:*:*:*:*:*:*:*"),
]


def add_computer(session: Session, world: World, operator: str, name: str, category: str,
                 components: list[ComponentEntry]) -> int:
    computer = registry.create_computer(
        session=session, principal=world[operator], operator_id=world.operators[operator],
        entry=ComputerEntry(name=name, device_category=category, components=list(components)))
    world.computers[name] = computer.id
    for component in computer.components:
        world.components[f"{name}/{component.name}"] = component.id
    return computer.id


def build_world(session: Session) -> World:
    world = World()
    orgs, people = seed_organisations(session, orgs=ORGS, people=PEOPLE, prefix="vul")
    world.orgs.update(orgs)
    world.people.update(people)
    for key, name, sector in (("sakura", "さくら電力株式会社", "electricity"),
                              ("hikari", "ひかり鉄道株式会社", "railway")):
        operator = registry.add_operator(session=session, principal=world["admin"], name=name,
                                         name_en=key.title(), sector=sector, organisation=key)
        world.operators[key] = operator.id
    add_computer(session, world, "sakura", "ems-01", "control_server", EMS)
    add_computer(session, world, "sakura", "rtu-01", "rtu", RTU)
    add_computer(session, world, "hikari", "router-01", "router", ROUTER)
    session.flush()
    return world


@pytest.fixture
def world(session: Session) -> World:
    built = build_world(session)
    session.commit()
    return built


def audit_count(session: Session, action: str) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == action)) or 0)


def kev_subset(tmp_path: Path, shared_data: Path, cves: tuple[str, ...],
               version: str = "2025.08.25", name: str = "kev.json") -> Path:
    """A KEV catalogue with only some of the real entries (same schema, same fields)."""
    document: dict[str, Any] = json.loads(
        (shared_data / "kev" / "known_exploited_vulnerabilities.json").read_text("utf-8"))
    entries = [v for v in document["vulnerabilities"] if v["cveID"] in cves]
    document.update(vulnerabilities=entries, count=len(entries), catalogVersion=version)
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path
