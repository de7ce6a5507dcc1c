"""Read the current value of a regulatory parameter (newest version, else the default).

Read-only and free of other domains, so that the selection gate may use it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.governance import constants as c
from mamori.governance.models import ParameterVersion


def default_value(key: str) -> Any:
    """The built-in default of a parameter, as a fresh JSON-compatible value."""
    if key == c.PARAM_RETENTION:
        return dict(c.DEFAULT_RETENTION_DAYS)
    if key == c.PARAM_NOTIFICATION_TRIGGERS:
        return list(c.DEFAULT_NOTIFICATION_TRIGGERS)
    if key == c.PARAM_AGREEMENT_TEMPLATE:
        return [
            {"key": key_, "ja": ja, "en": en} for key_, ja, en in c.DEFAULT_AGREEMENT_TEMPLATE
        ]
    if key == c.PARAM_MEASURE_TERM_DAYS:
        return c.DEFAULT_MEASURE_TERM_DAYS
    raise KeyError(key)


def latest_version(session: Session, key: str) -> ParameterVersion | None:
    return session.scalars(
        select(ParameterVersion)
        .where(ParameterVersion.key == key)
        .order_by(ParameterVersion.version.desc())
        .limit(1)
    ).first()


def current_value(session: Session, key: str) -> tuple[int, Any]:
    """(version, value); version 0 means the built-in default applies."""
    row = latest_version(session, key)
    if row is None:
        return 0, default_value(key)
    return row.version, row.value


def retention_days(session: Session, data_class: str, fallback: int | None = None) -> int | None:
    """Days a record of ``data_class`` is kept, or ``fallback`` when nothing is configured."""
    _, value = current_value(session, c.PARAM_RETENTION)
    days = value.get(data_class) if isinstance(value, dict) else None
    if days is None:
        days = c.DEFAULT_RETENTION_DAYS.get(data_class, fallback)
    return int(days) if days is not None else None
