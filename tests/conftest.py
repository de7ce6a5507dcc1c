"""Shared fixtures: every storage-touching test runs on SQLite and on PostgreSQL.

PostgreSQL: one database per xdist worker (``mamori_test_<worker>``) on the local
server (127.0.0.1:5432, trust auth); set ``MAMORI_TEST_PG_URL`` to point elsewhere
(the server URL without a database name, e.g. ``postgresql+psycopg://postgres@host:5432``).
SQLite tests get a fresh copy of a migrated file; PostgreSQL tables are emptied
after each test. Tests may commit freely.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from mamori.config import reset_settings_cache
from mamori.db import init_db, make_engine
from mamori.db.base import Base
from mamori.db.session import dispose_engines

# shared/ lies beside the project folder, in a developer's tree as in CI's clone.
SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_DATA = SHARED / "data"

PG_SERVER = os.environ.get("MAMORI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
BACKENDS = ["sqlite", "postgresql"]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _pg_admin(sql: str, *params: object) -> None:
    import psycopg

    admin_url = PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql, params or None)  # type: ignore[arg-type]


def _pg_database_url() -> str:
    # Worker and process in the name: concurrent runs never drop each other's database.
    name = f"mamori_test_{_worker()}_{os.getpid()}"
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{name}"')
    return f"{PG_SERVER}/{name}"


def find_tool(name: str) -> str:
    """Path of an external oracle (tshark, chromium, nfdump …).

    Skips when it is missing on a developer's machine; fails in CI, which sets
    ``MAMORI_REQUIRE_TOOLS=1`` and installs them, so a green run never hides a skip.
    """
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed (Debian package); .ci/run installs it"
    if os.environ.get("MAMORI_REQUIRE_TOOLS"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def require_tool():  # type: ignore[no-untyped-def]
    """``require_tool("tshark")`` → its path, or skip/fail as ``find_tool`` says."""
    return find_tool


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return SHARED_DATA


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets its own copy (fresh, triggers intact)."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_engine() -> Iterator[Engine]:
    engine = make_engine(_pg_database_url())
    init_db(engine)
    yield engine
    name = engine.url.database
    engine.dispose()
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_tables(engine: Engine) -> None:
    """Empty every table of the PostgreSQL test database (TRUNCATE fires no row triggers)."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    if tables:
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))


@pytest.fixture(params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database, SQLite then PostgreSQL, empty at the start of the test."""
    if request.param == "sqlite":
        template = request.getfixturevalue("_sqlite_template")
        path = tmp_path_factory.mktemp("sqlite") / "mamori.db"
        shutil.copyfile(template, path)
        eng = make_engine(f"sqlite:///{path}")
        try:
            yield eng
        finally:
            eng.dispose()
        return
    eng = request.getfixturevalue("_pg_engine")
    try:
        yield eng
    finally:
        empty_tables(eng)


@pytest.fixture
def pg_engine(_pg_engine: Engine) -> Iterator[Engine]:
    """PostgreSQL only, for tests whose processes share one database; emptied afterwards."""
    try:
        yield _pg_engine
    finally:
        empty_tables(_pg_engine)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def env(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Point the process settings at the test database and a fresh MAMORI_HOME."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("MAMORI_HOME", str(home))
    monkeypatch.setenv("MAMORI_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("MAMORI_DEMO", raising=False)
    monkeypatch.delenv("MAMORI_TOKEN", raising=False)
    reset_settings_cache()
    dispose_engines()
    yield home
    dispose_engines()
    reset_settings_cache()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """In CI (``MAMORI_REQUIRE_TOOLS=1``) a skip for a missing tool is a failure.

    Tests may skip with any reason that says a tool "is not installed"; CI installs
    every such tool, so the skip can only mean a broken install step.
    """
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("MAMORI_REQUIRE_TOOLS"):
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
        if "not installed" in reason:
            report.outcome = "failed"
            report.longrepr = f"required tool missing in CI: {reason}"
