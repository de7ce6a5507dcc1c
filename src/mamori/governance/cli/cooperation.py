"""``mamori cooperation``: requests to telecom carriers for cooperation under a measure
(協力の求め, Art 20), the advance explanations, the carrier's answer and the evaluation of
a refusal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from mamori.errors import InvalidInput
from mamori.governance import constants as c
from mamori.governance import cooperation
from mamori.governance.cli import _, acting, command, document_digest, emit_json, local, out
from mamori.governance.labels import (
    COOPERATION_ITEMS,
    COOPERATION_STATUS,
    EXPLANATION_METHODS,
    REFUSAL_EVALUATIONS,
)
from mamori.governance.models import CooperationOut, CooperationRequest
from mamori.governance.parsing import parse_when

app = typer.Typer(
    help="Cooperation of telecom carriers under a measure (協力の求め, Art 20).",
    no_args_is_help=True,
)

REQUEST_ID = typer.Argument(..., metavar="K", help="A cooperation request id (K-YYYY-NNNN).")
AS_JSON = typer.Option(False, "--json", help="Print the request as JSON.")


def _show(request: CooperationOut, as_json: bool) -> None:
    if as_json:
        emit_json(request)
        return
    out.print(f"{request.id}  {request.measure_id}  {request.carrier}  "
              f"{_(COOPERATION_STATUS[request.status])}", markup=False)
    out.print("  " + "; ".join(_(COOPERATION_ITEMS[i]) for i in request.items), markup=False)
    for label, text in ((_("Description of the cooperation asked"), request.description),
                        (_("Conditions of cooperation"), request.conditions),
                        (_("Burden considerations"), request.burden)):
        if text:
            out.print(f"  {label}: {text}", markup=False)
    for e in request.explanations:
        out.print(f"  {_('Advance explanation')} {local(e.explained_at)} "
                  f"{_(EXPLANATION_METHODS[e.method])} {e.explained_by}: {e.summary}",
                  markup=False)
    for label, when, who in ((_("Sent"), request.sent_at, request.sent_by),
                             (_("Answer recorded"), request.responded_at, request.responded_by),
                             (_("Withdrawal recorded"), request.withdrawn_at,
                              request.withdrawn_by)):
        if when:
            out.print(f"  {label} {local(when)} {who}", markup=False)
    if request.refusal_reason:
        out.print(f"  {_('Reason given by the carrier')}: {request.refusal_reason}",
                  markup=False)
    for v in request.evaluations:
        out.print(f"  {local(v.evaluated_at)} {_(REFUSAL_EVALUATIONS[v.evaluation])} "
                  f"{v.evaluated_by}: {v.note}", markup=False)


def _step(action: Callable[..., CooperationRequest], request_id: str, as_json: bool,
          **arguments: Any) -> None:
    """Run one service step on a request and show where the request stands."""
    with acting() as (session, who):
        result = cooperation.to_out(action(session=session, principal=who,
                                           request_id=request_id, **arguments))
    _show(result, as_json)


def _explained(**arguments: Any) -> CooperationRequest:
    return cooperation.record_explanation(**arguments).request


@command(app, "request")
def request(
    measure: str = typer.Option(..., "--measure", help="The measure (M-YYYY-NNNN)."),
    carrier: str = typer.Option(..., "--carrier", help="The telecom carrier."),
    item: list[str] = typer.Option(..., "--item",
                                   help=f"What is asked (repeatable): {', '.join(c.COOP_ITEMS)}."),
    description: str = typer.Option("", "--description",
                                    help="What is asked; required with --item other."),
    conditions: str = typer.Option("", "--conditions", help="Burden, cost, schedule."),
    burden: str = typer.Option("", "--burden",
                               help="How the carrier's burden is kept from being excessive."),
    as_json: bool = AS_JSON,
) -> None:
    """Record a draft request for cooperation to a carrier under a measure."""
    with acting() as (session, who):
        result = cooperation.to_out(cooperation.request_cooperation(
            session=session, principal=who, measure_id=measure, carrier=carrier, items=item,
            description=description, conditions=conditions, burden=burden))
    _show(result, as_json)


@command(app, "explain")
def explain(
    request_id: str = REQUEST_ID,
    method: str = typer.Option(..., "--method", help="meeting, document or call."),
    summary: str = typer.Option(..., "--summary", help="What was explained."),
    document: Path | None = typer.Option(None, "--document",
                                         help="The explanatory document (only its digest "
                                         "is kept)."),
    at: str | None = typer.Option(None, "--at", help="When it was explained (default now)."),
    as_json: bool = AS_JSON,
) -> None:
    """Record the advance explanation of content and conditions to the carrier (事前説明)."""
    _step(_explained, request_id, as_json, method=method, summary=summary,
          document_digest=document_digest(None, document, required=False),
          explained_at=parse_when(at, field="at") if at else None)


@command(app, "send")
def send(request_id: str = REQUEST_ID, as_json: bool = AS_JSON) -> None:
    """Mark the request as sent to the carrier (needs a recorded explanation)."""
    _step(cooperation.send_request, request_id, as_json)


@command(app, "respond")
def respond(
    request_id: str = REQUEST_ID,
    cooperating: bool = typer.Option(False, "--cooperating", help="The carrier cooperates."),
    refused: bool = typer.Option(False, "--refused", help="The carrier refuses."),
    reason: str | None = typer.Option(None, "--reason", help="The carrier's stated reason."),
    evaluation: str | None = typer.Option(
        None, "--evaluation", help="legitimate, not_legitimate or under_review (default)."),
    note: str | None = typer.Option(None, "--note", help="Why the reason is judged so."),
    as_json: bool = AS_JSON,
) -> None:
    """Record the carrier's answer: --cooperating, or --refused --reason TEXT."""
    if cooperating == refused:
        raise InvalidInput("give either --cooperating or --refused")
    _step(cooperation.record_response, request_id, as_json,
          outcome=c.COOP_COOPERATING if cooperating else c.COOP_REFUSED, reason=reason,
          evaluation=evaluation, note=note)


@command(app, "evaluate")
def evaluate(
    request_id: str = REQUEST_ID,
    evaluation: str = typer.Option(..., "--evaluation",
                                   help="legitimate, not_legitimate or under_review."),
    note: str = typer.Option("", "--note", help="Why the reason is judged so."),
    as_json: bool = AS_JSON,
) -> None:
    """Record a new evaluation of a refusal's reason (正当な理由); earlier ones are kept."""
    _step(cooperation.evaluate_refusal, request_id, as_json, evaluation=evaluation, note=note)


@command(app, "withdraw")
def withdraw(request_id: str = REQUEST_ID, as_json: bool = AS_JSON) -> None:
    """Withdraw a draft or sent request the carrier has not answered."""
    _step(cooperation.withdraw_request, request_id, as_json)


@command(app, "list")
def list_(
    measure: str | None = typer.Option(None, "--measure", help="Only under this measure."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Cooperation requests and where each stands."""
    with acting() as (session, who):
        rows = [cooperation.to_out(r) for r in cooperation.list_requests(
            session=session, principal=who, measure_id=measure)]
    if as_json:
        emit_json(rows)
        return
    table = Table(_("ID"), _("Measure"), _("Telecom carrier"), _("Status"), _("Evaluation"))
    for row in rows:
        table.add_row(row.id, row.measure_id, row.carrier, _(COOPERATION_STATUS[row.status]),
                      _(REFUSAL_EVALUATIONS[row.evaluation]) if row.evaluation else "-")
    out.print(table)


@command(app, "show")
def show(request_id: str = REQUEST_ID, as_json: bool = typer.Option(False, "--json")) -> None:
    """One request with its explanations, the answer and the evaluations."""
    _step(cooperation.get_request, request_id, as_json)
