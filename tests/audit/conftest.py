"""Audit test helpers: a private key folder per test, and lifting the append-only guard
the way an attacker with database administrator rights would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from mamori.config import reset_settings_cache


@pytest.fixture(autouse=True)
def audit_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Keys go under a fresh MAMORI_HOME, never the real one (``env`` overrides it)."""
    home = tmp_path / "audit-home"
    home.mkdir()
    monkeypatch.setenv("MAMORI_HOME", str(home))
    reset_settings_cache()
    yield home
    reset_settings_cache()


def _guards(engine: Engine) -> list[tuple[str, str, str]]:
    """(trigger, table, definition) of every trigger on the audit tables."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            query = (
                "SELECT tgname, tgrelid::regclass::text, pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE :tables"
            )
        else:
            query = (
                "SELECT name, tbl_name, sql FROM sqlite_master "
                "WHERE type = 'trigger' AND tbl_name LIKE :tables"
            )
        rows = conn.execute(text(query), {"tables": "audit%"}).all()
    return [(r[0], r[1], r[2]) for r in rows]


@contextmanager
def _lifted(engine: Engine) -> Iterator[None]:
    guards = _guards(engine)
    assert guards, "the migration installs append-only triggers"
    with engine.begin() as conn:
        for name, table, _ in guards:
            on = f" ON {table}" if engine.dialect.name == "postgresql" else ""
            conn.exec_driver_sql(f'DROP TRIGGER "{name}"{on}')
    try:
        yield
    finally:
        with engine.begin() as conn:
            # A pooled SQLite connection checks CREATE against its cached schema, which
            # may predate the DROP above; reading the schema table refreshes it.
            conn.execute(text("SELECT count(*) FROM sqlite_master" if
                              engine.dialect.name == "sqlite" else "SELECT 1")).all()
            for _, _, definition in guards:
                conn.exec_driver_sql(definition)


@pytest.fixture
def guards_lifted(engine: Engine) -> Callable[[], AbstractContextManager[None]]:
    """``with guards_lifted(): ...`` runs with the audit triggers dropped, then restores them."""
    return lambda: _lifted(engine)


@pytest.fixture
def audit_cli(env: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """``audit_cli("verify", user="inspector")`` runs ``mamori --as USER audit verify``
    with that user's real API token; users: inspector (committee_inspector), analyst,
    created (and audited) on first use."""
    from typer.testing import CliRunner

    from mamori.access import service as access_service
    from mamori.access.principal import Principal
    from mamori.cli.main import app
    from mamori.db import session_scope

    tokens: dict[str, str] = {}

    def create_users() -> None:
        with session_scope() as session:
            bootstrap = access_service.bootstrap_principal(session=session)
            org = access_service.create_organisation(
                session=session, principal=bootstrap, code="oversight",
                name_ja="サイバー通信情報監理委員会", name_en="Oversight Committee",
                kind="oversight_committee",
            )
            access_service.create_user(
                session=session, principal=bootstrap, username="root", display_name="Root",
                roles=["admin"], organisation_id=org.id, password="a long admin passphrase",
            )
            admin = Principal(username="root", roles=frozenset({"admin"}),
                              organisation_id=org.id)
            for username, role in (("inspector", "committee_inspector"), ("analyst", "analyst")):
                access_service.create_user(
                    session=session, principal=admin, username=username,
                    display_name=username, roles=[role], organisation_id=org.id,
                    password=f"{username} passphrase 123",
                )
                tokens[username] = access_service.issue_api_token(
                    session=session, principal=admin, username=username, name="cli"
                )

    runner = CliRunner()

    def run(*args: str, user: str = "inspector") -> Any:
        if not tokens:  # on first use, so that the test's own entries come first
            create_users()
        monkeypatch.setenv("MAMORI_TOKEN", tokens[user])
        reset_settings_cache()
        return runner.invoke(app, ["--as", user, "audit", *args])

    return run
