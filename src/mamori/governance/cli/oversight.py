"""``mamori oversight``: the committee's annual-report statistics, notifications,
deletion certificates, entry proofs, audit exports and regulatory parameters."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from mamori.errors import InvalidInput
from mamori.governance import notifications, oversight, parameters, retention, statistics
from mamori.governance.cli import _, acting, command, emit_json, local, out
from mamori.governance.labels import EVENTS, REPORT_ITEMS, SECTIONS
from mamori.governance.models import CertificateOut, NotificationOut
from mamori.governance.parsing import parse_when

app = typer.Typer(help="Oversight committee (サイバー通信情報監理委員会): report and evidence.",
                  no_args_is_help=True)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot write {output.name}: {exc.strerror}") from None


@command(app, "report")
def report(
    year: int | None = typer.Option(None, "--year", help="Calendar year (Japan time)."),
    fiscal: bool = typer.Option(False, "--fiscal", help="Fiscal year April–March instead."),
    start: str | None = typer.Option(None, "--from", help="Or any period: from (ISO 8601)."),
    end: str | None = typer.Option(None, "--to", help="…to (exclusive)."),
    fmt: str = typer.Option("text", "--format", help="csv, json or text."),
    output: Path | None = typer.Option(None, "--output", help="Write to a file."),
) -> None:
    """Statistics for the annual report to the Diet (Art 61(2))."""
    if fmt not in ("csv", "json", "text"):
        raise InvalidInput("--format: expected csv, json or text")
    if year is not None and (start or end):
        raise InvalidInput("give --year or --from/--to, not both")
    if year is not None:
        begin, finish, label = statistics.year_period(year, fiscal=fiscal)
    elif start and end:
        begin, finish = parse_when(start, field="from"), parse_when(end, field="to")
        label = ""
    else:
        raise InvalidInput("give --year YYYY or --from T --to T")
    with acting() as (session, who):
        result = statistics.annual_report(session=session, principal=who, start=begin,
                                          end=finish, label=label)
    if fmt == "csv":
        _write(statistics.to_csv(result), output)
    elif fmt == "json":
        _write(json.dumps({"period": result.label, "start": result.start.isoformat(),
                           "end": result.end.isoformat(),
                           "rows": [r.__dict__ for r in result.rows]},
                          ensure_ascii=False, indent=2) + "\n", output)
    else:
        lines = [f"{_('Annual report statistics')} {result.label}"]
        lines += [f"  {_(SECTIONS[r.section])} / "
                  f"{_(REPORT_ITEMS.get(r.section, {}).get(r.item, r.item))}: {r.count}"
                  for r in result.rows]
        _write("\n".join(lines) + "\n", output)


@command(app, "notifications")
def list_notifications(as_json: bool = typer.Option(False, "--json")) -> None:
    """Notifications to the committee (Art 30)."""
    with acting() as (session, who):
        rows = [NotificationOut.model_validate(n)
                for n in notifications.list_notifications(session=session, principal=who)]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        event = _(EVENTS.get(row.event, row.event))
        out.print(f"{local(row.occurred_at)}  {event}  {row.object_id}", markup=False)


@command(app, "certificates")
def certificates(as_json: bool = typer.Option(False, "--json")) -> None:
    """Deletion certificates of retention purges."""
    with acting() as (session, who):
        rows = [CertificateOut.model_validate(c)
                for c in retention.list_certificates(session=session, principal=who)]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        out.print(f"{row.id}  {row.data_class}  {row.record_count}  <{local(row.cutoff)}  "
                  f"{row.ids_digest}", markup=False)


@command(app, "proof")
def proof(
    seq: int = typer.Argument(..., help="Audit entry number."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Recompute an audit entry's leaf and verify its inclusion proof."""
    with acting() as (session, who):
        check = oversight.check_entry(session=session, principal=who, seq=seq)
    data = {"seq": seq, "ok": check.ok, "leaf_matches": check.leaf_matches,
            "proof_verifies": check.proof_verifies, "problem": check.problem,
            "action": check.entry.action, "tree_size": check.proof.tree_size,
            "root_hash": check.proof.root_hash, "path": check.proof.path}
    if as_json:
        emit_json(data)
    else:
        verdict = _("verifies") if check.ok else _("does NOT verify")
        out.print(f"{seq} {check.entry.action}: {verdict} "
                  f"({_('tree size')} {check.proof.tree_size})", markup=False)
    if not check.ok:
        raise typer.Exit(1)


@command(app, "export")
def export(
    action: str | None = typer.Option(None, "--action", help="Only entries of this action."),
    output: Path | None = typer.Option(None, "--output"),
) -> None:
    """The audit log as CSV with each entry's leaf hash."""
    with acting() as (session, who):
        text = oversight.export_audit_csv(session=session, principal=who, action=action)
    _write(text, output)


@command(app, "parameter")
def parameter(
    key: str = typer.Argument(..., help=", ".join(parameters.KEYS)),
    value: str | None = typer.Option(None, "--set", help="New value as JSON (administrators)."),
    reason: str | None = typer.Option(None, "--reason"),
    decision: str | None = typer.Option(None, "--decision"),
) -> None:
    """Show or change a regulatory parameter (versioned, audited)."""
    with acting() as (session, who):
        if value is None:
            version, current = parameters.get_parameter(session=session, key=key)
            emit_json({"key": key, "version": version, "value": current})
            return
        try:
            parsed = json.loads(value)
        except ValueError:
            raise InvalidInput("--set: expected a JSON value") from None
        row = parameters.set_parameter(session=session, principal=who, key=key, value=parsed,
                                       reason=reason, decision_ref=decision)
        emit_json({"key": key, "version": row.version, "value": row.value})
