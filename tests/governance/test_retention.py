"""Retention purge: exactly the expired records go, on SQLite and PostgreSQL, and the
deletion certificate in the audit log verifies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, select
from sqlalchemy.orm import Session

from mamori.audit.models import AuditEntry
from mamori.db import UTCDateTime, utcnow
from mamori.errors import Forbidden, InvalidInput, NotFound
from mamori.governance import constants as c
from mamori.governance import oversight, parameters, retention
from mamori.governance.models import DeletionCertificate, Notification

from .conftest import ADMIN, ANALYST, INSPECTOR, OPERATOR, SYSTEM, audit_count

TEST_CLASS = "test_sensor_log"
meta = MetaData()
sensor_log = Table(
    "gov_test_sensor_log", meta,
    Column("id", String(32), primary_key=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("n", Integer, nullable=False),
)


def _purge_sensor_log(session: Session, before: datetime) -> retention.PurgeOutcome:
    return retention.purge_rows(session, sensor_log.c.id, sensor_log.c.created_at, before)


@pytest.fixture
def test_class(engine: Engine, session: Session) -> Iterator[str]:
    meta.create_all(engine)
    retention.register(retention.DataClass(TEST_CLASS, "rows of a test table", 30,
                                           _purge_sensor_log))
    try:
        yield TEST_CLASS
    finally:
        retention.unregister(TEST_CLASS)
        session.rollback()  # release the test's locks before the table goes
        meta.drop_all(engine)


def _insert(session: Session, now: datetime, ages_days: list[float]) -> list[str]:
    ids = []
    for i, age in enumerate(ages_days):
        ident = f"row-{i:03d}"
        session.execute(sensor_log.insert().values(
            id=ident, created_at=now - timedelta(days=age), n=i))
        ids.append(ident)
    session.flush()
    return ids


def test_purge_deletes_exactly_the_expired_rows(session: Session, test_class: str) -> None:
    now = utcnow()
    ages = [0, 1, 29.9, 30.1, 45, 400, 29.999]
    ids = _insert(session, now, ages)
    expired = [i for i, age in zip(ids, ages, strict=True) if age > 30]
    reports = retention.purge_expired(session=session, principal=SYSTEM, at=now,
                                      classes=[test_class])
    session.commit()
    remaining = session.scalars(select(sensor_log.c.id).order_by(sensor_log.c.id)).all()
    assert remaining == sorted(set(ids) - set(expired))
    (report,) = reports
    assert report.outcome.count == 3 and report.retention_days == 30
    assert report.cutoff == now - timedelta(days=30)
    assert report.outcome.ids_digest == retention.digest_ids(expired)

    certificate = session.get(DeletionCertificate, report.certificate_id)
    assert certificate is not None and certificate.record_count == 3
    assert certificate.oldest == now - timedelta(days=400)
    assert certificate.newest == now - timedelta(days=30.1)
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "governance.retention.purged")).one()
    details = entry.details_dict
    assert details["data_class"] == test_class and details["count"] == 3
    assert details["ids_digest"] == retention.digest_ids(expired)
    assert details["period"]["before"] == report.cutoff.isoformat()

    check = oversight.check_entry(session=session, principal=INSPECTOR, seq=entry.seq)
    assert check.ok and check.entry.details == details

    again = retention.purge_expired(session=session, principal=SYSTEM, at=now,
                                    classes=[test_class])
    assert again[0].outcome.count == 0 and again[0].certificate_id is None
    assert audit_count(session, "governance.retention.purged") == 1


def test_period_follows_configuration(session: Session, test_class: str) -> None:
    now = utcnow()
    _insert(session, now, [5, 15, 25])
    parameters.set_retention_days(session=session, principal=ADMIN, data_class=test_class,
                                  days=10, reason="shorter")
    (report,) = retention.purge_expired(session=session, principal=ADMIN, at=now,
                                        classes=[test_class])
    assert report.outcome.count == 2 and report.retention_days == 10


def test_governance_classes_are_registered_and_purged(session: Session) -> None:
    names = {d.name for d in retention.registered()}
    assert {c.COMMITTEE_NOTIFICATION, c.USE_DECISION} <= names
    now = utcnow()
    for days, key in ((4000, "old"), (10, "new")):
        session.add(Notification(dedupe_key=key, event=c.EVENT_MEASURE_STARTED,
                                 object_type="measure", object_id="M-2000-0001",
                                 occurred_at=now - timedelta(days=days), details={}))
    session.flush()
    reports = {r.data_class: r for r in retention.purge_expired(session=session,
                                                                principal=SYSTEM, at=now)}
    assert reports[c.COMMITTEE_NOTIFICATION].outcome.count == 1
    assert session.scalars(select(Notification.dedupe_key)).all() == ["new"]


def test_selected_information_needs_a_decision_to_keep_longer(session: Session) -> None:
    before = audit_count(session)
    with pytest.raises(InvalidInput, match="recorded decision"):
        parameters.set_retention_days(session=session, principal=ADMIN,
                                      data_class=c.SELECTED_COMM_INFO, days=1000)
    with pytest.raises(InvalidInput, match="at least one day"):
        parameters.set_retention_days(session=session, principal=ADMIN,
                                      data_class=c.SELECTED_COMM_INFO, days=0)
    assert audit_count(session) == before
    row = parameters.set_retention_days(
        session=session, principal=ADMIN, data_class=c.SELECTED_COMM_INFO, days=1000,
        reason="ongoing campaign analysis", decision_ref="CAO decision 2026-17")
    assert row.decision_ref == "CAO decision 2026-17"
    assert parameters.get_parameter(session=session, key=c.PARAM_RETENTION)[1][
        c.SELECTED_COMM_INFO] == 1000
    # Changing another class keeps the recorded extension without a new decision.
    parameters.set_retention_days(session=session, principal=ADMIN,
                                  data_class=c.COMMITTEE_NOTIFICATION, days=2000)
    assert audit_count(session, "governance.parameter.changed") == 2


def test_purge_errors(session: Session) -> None:
    with pytest.raises(NotFound, match="no_such"):
        retention.purge_expired(session=session, principal=SYSTEM, classes=["no_such"])
    for who in (ANALYST, OPERATOR, INSPECTOR):
        with pytest.raises(Forbidden):
            retention.purge_expired(session=session, principal=who)


def test_digest_is_order_independent() -> None:
    assert retention.digest_ids(["b", "a"]) == retention.digest_ids(["a", "b"])
    assert retention.digest_ids(["a"]) != retention.digest_ids(["a", "b"])
