"""Readable, year-scoped record ids such as ``M-2026-0007``.

Measures and agreements share the acquisition-basis namespace (``M-`` and ``A-``), so
selection's ``--measure ID`` accepts either and the prefix says which it is.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from mamori.config import get_settings
from mamori.db import utcnow


def next_id(
    session: Session, column: InstrumentedAttribute[str], prefix: str, at: datetime | None = None
) -> str:
    """The next free id ``<prefix>-<year>-<nnnn>`` (year in the display timezone)."""
    year = (at or utcnow()).astimezone(ZoneInfo(get_settings().timezone)).year
    stem = f"{prefix}-{year}-"
    latest = session.scalar(select(func.max(column)).where(column.like(f"{stem}%")))
    number = int(latest.rsplit("-", 1)[1]) + 1 if latest else 1
    return f"{stem}{number:04d}"
