"""``mamori intel``: import and export STIX bundles, search and correlate, ingest the
platform's sources, run the analytics, review findings and pull partners' TAXII feeds.

Every command acts as ``--as USER`` (token in ``MAMORI_TOKEN``); ``ingest``,
``analyze`` and ``taxii pull`` without ``--as`` run as the platform's scheduled job.
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
from mamori.intel import service
from mamori.intel.ingest.bundle import rejection_lines

app = typer.Typer(
    help="Intel store (整理・分析): STIX 2.1 import/export, correlation, analytics, TAXII feeds.",
    no_args_is_help=True,
)
taxii_app = typer.Typer(help="Partners' TAXII 2.1 collections.", no_args_is_help=True)
app.add_typer(taxii_app, name="taxii")
out = Console(highlight=False)
JOB = "intel"


@contextmanager
def _acting(*, job_without_user: bool = False) -> Iterator[tuple[Session, Principal]]:
    with session_scope() as session:
        if job_without_user and not state.acting_as:
            yield session, Principal.system(JOB)
        else:
            yield session, current_principal(session)


def _json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


@app.command("import")
def import_bundle(
    path: Path = typer.Argument(..., help="A STIX 2.1 bundle (JSON)."),
    label: list[str] = typer.Option(["SECRET"], "--label", help="COMMS, PROVISION_DERIVED, "
                                    "SECRET or PUBLIC (repeat for several)."),
    attributed_to: str | None = typer.Option(None, "--attributed-to",
                                             help="The source that provided it (ATTRIBUTED)."),
    consent: list[str] = typer.Option([], "--consent", help="Audiences the source consented "
                                      "to be named to: a recipient category, organisation:ID "
                                      "or * (repeat)."),
    source: str | None = typer.Option(None, "--source", help="Provenance name (default: "
                                      "file:<name>)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Import a bundle: prints what was stored, merged and rejected (with reasons)."""
    with _acting() as (session, principal):
        result = service.import_file(session=session, principal=principal, path=path,
                                     source=source, labels=label, attributed_to=attributed_to,
                                     consent=consent or None)
    if as_json:
        _json({**result.model_dump(mode="json", exclude={"stored_ids"}), **result.counts})
        return
    out.print(f"import {result.import_id}: stored {result.stored}, merged {result.merged}, "
              f"rejected {len(result.rejected)}")
    for line in rejection_lines(result.rejected):
        out.print(f"  rejected {line}")
    for warning in result.warnings[:50]:
        out.print(f"  warning: {warning}")


@app.command("export")
def export(
    path: Path = typer.Argument(..., help="Write the bundle to this file."),
    format: str = typer.Option("stix", "--format", help="stix (a STIX 2.1 bundle)."),
    current_only: bool = typer.Option(False, "--current-only",
                                      help="Only each object's current version."),
    types: list[str] = typer.Option([], "--type", help="Only these STIX types (repeat)."),
) -> None:
    """Everything you may see as one STIX 2.1 bundle, labels in x_mamori_handling."""
    if format != "stix":
        raise InvalidInput("the export format is stix", field="format")
    with _acting() as (session, principal):
        count = service.export_to_file(session=session, principal=principal, path=path,
                                       types=types, current_only=current_only)
    out.print(f"exported {count} objects to {path}")


@app.command("related")
def related(
    value: str = typer.Argument(..., help="An IP/CIDR, domain, URL, hash, CVE, ATT&CK "
                                "technique, JA4 or STIX id."),
    hops: int = typer.Option(2, "--hops", help="How far to follow (1-4)."),
    limit: int | None = typer.Option(None, "--limit", help="At most this many objects."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Everything related to a value or object within N hops."""
    with _acting() as (session, principal):
        result = service.related(session=session, principal=principal, value_or_id=value,
                                 hops=hops, limit=limit)
    if as_json:
        _json(result.model_dump(mode="json"))
        return
    for node in result.nodes:
        out.print(f"{node.hop}  {node.type:<16} {node.stix_id}  {node.name}")
    for label in result.ubiquitous:
        out.print(f"not followed (ubiquitous): {label}")
    for label in result.excluded:
        out.print(f"not followed (excluded): {label}")
    if result.truncated:
        out.print("truncated: raise --limit to see more")


@app.command("search")
def search(
    query: str = typer.Argument(..., help="A value, a STIX id or words of a name."),
    types: list[str] = typer.Option([], "--type", help="Only these STIX types (repeat)."),
    limit: int = typer.Option(50, "--limit"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Search everything you may see."""
    with _acting() as (session, principal):
        found = service.search(session=session, principal=principal, query=query, types=types,
                               limit=limit)
    if as_json:
        _json([r.model_dump(mode="json") for r in found])
        return
    for record in found:
        out.print(f"{record.type:<16} {record.stix_id}  {record.name}  "
                  f"[{', '.join(sorted(record.labels.names))}]")


@app.command("show")
def show(
    stix_id: str = typer.Argument(..., help="A STIX id."),
    version: str | None = typer.Option(None, "--version", help="A modified time, or N for "
                                       "the N-th version."),
) -> None:
    """One object with its labels, provenance and lineage (JSON)."""
    chosen: int | str | None = int(version) if version and version.isdigit() else version
    with _acting() as (session, principal):
        record = service.get_object(session=session, principal=principal, stix_id=stix_id,
                                    version=chosen)
    _json(record.model_dump(mode="json"))


@app.command("ingest")
def ingest(
    source: list[str] = typer.Option([], "--source", help=f"Only these: "
                                     f"{', '.join(service.SOURCES)} (repeat)."),
) -> None:
    """Bring new reports, registrations, vulnerability data and selected records in
    (without --as: selected records only, as the platform's job)."""
    with _acting(job_without_user=True) as (session, principal):
        chosen = source or (["selection"] if principal.is_system else None)
        summaries = service.ingest(session=session, principal=principal, sources=chosen)
    for summary in summaries:
        out.print(summary.line())
        for note in summary.notes:
            out.print(f"  {note}")


@app.command("reindex")
def reindex() -> None:
    """Rebuild the correlation index from the stored objects (after an upgrade)."""
    with _acting(job_without_user=True) as (session, principal):
        result = service.reindex(session=session, principal=principal)
    out.print(f"indexed {result.values} values and {result.references} references of "
              f"{result.objects} objects")


@app.command("analyze")
def analyze(
    only: list[str] = typer.Option([], "--only", help="campaigns, infrastructure, lotl or "
                                   "exposure (repeat)."),
) -> None:
    """Run the analytics and save their findings."""
    with _acting(job_without_user=True) as (session, principal):
        summary = service.analyze(session=session, principal=principal,
                                  analytics=only or None)
    out.print(", ".join(f"{kind} {count}" for kind, count in summary.counts.items()))


@app.command("findings")
def findings(
    kind: str | None = typer.Option(None, "--kind"),
    status: str | None = typer.Option(None, "--status", help="open, confirmed or rejected."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The findings you may see, most confident first."""
    with _acting() as (session, principal):
        found = service.list_findings(session=session, principal=principal, kind=kind,
                                      status=status)
    if as_json:
        _json([f.model_dump(mode="json") for f in found])
        return
    for finding in found:
        out.print(f"{finding.id:>5} {finding.kind:<22} {finding.confidence:>3}% "
                  f"{finding.status:<9} {json.dumps(finding.params, ensure_ascii=False)}")


@app.command("review")
def review(
    finding_id: int = typer.Argument(...),
    decision: str = typer.Argument(..., help="confirmed or rejected"),
    note: str | None = typer.Option(None, "--note"),
) -> None:
    """Confirm or reject a finding."""
    with _acting() as (session, principal):
        finding = service.review_finding(session=session, principal=principal,
                                         finding_id=finding_id, decision=decision, note=note)
    out.print(f"finding {finding.id}: {finding.status}")


@app.command("note")
def note(stix_id: str = typer.Argument(...), text: str = typer.Argument(...)) -> None:
    """Add a note to an object."""
    with _acting() as (session, principal):
        note_id = service.add_note(session=session, principal=principal, stix_id=stix_id,
                                   text=text)
    out.print(note_id)


@app.command("imports")
def imports(limit: int = typer.Option(20, "--limit"), as_json: bool = typer.Option(False,
                                                                                 "--json")
            ) -> None:
    """Recent imports and their counts."""
    with _acting() as (session, principal):
        rows = service.list_imports(session=session, principal=principal, limit=limit)
    if as_json:
        _json(rows)
        return
    for row in rows:
        at = row["at"].isoformat() if isinstance(row["at"], datetime) else row["at"]
        out.print(f"{row['id']:>5} {row['kind']:<10} {at} stored {row['stored']}, merged "
                  f"{row['merged']}, rejected {row['rejected']}  {row['source']}")


@taxii_app.command("add")
def taxii_add(
    name: str = typer.Argument(..., help="A short name, e.g. jpcert."),
    url: str = typer.Argument(..., help="The collection URL (…/collections/<id>/)."),
    user: str | None = typer.Option(None, "--user"),
    password_env: str | None = typer.Option(None, "--password-env", help="The environment "
                                            "variable that holds the password."),
    label: list[str] = typer.Option(["SECRET"], "--label"),
    consent: list[str] = typer.Option([], "--consent"),
) -> None:
    """Register a partner's collection (its objects are ATTRIBUTED to taxii:<name>)."""
    with _acting() as (session, principal):
        source = service.add_source(session=session, principal=principal, name=name, url=url,
                                    username=user, password_env=password_env, labels=label,
                                    consent=consent)
    out.print(f"TAXII source {source.name} added")


@taxii_app.command("list")
def taxii_list() -> None:
    """The registered collections and where each pull stands."""
    with _acting() as (session, principal):
        sources = service.list_sources(session=session, principal=principal)
    for source in sources:
        out.print(f"{source.name:<16} {source.url}  added_after={source.added_after or '-'}  "
                  f"{source.last_status or 'never pulled'}")


@taxii_app.command("pull")
def taxii_pull(name: str | None = typer.Argument(None, help="One source (default: all).")
               ) -> None:
    """Pull what each collection added since the last pull (resumable)."""
    with _acting(job_without_user=True) as (session, principal):
        checkpoint = session.commit
        results = [service.pull_source(session=session, principal=principal, name=name,
                                       checkpoint=checkpoint)] if name else \
            service.pull_all(session=session, principal=principal, checkpoint=checkpoint)
    for result in results:
        out.print(f"{result.source}: {result.objects} objects in {result.pages} pages, stored "
                  f"{result.stored}, merged {result.merged}, rejected {result.rejected}, "
                  f"added_after={result.added_after or '-'}")
