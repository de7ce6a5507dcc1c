"""Killing a worker mid-batch loses nothing and duplicates nothing (real processes).

Worker processes (``python -m mamori.cli.main select worker``) share the test's
PostgreSQL database, ``MAMORI_HOME`` (and so the transport key) and queue. With the
test hook ``MAMORI_TEST_BATCH_DELAY`` (honoured only under ``MAMORI_TEST_HOOKS=1``)
each holds its first batch, staged, for a while: one worker is stopped with
SIGTERM and finishes its batch; another is killed with SIGKILL; a third, started
afterwards, takes the rest — including the killed worker's batch once the broker
redelivers it. Every batch must end with exactly one receipt and exactly its
expected records, and no canary planted in the payloads may be found in the
broker's stored messages (read raw, and on its disk when the store is readable),
the spool or the temporary folder; the killed worker's spool file (ciphertext under a
key that died with it) is removed by the next worker to start.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from mamori.config import get_settings
from mamori.selection.models import Receipt

from .test_distributed import (
    ACK_WAIT,
    build_capture,
    expected_batches,
    queue,  # noqa: F401  (fixture)
    records_by_batch,
    stream_messages,
    submit,
)

NATS_STORE = Path(os.environ.get("MAMORI_TEST_NATS_STORE", "/var/lib/nats-server"))


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """PostgreSQL only: worker processes share the database as in production."""
    yield request.getfixturevalue("pg_engine")


def _worker(home: Path, tmp: Path, *args: str, delay: float = 0) -> subprocess.Popen[str]:
    env = {**os.environ, "TMPDIR": str(tmp), "MAMORI_TEST_HOOKS": "1",
           "MAMORI_TEST_BATCH_DELAY": str(delay), "MAMORI_HOME": str(home)}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "mamori.cli.main", "select", "worker", "--json", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _store_files(stream: str) -> list[Path]:
    folder = NATS_STORE / "jetstream" / "$G" / "streams" / stream
    try:
        return [p for p in folder.rglob("*") if p.is_file()]
    except OSError:
        return []


def test_killing_a_worker_mid_batch_loses_nothing_and_duplicates_nothing(
    session: Session, zone, queue, tmp_path: Path  # noqa: F811
) -> None:
    measure = zone()
    token = f"canary-{uuid.uuid4().hex}"
    capture = build_capture(tmp_path / "link.pcap", token)
    queued = submit(session, measure, capture)
    expected = expected_batches(capture, measure, "c2@1")
    assert len(queued.batches) == 3

    # At rest in the broker: ciphertext only (the clear header shows it is really there).
    stored = stream_messages(queue)
    assert len(stored) == 3 and all(token.encode() not in body for body in stored)
    on_disk = _store_files(queue.stream)
    if on_disk:
        _wait_for(lambda: any(b"q-" in p.read_bytes() for p in _store_files(queue.stream)),
                  10, "the broker to write the batches")
        assert not any(token.encode() in p.read_bytes() for p in _store_files(queue.stream))

    home = get_settings().home
    spool = home / "spool"
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    staged = lambda count: lambda: spool.is_dir() and len(list(spool.iterdir())) >= count  # noqa: E731
    killed = _worker(home, tmp, delay=120)
    graceful = rest = None
    try:
        # One worker holds a batch, staged in the spool; then a second one takes another.
        _wait_for(staged(1), 60, "the first worker to stage a batch")
        graceful = _worker(home, tmp, delay=3)
        _wait_for(staged(2), 60, "the second worker to stage a batch")
        assert session.scalar(select(func.count()).select_from(Receipt)) == 0
        killed.send_signal(signal.SIGKILL)
        graceful.send_signal(signal.SIGTERM)
        killed.wait(timeout=10)
        # The killed worker left its staged batch behind: ciphertext under a key that died.
        orphan = next(p for p in spool.iterdir() if p.name.startswith(f"{killed.pid}-"))
        assert token.encode() not in orphan.read_bytes()
        # A fresh worker removes that file, takes the third batch and, after ack_wait, the
        # killed one's.
        rest = _worker(home, tmp, "--idle-exit", str(ACK_WAIT + 1))
        out, err = graceful.communicate(timeout=60)
        assert graceful.returncode == 0, err
        assert json.loads(out)["selected"] == 1  # finished the batch in hand, took no other
        out, err = rest.communicate(timeout=90)
        assert rest.returncode == 0, err
    finally:
        for process in (killed, graceful, rest):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    assert killed.returncode == -signal.SIGKILL
    stats = json.loads(out)
    assert stats["selected"] == 2 and stats["dead_letters"] == 0

    assert not orphan.exists() and list(spool.iterdir()) == []

    assert records_by_batch(session) == {b: e[2] for b, e in expected.items()}
    session.expire_all()
    receipts = session.scalars(select(Receipt)).all()
    assert sorted(r.batch_id for r in receipts) == sorted(expected)
    for row in receipts:
        assert row.records_out == expected[row.batch_id][2]
    assert stream_messages(queue) == []
    for folder in (tmp, home):
        for path in folder.rglob("*"):
            if path.is_file():
                assert token.encode() not in path.read_bytes(), path.name
    assert token not in out + err
