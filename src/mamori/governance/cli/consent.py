"""``mamori consent``: other-purpose consents (他目的利用, Art 23(4)(i)), prior written
arrangements with receiving bodies, and the use decision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from mamori.governance import consents, use
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
from mamori.governance.labels import CONSENT_STATUS
from mamori.governance.models import ArrangementOut, ConsentOut
from mamori.governance.parsing import parse_when

app = typer.Typer(
    help="Other-purpose consents (他目的利用の同意), arrangements and use decisions.",
    no_args_is_help=True,
)


def _fields(session: Any, who: Any, *, batch: list[str], category: list[str],
            selected_from: str | None, selected_until: str | None, body: str | None,
            purpose: str | None, purpose_text: str | None, digest: str | None,
            document: Path | None) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if batch:
        fields["scope_batches"] = batch
    if category:
        fields["scope_categories"] = category
    if selected_from:
        fields["scope_from"] = parse_when(selected_from, field="selected-from")
    if selected_until:
        fields["scope_until"] = parse_when(selected_until, field="selected-until")
    if body:
        fields["user_body_id"], fields["user_body_name"] = organisation(session, who, body)
    if purpose:
        fields["purpose_code"] = purpose
    if purpose_text is not None:
        fields["purpose_text"] = purpose_text
    value = document_digest(digest, document, required=False)
    if value:
        fields["document_digest"] = value
    return fields


def _show(consent: ConsentOut, as_json: bool) -> None:
    if as_json:
        emit_json(consent)
        return
    status = _(CONSENT_STATUS[consent.status])
    out.print(f"{consent.id}  {consent.agreement_id}  {status}", markup=False)
    out.print(f"  (ア) {', '.join(consent.scope_batches) or '-'} / "
              f"{', '.join(consent.scope_categories) or '-'}", markup=False)
    out.print(f"  (イ) {consent.user_body_name or consent.user_body_id or '-'}", markup=False)
    out.print(f"  (ウ) {consent.purpose_code or '-'}: {consent.purpose_text or '-'}",
              markup=False)


BATCH = typer.Option([], "--batch", help="(ア) a selection batch id (repeatable).")
CATEGORY = typer.Option([], "--category", help="(ア) a mechanical-information category.")
SEL_FROM = typer.Option(None, "--selected-from", help="(ア) selected from (ISO 8601).")
SEL_UNTIL = typer.Option(None, "--selected-until", help="(ア) selected until.")
BODY = typer.Option(None, "--body", help="(イ) the organisation that will use it (code).")
PURPOSE = typer.Option(None, "--purpose", help="(ウ) purpose code.")
PURPOSE_TEXT = typer.Option(None, "--purpose-text", help="(ウ) the specific purpose.")
DIGEST = typer.Option(None, "--digest", help="SHA-256 of the written consent.")
DOCUMENT = typer.Option(None, "--document", help="The written consent (only its digest is kept).")


@command(app, "record")
def record(
    agreement: str = typer.Option(..., "--agreement", help="The agreement (A-YYYY-NNNN)."),
    batch: list[str] = BATCH, category: list[str] = CATEGORY,
    selected_from: str | None = SEL_FROM, selected_until: str | None = SEL_UNTIL,
    body: str | None = BODY, purpose: str | None = PURPOSE,
    purpose_text: str | None = PURPOSE_TEXT, digest: str | None = DIGEST,
    document: Path | None = DOCUMENT,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Record a consent being sought (a draft until activated)."""
    with acting() as (session, who):
        fields = _fields(session, who, batch=batch, category=category,
                         selected_from=selected_from, selected_until=selected_until, body=body,
                         purpose=purpose, purpose_text=purpose_text, digest=digest,
                         document=document)
        row = consents.record_consent(session=session, principal=who, agreement_id=agreement,
                                      **fields)
        result = ConsentOut.model_validate(row)
    _show(result, as_json)


@command(app, "amend")
def amend(
    consent_id: str = typer.Argument(..., metavar="ID"),
    batch: list[str] = BATCH, category: list[str] = CATEGORY,
    selected_from: str | None = SEL_FROM, selected_until: str | None = SEL_UNTIL,
    body: str | None = BODY, purpose: str | None = PURPOSE,
    purpose_text: str | None = PURPOSE_TEXT, digest: str | None = DIGEST,
    document: Path | None = DOCUMENT,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Fill in or correct a draft consent."""
    with acting() as (session, who):
        fields = _fields(session, who, batch=batch, category=category,
                         selected_from=selected_from, selected_until=selected_until, body=body,
                         purpose=purpose, purpose_text=purpose_text, digest=digest,
                         document=document)
        row = consents.amend_consent(session=session, principal=who, consent_id=consent_id,
                                     **fields)
        result = ConsentOut.model_validate(row)
    _show(result, as_json)


@command(app, "examine")
def examine(
    consent_id: str = typer.Argument(..., metavar="ID"),
    text: str = typer.Option(..., "--text", help="The case-by-case examination."),
) -> None:
    """Record the case-by-case examination of the conditions (before activation)."""
    with acting() as (session, who):
        consents.examine_consent(session=session, principal=who, consent_id=consent_id,
                                 examination=text)
    out.print(_("examination recorded for {id}").format(id=consent_id), markup=False)


@command(app, "activate")
def activate(
    consent_id: str = typer.Argument(..., metavar="ID"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Make a complete consent effective (administrators)."""
    with acting() as (session, who):
        result = ConsentOut.model_validate(
            consents.activate_consent(session=session, principal=who, consent_id=consent_id))
    _show(result, as_json)


@command(app, "withdraw")
def withdraw(consent_id: str = typer.Argument(..., metavar="ID")) -> None:
    """Record that the consent was withdrawn; no further use is granted under it."""
    with acting() as (session, who):
        consents.withdraw_consent(session=session, principal=who, consent_id=consent_id)
    out.print(_("consent {id} withdrawn").format(id=consent_id), markup=False)


@command(app, "list")
def list_(
    agreement: str | None = typer.Option(None, "--agreement"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Consents and their state."""
    with acting() as (session, who):
        rows = [ConsentOut.model_validate(c) for c in consents.list_consents(
            session=session, principal=who, agreement_id=agreement)]
    if as_json:
        emit_json(rows)
        return
    table = Table(_("ID"), _("Agreement"), _("Status"), _("Body"), _("Purpose"))
    for row in rows:
        table.add_row(row.id, row.agreement_id, _(CONSENT_STATUS[row.status]),
                      row.user_body_name or str(row.user_body_id or "-"), row.purpose_text)
    out.print(table)


@command(app, "show")
def show(
    consent_id: str = typer.Argument(..., metavar="ID"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    with acting() as (session, who):
        result = ConsentOut.model_validate(
            consents.get_consent(session=session, principal=who, consent_id=consent_id))
    _show(result, as_json)


@command(app, "arrangement")
def arrangement(
    body: str = typer.Option(..., "--body", help="The receiving organisation (code)."),
    purpose: list[str] = typer.Option(..., "--purpose", help="A permitted purpose code."),
    scope: str = typer.Option(..., "--scope", help="The permitted scope."),
    start: str | None = typer.Option(None, "--from", help="Effective from (default now)."),
    until: str | None = typer.Option(None, "--until"),
    digest: str | None = DIGEST, document: Path | None = DOCUMENT,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Record the prior written arrangement with a body before any provision to it."""
    from mamori.db import utcnow

    with acting() as (session, who):
        body_id, body_name = organisation(session, who, body)
        row = consents.record_arrangement(
            session=session, principal=who, body_organisation_id=body_id, body_name=body_name,
            purposes=purpose, scope=scope,
            document_digest=document_digest(digest, document, required=True) or "",
            effective_from=parse_when(start, field="from") if start else utcnow(),
            effective_until=parse_when(until, field="until") if until else None)
        result = ArrangementOut.model_validate(row)
    if as_json:
        emit_json(result)
    else:
        out.print(f"{result.id}  {result.body_name}  {', '.join(result.purposes)}",
                  markup=False)


@command(app, "arrangements")
def arrangements(as_json: bool = typer.Option(False, "--json")) -> None:
    """Prior written arrangements with receiving bodies."""
    with acting() as (session, who):
        rows = [ArrangementOut.model_validate(a)
                for a in consents.list_arrangements(session=session, principal=who)]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        out.print(f"{row.id}  {row.body_name}  {', '.join(row.purposes)}  "
                  f"{local(row.effective_from)} → {local(row.effective_until)}", markup=False)


@command(app, "check")
def check(
    basis: str = typer.Option(..., "--basis", help="Agreement or measure the data came from."),
    batch: list[str] = typer.Option([], "--batch", help="Selection batch id (repeatable)."),
    record_id: list[str] = typer.Option([], "--record", help="Selected record id."),
    category: list[str] = typer.Option(..., "--category",
                                       help="Mechanical-information category used."),
    body: str = typer.Option(..., "--body", help="The organisation that will use it."),
    purpose: str = typer.Option(..., "--purpose", help="Purpose code."),
    purpose_text: str = typer.Option("", "--purpose-text", help="The specific purpose."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Decide whether selected information may be used or provided (audited either way)."""
    with acting() as (session, who):
        body_id, _name = organisation(session, who, body)
        decision = use.decide_use(
            session=session, principal=who,
            data_ref=use.SelectedInfoRef(basis_id=basis, batch_ids=tuple(batch),
                                         record_ids=tuple(record_id),
                                         categories=tuple(category)),
            user_body_id=body_id, purpose_code=purpose, purpose_text=purpose_text)
    data = {"granted": decision.granted, "reason": decision.reason,
            "explanation": decision.explanation, "provision": decision.provision,
            "consent": decision.consent_id, "arrangement": decision.arrangement_id,
            "decision_id": decision.decision_id}
    if as_json:
        emit_json(data)
    else:
        verdict = _("granted") if decision.granted else _("refused")
        out.print(f"{verdict}: {decision.explanation} ({decision.reason})", markup=False)
    if not decision.granted:
        raise typer.Exit(1)
