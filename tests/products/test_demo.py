"""The demo step: one product composed and built in three tiers; running it again
changes nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.config import reset_settings_cache
from mamori.db import get_engine, session_scope
from mamori.products import demo
from mamori.products.models import Determination, ProductRecord, TierBuild


def test_demo_step_is_idempotent(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMORI_DEMO", "1")
    reset_settings_cache()
    from mamori.access.demo import seed as seed_accounts

    output = io.StringIO()
    console = Console(file=output, width=200)
    with session_scope() as session:
        seed_accounts(session=session, console=console)
    for _ in range(2):
        with session_scope() as session:
            demo.seed(session=session, console=console)
    text = output.getvalue()
    assert text.count("lint passed") == 3
    lines = {line.split(" for ")[0].rsplit(" ", 1)[-1]: line for line in text.splitlines()
             if " tier " in line}
    assert set(lines) == {"1", "2", "3"}
    assert "sanitised: none" in lines["1"]
    assert "attribution" in lines["2"] and "comms" not in lines["2"]  # released, not removed
    assert "secret_generalised x1" in lines["3"] and "provision_derived_tier3" in lines["3"]
    with Session(get_engine()) as session:
        counts = [session.scalar(select(func.count()).select_from(model))
                  for model in (ProductRecord, TierBuild, Determination)]
        assert counts == [1, 3, 1]
