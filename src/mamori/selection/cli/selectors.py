"""``mamori selectors``: versioned selector sets (selection criteria)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from mamori.errors import InvalidInput

from .. import service
from . import _, acting, emit_json, local, out

app = typer.Typer(
    help="Selection criteria: addresses, CIDRs, ports, domains, JA3/JA4 and YARA rules, "
    "as immutable versions of named sets.",
    no_args_is_help=True,
)


@app.command("import")
def import_(
    name: str = typer.Argument(..., help="Selector set name."),
    files: list[Path] = typer.Argument(
        ..., help="Plain lists, STIX 2.1 indicator bundles (.json) and YARA rules (.yar)."
    ),
    description: str = typer.Option("", "--description", help="What the set is for."),
    as_json: bool = typer.Option(False, "--json", help="Print the version as JSON."),
) -> None:
    """Create a new version of a selector set holding exactly these files' selectors."""
    data = []
    for path in files:
        try:
            data.append((path.name, path.read_bytes()))
        except OSError:
            raise InvalidInput(f"{path.name}: cannot be read") from None
    with acting() as (session, principal):
        imported = service.import_selectors(
            session=session, principal=principal, name=name, files=data, description=description
        )
        version = imported.version
        result = {"name": name, "version": version.version, "digest": version.digest,
                  "counts": version.counts, "sources": version.sources,
                  "created": imported.created}  # fmt: skip
    if as_json:
        emit_json(result)
        return
    message = _("New version") if imported.created else _("Unchanged (same content)")
    out.print(f"{message}: {name}@{result['version']}  sha256:{result['digest']}")
    for source in result["sources"]:  # type: ignore[attr-defined]
        out.print(f"  {source['source']} ({source['format']}): {source['accepted']} "
                  f"{_('accepted')}, {source['skipped']} {_('skipped')}")  # fmt: skip


@app.command("list")
def list_(
    name: str | None = typer.Argument(None, help="A set name: list its versions."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Selector sets (newest version of each), or the versions of one set."""
    with acting() as (session, principal):
        if name:
            found = service.selector_set_versions(session=session, principal=principal, name=name)
        else:
            found = service.list_selector_sets(session=session, principal=principal)
    if as_json:
        emit_json([s.model_dump(mode="json") for s in found])
        return
    table = Table(_("Name"), _("Version"), _("Digest"), _("Selectors"), _("Time"), _("By"))
    for s in found:
        summary = ", ".join(f"{k} {v}" for k, v in s.counts.items() if v)
        table.add_row(s.name, str(s.version), s.digest[:16], summary, local(s.created_at),
                      s.created_by)  # fmt: skip
    out.print(table)


@app.command("show")
def show(ref: str = typer.Argument(..., help="NAME or NAME@VERSION.")) -> None:
    """The canonical content of one version, as JSON (its digest is the SHA-256 of it)."""
    with acting() as (session, principal):
        content = service.selector_content(session=session, principal=principal, ref=ref)
    emit_json(content)
