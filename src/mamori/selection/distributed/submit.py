"""Queue captures for the selection workers: check, split, seal, publish, audit.

Nothing is queued unless all of it can be: the acquisition basis must be in force
now, the selector set must exist (it is pinned to its current version, so every
batch of a submission is selected with the same criteria whenever it runs), and
every input must be a sound capture — each is walked once to validate and count
before the first batch is published. Each piece is then sealed (:mod:`.messages`)
and published with its batch id as the broker's message id, so a repeated
submission within the duplicate window is dropped by the broker, and any later one
is recognised by the engine. One audit entry records the submission: who, under
which basis and criteria, how many batches and packets — never content.

Flow-record files are not queued: the flow readers need a file, and a queued
batch is only ever staged encrypted. Select them with ``mamori select run``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from mamori.audit import service as audit
from mamori.db import utcnow
from mamori.errors import InvalidInput
from mamori.governance.gate import measure_in_force

from ..engine import SelectionRefused, legal_basis
from ..inputs import InputSource
from ..receipts import OBJECT_TYPE
from ..versions import resolve_selector_version
from .keys import TransportKey, transport_key
from .messages import OVERHEAD, BatchHeader, seal
from .queue import QueueConfig, QueueUnavailable, connect, ensure_queue
from .split import split_capture

log = logging.getLogger(__name__)

QUEUED_ACTION = "selection.queued"
DEFAULT_BATCH_PACKETS = 100_000
HEADROOM = 1024
"""Bytes kept free in a message for the NATS headers (message id, expected stream)."""
AUDIT_IDS = 100
"""Batch ids listed in the audit entry; beyond this, their count and digest only."""


@dataclass(frozen=True)
class QueuedBatch:
    batch_id: str
    source: str
    part: int
    packets: int
    bytes: int
    duplicate: bool
    """The broker already held this batch id (a repeated submission)."""


@dataclass(frozen=True)
class Submission:
    measure_id: str
    selectors: str
    """The pinned selector-set version, ``NAME@VERSION``."""
    batches: list[QueuedBatch] = field(default_factory=list)

    @property
    def packets(self) -> int:
        return sum(b.packets for b in self.batches)

    def to_json(self) -> dict[str, object]:
        return {"measure_id": self.measure_id, "selectors": self.selectors,
                "packets": self.packets, "batches": [asdict(b) for b in self.batches]}  # fmt: skip


def _check_inputs(paths: Sequence[Path]) -> list[Path]:
    if not paths:
        raise InvalidInput("name at least one capture to queue")
    checked = []
    for path in paths:
        source = InputSource.from_path(path)
        if source.resolved_kind() != "packets":
            raise InvalidInput(
                f"input {source.name}: flow-record files are not queued; "
                "select them with `mamori select run`"
            )
        checked.append(Path(path))
    return checked


def _budget(max_payload: int) -> int:
    budget = max_payload - OVERHEAD - HEADROOM
    if budget < 64 * 1024:
        raise InvalidInput(
            f"the broker's message size limit ({max_payload} bytes) is too small for batches"
        )
    return budget


def submit_captures(
    *,
    session: Session,
    actor: str,
    measure_id: str,
    selector_set: str,
    paths: Sequence[Path],
    batch_packets: int = DEFAULT_BATCH_PACKETS,
    config: QueueConfig | None = None,
) -> Submission:
    """Queue ``paths`` for selection under ``measure_id``; commits one audit entry.

    The caller authorizes (``selection.run``) before calling: this is the zone's side.
    """
    config = config or QueueConfig.from_settings()
    if batch_packets < 1:
        raise InvalidInput("--batch-packets: at least 1")
    decision = measure_in_force(session=session, measure_id=measure_id, at=utcnow())
    if not decision.allowed:
        raise SelectionRefused(
            f"selection refused for {measure_id}: {decision.explanation}; nothing was queued",
            reason=decision.reason,
        )
    owner, version = resolve_selector_version(session, selector_set)
    pinned = f"{owner.name}@{version.version}"
    inputs = _check_inputs(paths)
    key = transport_key(create=True)
    submission = Submission(measure_id=measure_id, selectors=pinned)
    failure: Exception | None = None
    try:
        asyncio.run(_publish(config, key, actor, inputs, batch_packets, submission))
    except Exception as exc:
        if not submission.batches:
            raise
        failure = exc  # some batches are queued: record them, then report
    ids = [b.batch_id for b in submission.batches]
    ids_digest = hashlib.sha256("\n".join(ids).encode("ascii")).hexdigest()
    details: dict[str, object] = {
        "measure_id": measure_id, "selectors": pinned, "stream": config.stream,
        "transport_key_id": key.key_id, "inputs": len(inputs), "batches": len(ids),
        "packets": submission.packets, "bytes": sum(b.bytes for b in submission.batches),
        "duplicates": sum(b.duplicate for b in submission.batches),
        "batch_ids_sha256": ids_digest,
    }  # fmt: skip
    if len(ids) <= AUDIT_IDS:
        details["batch_ids"] = ids
    audit.record(
        session=session, actor=actor, action=QUEUED_ACTION, object_type=OBJECT_TYPE,
        object_id=ids[0] if len(ids) == 1 else f"submission:{ids_digest[:32]}",
        legal_basis=legal_basis(decision), details=details,
    )  # fmt: skip
    session.commit()
    if failure is not None:
        raise QueueUnavailable(
            f"queueing stopped after {len(ids)} batches ({type(failure).__name__}); submit "
            "the same inputs again to queue the rest: batches already queued or selected "
            "are recognised by their ids and not selected twice"
        ) from None
    return submission


async def _publish(config: QueueConfig, key: TransportKey, actor: str, inputs: list[Path],
                   batch_packets: int, submission: Submission) -> None:  # fmt: skip
    """Validate every input, then publish its pieces; ``submission`` lists what is queued."""
    measure_id, pinned = submission.measure_id, submission.selectors
    client = await connect(config)
    try:
        js = client.jetstream()
        await ensure_queue(js, config)
        budget = _budget(client.max_payload)
        # First pass: validate every input and count its pieces; nothing is published yet.
        parts = [
            sum(1 for _ in split_capture(path, max_packets=batch_packets, max_bytes=budget))
            for path in inputs
        ]
        submitted_at = utcnow().isoformat()
        for path, count in zip(inputs, parts, strict=True):
            pieces = split_capture(path, max_packets=batch_packets, max_bytes=budget)
            for part, piece in enumerate(pieces):
                if part >= count:
                    raise InvalidInput(f"input {path.name} changed while it was being queued")
                batch_id = key.batch_id(measure_id=measure_id, selectors=pinned, data=piece.data)
                header = BatchHeader(
                    batch_id=batch_id, measure_id=measure_id, selectors=pinned,
                    input_format=piece.format,
                    source=path.name if count == 1 else f"{path.name}#{part + 1}",
                    part=part, parts=count, packets=piece.packets, size=len(piece.data),
                    submitted_by=actor, submitted_at=submitted_at,
                    key_id="", wrapped_key=b"", nonce=b"",
                )  # fmt: skip
                ack = await js.publish(
                    config.subject, seal(header, piece.data, key), stream=config.stream,
                    headers={"Nats-Msg-Id": batch_id},
                )  # fmt: skip
                submission.batches.append(QueuedBatch(
                    batch_id, header.source, part, piece.packets, len(piece.data),
                    bool(ack.duplicate),
                ))  # fmt: skip
                log.info("queued batch %s (%d packets, %d bytes)", batch_id, piece.packets,
                         len(piece.data))  # fmt: skip
    finally:
        await client.close()
