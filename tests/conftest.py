"""Shared fixtures: every storage-touching test runs on SQLite and on PostgreSQL.

PostgreSQL: one database per xdist worker (``mamori_test_<worker>``) on the local
server (127.0.0.1:5432, trust auth); set ``MAMORI_TEST_PG_URL`` to point elsewhere
(the server URL without a database name, e.g. ``postgresql+psycopg://postgres@host:5432``).
Tables are emptied after each test, so tests may commit freely.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from mamori.config import reset_settings_cache
from mamori.db import init_db, make_engine
from mamori.db.base import Base
from mamori.db.session import dispose_engines

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
if not SHARED.exists():  # CI lays shared/ beside the clone
    SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_DATA = SHARED / "data"

PG_SERVER = os.environ.get("MAMORI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
BACKENDS = ["sqlite", "postgresql"]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _pg_database_url() -> str:
    import psycopg

    name = f"mamori_test_{_worker()}"
    admin_url = PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_SERVER}/{name}"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return SHARED_DATA


@pytest.fixture(scope="session")
def _engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Engine]]:
    engines: dict[str, Engine] = {}
    sqlite_path = tmp_path_factory.mktemp("db") / "mamori.db"
    engines["sqlite"] = make_engine(f"sqlite:///{sqlite_path}")
    engines["postgresql"] = make_engine(_pg_database_url())
    for engine in engines.values():
        init_db(engine)
    yield engines
    for engine in engines.values():
        engine.dispose()


def empty_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            if tables:
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
        else:
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            for name in tables:
                conn.execute(text(f'DELETE FROM "{name}"'))
            conn.execute(text("PRAGMA foreign_keys=ON"))


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, _engines: dict[str, Engine]) -> Iterator[Engine]:
    """A migrated database, SQLite then PostgreSQL; emptied after the test."""
    eng = _engines[request.param]
    try:
        yield eng
    finally:
        empty_tables(eng)


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
