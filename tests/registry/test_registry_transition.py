"""The six-month transition: the deadline as the Civil Code counts it, each operator's
due and overdue computers, linked computers sharing the deadline, and the agency's view
by sector."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from mamori.registry import service
from mamori.registry.entries import ComputerEntry
from mamori.registry.messages import RegistryInputError
from mamori.registry.transition import in_window, transition_deadline

from .conftest import World, complete_plc


@pytest.mark.parametrize(
    ("start", "deadline"),
    [
        (date(2026, 4, 1), date(2026, 9, 30)),
        (date(2026, 8, 31), date(2027, 2, 28)),
        (date(2027, 8, 31), date(2028, 2, 29)),
        (date(2026, 10, 15), date(2027, 4, 14)),
        (date(2026, 12, 1), date(2027, 5, 31)),
    ],
)
def test_six_months_as_the_civil_code_counts_them(start: date, deadline: date) -> None:
    assert transition_deadline(start, 6) == deadline


@given(st.dates(date(2000, 1, 1), date(2100, 1, 1)), st.integers(1, 60))
def test_the_deadline_is_within_the_months_and_monotonic(start: date, months: int) -> None:
    end = transition_deadline(start, months)
    assert start < end
    assert (end - start).days <= months * 31
    assert (end - start).days >= months * 28 - 1
    assert transition_deadline(start + timedelta(days=1), months) >= end
    assert in_window(end, start, months) and not in_window(end + timedelta(days=1), start, months)


def test_due_overdue_linked_and_by_sector(session: Session, world: World) -> None:
    admin, sakura = world["admin"], world["sakura"]
    service.configure(session=session, principal=admin, key="commencement_date",
                      value="2026-04-01")
    op = world.operators["sakura"]
    service.create_computer(session=session, principal=sakura, operator_id=op,
                            entry=complete_plc("plc-notified"), notify=True)
    service.create_computer(session=session, principal=sakura, operator_id=op,
                            entry=ComputerEntry(name="plc-draft", existing=True))
    service.create_computer(
        session=session, principal=sakura, operator_id=op,
        entry=ComputerEntry(name="plc-added", linked_to="plc-draft",
                            in_service_since=date(2026, 6, 1)))
    service.create_computer(session=session, principal=sakura, operator_id=op,
                            entry=ComputerEntry(name="new-later"))
    with pytest.raises(RegistryInputError) as error:
        service.create_computer(
            session=session, principal=sakura, operator_id=op,
            entry=ComputerEntry(name="too-late", linked_to="plc-draft",
                                in_service_since=date(2026, 12, 1)))
    assert error.value.field == "in_service_since"
    with pytest.raises(RegistryInputError, match="in place at commencement"):
        service.create_computer(session=session, principal=sakura, operator_id=op,
                                entry=ComputerEntry(name="bad-link", linked_to="new-later"))

    before = service.operator_transition(session=session, principal=sakura, operator_id=op,
                                         today=date(2026, 9, 1))
    states = {item.name: (item.state, item.deadline, item.days_left) for item in before.items}
    assert before.deadline == date(2026, 9, 30)
    assert states == {
        "plc-notified": ("notified", date(2026, 9, 30), None),
        "plc-draft": ("due", date(2026, 9, 30), 29),
        "plc-added": ("due", date(2026, 9, 30), 29),
        "new-later": ("no_deadline", None, None),
    }
    after = service.operator_transition(session=session, principal=sakura, operator_id=op,
                                        today=date(2026, 10, 1))
    assert after.counts["overdue"] == 2 and after.items[0].state == "overdue"

    overview = service.transition_overview(session=session, principal=world["analyst"],
                                           today=date(2026, 10, 1))
    by_sector = {s.sector: s for s in overview}
    assert by_sector["electricity"].counts["overdue"] == 2
    assert by_sector["electricity"].overdue_operators == [op]
    assert by_sector["railway"].operators_without_notification == [world.operators["hikari"]]
    assert by_sector["railway"].supervising_ministry == "mlit"
    mlit_view = service.transition_overview(session=session, principal=world["mlit"])
    assert [s.sector for s in mlit_view] == ["railway"]


def test_without_a_commencement_date_nothing_is_due(session: Session, world: World) -> None:
    service.create_computer(session=session, principal=world["sakura"],
                            operator_id=world.operators["sakura"],
                            entry=ComputerEntry(name="old", existing=True))
    found = service.operator_transition(session=session, principal=world["sakura"],
                                        operator_id=world.operators["sakura"])
    assert found.deadline is None
    assert [i.state for i in found.items] == ["no_deadline"]
