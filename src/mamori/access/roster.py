"""The roster of designated communications-information handlers (R-1.4-2, R-3.3-12).

A handler counts as designated on a day when an unrevoked roster entry covers that
day and the entry records completed training and an acknowledgement of the secrecy
of communications that precede it.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.models import DesignationRecord, UserRecord
from mamori.config import get_settings

DEFAULT_VALIDITY_DAYS = 365


def today() -> date:
    """Today's date where the platform operates (Asia/Tokyo by default)."""
    return datetime.now(ZoneInfo(get_settings().timezone)).date()


def covers(row: DesignationRecord, day: date) -> bool:
    return (
        row.revoked_at is None
        and row.valid_from <= day <= row.valid_until
        and row.training_completed_on <= day
        and row.acknowledged_on <= day
    )


def is_designated(session: Session, user_id: int, day: date | None = None) -> bool:
    day = day or today()
    rows = session.scalars(
        select(DesignationRecord).where(
            DesignationRecord.user_id == user_id,
            DesignationRecord.revoked_at.is_(None),
            DesignationRecord.valid_from <= day,
            DesignationRecord.valid_until >= day,
        )
    )
    return any(covers(r, day) for r in rows)


def entries(
    session: Session, *, include_past: bool
) -> list[tuple[DesignationRecord, UserRecord]]:
    """Roster entries with their users, newest first; only current ones unless asked."""
    day = today()
    rows = session.execute(
        select(DesignationRecord, UserRecord)
        .join(UserRecord, UserRecord.id == DesignationRecord.user_id)
        .order_by(UserRecord.username, DesignationRecord.valid_from.desc())
    ).all()
    pairs = [(d, u) for d, u in rows]
    return pairs if include_past else [(d, u) for d, u in pairs if covers(d, day)]
