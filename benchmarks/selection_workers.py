"""End-to-end throughput of selection over the NATS JetStream queue with 1, 2 and 4 workers.

Generates one classic pcap (mixed IPv4/IPv6, TCP/UDP, empty to full-size payloads,
1 % of the packets to command-and-control addresses) and a selector set of 10,000
IPv4 addresses, in a PostgreSQL database created for the run and dropped
afterwards. For each worker count it starts that many ``mamori select worker``
processes, waits until they are ready, then times from the start of ``submit``
(validate, split, seal, publish) until the receipt of the last batch is
committed: packets per second end to end, decryption, staging, selection and
commits included. Each round selects under a measure of its own, so no batch id
repeats. A single-process ``run_selection`` over the whole file is the reference.

The machine these figures come from has 2 logical CPUs shared with other work,
so 4 workers contend for 2 cores: scaling beyond 2 shows contention, not the
design's limit. Needs the NATS server at ``MAMORI_NATS_URL`` (127.0.0.1:4222) and
PostgreSQL at ``MAMORI_BENCH_PG_URL`` (``postgresql+psycopg://postgres@127.0.0.1:5432``).

Run: ``.venv/bin/python benchmarks/selection_workers.py [--packets N] [--no-write]``
(writes the "selection workers" section of ``benchmarks/RESULTS.md`` unless ``--no-write``).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
START, END = "<!-- selection-workers:start -->", "<!-- selection-workers:end -->"
PG_SERVER = os.environ.get("MAMORI_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
C2 = [f"198.51.100.{i}" for i in range(1, 21)]
WORKERS = (1, 2, 4)
JP = (b"2|apnic|20261126|1|19830613|20261125|+1000\napnic|*|ipv4|*|1|summary\n"
      b"apnic|JP|ipv4|133.0.0.0|16777216|19970101|allocated\n")


def _pg_admin(sql: str) -> None:
    import psycopg

    url = PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _nats_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 4222), 2):
            return True
    except OSError:
        return False


def _principals():  # type: ignore[no-untyped-def]
    from mamori.access.principal import Principal

    analyst = Principal(username="bench-analyst", roles=frozenset({"analyst"}),
                        organisation_id=1, organisation_kind="cabinet_office")
    admin = Principal(username="bench-admin", roles=frozenset({"admin"}), mfa=True,
                      organisation_id=1, organisation_kind="cabinet_office")
    inspector = Principal(username="bench-inspector", roles=frozenset({"committee_inspector"}),
                          mfa=True, organisation_id=9, organisation_kind="oversight_committee")
    return analyst, admin, inspector


def _configure(rng: random.Random) -> None:
    from mamori.db import session_scope
    from mamori.selection import service

    analyst, admin, _ = _principals()
    addresses = {str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(10_000)}
    selectors = "\n".join(sorted(addresses | set(C2))).encode()
    with session_scope() as session:
        service.import_prefixes(session=session, principal=admin,
                                files=[("delegated-apnic-latest", JP)])
        service.import_selectors(session=session, principal=analyst, name="c2",
                                 files=[("c2.txt", selectors)])


def _measure() -> str:
    from mamori.db import session_scope, utcnow
    from mamori.governance import measures

    analyst, _, inspector = _principals()
    start = utcnow() - timedelta(days=1)
    with session_scope() as session:
        measure = measures.request_measure(
            session=session, principal=analyst, article=17, grounds="benchmark",
            target_act="C2 relay", carrier="Example Telecom", facilities=["gw-1"],
            starts_at=start, ends_at=start + timedelta(days=30),
        )
        measures.approve_measure(session=session, principal=inspector, measure_id=measure.id)
        return str(measure.id)


def _receipts(measure: str) -> int:
    from sqlalchemy import func, select

    from mamori.db import session_scope
    from mamori.selection.models import Receipt

    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(Receipt)
                                  .where(Receipt.measure_id == measure)) or 0)


def _single(path: Path, warm_up: Path, packets: int) -> float:
    """Packets/s of one ``run_selection`` over the whole file (the reference), warmed up."""
    from mamori.db import session_scope
    from mamori.selection.engine import run_selection
    from mamori.selection.inputs import InputSource

    measure = _measure()
    for batch, source in (("bench-warm-up", warm_up), ("bench-single", path)):
        started = time.perf_counter()
        with session_scope() as session:
            run_selection(session=session, principal_or_system="selection", measure_id=measure,
                          selector_set_id="c2", inputs=[InputSource.from_path(source)],
                          batch_id=batch)
    return packets / (time.perf_counter() - started)


def _per_batch(path: Path, packets: int, budget: int) -> float:
    """Packets/s of the same batches selected one after another in one process, no queue."""
    from mamori.config import get_settings
    from mamori.db import session_scope
    from mamori.selection.distributed.split import split_capture
    from mamori.selection.engine import run_selection
    from mamori.selection.inputs import InputSource
    from mamori.selection.spool import spool_stream

    measure = _measure()
    started = time.perf_counter()
    for i, piece in enumerate(split_capture(path, max_packets=100_000, max_bytes=budget)):
        spool = spool_stream([piece.data], get_settings().home / "spool")
        with session_scope() as session:
            run_selection(session=session, principal_or_system="selection", measure_id=measure,
                          selector_set_id="c2", inputs=[InputSource.from_spool(spool)],
                          batch_id=f"bench-piece-{i}")
    return packets / (time.perf_counter() - started)


def _start_workers(count: int, logs: Path) -> list[subprocess.Popen[bytes]]:
    processes = []
    for i in range(count):
        log = open(logs / f"worker-{count}-{i}.log", "wb")  # noqa: SIM115
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "mamori.cli.main", "select", "worker"],
            stdout=subprocess.DEVNULL, stderr=log,
        ))  # fmt: skip
    deadline = time.monotonic() + 120
    for i in range(count):
        path = logs / f"worker-{count}-{i}.log"
        while b"worker ready" not in path.read_bytes():
            if time.monotonic() > deadline or processes[i].poll() is not None:
                raise SystemExit(f"worker {i} did not start: {path.read_text()[-500:]}")
            time.sleep(0.1)
    return processes


def _round(count: int, path: Path, warm_up: Path, packets: int, batch_packets: int,
           logs: Path) -> tuple[float, float, int]:  # fmt: skip
    """(end-to-end packets/s, submit seconds, batches) with ``count`` worker processes."""
    from mamori.db import session_scope
    from mamori.selection.distributed.submit import submit_captures

    measure, warm = _measure(), _measure()
    workers = _start_workers(count, logs)
    try:
        # Warm-up: a small batch per worker (numba's compiled code, the selector matcher).
        with session_scope() as session:
            submit_captures(session=session, actor="bench-handler", measure_id=warm,
                            selector_set="c2", paths=[warm_up], batch_packets=1000 // count)
        while _receipts(warm) < count:
            time.sleep(0.05)
        started = time.perf_counter()
        with session_scope() as session:
            queued = submit_captures(session=session, actor="bench-handler", measure_id=measure,
                                     selector_set="c2", paths=[path], batch_packets=batch_packets)
        submitted = time.perf_counter() - started
        batches = len(queued.batches)
        while _receipts(measure) < batches:
            if any(w.poll() is not None for w in workers):
                raise SystemExit("a worker exited during the round; see its log")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)
    return packets / elapsed, submitted, batches


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}"


def write_results(section: str) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=100_000)
    parser.add_argument("--batch-packets", type=int, default=100_000,
                        help="packets per batch at most (the broker's message size binds first)")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    if not _nats_reachable():
        print("selection workers: skipped, no NATS server at 127.0.0.1:4222")
        return
    load = os.getloadavg()[0]
    tag = uuid.uuid4().hex[:10]
    database = f"mamori_bench_workers_{tag}"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ.update({
            "MAMORI_HOME": str(work / "home"),
            "MAMORI_DATABASE_URL": f"{PG_SERVER}/{database}",
            "MAMORI_SELECTION_STREAM": f"MAMORI_BENCH_{tag}",
            "MAMORI_SELECTION_SUBJECT": f"mamori.bench.{tag}.batches",
            "MAMORI_SELECTION_CONSUMER": f"bench-{tag}",
        })  # fmt: skip
        from mamori.config import reset_settings_cache
        from mamori.db import init_db
        from mamori.db.session import dispose_engines
        from mamori.selection import samples
        from mamori.selection.distributed.queue import QueueConfig, delete_queue
        from mamori.selection.distributed.submit import _budget
        from mamori.selection.readers.synthetic import write_pcap

        reset_settings_cache()
        _pg_admin(f'CREATE DATABASE "{database}"')
        try:
            init_db()
            rng = random.Random(7)
            _configure(rng)
            path = work / "link.pcap"
            with open(path, "wb") as handle:
                write_pcap(handle, samples.mixed_packets(
                    args.packets, rng=rng, c2=C2, start_ns=time.time_ns() - 3_600_000_000_000))
            warm_up = work / "warm-up.pcap"
            with open(warm_up, "wb") as handle:
                write_pcap(handle, samples.mixed_packets(
                    1000, rng=rng, c2=C2, start_ns=time.time_ns() - 3_600_000_000_000))
            size = path.stat().st_size / 1e6
            print(f"capture: {args.packets:,} packets, {size:.1f} MB")
            single = _single(path, warm_up, args.packets)
            print(f"single process (run_selection, one batch): {single:,.0f} packets/s")
            pieces = _per_batch(path, args.packets, _budget(1 << 20))
            print(f"single process, the same batches, no queue: {pieces:,.0f} packets/s")
            rows = []
            for count in WORKERS:
                rate, submitted, batches = _round(count, path, warm_up, args.packets,
                                                  args.batch_packets, work)  # fmt: skip
                rows.append((count, rate, submitted, batches))
                print(f"{count} worker(s): {rate:,.0f} packets/s end to end "
                      f"({batches} batches; submit {submitted:.1f} s)")
        finally:
            dispose_engines()
            asyncio.run(delete_queue(QueueConfig.from_settings()))
            _pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    base = rows[0][1]
    table = [
        "| workers (processes) | packets/s end to end | vs 1 worker | batches | submit (s) |",
        "| --- | --- | --- | --- | --- |",
        *(f"| {c} | {r:,.0f} | {r / base:.2f}× | {b} | {s:.1f} |" for c, r, s, b in rows),
    ]
    print("\n".join(table))
    section = "\n".join([
        START,
        "## Selection workers — NATS JetStream scale-out",
        "",
        f"`.venv/bin/python benchmarks/selection_workers.py` — machine: {machine()}; "
        f"shared with other work (load average {load:.1f} when the run started).",
        "",
        f"Capture: {args.packets:,} packets ({size:.1f} MB), 1 % to C2 addresses; 10,020 "
        "selector addresses; PostgreSQL database created for the run. End to end = from "
        "the start of `mamori select submit` (validate, split at record boundaries, seal with "
        "AES-256-GCM, publish) to the commit of the last receipt, with the workers already "
        "running and warmed up (one small batch each). Batches are bounded by the broker's "
        "1 MiB message size, about 1,500 packets each here, so the engine's fixed cost per "
        "batch (plan, prefix classifier, receipt, audit entry, commit) weighs heavily; "
        "profiling puts most of it in building the plan, whose prefix classifier is rebuilt "
        "for every batch. Larger batches (a higher `max_payload` on the server) or a plan "
        "cached per configuration version raise every row below.",
        "",
        *table,
        "",
        f"References in one process, no queue: one `run_selection` over the whole file "
        f"{single:,.0f} packets/s; the same ~1 MiB batches one after another "
        f"{pieces:,.0f} packets/s (the engine's per-batch cost without the broker).",
        "",
        "With 2 logical CPUs, the submitter and the workers share two cores: 4 workers "
        "contend for them, so the step from 2 to 4 shows contention, not a limit of the "
        "design; on a machine with more cores (or more machines) each worker adds one core.",
        END,
    ])  # fmt: skip
    if not args.no_write:
        write_results(section)
        print(f"wrote the selection-workers section of {RESULTS.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
