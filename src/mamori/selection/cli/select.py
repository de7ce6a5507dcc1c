"""``mamori select``: selection runs, receipts, the export of selected records, the
domestic-prefix table and the item set of mechanical information."""

from __future__ import annotations

import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from mamori.config import get_settings
from mamori.db import utcnow
from mamori.errors import InvalidInput

from .. import service
from ..export import FORMATS, export_records
from ..inputs import InputSource
from ..receipts import SelectionReceipt
from ..spool import spool_stream, sweep_orphans
from . import _, acting, emit_json, err, local, out

app = typer.Typer(
    help="Automatic selection (自動選別) in the sealed zone: runs, receipts, export, "
    "direction classes and the mechanical-information item set.",
    no_args_is_help=True,
)
prefixes_app = typer.Typer(help="The domestic-prefix table (direction classes).",
                           no_args_is_help=True)  # fmt: skip
items_app = typer.Typer(help="The mechanical-information item set (機械的情報).",
                        no_args_is_help=True)  # fmt: skip
app.add_typer(prefixes_app, name="prefixes")
app.add_typer(items_app, name="items")


def _when(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field}: an ISO 8601 date or time, e.g. 2026-11-26T09:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(get_settings().timezone))
    return moment


def _sources(paths: list[str], flows: bool) -> list[InputSource]:
    sources: list[InputSource] = []
    kind = "flows" if flows else "auto"
    try:
        for text in paths:
            if text == "-":
                if flows:
                    raise InvalidInput("flow records cannot be read from standard input")
                sweep_orphans(get_settings().home / "spool")
                spool = spool_stream(sys.stdin.buffer, get_settings().home / "spool")
                sources.append(InputSource.from_spool(spool))
            else:
                sources.append(InputSource.from_path(text, kind))  # type: ignore[arg-type]
    except BaseException:
        for source in sources:
            if source.spool is not None:
                source.spool.shred()
        raise
    return sources


def _print_receipt(receipt: SelectionReceipt) -> None:
    counts = receipt.counts
    title = _("Selection receipt") + (f" ({_('already committed')})" if receipt.existing else "")
    out.print(f"[bold]{title}[/bold]  {receipt.batch_id}")
    table = Table(show_header=False, box=None)
    rows = [
        (_("Acquisition basis"), f"{receipt.measure_id} (Art {receipt.article})"),
        (_("Direction classes allowed"), ", ".join(receipt.directions_allowed)),
        (_("Selector set"), f"{receipt.selector_set}@{receipt.selector_version} "
                            f"sha256:{receipt.selector_digest[:16]}…"),
        (_("Input digest"), f"sha256:{receipt.input_digest}"),
        (_("Packets in"), str(counts.packets.received)),
        (_("Flow records in"), str(counts.flows.received)),
        (_("Per direction class"), ", ".join(
            f"{k}={counts.packets.by_direction[k] + counts.flows.by_direction[k]}"
            for k in counts.packets.by_direction)),
        (_("Gated out"), str(counts.packets.gated_out + counts.flows.gated_out
                             + counts.packets.outside_period + counts.flows.outside_period)),
        (_("Matched"), str(counts.packets.matched + counts.flows.matched)),
        (_("Records out"), str(counts.records_out)),
        (_("Discarded"), str(counts.discarded)),
        (_("Duration"), f"{receipt.duration_ms} ms"),
        (_("Key epoch"), f"{receipt.key_epoch} ({receipt.pseudonymisation})"),
        (_("Audit entry"), str(receipt.audit_seq)),
    ]  # fmt: skip
    for label, value in rows:
        table.add_row(label, value)
    out.print(table)


@app.command("run")
def run(
    inputs: list[str] = typer.Argument(
        ..., help="pcap/pcapng captures or flow-record files (IPFIX, NetFlow, Zeek); "
        "- reads a capture from standard input (staged encrypted)."
    ),
    measure: str = typer.Option(..., "--measure", help="Measure or agreement id (M-…, A-…)."),
    selectors: str = typer.Option(..., "--selectors", help="Selector set: NAME or NAME@VERSION."),
    batch_id: str | None = typer.Option(
        None, "--batch-id", help="Batch id; a batch already committed is not selected again."
    ),
    consume: bool = typer.Option(False, "--consume", help="Delete the input files afterwards."),
    flows: bool = typer.Option(
        False, "--flows", help="Read the inputs as flow records (e.g. a pcap of IPFIX exports)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the receipt as JSON."),
) -> None:
    """Select one batch under an approved measure or agreement and print its receipt."""
    sources = _sources(inputs, flows)
    batch = batch_id or f"cli-{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    total = sum(source.size for source in sources)
    progress = Progress(
        TextColumn(_("Selecting")), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        console=err, transient=True, disable=as_json or not err.is_terminal,
    )  # fmt: skip
    with progress, acting() as (session, principal):
        task = progress.add_task("select", total=total)
        receipt = service.run(
            session=session, principal=principal, measure_id=measure, selector_set=selectors,
            inputs=sources, batch_id=batch, consume=consume,
            progress=lambda n: progress.advance(task, n),
        )  # fmt: skip
    if as_json:
        emit_json({**receipt.details(), "audit_seq": receipt.audit_seq,
                   "existing": receipt.existing})  # fmt: skip
    else:
        _print_receipt(receipt)


@app.command("receipts")
def receipts(
    measure: str | None = typer.Option(None, "--measure", help="Only this measure's batches."),
    limit: int = typer.Option(50, "--limit", help="How many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Recent selection receipts (counts and digests; no content)."""
    with acting() as (session, principal):
        found = service.list_receipts(
            session=session, principal=principal, measure_id=measure, limit=limit
        )
    if as_json:
        emit_json([r.model_dump(mode="json") for r in found])
        return
    table = Table(_("Batch"), _("Acquisition basis"), _("Time"), _("Matched"),
                  _("Records out"), _("Discarded"), _("Audit entry"))  # fmt: skip
    for r in found:
        counts = r.details["counts"]
        table.add_row(
            r.batch_id, r.measure_id, local(r.created_at),
            str(counts["packets"]["matched"] + counts["flows"]["matched"]),
            str(r.records_out), str(counts["discarded"]), str(r.audit_seq),
        )  # fmt: skip
    out.print(table)


@app.command("export")
def export(
    fmt: str = typer.Option(..., "--format", help=f"One of {', '.join(FORMATS)}."),
    dest: Path = typer.Option(..., "--out", help="File to write."),
    measure: str | None = typer.Option(None, "--measure", help="Only this measure's records."),
    batch: str | None = typer.Option(None, "--batch", help="Only this batch's records."),
    since: str | None = typer.Option(None, "--since", help="Selected at or after (ISO 8601)."),
    until: str | None = typer.Option(None, "--until", help="Selected before (ISO 8601)."),
) -> None:
    """Export selected records (designated handlers with a declared purpose; audited)."""
    with acting() as (session, principal):
        result = export_records(
            session=session, principal=principal, fmt=fmt, path=dest, measure_id=measure,
            batch_id=batch, since=_when(since, "--since"), until=_when(until, "--until"),
        )  # fmt: skip
    out.print(f"{_('Exported')}: {result.records} → {result.path.name} "
              f"({result.format}, sha256:{result.sha256[:16]}…)")  # fmt: skip


@prefixes_app.command("import")
def prefixes_import(
    files: list[Path] = typer.Argument(
        ..., help="RIR delegated statistics (e.g. delegated-apnic-latest) and override files "
        "(lines: CIDR domestic|foreign)."
    ),
    country: str = typer.Option("JP", "--country", help="Country code of domestic prefixes."),
) -> None:
    """Build a new version of the domestic-prefix table."""
    data = []
    for path in files:
        try:
            data.append((path.name, path.read_bytes()))
        except OSError:
            raise InvalidInput(f"{path.name}: cannot be read") from None
    with acting() as (session, principal):
        imported = service.import_prefixes(
            session=session, principal=principal, files=data, country=country
        )
        row = imported.version
        message = _("New version") if imported.created else _("Unchanged (same content)")
        out.print(f"{message}: {row.version}  sha256:{row.digest[:16]}…  {row.counts}")


@prefixes_app.command("list")
def prefixes_list(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Versions of the domestic-prefix table."""
    with acting() as (session, principal):
        rows = service.list_prefix_versions(session=session, principal=principal)
        data: list[dict[str, Any]] = [
            {"version": r.version, "country": r.country, "digest": r.digest,
             "counts": r.counts, "created_at": r.created_at, "created_by": r.created_by}
            for r in rows
        ]  # fmt: skip
    if as_json:
        emit_json(data)
        return
    table = Table(_("Version"), _("Country"), _("Digest"), _("Ranges"), _("Time"), _("By"))
    for r in data:
        counts = r["counts"]
        table.add_row(str(r["version"]), r["country"], r["digest"][:16],
                      f"v4 {counts['ipv4_ranges']} / v6 {counts['ipv6_ranges']}",
                      local(r["created_at"]), r["created_by"])  # fmt: skip
    out.print(table)


@items_app.command("list")
def items_list(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """The active item set, its history and every item selection can produce."""
    with acting() as (session, principal):
        active, history = service.item_set(session=session, principal=principal)
        data = {
            "active": {"version": active.version, "items": sorted(active.items),
                       "digest": active.digest},
            "history": [{"version": h.version, "items": h.items,
                         "public_comment": h.public_comment_ref,
                         "consultation": h.consultation_ref, "created_at": h.created_at,
                         "created_by": h.created_by} for h in history],
            "known": service.known_items(),
        }  # fmt: skip
    if as_json:
        emit_json(data)
        return
    out.print(f"{_('Active item set')}: {active.version}")
    table = Table(_("Item"), _("Meaning"), _("Active"))
    for name, meaning in data["known"].items():  # type: ignore[attr-defined]
        table.add_row(name, meaning, "✓" if name in active.items else "")
    out.print(table)


@items_app.command("set")
def items_set(
    items: list[str] = typer.Argument(..., help="Every item of the new set."),
    public_comment: str = typer.Option(..., "--public-comment",
                                       help="Reference of the public comment procedure."),
    consultation: str = typer.Option(..., "--consultation",
                                     help="Reference of the oversight committee consultation."),
    note: str = typer.Option("", "--note", help="E.g. the Cabinet Office Order it reflects."),
) -> None:
    """Activate a new item set (administrators; needs both references, R-1.5-8)."""
    with acting() as (session, principal):
        row = service.set_item_set(
            session=session, principal=principal, items=items,
            public_comment_ref=public_comment, consultation_ref=consultation, note=note,
        )  # fmt: skip
        out.print(f"{_('New version')}: {row.version}  {', '.join(row.items)}")


# --- scale-out over the NATS JetStream work queue (see mamori.selection.distributed) ---


@app.command("submit")
def submit(
    inputs: list[Path] = typer.Argument(..., help="pcap/pcapng captures (gzip allowed)."),
    measure: str = typer.Option(..., "--measure", help="Measure or agreement id (M-…, A-…)."),
    selectors: str = typer.Option(
        ..., "--selectors", help="Selector set: NAME or NAME@VERSION (pinned when queued)."
    ),
    batch_packets: int = typer.Option(
        100_000, "--batch-packets", min=1,
        help="Packets per batch at most; batches also fit the broker's message size.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the batches as JSON."),
) -> None:
    """Queue captures for the selection workers, encrypted, in batches; prints batch ids."""
    from mamori.access import service as access_service
    from mamori.access.principal import Resource

    from ..distributed.submit import submit_captures

    with acting() as (session, principal):
        access_service.authorize(session=session, principal=principal, action="selection.run",
                                 resource=Resource(type="selection.batch"))  # fmt: skip
        queued = submit_captures(
            session=session, actor=principal.username, measure_id=measure,
            selector_set=selectors, paths=inputs, batch_packets=batch_packets,
        )  # fmt: skip
    if as_json:
        emit_json(queued.to_json())
        return
    for batch in queued.batches:
        out.print(batch.batch_id)


@app.command("worker")
def worker(
    concurrency: int = typer.Option(1, "--concurrency", min=1,
                                    help="Batches selected at once by this process."),
    max_batches: int | None = typer.Option(None, "--max-batches", min=1,
                                           help="Exit after taking this many batches."),
    idle_exit: float | None = typer.Option(None, "--idle-exit", min=0,
                                           help="Exit after this many seconds without work."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON at exit."),
) -> None:
    """Select batches from the JetStream queue as the system job "selection"."""
    import logging

    from mamori.access.principal import Principal

    from ..distributed.queue import QueueConfig
    from ..distributed.worker import run_worker

    principal = Principal.system("selection")

    def runner(*, session: Any, measure_id: str, selector_set: str,
               inputs: list[InputSource], batch_id: str) -> SelectionReceipt:  # fmt: skip
        return service.run(session=session, principal=principal, measure_id=measure_id,
                           selector_set=selector_set, inputs=inputs, batch_id=batch_id)  # fmt: skip

    logger = logging.getLogger("mamori.selection.distributed")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        stats = run_worker(config=QueueConfig.from_settings(), runner=runner,
                           actor=principal.username, concurrency=concurrency,
                           max_batches=max_batches, idle_exit=idle_exit)  # fmt: skip
    finally:
        logger.removeHandler(handler)
    if as_json:
        emit_json(stats.to_json())
    else:
        out.print(" ".join(f"{name}={value}" for name, value in stats.to_json().items()))
