"""``mamori provision``: provide a product tier to a recipient, record the checks a
foreign provision needs, send the notices, read provisions and their feedback, follow
and review the usage attestations after provisions of selected information, and count
provisions for the annual report."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.console import Console

from mamori.access.principal import Principal
from mamori.cli.context import state
from mamori.db import session_scope
from mamori.dissemination import deliveries, feedback, foreign, provisions, usage
from mamori.dissemination.cli import acting, print_json
from mamori.dissemination.safeguards import local_date
from mamori.dissemination.statistics import provision_statistics

app = typer.Typer(help="Provision (提供): provide products within each recipient's "
                  "entitlement, notices, feedback.", no_args_is_help=True)
out = Console()
JOB = Principal.system("dissemination-delivery")


@app.command("send")
def send(
    product_id: str = typer.Argument(..., help="The product (its current version)."),
    tier: int = typer.Option(..., "--tier", help="1, 2 or 3."),
    recipient: str = typer.Option(..., "--to", help="Recipient code."),
    purpose: str = typer.Option(..., "--purpose",
                                help="Purpose recorded with the provision (see `mamori "
                                "recipient matrix --json`)."),
    notify: bool = typer.Option(True, "--notify/--no-notify",
                                help="Send the webhook and e-mail notices now."),
) -> None:
    """Provide a product tier to a recipient (checked against the entitlement matrix)."""
    with acting() as (session, principal), provisions.refusals_recorded(session):
        made = provisions.provide(session=session, principal=principal, product_id=product_id,
                                  tier=tier, recipient=recipient, purpose=purpose)
    out.print(f"provision {made.id}: {made.product_id} v{made.product_version} tier "
              f"{made.tier} to {made.recipient_code} ({made.legal_basis}), "
              f"{made.object_count} objects, digest {made.digest[:16]}…", highlight=False)
    if notify:
        _deliver(made.id)


@app.command("check")
def check(
    product_id: str = typer.Argument(...),
    version: int = typer.Option(..., "--version", help="Product version."),
    tier: int = typer.Option(..., "--tier"),
    recipient: str = typer.Option(..., "--to", help="The foreign government's code."),
    kind: str = typer.Option(..., "--kind", help=", ".join(foreign.KINDS)),
    finding: str = typer.Option(..., "--finding"),
    reference: str | None = typer.Option(None, "--reference"),
) -> None:
    """Record one of the two findings a foreign provision needs (R-5.2-4)."""
    with acting() as (session, principal):
        made = foreign.record_foreign_check(
            session=session, principal=principal, recipient=recipient, product_id=product_id,
            product_version=version, tier=tier, kind=kind, finding=finding,
            reference=reference)
    out.print(f"check {made.id} ({made.kind}) recorded", highlight=False)


def _deliver(provision_id: int | None) -> None:
    with session_scope() as session:
        principal = JOB if not state.acting_as else None
        if principal is None:
            from mamori.cli.context import current_principal

            principal = current_principal(session)
        tried = deliveries.deliver_pending(session=session, principal=principal,
                                           provision_id=provision_id)
    for d in tried:
        out.print(f"notice {d.id} ({d.channel}) to provision {d.provision_id}: {d.status}, "
                  f"attempt {d.attempts}", highlight=False)


@app.command("deliver")
def deliver(provision_id: int | None = typer.Option(None, "--provision")) -> None:
    """Send the notices that are due (without --as: as the platform's job)."""
    _deliver(provision_id)


@app.command("list")
def list_(product: str | None = typer.Option(None, "--product"),
          recipient: str | None = typer.Option(None, "--to"),
          received: bool = typer.Option(False, "--received",
                                        help="What your organisation received."),
          as_json: bool = typer.Option(False, "--json")) -> None:
    """Provisions (oversight and analysts), or what you received."""
    with acting() as (session, principal):
        found = provisions.received(session=session, principal=principal) if received else \
            provisions.list_provisions(session=session, principal=principal,
                                       product_id=product, recipient=recipient)
    if as_json:
        print_json([p.model_dump(mode="json") for p in found])
        return
    for p in found:
        out.print(f"{p.id}\t{p.provided_at:%Y-%m-%d %H:%M}\t{p.product_id} v{p.product_version}"
                  f"\ttier {p.tier}\t{p.recipient_code}\t{p.legal_basis}", highlight=False)


@app.command("show")
def show(provision_id: int) -> None:
    """One provision, its notices and its objects."""
    with acting() as (session, principal):
        item = provisions.get_provision(session=session, principal=principal,
                                        provision_id=provision_id)
        found = provisions.provision_objects(session=session, principal=principal,
                                             provision_id=provision_id)
    print_json({"provision": item.model_dump(mode="json"), "objects": found})


@app.command("feedback")
def give_feedback(
    provision_id: int,
    rating: int = typer.Option(..., "--rating", help="1 (not useful) to 5 (very useful)."),
    action_taken: str = typer.Option(..., "--did", help="What you did with it."),
) -> None:
    """Acknowledge a provision you received, rate it and say what you did."""
    with acting() as (session, principal):
        made = feedback.give_feedback(session=session, principal=principal,
                                      provision_id=provision_id, rating=rating,
                                      action_taken=action_taken)
    out.print(f"feedback {made.id} recorded", highlight=False)


@app.command("product-feedback")
def product_feedback(product_id: str) -> None:
    """The feedback on one product, provision by provision."""
    with acting() as (session, principal):
        found = feedback.product_feedback(session=session, principal=principal,
                                          product_id=product_id)
    print_json({"product_id": found.product_id, "provisions": found.provisions,
                "acknowledged": found.acknowledged, "average_rating": found.average_rating,
                "entries": [{"provision_id": e.provision_id, "recipient": e.recipient,
                             "tier": e.tier, "acknowledged_at": e.acknowledged_at,
                             "feedback": [f.model_dump(mode="json") for f in e.ratings]}
                            for e in found.entries]})


@app.command("attestations")
def attestations(overdue: bool = typer.Option(False, "--overdue",
                                              help="Only those still open after their due "
                                              "date."),
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """Usage attestations asked after provisions of selected information, soonest due
    first."""
    with acting() as (session, principal):
        found = usage.list_attestations(session=session, principal=principal,
                                        overdue=overdue)
    if as_json:
        print_json([r.model_dump(mode="json") for r in found])
        return
    for r in found:
        status = f"{r.status} (overdue)" if r.overdue else r.status
        out.print("\t".join([str(r.id), f"provision {r.provision_id}", r.recipient_code,
                             f"due {local_date(r.due_at)}", status, r.outcome or ""]).rstrip(),
                  highlight=False)


@app.command("review")
def review(
    request_id: int = typer.Argument(..., help="The attestation request (see `attestations`)."),
    outcome: str = typer.Option(..., "--outcome", help=" | ".join(usage.OUTCOMES)),
    note: str | None = typer.Option(None, "--note",
                                    help="Required unless the use is within consent."),
) -> None:
    """Review what a receiving body attested about its use of selected information."""
    with acting() as (session, principal):
        done = usage.review(session=session, principal=principal, request_id=request_id,
                            outcome=outcome, note=note)
    out.print(f"request {done.id} (provision {done.provision_id}): {done.outcome}",
              highlight=False)


@app.command("stats")
def stats(start: str = typer.Option(..., "--from", help="YYYY-MM-DD (UTC)"),
          end: str = typer.Option(..., "--until", help="YYYY-MM-DD (UTC), exclusive")) -> None:
    """Provisions per category and tier, and usage attestations, in a period (for the
    annual report)."""
    from datetime import UTC

    from mamori.errors import InvalidInput

    try:
        since = datetime.fromisoformat(start).replace(tzinfo=UTC)
        until = datetime.fromisoformat(end).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput("dates are YYYY-MM-DD", field="period") from None
    with acting() as (session, principal):
        rows = provision_statistics(session=session, principal=principal, start=since,
                                    end=until)
    for item, count in rows:
        typer.echo(f"{item}\t{count}")
