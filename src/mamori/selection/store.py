"""Where selected records go: per-day partitions on PostgreSQL, a plain table on SQLite.

``ensure_partition`` creates the partition of one UTC day on demand (serialised by
an advisory lock so that parallel workers do not race); ``insert_records`` writes
a batch's records in the caller's transaction. Reading the records back is only
for the boundary modules (export, views), which authorize first.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, insert, select, text
from sqlalchemy.orm import Session

from .models import PARTITION_SCHEMA, Receipt, SelectedRecord

INSERT_CHUNK = 1000
_PARTITION_LOCK = 0x73656C6563740000  # "select" << 16


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def partition_name(day: date) -> str:
    return f"selection_record_{day:%Y%m%d}"


def ensure_partition(session: Session, day: date) -> None:
    """Create the partition holding ``day`` if it does not exist (PostgreSQL only)."""
    if not is_postgresql(session):
        return
    name = partition_name(day)
    exists = session.execute(
        text(
            "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :schema AND c.relname = :name"
        ),
        {"schema": PARTITION_SCHEMA, "name": name},
    ).first()
    if exists:
        return
    session.execute(
        text("SELECT pg_advisory_xact_lock(:key)"),
        {"key": _PARTITION_LOCK + zlib.crc32(name.encode()) % 0xFFFF},
    )
    upper = day + timedelta(days=1)
    session.execute(
        text(
            f'CREATE TABLE IF NOT EXISTS "{PARTITION_SCHEMA}"."{name}" '
            f"PARTITION OF {SelectedRecord.__tablename__} "
            f"FOR VALUES FROM ('{day.isoformat()}') TO ('{upper.isoformat()}')"
        )
    )


def partitions(session: Session) -> list[tuple[str, date]]:
    """(qualified name, day) of every existing partition, oldest first (PostgreSQL)."""
    if not is_postgresql(session):
        return []
    rows = session.execute(
        text(
            "SELECT c.relname FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE p.relname = :parent AND n.nspname = :schema"
        ),
        {"parent": SelectedRecord.__tablename__, "schema": PARTITION_SCHEMA},
    ).all()
    out = []
    for (name,) in rows:
        stamp = name.rsplit("_", 1)[-1]
        if stamp.isdigit() and len(stamp) == 8:
            day = datetime.strptime(stamp, "%Y%m%d").date()
            out.append((f'"{PARTITION_SCHEMA}"."{name}"', day))
    return sorted(out, key=lambda item: item[1])


def insert_records(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert selected records (dicts of column values) in the caller's transaction."""
    if not rows:
        return
    for day in sorted({row["day"] for row in rows}):
        ensure_partition(session, day)
    for start in range(0, len(rows), INSERT_CHUNK):
        session.execute(insert(SelectedRecord), list(rows[start : start + INSERT_CHUNK]))


def receipt_row(session: Session, batch_id: str) -> Receipt | None:
    return session.get(Receipt, batch_id)


def records_query(
    *,
    measure_id: str | None = None,
    batch_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select[Any]:
    query = select(SelectedRecord).order_by(
        SelectedRecord.created_at, SelectedRecord.batch_id, SelectedRecord.seq
    )
    if measure_id:
        query = query.where(SelectedRecord.measure_id == measure_id)
    if batch_id:
        query = query.where(SelectedRecord.batch_id == batch_id)
    if since:
        query = query.where(SelectedRecord.created_at >= since)
    if until:
        query = query.where(SelectedRecord.created_at < until)
    return query


def iter_records(
    session: Session, query: Select[Any]
) -> Iterator[SelectedRecord]:
    yield from session.scalars(query.execution_options(yield_per=1000))
