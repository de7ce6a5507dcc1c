"""``mamori report``: file incident reports, export them, check the scope rules, send
reminders, issue report requests and push attack-precursor information.

Every command acts as ``--as USER`` (token in ``MAMORI_TOKEN``), except ``remind``,
which without ``--as`` runs as the platform's scheduled job.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.cli.context import current_principal, state
from mamori.db import session_scope
from mamori.errors import InvalidInput
from mamori.reporting import service
from mamori.reporting.models import IncidentOut

app = typer.Typer(
    help="Incident reports (特定侵害事象等の報告): file, export, scope check, reminders.",
    no_args_is_help=True,
)
out = Console()
PACKAGE = Path(__file__).parent


@contextmanager
def _acting() -> Iterator[tuple[Session, Principal]]:
    with session_scope() as session:
        yield session, current_principal(session)


def _json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path.name}: {exc.strerror}", field="file") from None


def _summary(incident: IncidentOut) -> None:
    out.print(f"incident {incident.id} ({incident.regulation}): version "
              f"{incident.current_version}, status {incident.status}", highlight=False)
    for routing in incident.routings:
        if routing.version_number == incident.current_version:
            out.print(f"  routed to {routing.recipient} ({routing.code})", highlight=False)
    if incident.scope_decision:
        out.print(f"  scope: {incident.scope_decision} (rule {incident.scope_rule})",
                  highlight=False)
    if incident.next_due_at:
        out.print(f"  next report due {incident.next_due_at.isoformat()}", highlight=False)


@app.command("file")
def file_report(
    path: Path = typer.Argument(..., help="The report, JSON (mamori.incident-report/1)."),
    operator: int | None = typer.Option(None, "--operator", help="Registry id of the operator."),
    as_json: bool = typer.Option(False, "--json", help="Print the incident as JSON."),
) -> None:
    """File a preliminary report, an update or a final report."""
    with _acting() as (session, principal):
        incident = service.file_report(session=session, principal=principal,
                                       document=_read(path), operator_id=operator)
    if as_json:
        _json(incident.model_dump(mode="json"))
    else:
        _summary(incident)


@app.command("export")
def export(
    incident_id: int = typer.Argument(..., help="The incident id."),
    format: str = typer.Option("stix", "--format",
                               help="stix, or a form: generic, personal_information_leak."),
    version: int | None = typer.Option(None, "--version", help="A version (default: latest)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file."),
) -> None:
    """Export a report as a STIX 2.1 bundle or as another law's form fields."""
    with _acting() as (session, principal):
        result = service.export_incident(session=session, principal=principal,
                                         incident_id=incident_id, format=format,
                                         version=version)
    text = json.dumps(result, ensure_ascii=False, indent=2, default=str)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
        out.print(f"written: {output}")
    else:
        typer.echo(text)


@app.command("show")
def show(incident_id: int = typer.Argument(..., help="The incident id.")) -> None:
    """One incident with its deadlines, routing and versions (JSON)."""
    with _acting() as (session, principal):
        incident = service.get_incident(session=session, principal=principal,
                                        incident_id=incident_id)
    _json(incident.model_dump(mode="json"))


@app.command("list")
def list_incidents(
    status: str | None = typer.Option(None, "--status", help="requested, preliminary, "
                                      "update, final or overdue."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The incidents you may see, newest first."""
    with _acting() as (session, principal):
        items = service.list_incidents(session=session, principal=principal,
                                       status_filter=status)
    if as_json:
        _json([i.model_dump(mode="json") for i in items])
        return
    for i in items:
        due = i.next_due_at.isoformat() if i.next_due_at else "-"
        out.print(f"{i.id:>6}  {i.status:<11} v{i.current_version}  due {due}  {i.title}",
                  highlight=False, markup=False)


@app.command("check")
def check(
    stage: str = typer.Option(..., "--stage", help="attempt_blocked, detected_inside, "
                              "confirmed_compromise or impact."),
    zone: str | None = typer.Option(None, "--zone"),
    category: str | None = typer.Option(None, "--category", help="Device category."),
    technique: list[str] = typer.Option([], "--technique", help="ATT&CK id; repeatable."),
    language: str = typer.Option("ja", "--language", help="ja or en."),
) -> None:
    """Do I need to report? The scope rules' answer and its reason."""
    with _acting() as (session, principal):
        decision = service.check_scope(session=session, principal=principal, stage=stage,
                                       zone=zone, category=category, techniques=technique)
    out.print(f"{decision.decision}: {decision.reason(language)} (rule {decision.rule_id})",
              highlight=False, markup=False)


@app.command("remind")
def remind() -> None:
    """Record the reminders and overdue notices that are due (run it from a scheduler)."""
    with session_scope() as session:
        principal = (current_principal(session) if state.acting_as
                     else Principal.system("report-reminders"))
        sent = service.send_due_reminders(session=session, principal=principal)
    out.print(f"{len(sent)} notice(s) recorded")
    for n in sent:
        out.print(f"  incident {n.incident_id}: {n.kind} for the {n.report_kind} report due "
                  f"{n.due_at.isoformat()}", highlight=False)


@app.command("request")
def request(
    operator: int | None = typer.Option(None, "--operator", help="Registry id (Art 9)."),
    organisation: int | None = typer.Option(None, "--organisation",
                                            help="Organisation id (Art 45(5))."),
    regulation: str = typer.Option("art9_order", "--regulation"),
    title: str = typer.Option(..., "--title", help="What the report is to be about."),
    due: str | None = typer.Option(None, "--due", help="ISO time; default from the workflow."),
) -> None:
    """Issue a report collection order (Art 9) or an Art 45(5) request."""
    due_at = None
    if due:
        try:
            due_at = datetime.fromisoformat(due)
        except ValueError:
            raise InvalidInput("--due must be an ISO time with a time zone", field="due") from None
    with _acting() as (session, principal):
        incident = service.request_report(session=session, principal=principal,
                                          regulation=regulation, title=title,
                                          operator_id=operator, organisation_id=organisation,
                                          due_at=due_at)
    _summary(incident)


@app.command("precursors")
def precursors(path: Path = typer.Argument(..., help="A STIX 2.1 bundle of indicators "
                                           "and sightings.")) -> None:
    """Submit attack-precursor information (STIX 2.1) as your organisation."""
    with _acting() as (session, principal):
        result = service.submit_precursors(session=session, principal=principal,
                                           document=_read(path), channel="cli")
    out.print(f"submission {result.id}: {result.accepted} of {result.total} stored "
              "(the rest were already known)", highlight=False)


@app.command("schema")
def schema(example: bool = typer.Option(False, "--example", help="Print an example instead.")
           ) -> None:
    """Print the JSON Schema of the report format (or an example report)."""
    path = (PACKAGE / "examples" / "preliminary.json" if example
            else PACKAGE / "schema" / "incident-report.schema.json")
    typer.echo(path.read_text(encoding="utf-8"))
