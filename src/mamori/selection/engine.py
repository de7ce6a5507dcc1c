"""One selection run, end to end: gate, plan, read, select, store, receipt, erase.

:func:`run_selection` is the library entry point that the CLI and the distributed
workers call. It is idempotent by ``batch_id``: a batch whose receipt is committed
returns that receipt and writes nothing. It owns its transaction: it commits the
records, the receipt row and the receipt's audit entry together, and it commits an
audited refusal (``selection.refused``) or failure (``selection.failed``) before
raising. Nothing here authorizes: the callers (``mamori select run``, the worker)
do that at the zone's boundary.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO, Protocol, cast

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mamori.audit import service as audit
from mamori.db import utcnow
from mamori.errors import Forbidden, InvalidInput, MamoriError
from mamori.governance.gate import GateDecision, measure_in_force, retention_expiry

from .core import PartyRanges, SelectionPlan, select_into
from .flows import FlowReader
from .flowtable import FlowTable
from .inputs import DigestStream, InputSource, combined_digest, file_digest
from .models import COMMS_LABEL, Receipt
from .readers import CaptureReader
from .receipts import (
    FAILED_ACTION,
    OBJECT_TYPE,
    RECEIPT_ACTION,
    REFUSED_ACTION,
    InputSummary,
    SelectionCounts,
    SelectionReceipt,
)
from .selectors import SelectorContent, cached_matcher
from .store import insert_records, receipt_row
from .versions import current_classifier, current_item_set, resolve_selector_version
from .zonekey import key_epoch

log = logging.getLogger(__name__)

DATA_CLASS = "selected_comm_info"
BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,99}$")
Progress = Callable[[int], None]


class Actor(Protocol):
    """Whoever starts a run: a principal (anything with a ``username``)."""

    @property
    def username(self) -> str: ...


class SelectionRefused(Forbidden):
    """The acquisition basis does not allow this run; the refusal is in the audit log."""

    title = "Selection refused"


@dataclass(frozen=True)
class _Context:
    actor: str
    batch_id: str
    measure_id: str
    decision: GateDecision


def actor_name(principal_or_system: Actor | str) -> str:
    """``system:<job>`` for a job name, the principal's username otherwise."""
    if isinstance(principal_or_system, str):
        name = principal_or_system.strip()
        if not name:
            raise InvalidInput("the system job running selection needs a name")
        return name if name.startswith("system:") else f"system:{name}"
    return principal_or_system.username


def legal_basis(decision: GateDecision) -> str | None:
    return f"Art {decision.article}" if decision.article else None


def _ns(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1_000_000_000)


def _discard(inputs: Iterable[InputSource]) -> None:
    """Crypto-shred every staged input (whatever the outcome of the run)."""
    for source in inputs:
        if source.spool is not None:
            source.spool.shred()


def _audit_independent(session: Session, **entry: Any) -> None:
    """An audit entry in a transaction of its own, committed now."""
    session.rollback()
    audit.record(session=session, **entry)
    session.commit()


def _refuse(session: Session, ctx: _Context, reason: str, explanation: str,
            extra: dict[str, Any] | None = None) -> SelectionRefused:  # fmt: skip
    _audit_independent(
        session, actor=ctx.actor, action=REFUSED_ACTION, object_type=OBJECT_TYPE,
        object_id=ctx.batch_id, legal_basis=legal_basis(ctx.decision),
        details={"batch_id": ctx.batch_id, "measure_id": ctx.measure_id, "reason": reason,
                 "explanation": explanation, **(extra or {})},
    )  # fmt: skip
    return SelectionRefused(
        f"selection refused for {ctx.measure_id}: {explanation}; nothing was read",
        reason=reason,
    )


def existing_receipt(session: Session, batch_id: str) -> SelectionReceipt | None:
    row = receipt_row(session, batch_id)
    if row is None:
        return None
    return SelectionReceipt.from_details(row.details, audit_seq=row.audit_seq, existing=True)


def build_plan(
    session: Session, decision: GateDecision, selector_ref: str | int
) -> tuple[SelectionPlan, dict[str, Any], int]:
    """The compiled plan for a decision; raises user errors before anything is read.

    Returns the plan, the receipt fields describing its configuration, and the
    selector version row id.
    """
    owner, version = resolve_selector_version(session, selector_ref)
    matcher = cached_matcher(SelectorContent.from_json(version.content), version.digest)
    prefixes = current_classifier(session)
    if prefixes is None:
        raise InvalidInput(
            "no domestic-prefix table: import one with `mamori select prefixes import FILE`"
        )
    prefix_row, classifier = prefixes
    items = current_item_set(session)
    party = None
    if decision.party_identifiers or decision.kind == "party_agreement":
        party, _ = PartyRanges.from_identifiers(decision.party_identifiers)
    plan = SelectionPlan(
        matcher=matcher,
        classifier=classifier,
        allowed_directions=frozenset(decision.directions),
        items=items,
        party=party,
        period_start_ns=_ns(decision.valid_from),
        period_end_ns=_ns(decision.valid_until),
    )
    described = {
        "selector_set": owner.name,
        "selector_version": version.version,
        "selector_digest": version.digest,
        "item_set_version": items.version,
        "item_set_digest": items.digest,
        "prefix_version": prefix_row.version,
        "prefix_digest": prefix_row.digest,
    }
    return plan, described, version.id


def _read(
    sources: list[InputSource],
    kinds: Sequence[str],
    plan: SelectionPlan,
    table: FlowTable,
    counts: SelectionCounts,
    progress: Progress | None,
) -> list[InputSummary]:
    summaries = []
    for source, kind in zip(sources, kinds, strict=True):
        if kind == "packets":
            stream = DigestStream(source.open(), progress)
            try:
                reader = CaptureReader(cast(BinaryIO, stream))
                for batch in reader:
                    select_into(batch, plan, table, counts)
                fmt = reader.stats.format + ("+gzip" if reader.stats.compressed else "")
            finally:
                stream.close()
            summaries.append(
                InputSummary(source.name, kind, fmt, stream.bytes, stream.hexdigest())
            )
        else:
            assert source.path is not None
            digest, size = file_digest(source, progress)
            flow_reader = FlowReader(source.path)
            for flow_batch in flow_reader:
                select_into(flow_batch, plan, table, counts)
            summaries.append(
                InputSummary(source.name, kind, flow_reader.stats.format, size, digest)
            )
    return summaries


def _record_rows(
    records: list[Any], *, receipt: SelectionReceipt, created_at: datetime, expires_at: datetime,
) -> list[dict[str, Any]]:  # fmt: skip
    day = created_at.astimezone(UTC).date()
    rows = []
    for seq, record in enumerate(records):
        row = record.columns()
        row.update(
            batch_id=receipt.batch_id,
            seq=seq,
            day=day,
            label=COMMS_LABEL,
            measure_id=receipt.measure_id,
            receipt_seq=receipt.audit_seq,
            item_set_version=receipt.item_set_version,
            key_epoch=receipt.key_epoch,
            pseudonymisation=receipt.pseudonymisation,
            created_at=created_at,
            expires_at=expires_at,
        )
        rows.append(row)
    return rows


def _gated_everything(counts: SelectionCounts) -> dict[str, int] | None:
    """When input arrived but no unit passed the basis's bounds: what stopped it."""
    received_ip = 0
    stopped = 0
    outside = 0
    for unit in (counts.packets, counts.flows):
        received_ip += unit.received - unit.not_ip
        stopped += unit.gated_out + unit.outside_period
        outside += unit.outside_period
    if received_ip and stopped == received_ip:
        return {"gated_out": stopped - outside, "outside_period": outside}
    return None


def run_selection(
    *,
    session: Session,
    principal_or_system: Actor | str,
    measure_id: str,
    selector_set_id: str | int,
    inputs: Iterable[InputSource],
    batch_id: str,
    consume: bool = False,
    progress: Progress | None = None,
) -> SelectionReceipt:
    """Select one batch under ``measure_id`` and commit its records and receipt.

    ``selector_set_id`` is ``name``, ``name@version`` or a version row id.
    ``progress`` is called with the number of input bytes read since the last call.
    With ``consume`` the input files are deleted once the receipt is committed;
    staged inputs are always shredded.
    """
    sources = list(inputs)
    try:
        return _run(session, principal_or_system, measure_id, selector_set_id, sources,
                    batch_id, consume, progress)  # fmt: skip
    finally:
        _discard(sources)


def _run(
    session: Session,
    principal_or_system: Actor | str,
    measure_id: str,
    selector_ref: str | int,
    sources: list[InputSource],
    batch_id: str,
    consume: bool,
    progress: Progress | None,
) -> SelectionReceipt:
    actor = actor_name(principal_or_system)
    batch_id = (batch_id or "").strip()
    if not BATCH_ID.match(batch_id):
        raise InvalidInput(
            "batch id: 1 to 100 characters of A-Z a-z 0-9 . _ : - (first alphanumeric)"
        )
    previous = existing_receipt(session, batch_id)
    if previous is not None:
        return previous
    if not sources:
        raise InvalidInput("a selection run needs at least one input")
    started = utcnow()
    clock = time.perf_counter()
    decision = measure_in_force(session=session, measure_id=measure_id, at=started)
    ctx = _Context(actor, batch_id, measure_id, decision)
    if not decision.allowed:
        raise _refuse(session, ctx, decision.reason, decision.explanation)
    if decision.kind == "party_agreement":
        _, unusable = PartyRanges.from_identifiers(decision.party_identifiers)
        if unusable == len(decision.party_identifiers):
            raise _refuse(session, ctx, "no_party_addresses",
                          "the agreement records no address or CIDR of the party")  # fmt: skip
    plan, described, selector_row = build_plan(session, decision, selector_ref)
    epoch = key_epoch(started)
    kinds = [source.resolved_kind() for source in sources]
    counts = SelectionCounts()
    table = FlowTable()
    try:
        summaries = _read(sources, kinds, plan, table, counts, progress)
        cryptopan = epoch.pseudonymiser()
        records = table.records(plan.items, cryptopan)
    except MamoriError as exc:
        _audit_independent(
            session, actor=actor, action=FAILED_ACTION, object_type=OBJECT_TYPE,
            object_id=batch_id, legal_basis=legal_basis(decision),
            details={"batch_id": batch_id, "measure_id": measure_id,
                     "error": type(exc).__name__, "detail": exc.detail,
                     "records_kept": 0},
        )  # fmt: skip
        raise
    except Exception as exc:
        _audit_independent(
            session, actor=actor, action=FAILED_ACTION, object_type=OBJECT_TYPE,
            object_id=batch_id, legal_basis=legal_basis(decision),
            details={"batch_id": batch_id, "measure_id": measure_id,
                     "error": type(exc).__name__, "records_kept": 0},
        )  # fmt: skip
        log.error("selection batch %s failed: %s", batch_id, type(exc).__name__)
        raise
    finally:
        del table
    counts.records_out = len(records)
    finished = utcnow()
    receipt = SelectionReceipt(
        batch_id=batch_id,
        measure_id=measure_id,
        basis_kind=decision.kind or "",
        article=decision.article,
        directions_allowed=sorted(decision.directions),
        input_digest=combined_digest([s.sha256 for s in summaries]),
        inputs=summaries,
        key_epoch=epoch.epoch,
        pseudonymisation=epoch.method_id,
        key_id=epoch.key_id,
        counts=counts,
        started_at=started,
        finished_at=finished,
        duration_ms=int((time.perf_counter() - clock) * 1000),
        consume=consume,
        **described,
    )
    entry = audit.record(
        session=session, actor=actor, action=RECEIPT_ACTION, object_type=OBJECT_TYPE,
        object_id=batch_id, legal_basis=legal_basis(decision), details=receipt.details(),
    )  # fmt: skip
    receipt.audit_seq = entry.seq
    gated = _gated_everything(counts)
    if gated is not None:
        audit.record(
            session=session, actor=actor, action=REFUSED_ACTION, object_type=OBJECT_TYPE,
            object_id=batch_id, legal_basis=legal_basis(decision),
            details={"batch_id": batch_id, "measure_id": measure_id,
                     "reason": "direction_class" if gated["gated_out"] else "outside_period",
                     "explanation": "no communication of this batch is of a direction class, "
                                    "party or period the basis allows", **gated},
        )  # fmt: skip
    expires_at = retention_expiry(session=session, data_class=DATA_CLASS, at=finished)
    rows = _record_rows(records, receipt=receipt, created_at=finished, expires_at=expires_at)
    insert_records(session, rows)
    session.add(
        Receipt(
            batch_id=batch_id, audit_seq=entry.seq, measure_id=measure_id,
            selector_version_id=selector_row, details=receipt.details(),
            records_out=len(records), actor=actor, created_at=finished,
        )
    )  # fmt: skip
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        previous = existing_receipt(session, batch_id)
        if previous is None:
            raise
        return previous
    if consume:
        from .erasure import consume as delete_inputs

        delete_inputs(s.path for s in sources if s.path is not None)
    return receipt
