"""``mamori measure``: transmission measures (Art 17, 32, 33) and the committee's
decisions on them."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.table import Table

from mamori.db import utcnow
from mamori.governance import gate, measures
from mamori.governance.cli import _, acting, command, emit_json, local, out
from mamori.governance.guard import authorize
from mamori.governance.labels import MEASURE_STATUS, TERM_STATUS
from mamori.governance.parsing import parse_when

app = typer.Typer(
    help="Transmission measures (送信措置, Art 17/32/33) and the committee's approvals.",
    no_args_is_help=True,
)


def _when(value: str | None, field: str) -> datetime | None:
    return parse_when(value, field=field) if value else None


def _show(measure_out: measures.MeasureOut, as_json: bool) -> None:
    if as_json:
        emit_json(measure_out)
        return
    status = _(MEASURE_STATUS[measure_out.status])
    out.print(f"{measure_out.id}  Art {measure_out.article}  {status}", markup=False)
    for term in measure_out.terms:
        out.print(f"  #{term.seq} {local(term.starts_at)} → {local(term.ends_at)}  "
                  f"{_(TERM_STATUS[term.status])}  {term.decided_by or ''}", markup=False)


@command(app, "request")
def request(
    article: int = typer.Option(..., "--article", help="17, 32 or 33."),
    grounds: str = typer.Option(..., "--grounds", help="Why the measure is needed."),
    target: str = typer.Option("", "--target", help="The target unauthorized act."),
    carrier: str = typer.Option("", "--carrier", help="The telecom carrier."),
    facility: list[str] = typer.Option([], "--facility",
                                       help="A foreign-related facility (repeatable)."),
    start: str | None = typer.Option(None, "--start", help="Start (ISO 8601; default now)."),
    end: str | None = typer.Option(None, "--end", help="End (default: the configured term)."),
    as_json: bool = typer.Option(False, "--json", help="Print the new measure as JSON."),
) -> None:
    """Record a measure and ask the committee to approve it."""
    with acting() as (session, who):
        measure = measures.request_measure(
            session=session, principal=who, article=article, grounds=grounds,
            target_act=target, carrier=carrier, facilities=facility,
            starts_at=_when(start, "start"), ends_at=_when(end, "end"),
        )
        result = measures.to_out(measure)
    _show(result, as_json)


@command(app, "approve")
def approve(
    measure_id: str = typer.Argument(..., metavar="ID"),
    note: str = typer.Option("", "--note", help="The committee's reasons."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Approve the pending request or renewal (committee inspectors only)."""
    with acting() as (session, who):
        result = measures.to_out(measures.approve_measure(
            session=session, principal=who, measure_id=measure_id, note=note))
    _show(result, as_json)


@command(app, "refuse")
def refuse(
    measure_id: str = typer.Argument(..., metavar="ID"),
    note: str = typer.Option("", "--note", help="The committee's reasons."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Refuse the pending request or renewal (committee inspectors only)."""
    with acting() as (session, who):
        result = measures.to_out(measures.refuse_measure(
            session=session, principal=who, measure_id=measure_id, note=note))
    _show(result, as_json)


@command(app, "renew")
def renew(
    measure_id: str = typer.Argument(..., metavar="ID"),
    end: str = typer.Option(..., "--end", help="End of the further term."),
    grounds: str = typer.Option(..., "--grounds", help="Why the measure must continue."),
    start: str | None = typer.Option(None, "--start",
                                     help="Start (default: end of the approved period)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Ask the committee to approve a further term."""
    with acting() as (session, who):
        end_at = parse_when(end, field="end")
        result = measures.to_out(measures.renew_measure(
            session=session, principal=who, measure_id=measure_id, ends_at=end_at,
            grounds=grounds, starts_at=_when(start, "start")))
    _show(result, as_json)


@command(app, "end")
def end(
    measure_id: str = typer.Argument(..., metavar="ID"),
    reason: str = typer.Option(..., "--reason"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Stop a measure now, before its approved period runs out."""
    with acting() as (session, who):
        result = measures.to_out(measures.end_measure(
            session=session, principal=who, measure_id=measure_id, reason=reason))
    _show(result, as_json)


@command(app, "list")
def list_(
    article: int | None = typer.Option(None, "--article"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Measures and the state of their approval."""
    with acting() as (session, who):
        rows = [measures.to_out(m) for m in measures.list_measures(
            session=session, principal=who, article=article)]
    if as_json:
        emit_json(rows)
        return
    table = Table(_("ID"), _("Article"), _("Status"), _("Period"), _("Requested by"))
    for row in rows:
        last = row.terms[-1]
        table.add_row(row.id, str(row.article), _(MEASURE_STATUS[row.status]),
                      f"{local(row.terms[0].starts_at)} → {local(last.ends_at)}",
                      row.created_by)
    out.print(table)


@command(app, "show")
def show(
    measure_id: str = typer.Argument(..., metavar="ID"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """One measure with its terms."""
    with acting() as (session, who):
        result = measures.to_out(measures.get_measure(session=session, principal=who,
                                                      measure_id=measure_id))
    _show(result, as_json)


@command(app, "check")
def check(
    basis_id: str = typer.Argument(..., metavar="ID", help="A measure or agreement id."),
    at: str | None = typer.Option(None, "--at", help="Moment to check (default now)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """What the selection gate answers for a measure or agreement at a moment."""
    with acting() as (session, who):
        authorize(session=session, principal=who, action="measure.view",
                  resource_type=measures.RESOURCE, resource_id=basis_id)
        decision = gate.measure_in_force(session=session, measure_id=basis_id,
                                         at=_when(at, "at") or utcnow())
    data = {
        "basis_id": decision.basis_id, "at": decision.at.isoformat(),
        "allowed": decision.allowed, "reason": decision.reason, "kind": decision.kind,
        "article": decision.article, "directions": list(decision.directions),
        "party_identifiers": list(decision.party_identifiers),
        "valid_until": decision.valid_until.isoformat() if decision.valid_until else None,
    }
    if as_json:
        emit_json(data)
    else:
        verdict = _("in force") if decision.allowed else _("not in force")
        out.print(f"{decision.basis_id}: {verdict} ({decision.reason})", markup=False)
    if not decision.allowed:
        raise typer.Exit(1)
