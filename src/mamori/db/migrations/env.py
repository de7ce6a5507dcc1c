"""Alembic environment: runs on the connection ``init_db`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

import mamori.models  # noqa: F401  (registers every domain's tables)
from mamori.db.base import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
        with engine.begin() as conn:
            _configure(conn)
        return
    _configure(connection)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
