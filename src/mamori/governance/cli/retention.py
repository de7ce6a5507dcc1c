"""``mamori retention``: retention periods per data class and the purge job."""

from __future__ import annotations

import typer
from rich.table import Table

from mamori.access.principal import Principal
from mamori.cli.context import state
from mamori.db import session_scope
from mamori.governance import notifications, parameters, retention
from mamori.governance.cli import _, acting, command, emit_json, out, principal

app = typer.Typer(help="Retention periods (保存期間, Art 25) and the purge job.",
                  no_args_is_help=True)


@command(app, "purge")
def purge(
    data_class: list[str] = typer.Option([], "--class", help="Only these classes."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Delete every expired record and write a deletion certificate per class to the
    audit log. Runs as the platform's job unless --as is given. Also generates the
    committee notifications that elapsed periods caused."""
    who = principal() if state.acting_as else Principal.system("retention")
    with session_scope() as session:
        reports = retention.purge_expired(session=session, principal=who,
                                          classes=data_class or None)
        notified = notifications.sweep(session=session, principal=who)
    rows = [{"data_class": r.data_class, "deleted": r.outcome.count,
             "before": r.cutoff.isoformat(), "retention_days": r.retention_days,
             "ids_digest": r.outcome.ids_digest if r.outcome.count else None,
             "certificate": r.certificate_id} for r in reports]
    if as_json:
        emit_json({"purged": rows, "notifications": notified})
        return
    for row in rows:
        out.print(_("{cls}: {n} deleted (older than {days} days)").format(
            cls=row["data_class"], n=row["deleted"], days=row["retention_days"]), markup=False)
    if notified:
        out.print(_("{n} notifications to the committee generated").format(n=notified),
                  markup=False)


@command(app, "policy")
def policy(as_json: bool = typer.Option(False, "--json")) -> None:
    """Retention period of every data class."""
    with acting() as (session, who):
        rows = [{"data_class": name, "days": days,
                 "description": entry.description if entry else "",
                 "registered": entry is not None}
                for entry, name, days in retention.policies(session=session, principal=who)]
    if as_json:
        emit_json(rows)
        return
    table = Table(_("Data class"), _("Days"), _("Description"))
    for row in rows:
        table.add_row(str(row["data_class"]), str(row["days"]), str(row["description"]))
    out.print(table)


@command(app, "set")
def set_(
    data_class: str = typer.Argument(..., metavar="CLASS"),
    days: int = typer.Argument(...),
    reason: str | None = typer.Option(None, "--reason"),
    decision: str | None = typer.Option(None, "--decision",
                                        help="Reference of the recorded decision."),
) -> None:
    """Change a class's retention period (administrators; audited)."""
    with acting() as (session, who):
        row = parameters.set_retention_days(session=session, principal=who,
                                            data_class=data_class, days=days, reason=reason,
                                            decision_ref=decision)
        version = row.version
    out.print(_("retention of {cls} set to {days} days (version {v})").format(
        cls=data_class, days=days, v=version), markup=False)
