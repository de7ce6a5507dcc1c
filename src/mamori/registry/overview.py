"""What is due and overdue under the transition (R-4.2-8, R-4.2-9): per operator, and
for the agency by sector, with the operators that have notified nothing yet."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.registry import configuration, guard, transition
from mamori.registry.computers import today as local_today
from mamori.registry.models import (
    ComputerRecord,
    OperatorRecord,
    OperatorTransition,
    SectorSummary,
    TransitionItem,
)
from mamori.registry.operators import viewable_operator


def _deadline(values: dict[str, Any]) -> date | None:
    start = configuration.commencement(values)
    if start is None:
        return None
    return transition.transition_deadline(start, int(values["transition_months"]))


def _items(
    rows: list[ComputerRecord], deadline: date | None, today: date
) -> list[TransitionItem]:
    existing_ids = {row.id for row in rows if row.existing}
    items: list[TransitionItem] = []
    for row in rows:
        has_deadline = row.existing or (row.linked_to_id in existing_ids)
        state = transition.state_of(
            status=row.status, has_deadline=has_deadline, deadline=deadline, today=today
        )
        days_left = (
            (deadline - today).days
            if deadline is not None and state in (transition.DUE, transition.OVERDUE)
            else None
        )
        items.append(TransitionItem(
            computer_id=row.id, operator_id=row.operator_id, name=row.name, state=state,
            deadline=deadline if has_deadline else None, days_left=days_left,
        ))
    return items


def _counts(items: list[TransitionItem]) -> dict[str, int]:
    counts = dict.fromkeys(transition.STATES, 0)
    for item in items:
        counts[item.state] += 1
    return counts


def operator_transition(
    *, session: Session, principal: Principal, operator_id: int, today: date | None = None
) -> OperatorTransition:
    """Each of the operator's computers against the transition deadline."""
    operator = viewable_operator(session=session, principal=principal, operator_id=operator_id)
    values = configuration.current(session)
    deadline = _deadline(values)
    rows = list(session.scalars(
        select(ComputerRecord).where(ComputerRecord.operator_id == operator.id)
        .order_by(ComputerRecord.name)
    ))
    items = _items(rows, deadline, today or local_today())
    order = {state: index for index, state in enumerate(transition.STATES)}
    items.sort(key=lambda item: (order[item.state], item.name))
    return OperatorTransition(
        operator_id=operator.id, commencement_date=configuration.commencement(values),
        deadline=deadline, items=items, counts=_counts(items),
    )


def transition_overview(
    *, session: Session, principal: Principal, today: date | None = None
) -> list[SectorSummary]:
    """Per sector: notified, due and overdue computers, and operators with nothing
    notified, over the operators ``principal`` may view."""
    guard.authorize_registry(session=session, principal=principal, action="registry.overview")
    values = configuration.current(session)
    deadline = _deadline(values)
    day = today or local_today()
    operators = [
        row for row in session.scalars(select(OperatorRecord).order_by(OperatorRecord.id))
        if guard.permitted_operator(
            session=session, principal=principal, action="registry.view", operator=row
        )
    ]
    by_operator: dict[int, list[ComputerRecord]] = {row.id: [] for row in operators}
    if by_operator:
        for computer in session.scalars(
            select(ComputerRecord).where(ComputerRecord.operator_id.in_(list(by_operator)))
        ):
            by_operator[computer.operator_id].append(computer)
    summaries: dict[str, dict[str, Any]] = {}
    for row in operators:
        entry = summaries.setdefault(row.sector, {
            "sector": row.sector,
            "supervising_ministry": values["sectors"].get(row.sector, {}).get(
                "ministry", row.supervising_ministry),
            "operators": 0, "without": [], "items": [], "overdue_operators": [],
        })
        items = _items(by_operator[row.id], deadline, day)
        entry["operators"] += 1
        entry["items"] += items
        if not any(i.state in (transition.NOTIFIED, transition.EXEMPT) for i in items):
            entry["without"].append(row.id)
        if any(i.state == transition.OVERDUE for i in items):
            entry["overdue_operators"].append(row.id)
    return [
        SectorSummary(
            sector=sector, supervising_ministry=data["supervising_ministry"],
            operators=data["operators"], operators_without_notification=data["without"],
            counts=_counts(data["items"]), overdue_operators=data["overdue_operators"],
        )
        for sector, data in sorted(summaries.items())
    ]
