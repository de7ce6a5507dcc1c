"""Fixtures of the access tests: a small world of organisations and accounts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from mamori.access import passwords, service
from mamori.access.models import (
    ApiTokenRecord,
    DesignationRecord,
    LoginSessionRecord,
    OrganisationRecord,
    UserRecord,
    UserRoleRecord,
)
from mamori.access.principals import find_user, principal_of
from mamori.audit.models import AuditEntry

from .world import PASSWORD, World


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Real argon2id with small parameters: the tests create many accounts."""
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    passwords._dummy_hash.cache_clear()
    yield
    passwords._dummy_hash.cache_clear()


@pytest.fixture
def world(session: Session, env: Path) -> World:
    boot = service.bootstrap_principal(session=session)
    orgs = {}
    for code, kind in (("cao", "cabinet_office"), ("electric", "operator"),
                       ("railway", "operator")):
        orgs[code] = service.create_organisation(
            session=session, principal=boot, code=code, name_ja=f"{code} 組織",
            name_en=f"{code} organisation", kind=kind,
        ).id
    service.create_user(
        session=session, principal=boot, username="root", display_name="Root",
        roles=["admin"], organisation_id=orgs["cao"], password=PASSWORD,
    )
    session.commit()
    root_user = find_user(session, "root")
    assert root_user is not None
    root = principal_of(session, root_user, mfa=True, via="web")
    return World(session, root, orgs["cao"], orgs["electric"], orgs["railway"])


TABLES = (OrganisationRecord, UserRecord, UserRoleRecord, DesignationRecord, ApiTokenRecord,
          LoginSessionRecord, AuditEntry)


@pytest.fixture
def snapshot(engine: Engine) -> Callable[[], dict[str, int]]:
    """Row counts of every access table and the audit log, read in a fresh session."""

    def take() -> dict[str, int]:
        with Session(engine) as fresh:
            return {
                t.__tablename__: fresh.scalar(select(func.count()).select_from(t)) or 0
                for t in TABLES
            }

    return take


@pytest.fixture
def audit_log(engine: Engine) -> Callable[[], list[AuditEntry]]:
    """The committed audit entries, oldest first."""

    def read() -> list[AuditEntry]:
        with Session(engine, expire_on_commit=False) as fresh:
            return list(fresh.scalars(select(AuditEntry).order_by(AuditEntry.seq)))

    return read
