"""``mamori registry``: the register of specified critical computers — imports,
listings, history, exports, the transition, consultations and settings. Every command
acts as ``--as USER`` (``mamori operator`` manages the operators themselves)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.cli.context import current_principal
from mamori.db import session_scope
from mamori.registry import service
from mamori.registry.messages import N_, RegistryInputError

app = typer.Typer(
    help="Notified specified critical computers (特定重要電子計算機), components and SBOMs.",
    no_args_is_help=True,
)
out = Console()


@contextmanager
def acting() -> Iterator[tuple[Session, Principal]]:
    with session_scope() as session:
        yield session, current_principal(session)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        raise RegistryInputError(N_("cannot read the file"), field="file") from None


# --- the register ---------------------------------------------------------------------


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="CycloneDX SBOM (JSON or XML) or the CSV template."),
    operator: int = typer.Option(..., "--operator", help="Operator id."),
    computer: str | None = typer.Option(
        None, "--computer",
        help="The computer an SBOM describes (name or id); default: its metadata.component.",
    ),
    fmt: str | None = typer.Option(
        None, "--format", help="cyclonedx-json, cyclonedx-xml or csv (default: detected)."
    ),
    notify: bool = typer.Option(
        False, "--notify", help="Notify new computers at once instead of saving drafts."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Import a file into an operator's register: all of it, or nothing."""
    data = _read(file)
    with acting() as (session, principal):
        result = service.import_file(
            session=session, principal=principal, operator_id=operator, data=data,
            computer=computer, fmt=fmt, notify=notify,
        )
    if as_json:
        print_json(result.model_dump(mode="json"))
    else:
        out.print(
            f"imported {result.source}: {len(result.computers)} computer(s), "
            f"{len(result.created)} new, {result.components} component(s)"
        )


@app.command("list")
def list_(
    operator: int = typer.Option(..., "--operator", help="Operator id."),
    as_json: bool = typer.Option(False, "--json", help="Print computers with components."),
) -> None:
    """An operator's computers."""
    with acting() as (session, principal):
        computers = service.find_computers(
            session=session, principal=principal, operator_id=operator
        )
    if as_json:
        print_json([c.model_dump(mode="json") for c in computers])
        return
    table = Table("id", "name", "category", "zone", "status", "version", "components")
    for c in computers:
        table.add_row(str(c.id), c.name, c.device_category or "", c.zone or "", c.status,
                      str(c.version), str(len(c.components)))
    out.print(table)


@app.command("show")
def show(
    computer: int = typer.Argument(..., help="Computer id."),
    history: bool = typer.Option(False, "--history", help="Include every version."),
) -> None:
    """One computer as JSON (with its version history)."""
    with acting() as (session, principal):
        found = service.get_computer(session=session, principal=principal, computer_id=computer)
        data: dict[str, Any] = found.model_dump(mode="json")
        if history:
            data["history"] = [
                v.model_dump(mode="json") for v in service.computer_history(
                    session=session, principal=principal, computer_id=computer)
            ]
    print_json(data)


@app.command("notify")
def notify(computer: int = typer.Argument(..., help="Computer id of a draft.")) -> None:
    """Submit a draft as a notification."""
    with acting() as (session, principal):
        found = service.notify_computer(
            session=session, principal=principal, computer_id=computer
        )
    out.print(f"computer {found.id}: {found.status} (version {found.version})")


@app.command("withdraw")
def withdraw(
    computer: int = typer.Argument(..., help="Computer id."),
    reason: str | None = typer.Option(None, "--reason", help="Why it left service."),
) -> None:
    """Notify that a computer is no longer in service."""
    with acting() as (session, principal):
        found = service.withdraw_computer(
            session=session, principal=principal, computer_id=computer, reason=reason
        )
    out.print(f"computer {found.id}: withdrawn (version {found.version})")


@app.command("export")
def export(
    operator: int | None = typer.Option(None, "--operator", help="Operator id (CSV)."),
    computer: int | None = typer.Option(None, "--computer", help="Computer id (CycloneDX)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file."),
) -> None:
    """A computer as a CycloneDX JSON SBOM, or an operator's register as CSV."""
    if (operator is None) == (computer is None):
        raise RegistryInputError(N_("give either an operator or a computer"), field="operator")
    with acting() as (session, principal):
        if computer is not None:
            text = service.export_sbom(session=session, principal=principal,
                                       computer_id=computer)
        else:
            assert operator is not None
            text = service.export_csv(session=session, principal=principal,
                                      operator_id=operator)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        typer.echo(text, nl=False)


@app.command("template")
def template(
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file."),
) -> None:
    """The CSV template for bulk notification."""
    text = service.csv_template()
    if output:
        output.write_text(text, encoding="utf-8-sig")
    else:
        typer.echo(text, nl=False)


@app.command("categories")
def categories(
    version: int | None = typer.Option(None, "--version", help="Taxonomy version."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Device categories (機器の分類) of the taxonomy."""
    found = service.device_categories(version)
    if found is None:
        raise RegistryInputError(N_("no such taxonomy version is shipped"), field="version")
    if as_json:
        print_json({"version": found.version, "sources": list(found.sources),
               "categories": [vars(c) for c in found.categories.values()]})
        return
    table = Table("code", "group", "name (ja)", "name (en)", "ATT&CK")
    for c in found.categories.values():
        table.add_row(c.code, c.group, c.name_ja, c.name_en, c.attack_id or "")
    out.print(table)
    for source in found.sources:
        out.print(source.get("copyright", ""), markup=False)


@app.command("transition")
def transition_(
    operator: int | None = typer.Option(None, "--operator", help="One operator's items."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """What is due and overdue: for one operator, or by sector."""
    with acting() as (session, principal):
        if operator is not None:
            data: Any = service.operator_transition(
                session=session, principal=principal, operator_id=operator
            ).model_dump(mode="json")
        else:
            data = [s.model_dump(mode="json") for s in service.transition_overview(
                session=session, principal=principal)]
    if as_json or operator is not None:
        print_json(data)
        return
    table = Table("sector", "ministry", "operators", "nothing notified", "notified", "due",
                  "overdue")
    for s in data:
        table.add_row(s["sector"], s["supervising_ministry"], str(s["operators"]),
                      str(len(s["operators_without_notification"])), str(s["counts"]["notified"]),
                      str(s["counts"]["due"]), str(s["counts"]["overdue"]))
    out.print(table)


@app.command("consult")
def consult(
    operator: int = typer.Option(..., "--operator", help="Operator id."),
    subject: str = typer.Option(..., "--subject", help="Subject."),
    question: str = typer.Option(..., "--question", help="The question."),
    computer: int | None = typer.Option(None, "--computer", help="About this computer."),
) -> None:
    """Ask whether something must be notified (相談)."""
    with acting() as (session, principal):
        found = service.ask(session=session, principal=principal, operator_id=operator,
                            subject=subject, question=question, computer_id=computer)
    typer.echo(found.id)


@app.command("answer")
def answer(
    consultation: int = typer.Argument(..., help="Consultation id."),
    text: str = typer.Option(..., "--answer", help="The answer."),
    conclusion: str = typer.Option(
        ..., "--conclusion", help="notification_required, not_required or see_answer."
    ),
) -> None:
    """Answer a consultation; the answer is kept with the operator's record."""
    with acting() as (session, principal):
        service.answer(session=session, principal=principal, consultation_id=consultation,
                       answer=text, conclusion=conclusion)
    out.print(f"consultation {consultation} answered")


@app.command("consultations")
def consultations(
    operator: int | None = typer.Option(None, "--operator", help="One operator's; default: "
                                        "open ones you may answer."),
) -> None:
    """Consultations as JSON."""
    with acting() as (session, principal):
        found = (
            service.list_consultations(session=session, principal=principal,
                                       operator_id=operator)
            if operator is not None
            else service.open_consultations(session=session, principal=principal)
        )
    print_json([c.model_dump(mode="json") for c in found])


@app.command("config")
def config(
    key: str | None = typer.Argument(None, help="Setting to change (omit to show all)."),
    value: str | None = typer.Argument(None, help="New value as JSON, e.g. '\"2026-04-01\"'."),
    reason: str | None = typer.Option(None, "--reason", help="Why (recorded)."),
) -> None:
    """Show the register's settings, or set one (administrators)."""
    with acting() as (session, principal):
        if key is None:
            print_json(service.registry_settings(session=session, principal=principal))
            return
        if value is None:
            raise RegistryInputError(N_("give the new value as JSON"), field="value")
        try:
            parsed = json.loads(value)
        except ValueError:
            raise RegistryInputError(N_("the value is not valid JSON"), field="value") from None
        version = service.configure(session=session, principal=principal, key=key,
                                    value=parsed, reason=reason)
    out.print(f"{key}: version {version}")
