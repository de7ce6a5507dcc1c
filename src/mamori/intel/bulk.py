"""Bulk writes in the caller's transaction: COPY on PostgreSQL, executemany on SQLite."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

COPY_THRESHOLD = 500
CHUNK = 5000


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_rows(session: Session, table: Table, columns: Sequence[str],
                rows: Sequence[Sequence[Any]], *, json_columns: Sequence[str] = (),
                plain: bool = False) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``.

    ``plain``: every value is a str or int that needs no conversion, so SQLite gets the
    tuples straight through the driver's ``executemany``.
    """
    if not rows:
        return
    if plain and not is_postgresql(session):
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        session.connection().exec_driver_sql(
            f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})',  # noqa: S608 (our names)
            list(rows))
        return
    if is_postgresql(session) and len(rows) >= COPY_THRESHOLD:
        positions = [columns.index(c) for c in json_columns]
        if positions:
            rows = [_json_cells(row, positions) for row in rows]
        _copy(session, table, columns, rows)
        return
    statement = insert(table)
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        session.execute(statement, [dict(zip(columns, row, strict=True)) for row in chunk])


def _json_cells(row: Sequence[Any], positions: Sequence[int]) -> tuple[Any, ...]:
    cells = list(row)
    for position in positions:
        if cells[position] is not None:
            cells[position] = json.dumps(cells[position], ensure_ascii=False)
    return tuple(cells)


def _copy(session: Session, table: Table, columns: Sequence[str],
          rows: Sequence[Sequence[Any]]) -> None:
    connection = session.connection().connection.driver_connection
    names = ", ".join(f'"{c}"' for c in columns)
    statement = f'COPY "{table.name}" ({names}) FROM STDIN'
    with connection.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row(row)


def allocate_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` fresh primary keys for ``table`` (its ``id`` column).

    PostgreSQL takes them from the table's sequence. SQLite has one writer at a time:
    the caller's transaction must already have written (it then holds the write lock
    until it commits), so the ids after the current maximum are free.
    """
    from sqlalchemy import func, select, text

    if count <= 0:
        return []
    if is_postgresql(session):
        rows = session.execute(
            text("SELECT nextval(:seq) FROM generate_series(1, :n)"),
            {"seq": f"{table.name}_id_seq", "n": count},
        ).scalars().all()
        return [int(r) for r in rows]
    top = int(session.scalar(select(func.max(table.c.id))) or 0)
    return list(range(top + 1, top + 1 + count))
