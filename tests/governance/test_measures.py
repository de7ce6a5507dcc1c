"""Measure requests, the committee's decisions, renewals and their notifications; bad
input is refused with a clear error and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.errors import Conflict, Forbidden, InvalidInput, NotFound
from mamori.governance import constants as c
from mamori.governance import measures, notifications, parameters
from mamori.governance.models import Measure, MeasureTerm, Notification

from .conftest import (
    ADMIN,
    ANALYST,
    ANALYST_2,
    HANDLER,
    INSPECTOR,
    OPERATOR,
    SYSTEM,
    audit_actions,
    audit_count,
    make_measure,
)


def _state(session: Session) -> tuple[int, int, int, list[tuple[str, str | None]]]:
    session.expire_all()
    terms = session.execute(
        select(MeasureTerm.status, MeasureTerm.decided_by).order_by(MeasureTerm.id)
    ).all()
    return (
        int(session.scalar(select(func.count()).select_from(Measure)) or 0),
        int(session.scalar(select(func.count()).select_from(Notification)) or 0),
        audit_count(session, None) - audit_count(session, "access.denied"),
        [tuple(t) for t in terms],
    )


def test_request_approve_is_audited_and_notified(session: Session) -> None:
    start = utcnow() + timedelta(days=1)
    measure = measures.request_measure(
        session=session, principal=ANALYST, article=33, grounds="exfiltration to C2",
        starts_at=start, ends_at=start + timedelta(days=7), facilities=["gw-2, gw-1"],
    )
    assert measure.id.startswith("M-") and measure.facilities == ["gw-1", "gw-2"]
    assert measures.measure_status(measure) == "requested"
    measures.approve_measure(session=session, principal=INSPECTOR, measure_id=measure.id,
                             note="justified")
    term = measure.terms[0]
    assert (term.status, term.decided_by, term.decision_note) == ("approved", "t-inspector",
                                                                  "justified")
    assert measures.measure_status(measure) == "approved"
    actions = audit_actions(session)
    assert "governance.measure.requested" in actions
    assert "governance.measure.approved" in actions
    events = session.scalars(select(Notification.event)).all()
    assert events == [c.EVENT_MEASURE_STARTED]
    assert "governance.notification.generated" in actions


def test_ids_are_sequential_per_year(session: Session) -> None:
    first = make_measure(session, approve=None)
    second = make_measure(session, approve=None)
    assert int(second.rsplit("-", 1)[1]) == int(first.rsplit("-", 1)[1]) + 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"article": 18}, "Art 17, 32 or 33"),
        ({"grounds": "   "}, "grounds"),
        ({"starts_at_offset": 5, "ends_at_offset": 2}, "reversed"),
        ({"starts_at_offset": -10, "ends_at_offset": -2}, "already ended"),
    ],
)
def test_bad_requests_change_nothing(session: Session, kwargs: dict, message: str) -> None:
    before = _state(session)
    kwargs = dict(kwargs)
    now = utcnow()
    args = {"article": 17, "grounds": "g", "starts_at": now + timedelta(days=1),
            "ends_at": now + timedelta(days=3)}
    if "starts_at_offset" in kwargs:
        args["starts_at"] = now + timedelta(days=kwargs.pop("starts_at_offset"))
        args["ends_at"] = now + timedelta(days=kwargs.pop("ends_at_offset"))
    args.update(kwargs)
    with pytest.raises(InvalidInput, match=message):
        measures.request_measure(session=session, principal=ANALYST, **args)
    assert _state(session) == before


def test_default_term_comes_from_configuration(session: Session) -> None:
    parameters.set_parameter(session=session, principal=ADMIN, key=c.PARAM_MEASURE_TERM_DAYS,
                             value=90)
    measure = measures.request_measure(session=session, principal=ANALYST, article=17,
                                       grounds="g")
    term = measure.terms[0]
    assert term.ends_at - term.starts_at == timedelta(days=90)


@pytest.mark.parametrize("who", [ANALYST_2, ADMIN, HANDLER, OPERATOR])
def test_only_committee_inspectors_decide(session: Session, who: Principal) -> None:
    mid = make_measure(session, approve=None)
    before = _state(session)
    for decide in (measures.approve_measure, measures.refuse_measure):
        with pytest.raises(Forbidden):
            decide(session=session, principal=who, measure_id=mid)
    assert _state(session) == before
    assert audit_count(session, "access.denied") >= 2


def test_approving_ones_own_request_is_refused(session: Session) -> None:
    both = Principal(username="t-both", roles=frozenset({"analyst", "committee_inspector"}),
                     mfa=True, organisation_id=1)
    mid = make_measure(session, requester=both, approve=None)
    before = _state(session)
    with pytest.raises(Forbidden, match="person who made it"):
        measures.approve_measure(session=session, principal=both, measure_id=mid)
    with pytest.raises(Forbidden, match="person who made it"):
        measures.refuse_measure(session=session, principal=both, measure_id=mid)
    assert _state(session) == before
    measures.approve_measure(session=session, principal=INSPECTOR, measure_id=mid)


def test_inspectors_cannot_request(session: Session) -> None:
    with pytest.raises(Forbidden):
        measures.request_measure(session=session, principal=INSPECTOR, article=17, grounds="g")


def test_unknown_ids_and_double_decisions(session: Session) -> None:
    with pytest.raises(NotFound, match="M-2020-0001"):
        measures.approve_measure(session=session, principal=INSPECTOR, measure_id="M-2020-0001")
    with pytest.raises(NotFound):
        measures.renew_measure(session=session, principal=ANALYST, measure_id="M-2020-0001",
                               ends_at=utcnow() + timedelta(days=3), grounds="g")
    mid = make_measure(session)
    before = _state(session)
    with pytest.raises(Conflict, match="no request awaiting"):
        measures.approve_measure(session=session, principal=INSPECTOR, measure_id=mid)
    with pytest.raises(Conflict):
        measures.refuse_measure(session=session, principal=INSPECTOR, measure_id=mid)
    assert _state(session) == before


def test_renewal_rules(session: Session) -> None:
    start = utcnow() + timedelta(days=1)
    end = start + timedelta(days=10)
    pending = make_measure(session, start=start, approve=None)
    with pytest.raises(Conflict, match="no approved period"):
        measures.renew_measure(session=session, principal=ANALYST, measure_id=pending,
                               ends_at=end + timedelta(days=5), grounds="g")
    mid = make_measure(session, start=start, days=10)
    before = _state(session)
    with pytest.raises(InvalidInput, match="overlaps"):
        measures.renew_measure(session=session, principal=ANALYST, measure_id=mid,
                               starts_at=end - timedelta(days=1),
                               ends_at=end + timedelta(days=5), grounds="g")
    with pytest.raises(InvalidInput, match="reversed"):
        measures.renew_measure(session=session, principal=ANALYST, measure_id=mid,
                               ends_at=end - timedelta(days=1), grounds="g")
    with pytest.raises(InvalidInput, match="grounds"):
        measures.renew_measure(session=session, principal=ANALYST, measure_id=mid,
                               ends_at=end + timedelta(days=5), grounds="")
    assert _state(session) == before
    measures.renew_measure(session=session, principal=ANALYST, measure_id=mid,
                           ends_at=end + timedelta(days=5), grounds="g")
    with pytest.raises(Conflict, match="already has a request"):
        measures.renew_measure(session=session, principal=ANALYST, measure_id=mid,
                               ends_at=end + timedelta(days=9), grounds="g")
    measures.approve_measure(session=session, principal=INSPECTOR, measure_id=mid)
    measure = session.get(Measure, mid)
    assert measure is not None
    assert [(t.seq, t.status, t.starts_at) for t in measure.terms] == [
        (1, "approved", start), (2, "approved", end)]
    events = session.scalars(select(Notification.event).where(
        Notification.object_id == mid).order_by(Notification.id)).all()
    assert events == [c.EVENT_MEASURE_STARTED, c.EVENT_MEASURE_RENEWED]


def test_end_and_sweep_notify_the_end_once(session: Session) -> None:
    mid = make_measure(session, start=utcnow() - timedelta(minutes=1))
    measures.end_measure(session=session, principal=ANALYST, measure_id=mid, reason="done")
    with pytest.raises(Conflict):
        measures.end_measure(session=session, principal=ANALYST, measure_id=mid, reason="x")
    ended = session.scalars(select(Notification).where(
        Notification.event == c.EVENT_MEASURE_ENDED)).all()
    assert [n.object_id for n in ended] == [mid]

    start = utcnow() + timedelta(days=1)
    other = make_measure(session, start=start, days=2)
    assert notifications.sweep(session=session, principal=SYSTEM) == 0
    later = start + timedelta(days=3)
    assert notifications.sweep(session=session, principal=SYSTEM, at=later) == 1
    assert notifications.sweep(session=session, principal=SYSTEM, at=later) == 0
    assert session.scalars(select(Notification.object_id).where(
        Notification.event == c.EVENT_MEASURE_ENDED).order_by(Notification.id)).all() \
        == [mid, other]


def test_triggers_are_configurable(session: Session) -> None:
    parameters.set_parameter(session=session, principal=ADMIN,
                             key=c.PARAM_NOTIFICATION_TRIGGERS,
                             value=[c.EVENT_MEASURE_REFUSED])
    make_measure(session)
    make_measure(session, approve=False)
    assert session.scalars(select(Notification.event)).all() == [c.EVENT_MEASURE_REFUSED]
    with pytest.raises(InvalidInput, match="unknown events"):
        parameters.set_parameter(session=session, principal=ADMIN,
                                 key=c.PARAM_NOTIFICATION_TRIGGERS, value=["coffee_break"])
    with pytest.raises(Forbidden):
        parameters.set_parameter(session=session, principal=ANALYST,
                                 key=c.PARAM_NOTIFICATION_TRIGGERS, value=[])


def test_list_and_views(session: Session) -> None:
    a = make_measure(session, article=17)
    b = make_measure(session, article=32, approve=None)
    assert [m.id for m in measures.list_measures(session=session, principal=INSPECTOR)] == [a, b]
    assert [m.id for m in measures.list_measures(session=session, principal=ANALYST,
                                                 article=32)] == [b]
    out = measures.to_out(measures.get_measure(session=session, principal=HANDLER,
                                               measure_id=a))
    assert out.kind == "foreign_foreign_transmission_measure" and out.terms[0].status == "approved"
    with pytest.raises(Forbidden):
        measures.list_measures(session=session, principal=OPERATOR)
