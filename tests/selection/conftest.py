"""Principals, acquisition bases and zone configuration for the selection tests.

Principals are the real value objects the access domain hands out; every call goes
through the real Cedar policies. Measures and agreements are made with the real
governance service, so the gate the engine consults is the real one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.audit.models import AuditEntry
from mamori.db import utcnow
from mamori.governance import agreements, measures
from mamori.selection import service
from worlds import invoke

CAO = 1
ANALYST = Principal(username="s-analyst", roles=frozenset({"analyst"}),
                    organisation_id=CAO, organisation_kind="cabinet_office")
ADMIN = Principal(username="s-admin", roles=frozenset({"admin"}), mfa=True,
                  organisation_id=CAO, organisation_kind="cabinet_office")
INSPECTOR = Principal(username="s-inspector", roles=frozenset({"committee_inspector"}),
                      mfa=True, organisation_id=9, organisation_kind="oversight_committee")
HANDLER = Principal(username="s-handler", roles=frozenset({"comms_handler"}),
                    designated_handler=True, mfa=True, purpose="specified_damage_prevention",
                    organisation_id=CAO, organisation_kind="cabinet_office")
OPERATOR = Principal(username="s-operator", roles=frozenset({"operator"}), organisation_id=3,
                     organisation_kind="operator")

# Domestic (JP) ranges of the test table; everything else is foreign.
DELEGATED = b"""2|apnic|20261126|3|19830613|20261125|+1000
apnic|*|ipv4|*|2|summary
apnic|JP|ipv4|133.0.0.0|16777216|19970101|allocated
apnic|JP|ipv4|203.0.113.0|256|20000101|assigned
apnic|CN|ipv4|1.0.1.0|256|20110414|allocated
apnic|JP|ipv6|2001:db8:100::|48|20040101|allocated
apnic|JP|asn|64500|1|20000101|allocated
"""
C2_V4 = "198.51.100.7"
C2_NET = "192.0.2.0/28"
C2_V6 = "2001:db8:dead::1"
SELECTORS = f"""# test indicators
{C2_V4}
{C2_NET}
{C2_V6}
*.evil.example
port tcp/4444
""".encode()


def audit_count(session: Session, action: str) -> int:
    return int(session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    ) or 0)


def audit_details(session: Session, action: str) -> list[dict[str, object]]:
    import json

    rows = session.scalars(
        select(AuditEntry.details).where(AuditEntry.action == action).order_by(AuditEntry.seq)
    ).all()
    return [json.loads(r) for r in rows]


def make_measure(session: Session, *, article: int = 17, start: datetime | None = None,
                 days: int = 30, approve: bool = True) -> str:
    start = start or utcnow() - timedelta(days=1)
    measure = measures.request_measure(
        session=session, principal=ANALYST, article=article, grounds="botnet C2 abroad",
        target_act="C2 relay", carrier="Example Telecom", facilities=["gw-1"],
        starts_at=start, ends_at=start + timedelta(days=days),
    )
    if approve:
        measures.approve_measure(session=session, principal=INSPECTOR, measure_id=measure.id)
    session.commit()
    return measure.id


def make_agreement(session: Session, identifiers: list[str]) -> str:
    items = {k: "x" for k in (
        "purpose", "communications_scope", "transmission_method", "use_limits",
        "individual_analysis_delivery", "cost_sharing", "confidentiality",
        "effective_period", "termination")}
    agreement = agreements.create_agreement(
        session=session, principal=ANALYST, party_name="Sakura Electric",
        party_organisation_id=3, comm_scope="party links", party_identifiers=identifiers,
        delivery_method="portal", items=items,
    )
    agreements.conclude_agreement(
        session=session, principal=ADMIN, agreement_id=agreement.id, signed_digest="ab" * 32,
        effective_from=utcnow() - timedelta(days=10), effective_until=None,
    )
    session.commit()
    return agreement.id


@pytest.fixture
def zone(session: Session, env) -> Callable[..., str]:  # type: ignore[no-untyped-def]
    """Configure the zone (prefix table, selector set ``c2``); returns ``make_measure``."""
    service.import_prefixes(session=session, principal=ADMIN,
                            files=[("delegated-apnic-latest", DELEGATED)])
    service.import_selectors(session=session, principal=ANALYST, name="c2",
                             files=[("c2.txt", SELECTORS)])
    session.commit()

    def measure(**kwargs: object) -> str:
        return make_measure(session, **kwargs)  # type: ignore[arg-type]

    return measure


Run = tuple[int, str, str]


@pytest.fixture
def mamori(env, session: Session, monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:  # type: ignore[no-untyped-def]
    """Run the ``mamori`` CLI in-process in demo mode (demo accounts seeded).

    Returns ``run(*args, stdin=b"")`` → (exit code, stdout, stderr).
    """
    import io
    import types

    from rich.console import Console

    from mamori.access.demo import seed
    from mamori.config import reset_settings_cache

    monkeypatch.setenv("MAMORI_DEMO", "1")
    monkeypatch.setenv("MAMORI_DEFAULT_LANGUAGE", "en")
    reset_settings_cache()
    seed(session=session, console=Console(file=io.StringIO()))
    session.commit()

    def run(*args: str, stdin: bytes = b"") -> Run:
        reset_settings_cache()
        piped = types.SimpleNamespace(buffer=io.BytesIO(stdin))
        return invoke(capsys, monkeypatch, *args, stdin=piped)

    return run
