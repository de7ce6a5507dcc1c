"""``mamori recipient``: the register of recipients (the six categories of the Act) and
what must be on record before some of them may receive: an administrative body's
provision basis, a council member's consent and safeguards."""

from __future__ import annotations

from datetime import date

import typer
from rich.console import Console

from mamori.dissemination import categories as cat
from mamori.dissemination import entitlements as ent
from mamori.dissemination import recipients, safeguards
from mamori.dissemination.cli import acting, print_json

app = typer.Typer(help="Recipients of provision (提供先) and what is on record for them.",
                  no_args_is_help=True)
out = Console()


@app.command("add")
def add(
    code: str = typer.Argument(..., help="Short code, e.g. npa or aoba-council."),
    category: str = typer.Option(..., "--category", help=", ".join(cat.CATEGORIES)),
    name_ja: str = typer.Option(..., "--name-ja"),
    name_en: str = typer.Option(..., "--name-en"),
    organisation: str | None = typer.Option(None, "--org", help="Organisation code."),
    publishes: bool = typer.Option(False, "--publishes",
                                   help="The public site: what it receives is published."),
    language: str = typer.Option("ja", "--language"),
    email: str | None = typer.Option(None, "--email", help="Address for e-mail notices."),
    webhook: str | None = typer.Option(None, "--webhook", help="URL for signed webhooks."),
    consent: list[str] = typer.Option([], "--consent",
                                      help="Audiences its contributions may name it to."),
) -> None:
    """Register a recipient."""
    with acting() as (session, principal):
        made = recipients.create_recipient(
            session=session, principal=principal, code=code, category=category,
            name_ja=name_ja, name_en=name_en, organisation=organisation, publishes=publishes,
            language=language, contact_email=email, webhook_url=webhook,
            attribution_consent=consent)
    out.print(f"recipient {made.code} ({made.category}) registered", highlight=False)


@app.command("list")
def list_(category: str | None = typer.Option(None, "--category"),
          as_json: bool = typer.Option(False, "--json")) -> None:
    """The recipients."""
    with acting() as (session, principal):
        found = recipients.list_recipients(session=session, principal=principal,
                                           category=category)
    if as_json:
        print_json([r.model_dump(mode="json") for r in found])
        return
    for r in found:
        state = "" if r.active else " (deactivated)"
        out.print(f"{r.code}\t{r.category}\t{r.name_en}{state}", highlight=False)


@app.command("show")
def show(code: str) -> None:
    """One recipient and what is on record for it."""
    with acting() as (session, principal):
        item = recipients.get_recipient(session=session, principal=principal, code=code)
        bases, councils = safeguards.list_records(session=session, principal=principal,
                                                  recipient=code)
    print_json({"recipient": item.model_dump(mode="json"),
                "provision_bases": [b.model_dump(mode="json") for b in bases],
                "council_safeguards": [c.model_dump(mode="json") for c in councils]})


@app.command("update")
def update(
    code: str,
    email: str | None = typer.Option(None, "--email", help="'' clears it."),
    webhook: str | None = typer.Option(None, "--webhook", help="'' clears it."),
    consent: list[str] | None = typer.Option(None, "--consent"),
    deactivate: bool = typer.Option(False, "--deactivate"),
    activate: bool = typer.Option(False, "--activate"),
    rotate_secret: bool = typer.Option(False, "--rotate-webhook-secret"),
) -> None:
    """Change how a recipient is reached, its consent, or whether it is active."""
    active = False if deactivate else (True if activate else None)
    with acting() as (session, principal):
        item = recipients.update_recipient(
            session=session, principal=principal, code=code, contact_email=email,
            webhook_url=webhook, attribution_consent=consent or None, active=active,
            rotate_webhook_secret=rotate_secret)
    out.print(f"recipient {item.code} updated", highlight=False)


@app.command("webhook-secret")
def webhook_secret(code: str) -> None:
    """The secret that verifies this recipient's webhook signatures."""
    with acting() as (session, principal):
        secret = recipients.webhook_secret(session=session, principal=principal, code=code)
    typer.echo(secret)


@app.command("basis")
def basis(
    code: str,
    trigger: str = typer.Option(..., "--trigger", help=", ".join(safeguards.TRIGGERS)),
    reference: str = typer.Option(..., "--reference", help="The document it rests on."),
    article: str = typer.Option("Art 38", "--article"),
    valid_until: str | None = typer.Option(None, "--until", help="YYYY-MM-DD"),
) -> None:
    """Record an administrative body's provision basis (needed for tier 1)."""
    until = _date(valid_until, "--until")
    with acting() as (session, principal):
        made = safeguards.record_provision_basis(
            session=session, principal=principal, recipient=code, trigger=trigger,
            reference=reference, article=article, valid_until=until)
    out.print(f"provision basis {made.id} recorded for {code}", highlight=False)


@app.command("safeguards")
def council_safeguards(
    code: str,
    consent_on: str = typer.Option(..., "--consent-on", help="YYYY-MM-DD"),
    consent_reference: str = typer.Option(..., "--consent-ref"),
    safeguards_reference: str = typer.Option(..., "--safeguards-ref"),
    valid_until: str | None = typer.Option(None, "--until", help="YYYY-MM-DD"),
    withdraw: bool = typer.Option(False, "--withdraw", help="Withdraw what is on record."),
) -> None:
    """Record (or withdraw) a council member's consent and safeguards (Art 45(2)(4))."""
    with acting() as (session, principal):
        if withdraw:
            count = safeguards.withdraw_council_safeguards(session=session,
                                                           principal=principal, recipient=code)
            out.print(f"{count} record(s) withdrawn for {code}", highlight=False)
            return
        on = _date(consent_on, "--consent-on")
        assert on is not None
        made = safeguards.record_council_safeguards(
            session=session, principal=principal, recipient=code, consent_on=on,
            consent_reference=consent_reference, safeguards_reference=safeguards_reference,
            valid_until=_date(valid_until, "--until"))
    out.print(f"consent and safeguards {made.id} recorded for {code}", highlight=False)


@app.command("matrix")
def matrix(as_json: bool = typer.Option(False, "--json")) -> None:
    """The entitlement matrix in force (version, tiers, conditions, purposes)."""
    found = ent.load_matrix()
    if as_json:
        print_json({"version": found.version, "sha256": found.sha256,
                    "categories": {c: {"tiers": sorted(r.tiers), "legal_basis": r.legal_basis,
                                       "contribute": r.contribute,
                                       "conditions": {str(t): list(n) for t, n in
                                                      r.conditions.items()}}
                                   for c, r in found.rules.items()},
                    "purposes": sorted(found.purposes)})
        return
    out.print(f"entitlement matrix v{found.version} ({found.source}, sha256 "
              f"{found.sha256[:12]}…)", highlight=False)
    for code, rule in found.rules.items():
        conditions = "; ".join(f"tier {t}: {', '.join(n)}" for t, n in
                               sorted(rule.conditions.items()))
        out.print(f"  {code}: tiers {sorted(rule.tiers)} ({rule.legal_basis})"
                  f"{' — ' + conditions if conditions else ''}", highlight=False)


def _date(value: str | None, option: str) -> date | None:
    from mamori.errors import InvalidInput

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{option}: expected YYYY-MM-DD", field=option) from None
