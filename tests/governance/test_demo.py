"""The demo step: an agreement in force, an active consent with its provision, an
approved measure the gate lets selection use and the carrier cooperating under it;
running it again changes nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.config import reset_settings_cache
from mamori.db import get_engine, session_scope, utcnow
from mamori.governance import demo, gate
from mamori.governance.models import (
    Agreement,
    Consent,
    CooperationRequest,
    Measure,
    Notification,
    UseDecision,
)


def test_demo_step_is_idempotent(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMORI_DEMO", "1")
    reset_settings_cache()
    from mamori.access.demo import seed as seed_accounts

    quiet = Console(file=io.StringIO())
    with session_scope() as session:
        seed_accounts(session=session, console=quiet)
    for _ in range(2):
        with session_scope() as session:
            demo.seed(session=session, console=quiet)
    with Session(get_engine()) as session:
        counts = [session.scalar(select(func.count()).select_from(model))
                  for model in (Agreement, Consent, Measure, UseDecision, CooperationRequest)]
        assert counts == [1, 1, 1, 1, 1]
        measure_id = session.scalars(select(Measure.id)).one()
        agreement_id = session.scalars(select(Agreement.id)).one()
        assert gate.measure_in_force(session=session, measure_id=measure_id,
                                     at=utcnow()).allowed
        assert gate.measure_in_force(session=session, measure_id=agreement_id,
                                     at=utcnow()).allowed
        assert session.scalars(select(Consent.status)).one() == "active"
        assert session.scalars(select(UseDecision.granted)).one() is True
        request = session.scalars(select(CooperationRequest)).one()
        assert (request.measure_id, request.status) == (measure_id, "cooperating")
        assert len(request.explanations) == 1 and request.sent_at is not None
        events = set(session.scalars(select(Notification.event)).all())
        assert {"measure_started", "selected_info_provided"} <= events
