"""A selection worker: take a batch from the queue, select it, commit, then acknowledge.

The order is what makes a crash harmless. A batch is acknowledged only after the
engine has committed its records and receipt in one transaction; a worker that
dies before that leaves the batch unacknowledged, and the broker delivers it again
after ``ack_wait``. A batch whose receipt is already committed (its worker died
between commit and acknowledgement, or two workers raced) is answered by the
engine with that receipt and nothing written — the worker just acknowledges it.
So nothing is lost and nothing is selected twice, with any number of workers on
any number of machines.

While a batch is being selected the worker tells the broker every third of
``ack_wait`` that it is still at work (``+WPI``), so a long batch is not handed to
a second worker. Batches run in threads (``concurrency`` at a time per process);
for more cores, run more processes.

A batch is decrypted in memory and staged straight into an encrypted spool file
(:mod:`..spool`) under a key that dies with the batch. A batch that cannot
succeed — it does not authenticate, its capture is malformed, its basis is no
longer in force — is terminated at once; one that fails for another reason (the
database is away) goes back to the queue, up to ``max_deliver`` deliveries. Either
way the end of the line is a dead letter, recorded in the audit log; a batch whose
last delivery died with its worker is noticed through the broker's max-deliveries
advisory (handled by one worker of the group) and recorded the same way. Logs carry
ids and counts only.

Test hook (honoured only with ``MAMORI_TEST_HOOKS=1``): ``MAMORI_TEST_BATCH_DELAY``
seconds of sleep after a batch is staged and before it is selected, so that a
test can kill a worker mid-batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from sqlalchemy.orm import Session

from mamori.audit import service as audit
from mamori.config import get_settings
from mamori.db.session import session_factory
from mamori.errors import MamoriError

from ..inputs import InputSource
from ..receipts import OBJECT_TYPE, SelectionReceipt
from ..spool import spool_stream, sweep_orphans
from .keys import TransportKey, transport_key
from .messages import BatchHeader, BatchMessageError, open_sealed, read_header
from .queue import QueueConfig, connect, ensure_queue

log = logging.getLogger(__name__)

DEAD_LETTER_ACTION = "selection.dead_letter"
ADVISORY = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"
TEST_HOOKS_ENV = "MAMORI_TEST_HOOKS"
DELAY_ENV = "MAMORI_TEST_BATCH_DELAY"
FETCH_WAIT = 1.0
ACK_TIMEOUT = 5.0
NAK_DELAY = 5.0
"""Seconds before a batch that failed for a passing reason is offered again."""


class BatchRunner(Protocol):
    """Selects one staged batch (the boundary authorizes, then calls the engine)."""

    def __call__(self, *, session: Session, measure_id: str, selector_set: str,
                 inputs: list[InputSource], batch_id: str) -> SelectionReceipt: ...  # fmt: skip


@dataclass
class WorkerStats:
    """What one worker did: counts only."""

    selected: int = 0
    already_committed: int = 0
    """Redelivered batches whose receipt was already committed: acknowledged only."""
    retried: int = 0
    dead_letters: int = 0
    packets: int = 0
    records: int = 0

    def to_json(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class _Outcome:
    kind: Literal["selected", "existing", "retry", "dead"]
    header: BatchHeader | None
    receipt: SelectionReceipt | None = None
    error: str = ""
    detail: str = ""


def _test_delay() -> None:
    if os.environ.get(TEST_HOOKS_ENV) != "1":
        return
    try:
        seconds = float(os.environ.get(DELAY_ENV, "0") or 0)
    except ValueError:
        return
    if seconds > 0:
        time.sleep(seconds)


def _peek(body: bytes) -> BatchHeader | None:
    try:
        return read_header(body)
    except BatchMessageError:
        return None


class Worker:
    """One worker process's loop over the queue; see the module doc."""

    def __init__(
        self,
        *,
        config: QueueConfig,
        runner: BatchRunner,
        actor: str,
        concurrency: int = 1,
        max_batches: int | None = None,
        idle_exit: float | None = None,
        sessions: Callable[[], Session] | None = None,
        key: TransportKey | None = None,
        nak_delay: float = NAK_DELAY,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.config = config
        self.runner = runner
        self.actor = actor
        self.concurrency = concurrency
        self.max_batches = max_batches
        self.idle_exit = idle_exit
        self.sessions = sessions or session_factory()
        self.key = key or transport_key()
        self.nak_delay = nak_delay
        self.spool_dir = get_settings().home / "spool"
        self.stats = WorkerStats()
        self._stopping = False
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="select")

    def stop(self) -> None:
        """Take no new batch; the ones in hand are finished and acknowledged."""
        if not self._stopping:
            log.info("stopping: finishing the batches in hand")
        self._stopping = True

    # --- the blocking part, in a thread ------------------------------------------------

    def _select(self, body: bytes) -> _Outcome:
        try:
            header, plaintext = open_sealed(body, self.key)
        except BatchMessageError as exc:
            clear = _peek(body)
            if clear is not None and clear.key_id != self.key.key_id:
                return _Outcome("retry", clear, error="TransportKeyMismatch", detail=exc.detail)
            return _Outcome("dead", clear, error=type(exc).__name__, detail=exc.detail)
        spool = None
        try:
            spool = spool_stream([plaintext], Path(self.spool_dir))
            del plaintext
            _test_delay()
            session = self.sessions()
            try:
                receipt = self.runner(
                    session=session, measure_id=header.measure_id,
                    selector_set=header.selectors, batch_id=header.batch_id,
                    inputs=[InputSource.from_spool(spool, name=header.source)],
                )  # fmt: skip
            finally:
                session.close()
        except MamoriError as exc:
            return _Outcome("dead", header, error=type(exc).__name__, detail=exc.detail)
        except Exception as exc:
            log.error("batch %s failed: %s", header.batch_id, type(exc).__name__)
            return _Outcome("retry", header, error=type(exc).__name__)
        finally:
            if spool is not None:
                spool.shred()
        return _Outcome("existing" if receipt.existing else "selected", header, receipt=receipt)

    def _dead_letter(self, outcome: _Outcome, seq: int, deliveries: int) -> None:
        header = outcome.header
        details: dict[str, Any] = {
            "stream": self.config.stream, "stream_seq": seq, "deliveries": deliveries,
            "error": outcome.error, "detail": outcome.detail,
            **(header.log_fields() if header else {}),
        }  # fmt: skip
        session = self.sessions()
        try:
            audit.record(
                session=session, actor=self.actor, action=DEAD_LETTER_ACTION,
                object_type=OBJECT_TYPE,
                object_id=header.batch_id if header else f"stream-seq:{seq}", details=details,
            )  # fmt: skip
            session.commit()
        finally:
            session.close()

    # --- the asynchronous part: fetch, heartbeat, acknowledge --------------------------

    async def _heartbeat(self, msg: Msg) -> None:
        interval = max(self.config.ack_wait / 3, 0.5)
        while True:
            await asyncio.sleep(interval)
            with contextlib.suppress(Exception):
                await msg.in_progress()

    async def _handle(self, msg: Msg) -> None:
        loop = asyncio.get_running_loop()
        meta = msg.metadata
        seq, deliveries = meta.sequence.stream, meta.num_delivered
        beat = asyncio.create_task(self._heartbeat(msg))
        try:
            outcome = await loop.run_in_executor(self._pool, self._select, msg.data)
        finally:
            beat.cancel()
        batch = outcome.header.batch_id if outcome.header else f"stream-seq:{seq}"
        try:
            if outcome.kind in ("selected", "existing"):
                await msg.ack_sync(timeout=ACK_TIMEOUT)
                self._count(outcome)
            elif outcome.kind == "retry" and deliveries < self.config.max_deliver:
                await msg.nak(delay=self.nak_delay)
                self.stats.retried += 1
                log.warning("batch %s returned to the queue (delivery %d of %d): %s", batch,
                            deliveries, self.config.max_deliver, outcome.error)  # fmt: skip
            else:
                await loop.run_in_executor(self._pool, self._dead_letter, outcome, seq,
                                           deliveries)  # fmt: skip
                await msg.term()
                self.stats.dead_letters += 1
                log.error("batch %s is a dead letter after %d deliveries: %s", batch,
                          deliveries, outcome.error)  # fmt: skip
        except Exception as exc:
            # Not acknowledged: the broker delivers the batch again after ack_wait,
            # and the engine recognises a batch it has already committed.
            log.error("batch %s: the broker was not told the outcome (%s)", batch,
                      type(exc).__name__)  # fmt: skip

    def _count(self, outcome: _Outcome) -> None:
        receipt, header = outcome.receipt, outcome.header
        assert receipt is not None and header is not None
        if outcome.kind == "existing":
            self.stats.already_committed += 1
            log.info("batch %s was already committed: acknowledged", header.batch_id)
            return
        self.stats.selected += 1
        self.stats.packets += receipt.counts.packets.received
        self.stats.records += receipt.records_out
        log.info("batch %s selected: %d packets in, %d records out", header.batch_id,
                 receipt.counts.packets.received, receipt.records_out)  # fmt: skip

    async def _max_deliveries(self, js: JetStreamContext, advisory: Msg) -> None:
        """The broker gave up on a batch whose last delivery was never answered."""
        try:
            event = json.loads(advisory.data)
            seq, deliveries = int(event["stream_seq"]), int(event.get("deliveries", 0))
            stored = await js.get_msg(self.config.stream, seq)
        except Exception:
            return  # not ours to note, or already gone
        outcome = _Outcome("dead", _peek(stored.data or b""), error="MaxDeliveries",
                           detail="no worker answered the last delivery")  # fmt: skip
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._pool, self._dead_letter, outcome, seq, deliveries)
            await js.delete_msg(self.config.stream, seq)
        except Exception as exc:
            log.error("stream message %d: the dead letter was not recorded (%s)", seq,
                      type(exc).__name__)  # fmt: skip
            return
        self.stats.dead_letters += 1
        log.error("batch %s is a dead letter: no answer after %d deliveries",
                  outcome.header.batch_id if outcome.header else f"stream-seq:{seq}",
                  deliveries)  # fmt: skip

    async def run(self, *, handle_signals: bool = True) -> WorkerStats:
        """Work until stopped, ``max_batches`` taken or ``idle_exit`` seconds without work."""
        swept = sweep_orphans(Path(self.spool_dir))
        if swept:
            log.info("removed %d spool file(s) left by stopped processes", swept)
        client = await connect(self.config)
        loop = asyncio.get_running_loop()
        signals = (signal.SIGTERM, signal.SIGINT) if handle_signals else ()
        for sig in signals:
            loop.add_signal_handler(sig, self.stop)
        tasks: set[asyncio.Task[None]] = set()
        try:
            js = client.jetstream()
            self.config = await ensure_queue(js, self.config)
            sub = await js.pull_subscribe_bind(durable=self.config.consumer,
                                               stream=self.config.stream)  # fmt: skip

            async def advised(msg: Msg) -> None:
                await self._max_deliveries(js, msg)

            advisories = await client.subscribe(
                f"{ADVISORY}.{self.config.stream}.{self.config.consumer}",
                queue=f"{self.config.consumer}-dead-letters", cb=advised,
            )  # fmt: skip
            taken = 0
            last_work = time.monotonic()

            def done(task: asyncio.Task[None]) -> None:
                nonlocal last_work
                tasks.discard(task)
                last_work = time.monotonic()

            log.info("worker ready on %s (stream %s, consumer %s, %d at a time, "
                     "transport key %s)", self.config.server, self.config.stream,
                     self.config.consumer, self.concurrency, self.key.key_id)  # fmt: skip
            while not self._stopping:
                wanted = self.concurrency - len(tasks)
                if self.max_batches is not None:
                    if taken >= self.max_batches:
                        break
                    wanted = min(wanted, self.max_batches - taken)
                if wanted <= 0:
                    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                    continue
                try:
                    msgs = await sub.fetch(wanted, timeout=FETCH_WAIT)
                except nats.errors.TimeoutError:
                    msgs = []
                for msg in msgs:
                    taken += 1
                    task = asyncio.create_task(self._handle(msg))
                    tasks.add(task)
                    task.add_done_callback(done)
                if msgs:
                    last_work = time.monotonic()
                elif (not tasks and self.idle_exit is not None
                      and time.monotonic() - last_work >= self.idle_exit):  # fmt: skip
                    break
            if tasks:
                await asyncio.gather(*tasks)
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
                await advisories.unsubscribe()
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            await client.close()
            self._pool.shutdown(wait=True)
        log.info("worker done: %s", self.stats.to_json())
        return self.stats


def run_worker(
    *,
    config: QueueConfig,
    runner: BatchRunner,
    actor: str,
    concurrency: int = 1,
    max_batches: int | None = None,
    idle_exit: float | None = None,
) -> WorkerStats:
    """Run one worker to its end in this process (the CLI's entry point)."""
    worker = Worker(config=config, runner=runner, actor=actor, concurrency=concurrency,
                    max_batches=max_batches, idle_exit=idle_exit)  # fmt: skip
    return asyncio.run(worker.run())
