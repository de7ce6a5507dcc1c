"""The migrated schema is exactly what the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

import mamori.models  # noqa: F401
from mamori.db.base import Base


def _relevant(diff: object) -> bool:
    # Index/constraint naming quirks of SQLite reflection are not schema drift.
    text = repr(diff)
    return "sqlite_autoindex" not in text


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, Base.metadata) if _relevant(d)]
    assert diffs == []


def test_init_db_is_idempotent(engine: Engine) -> None:
    from mamori.db import init_db

    init_db(engine)
    init_db(engine)
