"""Demo step "incident reports": one incident at さくら電力 goes from a preliminary
report through an update to the final report, each routed to METI and the Cabinet
Office; ひかり鉄道 has filed only a preliminary report and gets a reminder before its
update is due. Safe to run again: an incident with the demo title is not filed twice.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy.orm import Session

from mamori.access import service as access_service
from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.reporting import registry_link, service

EXAMPLES = Path(__file__).parent / "examples"
RAILWAY_TITLE = "信号保安設備への不審な通信 / Suspicious traffic to the signalling system"


def _as(session: Session, username: str) -> Principal:
    return access_service.principal_for_user(session=session, username=username, via="system")


def _example(name: str, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    doc.update(changes)
    return doc


def _critical_computer(session: Session, staff: Principal, operator_id: int) -> int | None:
    computers = registry_link.operator_computers(session=session, principal=staff,
                                                 operator_id=operator_id)
    return next((c.id for c in computers if c.zone == "critical_equipment"), None)


def _filed(session: Session, staff: Principal, title: str) -> bool:
    return any(i.title == title for i in service.list_incidents(session=session,
                                                                  principal=staff))


def _sakura(session: Session, console: Console) -> None:
    staff = _as(session, "demo-operator")
    operators = registry_link.visible_operators(session=session, principal=staff)
    if not operators:
        console.print("reporting: no operator of demo-operator in the registry; skipped")
        return
    operator_id = operators[0][0]
    title = _example("preliminary")["title"]
    if _filed(session, staff, title):
        return
    computer = _critical_computer(session, staff, operator_id)
    computers = [computer] if computer else []
    aware = utcnow() - timedelta(days=3)
    times = {"detected_at": (aware - timedelta(hours=2)).isoformat(),
             "aware_at": aware.isoformat()}
    first = service.file_report(
        session=session, principal=staff, operator_id=operator_id,
        document=_example("preliminary", computers=computers, **times),
        now=aware + timedelta(hours=6))
    service.file_report(
        session=session, principal=staff,
        document=_example("update", incident=first.id, computers=computers, **times),
        now=aware + timedelta(hours=40))
    final = service.file_report(
        session=session, principal=staff,
        document=_example("final", incident=first.id, computers=computers, **times),
        now=aware + timedelta(hours=70))
    console.print(f"reporting: incident {final.id} went from the preliminary report to the "
                  f"final report (versions: {final.current_version})")


def _hikari(session: Session, console: Console) -> None:
    staff = _as(session, "demo-operator-railway")
    operators = registry_link.visible_operators(session=session, principal=staff)
    if not operators or _filed(session, staff, RAILWAY_TITLE):
        return
    computer = _critical_computer(session, staff, operators[0][0])
    aware = utcnow() - timedelta(hours=50)
    doc = _example(
        "preliminary", title=RAILWAY_TITLE, computers=[computer] if computer else [],
        detected_at=(aware - timedelta(hours=1)).isoformat(), aware_at=aware.isoformat(),
        techniques=["T0886"], indicators=[
            {"type": "ipv4-addr", "value": "198.51.100.23", "uncertain": True}],
    )
    incident = service.file_report(session=session, principal=staff, document=doc,
                                   operator_id=operators[0][0], now=aware + timedelta(hours=8))
    sent = service.send_due_reminders(session=session,
                                      principal=Principal.system("report-reminders"))
    console.print(f"reporting: incident {incident.id} awaits its update; "
                  f"{len(sent)} reminder(s) recorded")


def seed(*, session: Session, console: Console) -> None:
    """File the demo incidents (skipped when they exist)."""
    _sakura(session, console)
    _hikari(session, console)
