"""Web fixtures: the app on the test database, a browser-like client, test accounts.

Accounts are made through ``mamori.access.service`` (never its tables). Everything
here builds on ``env``, so each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from rich.console import Console
from sqlalchemy import Engine, select

from mamori.config import reset_settings_cache
from mamori.db import session_scope
from mamori.db.base import Base
from mamori.web.app import create_app

PASSWORD = "correct horse battery"
BOOKKEEPING = frozenset({"last_used_at"})
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    display_name: str
    api_token: str


@pytest.fixture
def accounts(env) -> dict[str, Account]:
    """Two analysts of the Cabinet Office: kenji (ja setting) and alice (en setting).

    The first administrator is created the way ``mamori user add`` does on first
    start; it then acts through a principal built here, as its signed-in session
    would be (the access domain's own tests cover signing in with a second factor).
    """
    from mamori.access import service as access
    from mamori.access.principal import Principal

    people = {"kenji": ("分析 健二", "ja"), "alice": ("Alice Analyst", "en")}
    made: dict[str, Account] = {}
    with session_scope() as session:
        boot = access.bootstrap_principal(session=session)
        org = access.create_organisation(
            session=session, principal=boot, code="cao", name_ja="内閣府",
            name_en="Cabinet Office", kind="cabinet_office",
        )
        root = access.create_user(
            session=session, principal=boot, username="root", display_name="Root",
            roles=["admin"], organisation_id=org.id, password=PASSWORD,
        )
        admin = Principal(
            username="root", roles=frozenset({"admin"}), user_id=root.id,
            organisation_id=org.id, organisation_kind=org.kind, mfa=True, via="cli",
        )
        for username, (name, language) in people.items():
            access.create_user(
                session=session, principal=admin, username=username, display_name=name,
                roles=["analyst"], organisation_id=org.id, password=PASSWORD,
                language=language,
            )
            token = access.issue_api_token(
                session=session, principal=admin, username=username, name="test"
            )
            made[username] = Account(username, PASSWORD, name, token)
    return made


@pytest.fixture
def demo_mode(env, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Demo mode without seeding (for what needs only the setting)."""
    monkeypatch.setenv("MAMORI_DEMO", "1")
    reset_settings_cache()
    yield
    reset_settings_cache()


@pytest.fixture
def demo_env(env, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Demo mode with the demo organisations and one account per role seeded."""
    from mamori.access.demo import seed

    monkeypatch.setenv("MAMORI_DEMO", "1")
    reset_settings_cache()
    with session_scope() as session:
        seed(session=session, console=Console(quiet=True))
    yield
    reset_settings_cache()


@pytest.fixture
def make_client(env) -> Callable[..., TestClient]:
    """A new browser-like client on a fresh app built from the current settings."""

    def make(**headers: str) -> TestClient:
        reset_settings_cache()
        # No ``with``: the lifespan's background jobs have their own test.
        client = TestClient(create_app(), follow_redirects=False)
        client.headers.update({k.replace("_", "-"): v for k, v in headers.items()})
        return client

    return make


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


@pytest.fixture
def app(env) -> FastAPI:
    reset_settings_cache()
    return create_app()


class WebHelpers:
    """Helpers for web tests (a fixture, since test folders are not packages)."""

    PASSWORD = PASSWORD
    BROWSER = BROWSER

    @staticmethod
    def database_state(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
        """Every row of every table, except what records attempts on purpose.

        The audit log records failed attempts, and a token's ``last_used_at`` notes
        its use even when the request then fails; both are written by design.
        """
        state: dict[str, list[tuple[object, ...]]] = {}
        with engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                if table.name.startswith("audit_"):
                    continue
                columns = [c for c in table.columns if c.name not in BOOKKEEPING]
                rows = conn.execute(select(*columns)).all()
                state[table.name] = sorted((tuple(row) for row in rows), key=repr)
        return state

    @staticmethod
    def csrf_token(client: TestClient) -> str:
        """The browser's CSRF token (from the cookie the first page view sets)."""
        if "mamori_csrf" not in client.cookies:
            client.get("/login")
        return client.cookies["mamori_csrf"]

    @classmethod
    def log_in(
        cls,
        client: TestClient,
        username: str,
        password: str = PASSWORD,
        totp_code: str | None = None,
    ) -> Response:
        data = {"username": username, "password": password, "csrf_token": cls.csrf_token(client)}
        if totp_code:
            data["totp_code"] = totp_code
        return client.post("/login", data=data, headers={"accept": BROWSER})

    @staticmethod
    def set_cookies(response: Response) -> list[str]:
        return response.headers.get_list("set-cookie")


@pytest.fixture
def web() -> type[WebHelpers]:
    return WebHelpers
