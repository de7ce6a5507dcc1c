"""``mamori audit``: verify the log, export it for the oversight committee, sign a tree head.

Each command acts as a principal (``--as USER``) and passes ``authorize()`` first.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from mamori.access.principal import Principal, Resource
from mamori.audit import service
from mamori.audit.models import TreeHeadOut
from mamori.config import get_settings
from mamori.db import session_scope

app = typer.Typer(
    help="Tamper-evident audit log (監査ログ): verify, export, signed tree heads.",
    no_args_is_help=True,
)
out = Console(highlight=False, soft_wrap=True)  # hashes stay on one line

AUDIT_LOG = Resource(type="AuditLog")


@cache
def _translations(language: str) -> Any:
    from mamori.web.i18n import load_translations

    translations = load_translations()
    return translations.get(language) or translations["en"]


def _(message: str) -> str:
    """``message`` in the configured language (``MAMORI_DEFAULT_LANGUAGE``)."""
    return str(_translations(get_settings().default_language).gettext(message))


def _principal() -> Principal:
    """Who acts, resolved in a transaction of its own: signing in records the token's
    use, and that write must not hold back the audit entry of a denial that follows."""
    from mamori.cli.context import current_principal

    with session_scope() as session:
        return current_principal(session)


def _authorize(session: Session, principal: Principal, action: str) -> None:
    from mamori.access import service as access_service

    access_service.authorize(
        session=session, principal=principal, action=action, resource=AUDIT_LOG
    )


@app.command("verify")
def verify() -> None:
    """Recompute the tree and check every signed tree head; exit 1 if anything changed."""
    principal = _principal()
    with session_scope() as session:
        _authorize(session, principal, "audit.verify")
        result = service.verify_log(session=session)
    if result.ok:
        out.print(
            _("audit log intact: {size} entries, root {root}, {heads} signed tree heads").format(
                size=result.tree_size, root=result.root_hash, heads=result.tree_heads_checked
            )
        )
        return
    if result.first_bad_seq is not None:
        out.print(_("audit log NOT intact: first bad entry {seq}").format(seq=result.first_bad_seq))
    else:
        out.print(_("audit log NOT intact"))
    for problem in result.problems:
        out.print(f"  - {problem}", markup=False)
    raise typer.Exit(1)


@app.command("export")
def export(
    file: Path = typer.Argument(..., help="JSON file to write, for mamori.audit.verify."),
) -> None:
    """Write entries, signed tree heads and the public key to FILE."""
    principal = _principal()
    with session_scope() as session:
        _authorize(session, principal, "audit.export")
        count = service.export_log(session=session, path=file)
        heads = service.list_tree_heads(session=session)
        service.record(
            session=session,
            actor=principal.username,
            action="audit.export",
            object_type="AuditLog",
            purpose=principal.purpose,
            details={"entries": count, "tree_heads": len(heads), "via": principal.via},
        )
    covered = max((h.tree_size for h in heads), default=0)
    out.print(_("exported {count} entries to {file}").format(count=count, file=file), markup=False)
    if covered < count:
        out.print(
            _("{n} entries are not yet covered by a signed tree head: run `mamori audit sth` "
              "before exporting").format(n=count - covered),
            markup=False,
        )


@app.command("sth")
def sth(
    as_json: bool = typer.Option(False, "--json", help="Print the tree head as JSON."),
) -> None:
    """Issue a signed tree head for the log as it is now and print it."""
    principal = _principal()
    with session_scope() as session:
        _authorize(session, principal, "audit.sth")
        head = TreeHeadOut.of(service.issue_tree_head(session=session))
    if as_json:
        print(head.model_dump_json(indent=2))
        return
    local = head.issued_at.astimezone(ZoneInfo(get_settings().timezone))
    out.print(_("signed tree head"))
    for label, value in (
        (_("tree size"), head.tree_size),
        (_("root hash"), head.root_hash),
        (_("issued at"), local.isoformat(timespec="seconds")),
        (_("signing key id"), head.key_id),
        (_("Ed25519 signature"), head.signature),
    ):
        out.print(f"  {label}: {value}", markup=False)
