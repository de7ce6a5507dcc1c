"""Erasure (消去, erasure): what happens to everything that is not selected.

* In memory: packets and flow records are read batch by batch into buffers that are
  dropped when the batch has been matched; nothing unselected is copied out of them.
* Inputs: with ``consume`` the input files are deleted once the batch's receipt is
  committed; staged inputs are crypto-shredded (:mod:`.spool`) whatever the outcome.
* Selected records: deleted when their retention period (Art 25) ends. On
  PostgreSQL a day whose records have all expired is dropped as a whole partition;
  the day that straddles the cut-off, and SQLite, delete rows.

The evidence of erasure is the receipt's counts and the retention deletion
certificate: ids and digests, never content (R-3.3-4).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from .models import SelectedRecord
from .store import is_postgresql, partitions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Erased:
    """Ids (``batch:seq``) and creation times of the records a purge deleted."""

    rows: list[tuple[str, datetime]]
    partitions_dropped: int = 0


def _ids(session: Session, where: object) -> list[tuple[str, datetime]]:
    rows = session.execute(
        select(SelectedRecord.batch_id, SelectedRecord.seq, SelectedRecord.created_at).where(
            where  # type: ignore[arg-type]
        )
    ).all()
    return [(f"{b}:{s}", c) for b, s, c in rows]


def purge_selected(session: Session, before: datetime) -> Erased:
    """Delete every selected record created before ``before`` (caller's transaction)."""
    if before.tzinfo is None:
        raise ValueError("before must be timezone-aware")
    before = before.astimezone(UTC)
    cutoff_day = before.date()
    if not is_postgresql(session):
        condition = SelectedRecord.created_at < before
        rows = _ids(session, condition)
        session.execute(delete(SelectedRecord).where(condition))
        return Erased(rows)
    erased: list[tuple[str, datetime]] = []
    dropped = 0
    for qualified, day in partitions(session):
        if day >= cutoff_day:
            break
        erased += [
            (f"{b}:{s}", c)
            for b, s, c in session.execute(
                # the name comes from the catalogue (partitions()), never from input
                text(f"SELECT batch_id, seq, created_at FROM {qualified}")  # noqa: S608
            ).all()
        ]
        session.execute(text(f"DROP TABLE {qualified}"))
        dropped += 1
    condition = (SelectedRecord.created_at < before) & (SelectedRecord.day >= cutoff_day)
    erased += _ids(session, condition)
    session.execute(delete(SelectedRecord).where(condition))
    return Erased([(i, c if c.tzinfo else c.replace(tzinfo=UTC)) for i, c in erased], dropped)


def consume(paths: Iterable[Path]) -> list[str]:
    """Delete consumed input files; the names of those that could not be deleted."""
    failed = []
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("consumed input could not be deleted: %s", type(exc).__name__)
            failed.append(path.name)
    return failed
