"""A small world for the registry tests: the Cabinet Office, two ministries, two
operators in different sectors, and the people who notify, read and answer.

Organisations are made through ``mamori.access.service``; principals are the real
value objects, so every call goes through the real Cedar policies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.audit.models import AuditEntry
from mamori.registry import service
from mamori.registry.entries import ComputerEntry
from worlds import seed_organisations


@dataclass
class World:
    orgs: dict[str, int] = field(default_factory=dict)
    people: dict[str, Principal] = field(default_factory=dict)
    operators: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Principal:
        return self.people[name]


ORGS = (
    ("cabinet_office", "内閣府", "Cabinet Office", "cabinet_office", None),
    ("meti", "経済産業省", "METI", "supervising_ministry", None),
    ("mlit", "国土交通省", "MLIT", "supervising_ministry", None),
    ("sakura", "さくら電力", "Sakura Electric", "operator", "electricity"),
    ("hikari", "ひかり鉄道", "Hikari Railway", "operator", "railway"),
)
PEOPLE = (
    ("admin", "admin", "cabinet_office"),
    ("analyst", "analyst", "cabinet_office"),
    ("meti", "ministry_liaison", "meti"),
    ("mlit", "ministry_liaison", "mlit"),
    ("sakura", "operator", "sakura"),
    ("hikari", "operator", "hikari"),
)


def build_world(session: Session) -> World:
    world = World()
    orgs, people = seed_organisations(session, orgs=ORGS, people=PEOPLE, prefix="reg")
    world.orgs.update(orgs)
    world.people.update(people)
    for key, name, sector in (("sakura", "さくら電力株式会社", "electricity"),
                              ("hikari", "ひかり鉄道株式会社", "railway")):
        operator = service.add_operator(session=session, principal=world["admin"], name=name,
                                        name_en=key.title(), sector=sector, organisation=key)
        world.operators[key] = operator.id
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


def complete_plc(name: str = "plc-1", **changes: object) -> ComputerEntry:
    """An ICS computer with every field the default configuration requires."""
    values: dict[str, object] = {
        "name": name, "device_category": "plc", "site": "Plant A", "facility": "Boiler control",
        "zone": "critical_equipment", "product_vendor": "Example Controls",
        "product_name": "PLC-9", "existing": True,
    }
    values.update(changes)
    return ComputerEntry(**values)  # type: ignore[arg-type]
