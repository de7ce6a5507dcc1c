"""The selection gate: measures before, during and after their period; unapproved,
refused, renewed and ended; agreements by status and effective period."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from mamori.db import utcnow
from mamori.errors import InvalidInput, NotFound
from mamori.governance import constants as c
from mamori.governance import gate, measures, parameters
from mamori.governance.gate import measure_in_force

from .conftest import ADMIN, ANALYST, INSPECTOR, make_agreement, make_measure


def _at(session: Session, basis: str, when: datetime) -> gate.GateDecision:
    return measure_in_force(session=session, measure_id=basis, at=when)


def test_approved_measure_before_during_after(session: Session) -> None:
    start = utcnow() + timedelta(days=2)
    mid = make_measure(session, article=32, start=start, days=10)
    before = _at(session, mid, start - timedelta(seconds=1))
    assert (before.allowed, before.reason) == (False, gate.NOT_YET_IN_FORCE)
    during = _at(session, mid, start + timedelta(days=5))
    assert during.allowed and during.reason == gate.IN_FORCE
    assert during.article == 32 and during.kind == "foreign_domestic_transmission_measure"
    assert during.directions == (c.FOREIGN_DOMESTIC,)
    assert during.valid_until == start + timedelta(days=10)
    at_start = _at(session, mid, start)
    assert at_start.allowed
    after = _at(session, mid, start + timedelta(days=10))
    assert (after.allowed, after.reason) == (False, gate.EXPIRED)
    assert after.directions == ()


@pytest.mark.parametrize(("article", "direction"), [(17, c.FOREIGN_FOREIGN),
                                                    (33, c.DOMESTIC_FOREIGN)])
def test_direction_classes_follow_the_article(session: Session, article: int,
                                              direction: str) -> None:
    start = utcnow() + timedelta(hours=1)
    mid = make_measure(session, article=article, start=start)
    assert _at(session, mid, start + timedelta(days=1)).directions == (direction,)


def test_unapproved_and_refused_measures_are_closed(session: Session) -> None:
    start = utcnow() + timedelta(days=1)
    pending = make_measure(session, start=start, approve=None)
    refused = make_measure(session, start=start, approve=False)
    inside = start + timedelta(days=3)
    assert _at(session, pending, inside).reason == gate.APPROVAL_PENDING
    assert not _at(session, pending, inside).allowed
    assert _at(session, refused, inside).reason == gate.APPROVAL_REFUSED
    assert not _at(session, refused, inside).allowed
    assert _at(session, refused, start - timedelta(days=1)).reason == gate.APPROVAL_REFUSED


def test_renewal_extends_only_once_approved(session: Session) -> None:
    start = utcnow() + timedelta(days=1)
    mid = make_measure(session, start=start, days=10)
    first_end = start + timedelta(days=10)
    measures.renew_measure(session=session, principal=ANALYST, measure_id=mid,
                           ends_at=first_end + timedelta(days=20), grounds="still active")
    in_renewal = first_end + timedelta(days=5)
    pending = _at(session, mid, in_renewal)
    assert (pending.allowed, pending.reason) == (False, gate.APPROVAL_PENDING)
    assert _at(session, mid, first_end - timedelta(seconds=1)).reason == gate.IN_FORCE
    measures.approve_measure(session=session, principal=INSPECTOR, measure_id=mid)
    renewed = _at(session, mid, in_renewal)
    assert renewed.allowed and renewed.reason == gate.IN_FORCE_RENEWED
    assert _at(session, mid, first_end + timedelta(days=20)).reason == gate.EXPIRED


def test_refused_renewal_keeps_the_gate_closed_after_the_first_term(session: Session) -> None:
    start = utcnow() + timedelta(days=1)
    mid = make_measure(session, start=start, days=10)
    first_end = start + timedelta(days=10)
    measures.renew_measure(session=session, principal=ANALYST, measure_id=mid,
                           ends_at=first_end + timedelta(days=10), grounds="more")
    measures.refuse_measure(session=session, principal=INSPECTOR, measure_id=mid)
    decision = _at(session, mid, first_end + timedelta(days=1))
    assert (decision.allowed, decision.reason) == (False, gate.APPROVAL_REFUSED)


def test_gap_between_terms(session: Session) -> None:
    start = utcnow() + timedelta(days=1)
    mid = make_measure(session, start=start, days=10)
    later = start + timedelta(days=15)
    measures.renew_measure(session=session, principal=ANALYST, measure_id=mid,
                           starts_at=later, ends_at=later + timedelta(days=5), grounds="again")
    measures.approve_measure(session=session, principal=INSPECTOR, measure_id=mid)
    assert _at(session, mid, start + timedelta(days=12)).reason == gate.BETWEEN_TERMS
    assert _at(session, mid, later + timedelta(days=1)).allowed


def test_ended_measure_is_closed_from_its_end(session: Session) -> None:
    start = utcnow() - timedelta(minutes=1)
    mid = make_measure(session, start=start, days=30)
    assert _at(session, mid, utcnow()).allowed
    measures.end_measure(session=session, principal=ANALYST, measure_id=mid,
                         reason="threat gone")
    decision = _at(session, mid, utcnow() + timedelta(seconds=1))
    assert (decision.allowed, decision.reason) == (False, gate.TERMINATED)
    assert _at(session, mid, start + timedelta(seconds=1)).allowed  # before the end


def test_unknown_ids_and_naive_times(session: Session) -> None:
    now = utcnow()
    for basis in ("M-2026-9999", "A-2026-9999", "nonsense", ""):
        decision = _at(session, basis, now)
        assert (decision.allowed, decision.reason) == (False, gate.UNKNOWN_BASIS)
    with pytest.raises(NotFound):
        gate.require_in_force(session=session, measure_id="M-2026-9999", at=now)
    with pytest.raises(InvalidInput):
        _at(session, "M-2026-0001", datetime(2026, 1, 1))


def test_require_in_force_raises_when_closed(session: Session) -> None:
    mid = make_measure(session, approve=None)
    with pytest.raises(gate.GateClosed, match="not yet approved"):
        gate.require_in_force(session=session, measure_id=mid,
                              at=utcnow() + timedelta(days=3))


def test_agreement_in_force_only_inside_its_period(session: Session) -> None:
    start = utcnow() - timedelta(days=1)
    until = utcnow() + timedelta(days=30)
    aid = make_agreement(session, start=start, until=until)
    inside = _at(session, aid, utcnow())
    assert inside.allowed and inside.kind == c.AGREEMENT_KIND and inside.article == 13
    assert inside.party_identifiers == ("192.0.2.0/24", "AS64500")
    assert set(inside.directions) == set(c.AGREEMENT_DIRECTIONS)
    assert _at(session, aid, start - timedelta(seconds=1)).reason == gate.NOT_YET_IN_FORCE
    assert _at(session, aid, until).reason == gate.EXPIRED
    draft = make_agreement(session, conclude=False, party="Hikari Railway")
    assert _at(session, draft, utcnow()).reason == gate.AGREEMENT_NOT_CONCLUDED


def test_ended_agreement_closes_the_gate(session: Session) -> None:
    from mamori.governance import agreements

    aid = make_agreement(session)
    agreements.end_agreement(session=session, principal=ADMIN, agreement_id=aid,
                             reason="party ended it")
    decision = _at(session, aid, utcnow() + timedelta(seconds=1))
    assert (decision.allowed, decision.reason) == (False, gate.AGREEMENT_ENDED)


def test_retention_expiry_follows_the_configured_period(session: Session) -> None:
    at = utcnow()
    assert gate.retention_expiry(session=session, data_class=c.SELECTED_COMM_INFO, at=at) \
        == at + timedelta(days=730)
    parameters.set_retention_days(session=session, principal=ADMIN,
                                  data_class=c.SELECTED_COMM_INFO, days=365)
    assert gate.retention_expiry(session=session, data_class=c.SELECTED_COMM_INFO, at=at) \
        == at + timedelta(days=365)
    with pytest.raises(NotFound):
        gate.retention_expiry(session=session, data_class="no_such_class", at=at)


def test_gate_module_imports_only_what_the_sealed_zone_may_see() -> None:
    import ast
    import inspect

    allowed = ("mamori.config", "mamori.errors", "mamori.db", "mamori.governance")
    modules = [gate]
    from mamori.governance import constants, models, parameter_values

    modules += [constants, models, parameter_values]
    for module in modules:
        tree = ast.parse(inspect.getsource(module))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and \
                    node.module.startswith("mamori"):
                assert node.module.startswith(allowed), (module.__name__, node.module)
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("mamori"):
                        assert alias.name.startswith(allowed), (module.__name__, alias.name)
