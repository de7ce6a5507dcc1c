"""``mamori operator``: special infrastructure operators (特別社会基盤事業者), their
sector, supervising ministry and sign-in organisation."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from mamori.registry import service
from mamori.registry.cli import acting, print_json

app = typer.Typer(help="Special infrastructure operators (特別社会基盤事業者).",
                  no_args_is_help=True)
out = Console()


@app.command("add")
def operator_add(
    name: str = typer.Option(..., "--name", help="The operator's name (Japanese)."),
    sector: str = typer.Option(..., "--sector", help="Sector code, e.g. electricity."),
    name_en: str | None = typer.Option(None, "--name-en", help="English name."),
    organisation: str | None = typer.Option(
        None, "--organisation", help="Code of the organisation its staff sign in with."
    ),
    ministry: str | None = typer.Option(
        None, "--ministry", help="Supervising ministry code (default: the sector's)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the operator as JSON."),
) -> None:
    """Register an operator; prints its id."""
    with acting() as (session, principal):
        operator = service.add_operator(
            session=session, principal=principal, name=name, sector=sector, name_en=name_en,
            organisation=organisation, supervising_ministry=ministry,
        )
    if as_json:
        print_json(operator.model_dump(mode="json"))
    else:
        typer.echo(operator.id)


@app.command("list")
def operator_list(
    sector: str | None = typer.Option(None, "--sector", help="Only this sector."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Operators whose register you may view."""
    with acting() as (session, principal):
        operators = service.list_operators(session=session, principal=principal, sector=sector)
    if as_json:
        print_json([o.model_dump(mode="json") for o in operators])
        return
    table = Table("id", "name", "sector", "ministry", "organisation")
    for o in operators:
        table.add_row(str(o.id), o.name, o.sector, o.supervising_ministry,
                      str(o.organisation_id or ""))
    out.print(table)


@app.command("show")
def operator_show(
    operator_id: int = typer.Argument(..., help="Operator id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One operator with its supervising ministry."""
    with acting() as (session, principal):
        operator = service.get_operator(
            session=session, principal=principal, operator_id=operator_id
        )
        ministry = service.operator_supervising_ministry(
            session=session, principal=principal, operator_id=operator_id
        )
    data = {**operator.model_dump(mode="json"), "ministry": ministry.model_dump(mode="json")}
    if as_json:
        print_json(data)
    else:
        out.print(f"{operator.id}: {operator.name} ({operator.sector}, {ministry.name_en})")


@app.command("link")
def operator_link(
    operator_id: int = typer.Argument(..., help="Operator id."),
    organisation: str = typer.Option(..., "--organisation", help="Organisation code."),
) -> None:
    """Link an operator to the organisation its staff sign in with."""
    with acting() as (session, principal):
        service.link_operator(session=session, principal=principal, operator_id=operator_id,
                              organisation=organisation)
    out.print(f"operator {operator_id} linked to {organisation}")
