"""The six-month transition for computers already in place (既設特定重要電子計算機).

Computers in service when the law took effect must be notified within six months of
commencement (supplementary provisions Art 4, R-4.2-8). A computer introduced within
that window and operated together with existing ones is notified with them and shares
their deadline (R-4.2-9). Periods are counted as the Civil Code counts them from a
commencement at 00:00: the first day counts, and the period ends on the day before the
corresponding day of the last month (or on that month's last day when it has none).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

DUE = "due"
OVERDUE = "overdue"
NOTIFIED = "notified"
EXEMPT = "exempt"
WITHDRAWN = "withdrawn"
NO_DEADLINE = "no_deadline"
STATES: tuple[str, ...] = (OVERDUE, DUE, NOTIFIED, EXEMPT, WITHDRAWN, NO_DEADLINE)


def add_months(start: date, months: int) -> tuple[int, int]:
    """(year, month) ``months`` after ``start``'s month."""
    index = start.year * 12 + (start.month - 1) + months
    return index // 12, index % 12 + 1


def transition_deadline(commencement: date, months: int) -> date:
    """The last day on which an existing computer may be notified."""
    year, month = add_months(commencement, months)
    last_day = calendar.monthrange(year, month)[1]
    if commencement.day > last_day:
        return date(year, month, last_day)
    return date(year, month, commencement.day) - timedelta(days=1)


def in_window(day: date, commencement: date, months: int) -> bool:
    """Whether ``day`` falls within the transition period."""
    return commencement <= day <= transition_deadline(commencement, months)


def state_of(
    *,
    status: str,
    has_deadline: bool,
    deadline: date | None,
    today: date,
) -> str:
    """Where a computer stands: notified, exempt, withdrawn, due, overdue or no deadline."""
    if status in (NOTIFIED, EXEMPT, WITHDRAWN):
        return status
    if not has_deadline or deadline is None:
        return NO_DEADLINE
    return OVERDUE if today > deadline else DUE
