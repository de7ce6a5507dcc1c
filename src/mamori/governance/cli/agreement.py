"""``mamori agreement``: party agreements (当事者協定, Art 13)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from mamori.errors import InvalidInput
from mamori.governance import agreements
from mamori.governance.cli import (
    _,
    acting,
    command,
    document_digest,
    emit_json,
    local,
    organisation,
    out,
)
from mamori.governance.labels import AGREEMENT_STATUS
from mamori.governance.models import AgreementOut, NoteOut
from mamori.governance.parsing import parse_when

app = typer.Typer(help="Party agreements (当事者協定, Art 13).", no_args_is_help=True)


def _items(values: list[str]) -> dict[str, str] | None:
    if not values:
        return None
    items = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise InvalidInput("--item: expected KEY=TEXT (see `mamori agreement template`)")
        items[key.strip()] = text
    return items


def _show(agreement: AgreementOut, as_json: bool) -> None:
    if as_json:
        emit_json(agreement)
        return
    status = _(AGREEMENT_STATUS[agreement.status])
    out.print(f"{agreement.id}  {agreement.party_name}  {status}", markup=False)
    out.print(f"  {_('Effective')}: {local(agreement.effective_from)} → "
              f"{local(agreement.effective_until)}", markup=False)
    if agreement.party_identifiers:
        out.print(f"  {_('Party identifiers')}: {', '.join(agreement.party_identifiers)}",
                  markup=False)


@command(app, "template")
def template(as_json: bool = typer.Option(False, "--json")) -> None:
    """The standard items every agreement addresses (versioned configuration)."""
    with acting() as (session, _who):
        version, items = agreements.agreement_template(session=session)
    if as_json:
        emit_json({"version": version, "items": items})
        return
    for item in items:
        out.print(f"{item['key']}: {item['ja']} / {item['en']}", markup=False)



@command(app, "draft")
def draft(
    party: str = typer.Option(..., "--party", help="The party's name."),
    org: str | None = typer.Option(None, "--org", help="The party's organisation code."),
    scope: str = typer.Option("", "--scope", help="Which communications the party provides."),
    identifier: list[str] = typer.Option([], "--identifier",
                                         help="Address prefix or AS number (repeatable)."),
    delivery: str = typer.Option("", "--delivery",
                                 help="How individual analysis information is delivered."),
    priority: int | None = typer.Option(None, "--priority", help="1 (highest) to 9."),
    item: list[str] = typer.Option([], "--item", help="KEY=TEXT for a template item."),
    deviations: str = typer.Option("", "--deviations", help="How it differs from the template."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Start a draft agreement."""
    with acting() as (session, who):
        org_id = organisation(session, who, org)[0] if org else None
        row = agreements.create_agreement(
            session=session, principal=who, party_name=party, party_organisation_id=org_id,
            comm_scope=scope, party_identifiers=identifier, delivery_method=delivery,
            priority=priority, items=_items(item), deviations=deviations)
        result = AgreementOut.model_validate(row)
    _show(result, as_json)


@command(app, "update")
def update(
    agreement_id: str = typer.Argument(..., metavar="ID"),
    scope: str | None = typer.Option(None, "--scope"),
    identifier: list[str] = typer.Option([], "--identifier"),
    delivery: str | None = typer.Option(None, "--delivery"),
    priority: int | None = typer.Option(None, "--priority"),
    item: list[str] = typer.Option([], "--item", help="KEY=TEXT for a template item."),
    deviations: str | None = typer.Option(None, "--deviations"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Change a draft's negotiated content."""
    with acting() as (session, who):
        row = agreements.update_draft(
            session=session, principal=who, agreement_id=agreement_id, comm_scope=scope,
            party_identifiers=identifier or None, delivery_method=delivery, priority=priority,
            items=_items(item), deviations=deviations)
        result = AgreementOut.model_validate(row)
    _show(result, as_json)


@command(app, "note")
def note(
    agreement_id: str = typer.Argument(..., metavar="ID"),
    text: str = typer.Argument(..., help="What was discussed with the party."),
) -> None:
    """Record a consultation note."""
    with acting() as (session, who):
        row = agreements.add_consultation_note(session=session, principal=who,
                                               agreement_id=agreement_id, note=text)
        note_id = row.id
    out.print(_("note {id} recorded").format(id=note_id), markup=False)


@command(app, "conclude")
def conclude(
    agreement_id: str = typer.Argument(..., metavar="ID"),
    start: str = typer.Option(..., "--from", help="Effective from (ISO 8601)."),
    until: str | None = typer.Option(None, "--until", help="Effective until."),
    digest: str | None = typer.Option(None, "--digest", help="SHA-256 of the signed document."),
    document: Path | None = typer.Option(None, "--document",
                                         help="The signed document (only its digest is kept)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Bring a draft into force (administrators)."""
    with acting() as (session, who):
        row = agreements.conclude_agreement(
            session=session, principal=who, agreement_id=agreement_id,
            signed_digest=document_digest(digest, document, required=True) or "",
            effective_from=parse_when(start, field="from"),
            effective_until=parse_when(until, field="until") if until else None)
        result = AgreementOut.model_validate(row)
    _show(result, as_json)


@command(app, "end")
def end(
    agreement_id: str = typer.Argument(..., metavar="ID"),
    reason: str = typer.Option(..., "--reason"),
) -> None:
    """End an agreement in force; acquisition under it stops now."""
    with acting() as (session, who):
        agreements.end_agreement(session=session, principal=who, agreement_id=agreement_id,
                                 reason=reason)
    out.print(_("agreement {id} ended").format(id=agreement_id), markup=False)


@command(app, "withdraw")
def withdraw(agreement_id: str = typer.Argument(..., metavar="ID")) -> None:
    """Drop a draft that will not be concluded (nothing records that the party declined)."""
    with acting() as (session, who):
        agreements.withdraw_draft(session=session, principal=who, agreement_id=agreement_id)
    out.print(_("draft {id} withdrawn").format(id=agreement_id), markup=False)


@command(app, "list")
def list_(
    status: str | None = typer.Option(None, "--status", help="draft, in_force or ended."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Agreements, highest negotiation priority first."""
    with acting() as (session, who):
        rows = [AgreementOut.model_validate(a) for a in agreements.list_agreements(
            session=session, principal=who, status=status)]
    if as_json:
        emit_json(rows)
        return
    table = Table(_("ID"), _("Party"), _("Status"), _("Priority"), _("Effective"))
    for row in rows:
        table.add_row(row.id, row.party_name, _(AGREEMENT_STATUS[row.status]),
                      str(row.priority or "-"),
                      f"{local(row.effective_from)} → {local(row.effective_until)}")
    out.print(table)


@command(app, "show")
def show(
    agreement_id: str = typer.Argument(..., metavar="ID"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """One agreement with its consultation notes."""
    with acting() as (session, who):
        row = agreements.get_agreement(session=session, principal=who,
                                       agreement_id=agreement_id)
        result = AgreementOut.model_validate(row)
        notes = [NoteOut.model_validate(n) for n in row.notes]
    if as_json:
        emit_json({**result.model_dump(mode="json"),
                   "notes": [n.model_dump(mode="json") for n in notes]})
        return
    _show(result, False)
    for entry in notes:
        out.print(f"  [{local(entry.created_at)} {entry.author}] {entry.note}", markup=False)
