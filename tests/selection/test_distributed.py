"""Selection over the NATS JetStream work queue, on both databases, with a real broker.

Each test gets a stream, subject and consumer of its own (deleted afterwards) on the
server at ``MAMORI_NATS_URL`` (127.0.0.1:4222 by default, started by CI); the tests
skip with that reason when no server answers, and fail instead under
``MAMORI_REQUIRE_TOOLS=1``. Workers run in this process here; the crash tests with
worker processes are in ``test_distributed_kill.py``.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.config import get_settings, reset_settings_cache
from mamori.db import utcnow
from mamori.errors import InvalidInput, NotFound
from mamori.selection import samples, service
from mamori.selection.distributed.keys import TransportKey, transport_key
from mamori.selection.distributed.messages import BatchHeader, open_sealed, seal
from mamori.selection.distributed.queue import QueueConfig, connect, delete_queue, ensure_queue
from mamori.selection.distributed.split import split_capture
from mamori.selection.distributed.submit import QUEUED_ACTION, submit_captures
from mamori.selection.distributed.worker import DEAD_LETTER_ACTION, Worker, WorkerStats
from mamori.selection.engine import SelectionRefused
from mamori.selection.inputs import InputSource
from mamori.selection.models import Receipt, SelectedRecord
from mamori.selection.readers import CaptureReader
from mamori.selection.readers.errors import CaptureFormatError
from mamori.selection.spool import spool_stream

from .conftest import C2_V4, HANDLER, audit_count, audit_details, make_measure
from .test_cli import HANDLER as AS_HANDLER
from .test_cli import _configure

NOW_NS = int(utcnow().timestamp() * 1e9)
SYSTEM = Principal.system("selection")
BATCH = 100
ACK_WAIT = 2


# --- the broker ---------------------------------------------------------------------------


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), 2):
            return True
    except OSError:
        return False


@pytest.fixture
def queue(env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[QueueConfig]:
    """A queue of this test's own on the real NATS server, deleted afterwards."""
    url = get_settings().nats_url
    if not _reachable(url):
        message = f"no NATS server with JetStream at {url} (CI starts one: nats-server -js)"
        if os.environ.get("MAMORI_REQUIRE_TOOLS"):
            pytest.fail(message)
        pytest.skip(message)
    tag = uuid.uuid4().hex[:12]
    monkeypatch.setenv("MAMORI_SELECTION_STREAM", f"MAMORI_TEST_{tag}")
    monkeypatch.setenv("MAMORI_SELECTION_SUBJECT", f"mamori.test.{tag}.batches")
    monkeypatch.setenv("MAMORI_SELECTION_CONSUMER", f"workers-{tag}")
    monkeypatch.setenv("MAMORI_SELECTION_ACK_WAIT", str(ACK_WAIT))
    monkeypatch.setenv("MAMORI_SELECTION_MAX_DELIVER", "2")
    reset_settings_cache()
    config = QueueConfig.from_settings()
    yield config
    asyncio.run(delete_queue(config))


async def _stream_messages(config: QueueConfig) -> list[bytes]:
    """Every message the stream stores, read raw from the broker."""
    client = await connect(config)
    try:
        js = client.jetstream()
        try:
            info = await js.stream_info(config.stream)
        except Exception:
            return []
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                found.append((await js.get_msg(config.stream, seq)).data or b"")
            except Exception:
                continue  # acknowledged (removed) meanwhile
        return found
    finally:
        await client.close()


def stream_messages(config: QueueConfig) -> list[bytes]:
    return asyncio.run(_stream_messages(config))


async def _publish(config: QueueConfig, body: bytes) -> None:
    client = await connect(config)
    try:
        js = client.jetstream()
        await ensure_queue(js, config)
        await js.publish(config.subject, body, stream=config.stream)
    finally:
        await client.close()


def system_runner(*, session: Session, **kwargs: object):  # type: ignore[no-untyped-def]
    """What the worker command runs: the service layer, as the system job."""
    return service.run(session=session, principal=SYSTEM, **kwargs)  # type: ignore[arg-type]


def work(config: QueueConfig, **options: object) -> WorkerStats:
    worker = Worker(config=config, runner=system_runner, actor=SYSTEM.username,
                    **options)  # type: ignore[arg-type]
    return asyncio.run(worker.run(handle_signals=False))


# --- captures -----------------------------------------------------------------------------


def build_capture(path: Path, token: str, *, selected: int = 120, other: int = 180) -> Path:
    """Foreign traffic; ``selected`` packets go to the C2 address, each its own flow.

    Every payload carries ``token``, so it can be searched for wherever it must not be.
    """
    packets = []
    for i in range(selected + other):
        payload = f"{token}/{i}/".encode() * 4
        if i % 5 < 2 and selected:
            selected -= 1
            packets.append(samples.tcp(f"8.8.{i // 200}.{i % 200 + 1}", C2_V4, 20000 + i, 443,
                                       payload))
        else:
            packets.append(samples.tcp("9.9.9.9", "8.8.4.4", 30000 + i, 80, payload))
    return samples.write_capture(path, packets, NOW_NS - 60_000_000_000)


def expected_batches(path: Path, measure: str, selectors: str,
                     batch: int = BATCH) -> dict[str, tuple[bytes, int, int]]:
    """batch id → (piece, packets, records expected) computed apart from the engine."""
    key = transport_key()
    out = {}
    for piece in split_capture(path, max_packets=batch, max_bytes=10 << 20):
        c2 = sum(int((b.dst4 == samples.ip(C2_V4)).sum()) for b in
                 CaptureReader(io.BytesIO(piece.data)))
        batch_id = key.batch_id(measure_id=measure, selectors=selectors, data=piece.data)
        out[batch_id] = (piece.data, piece.packets, c2)
    return out


def records_by_batch(session: Session) -> dict[str, int]:
    session.expire_all()
    rows = session.execute(
        select(SelectedRecord.batch_id, func.count()).group_by(SelectedRecord.batch_id)
    ).all()
    return {batch: count for batch, count in rows}


def submit(session: Session, measure: str, *paths: Path, batch: int = BATCH):  # type: ignore[no-untyped-def]
    return submit_captures(session=session, actor=HANDLER.username, measure_id=measure,
                           selector_set="c2", paths=list(paths), batch_packets=batch)


# --- tests --------------------------------------------------------------------------------


def test_submitted_batches_are_selected_once_and_match_the_single_process_path(
    session: Session, zone, queue: QueueConfig, tmp_path: Path
) -> None:
    measure = zone()
    token = f"canary-{uuid.uuid4().hex}"
    capture = build_capture(tmp_path / "link.pcap", token)
    queued = submit(session, measure, capture)
    expected = expected_batches(capture, measure, "c2@1")
    assert [b.batch_id for b in queued.batches] == list(expected)
    assert len(queued.batches) == 3 and queued.selectors == "c2@1"
    assert [b.source for b in queued.batches] == ["link.pcap#1", "link.pcap#2", "link.pcap#3"]

    stored = stream_messages(queue)
    assert len(stored) == 3
    for body in stored:
        assert token.encode() not in body and b"canary" not in body
        assert any(batch_id.encode() in body for batch_id in expected)  # the clear header

    stats = work(queue, concurrency=2, max_batches=3, idle_exit=5)
    assert (stats.selected, stats.already_committed, stats.dead_letters) == (3, 0, 0)
    assert stats.packets == 300 and stats.records == 120
    assert records_by_batch(session) == {b: e[2] for b, e in expected.items()}
    for batch_id, (piece, packets, records) in expected.items():
        row = session.get(Receipt, batch_id)
        assert row is not None and row.records_out == records and row.actor == "system:selection"
        (summary,) = row.details["inputs"]
        # The worker fed the engine exactly the piece: same bytes, same format.
        assert summary["sha256"] == hashlib.sha256(piece).hexdigest()
        assert summary["format"] == "pcap"
        assert row.details["counts"]["packets"]["received"] == packets
    assert audit_count(session, "selection.receipt") == 3
    (note,) = audit_details(session, QUEUED_ACTION)
    assert note["batch_ids"] == list(expected) and note["packets"] == 300
    assert stream_messages(queue) == []
    assert list((get_settings().home / "spool").iterdir()) == []

    # The same capture again: the broker drops the copies (same batch ids), nothing twice.
    again = submit(session, measure, capture)
    assert all(b.duplicate for b in again.batches)
    assert work(queue, idle_exit=0.5).selected == 0
    assert sum(records_by_batch(session).values()) == 120


def test_redelivery_after_a_nak_or_a_timeout_duplicates_nothing(
    session: Session, zone, queue: QueueConfig, tmp_path: Path
) -> None:
    measure = zone()
    capture = build_capture(tmp_path / "link.pcap", "redelivery")
    submit(session, measure, capture)
    expected = expected_batches(capture, measure, "c2@1")

    async def commit_without_ack() -> tuple[str, str]:
        """A worker that commits two batches, gives one back (nak) and dies on the other."""
        client = await connect(queue)
        try:
            js = client.jetstream()
            sub = await js.pull_subscribe_bind(durable=queue.consumer, stream=queue.stream)
            msgs = await sub.fetch(2, timeout=5)
            assert len(msgs) == 2
            ids = []
            for msg in msgs:
                header, plain = open_sealed(msg.data, transport_key())
                spool = spool_stream([plain], get_settings().home / "spool")
                with Session(session.get_bind()) as own:
                    system_runner(session=own, measure_id=header.measure_id,
                                  selector_set=header.selectors, batch_id=header.batch_id,
                                  inputs=[InputSource.from_spool(spool, name=header.source)])
                ids.append(header.batch_id)
            await msgs[0].nak()
            return ids[0], ids[1]
        finally:
            await client.close()

    naked, timed_out = asyncio.run(commit_without_ack())
    assert records_by_batch(session) == {naked: expected[naked][2],
                                         timed_out: expected[timed_out][2]}
    # The third batch, the batch given back, and after ack_wait the abandoned one.
    stats = work(queue, max_batches=3, idle_exit=ACK_WAIT + 3)
    assert (stats.selected, stats.already_committed) == (1, 2)
    assert records_by_batch(session) == {b: e[2] for b, e in expected.items()}
    assert audit_count(session, "selection.receipt") == 3
    assert stream_messages(queue) == []


def test_batches_that_cannot_succeed_become_audited_dead_letters(
    session: Session, zone, queue: QueueConfig, tmp_path: Path
) -> None:
    measure = zone()
    key = transport_key()

    def sealed(batch_id: str, capture: bytes, under: TransportKey) -> bytes:
        header = BatchHeader(batch_id=batch_id, measure_id=measure, selectors="c2@1",
                             input_format="pcap", source="x.pcap", part=0, parts=1,
                             packets=1, size=0, submitted_by=HANDLER.username,
                             submitted_at=utcnow().isoformat(), key_id="", wrapped_key=b"",
                             nonce=b"")  # fmt: skip
        return seal(header, capture, under)

    good = build_capture(tmp_path / "one.pcap", "dead", selected=1, other=0).read_bytes()

    async def abandon_twice() -> None:
        """Two deliveries that no worker answers: the broker gives the batch up."""
        client = await connect(queue)
        try:
            sub = await client.jetstream().pull_subscribe_bind(durable=queue.consumer,
                                                               stream=queue.stream)
            await sub.fetch(1, timeout=5)
            await asyncio.sleep(ACK_WAIT + 0.3)
            (again,) = await sub.fetch(1, timeout=5)
            assert again.metadata.num_delivered == 2
        finally:
            await client.close()

    asyncio.run(_publish(queue, sealed("q-abandoned", good, key)))
    asyncio.run(abandon_twice())
    tampered = bytearray(sealed("q-tampered", good, key))
    tampered[-1] ^= 1
    asyncio.run(_publish(queue, bytes(tampered)))
    asyncio.run(_publish(queue, sealed("q-not-a-capture", b"\xd4\xc3\xb2\xa1" + b"\0" * 9, key)))
    asyncio.run(_publish(queue, sealed("q-other-key", good, TransportKey.from_bytes(b"k" * 32))))

    worker = Worker(config=queue, runner=system_runner, actor=SYSTEM.username, nak_delay=0.2)

    async def until_four_dead_letters() -> WorkerStats:
        task = asyncio.create_task(worker.run(handle_signals=False))
        deadline = time.monotonic() + 30
        while worker.stats.dead_letters < 4 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        worker.stop()
        return await task

    stats = asyncio.run(until_four_dead_letters())
    assert (stats.selected, stats.dead_letters, stats.retried) == (0, 4, 1)
    letters = {d["batch_id"]: d for d in audit_details(session, DEAD_LETTER_ACTION)}
    assert letters["q-tampered"]["error"] == "BatchMessageError"
    assert letters["q-not-a-capture"]["error"] == "CaptureFormatError"
    assert letters["q-other-key"]["error"] == "TransportKeyMismatch"
    assert letters["q-other-key"]["deliveries"] == 2
    assert letters["q-abandoned"]["error"] == "MaxDeliveries"
    assert letters["q-abandoned"]["deliveries"] == 2
    assert audit_count(session, "selection.failed") == 1  # the engine's own note
    assert session.scalar(select(func.count()).select_from(Receipt)) == 0
    assert stream_messages(queue) == []


def test_submission_errors_queue_nothing(
    session: Session, zone, queue: QueueConfig, tmp_path: Path
) -> None:
    measure = zone()
    unapproved = zone(approve=False)
    capture = build_capture(tmp_path / "link.pcap", "errors")
    with pytest.raises(SelectionRefused, match="nothing was queued"):
        submit(session, unapproved, capture)
    with pytest.raises(NotFound):
        submit_captures(session=session, actor=HANDLER.username, measure_id=measure,
                        selector_set="nope", paths=[capture])
    flows = tmp_path / "conn.log"
    flows.write_text("#separator \\x09\n#path\tconn\n")
    with pytest.raises(InvalidInput, match="flow-record files are not queued"):
        submit(session, measure, capture, flows)
    # Sound for its first 250 packets, broken in the last record: no batch leaves.
    truncated = tmp_path / "truncated.pcap"
    truncated.write_bytes(capture.read_bytes()[:-7])
    with pytest.raises(CaptureFormatError, match="file ends inside a record"):
        submit(session, measure, capture, truncated)
    assert stream_messages(queue) == []
    assert audit_count(session, QUEUED_ACTION) == 0


def test_the_commands(mamori, session: Session, queue: QueueConfig, tmp_path: Path) -> None:
    _configure(mamori, tmp_path)
    measure = make_measure(session)
    capture = build_capture(tmp_path / "link.pcap", "cli", selected=10, other=20)
    code, out, err = mamori(*AS_HANDLER, "select", "submit", "--measure", measure,
                            "--selectors", "c2", "--batch-packets", "20", "--json", str(capture))
    assert code == 0, err
    queued = json.loads(out)
    assert queued["selectors"] == "c2@1" and len(queued["batches"]) == 2
    code, out, err = mamori("--as", "demo-operator", "select", "submit", "--measure", measure,
                            "--selectors", "c2", str(capture))
    assert code == 2 and "may not selection.run" in err
    code, out, err = mamori("select", "worker", "--max-batches", "2", "--json")
    assert code == 0, err
    assert json.loads(out)["selected"] == 2 and json.loads(out)["records"] == 10
    code, out, err = mamori(*AS_HANDLER, "select", "receipts", "--json")
    assert {r["batch_id"] for r in json.loads(out)} == {b["batch_id"] for b in queued["batches"]}
