"""The intel store at scale: ingest, the correlation index, and 2-hop queries.

A synthetic but realistic mix of STIX 2.1 objects is generated: indicators (blocklist
style patterns naming one to forty addresses, domains or hashes), observables,
observed-data referencing them, sightings and relationships. Values are drawn from a
skewed pool, so some addresses recur in thousands of objects (and meet the fan-out cap)
while most occur a few times, as in real feeds.

1. **Ingest**: the objects go through ``service.import_bundle`` (validation, versions,
   labels, incremental index) in bundles of ``--bundle`` objects; objects/s and bundles/s
   are reported. Anchor: OpenCTI users report 4–10 bundles/s with 4 workers
   (OpenCTI-Platform/opencti#10013).
2. **Index**: the correlation index is rebuilt from the stored objects (one pass over
   the latest versions) and its size measured, at a tenth of the values and at all of
   them, so that time and bytes per value show the growth is linear. Anchor: MISP's
   correlation table reached 291 GB for 10.5 million attributes (MISP/MISP#8275).
3. **Query**: "everything related to this IP within 2 hops" for ``--queries`` addresses
   (rare and common ones) through ``service.related``: median, 95th percentile and max.

Run: ``.venv/bin/python benchmarks/intel.py [--db sqlite|postgresql|both] [--objects N]
[--values-per-indicator N] [--bundle N] [--queries N]``. SQLite uses a temporary file;
PostgreSQL a temporary database on 127.0.0.1:5432 (``MAMORI_BENCH_PG_URL`` to change it).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import init_db, make_engine
from mamori.intel import reindex, service, stix
from mamori.intel.models import IndexRow, ObjectRow

ANALYST = Principal(username="bench-analyst", roles=frozenset({"analyst"}), organisation_id=1,
                    purpose="specified_damage_prevention")
SYSTEM = Principal.system("bench")
PG_SERVER = os.environ.get("MAMORI_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
T0 = "2026-11-01T00:00:00.000Z"
NAMESPACE = uuid.UUID("3b7f2b0e-1c1d-4a8e-9d51-62656e636831")


def sid(kind: str, n: int) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, f'{kind}/{n}')}"


class Pool:
    """Skewed pools of addresses, domains and hashes (a few very common values)."""

    def __init__(self, rng: random.Random, size: int) -> None:
        self.rng = rng
        self.size = size

    def _pick(self) -> int:
        # Pareto-like: index 0 is the most common; most picks are spread thinly.
        return min(self.size - 1, int(self.rng.paretovariate(1.1)) - 1) \
            if self.rng.random() < 0.2 else self.rng.randrange(self.size)

    def address(self) -> str:
        n = self._pick()
        return f"{100 + (n >> 16) % 100}.{(n >> 8) & 255}.{n & 255}.{(n * 7) % 250 + 1}"

    def domain(self) -> str:
        return f"host{self._pick()}.example{self.rng.randrange(50)}.net"

    def sha256(self) -> str:
        return f"{self._pick():064x}"


SAMPLE: list[str] = []  # addresses that occur in the data, for the queries


def _comparison(pool: Pool) -> str:
    roll = pool.rng.random()
    if roll < 0.6:
        address = pool.address()
        if len(SAMPLE) < 5000 and pool.rng.random() < 0.01:
            SAMPLE.append(address)
        return f"ipv4-addr:value = '{address}'"
    if roll < 0.85:
        return f"domain-name:value = '{pool.domain()}'"
    return f"file:hashes.'SHA-256' = '{pool.sha256()}'"


def objects(count: int, *, values_per_indicator: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """The synthetic mix: 40 % indicators, 25 % observables, 15 % observed-data,
    10 % sightings, 10 % relationships."""
    rng = random.Random(seed)
    pool = Pool(rng, max(1000, count * 2))
    for n in range(count):
        roll = rng.random()
        if roll < 0.40:
            k = max(1, min(40, int(rng.expovariate(1 / values_per_indicator))))
            pattern = "[" + " OR ".join(_comparison(pool) for _ in range(k)) + "]"
            yield {"type": "indicator", "spec_version": "2.1", "id": sid("indicator", n),
                   "created": T0, "modified": T0, "pattern": pattern, "pattern_type": "stix",
                   "valid_from": T0, "indicator_types": ["malicious-activity"]}
        elif roll < 0.65:
            yield stix.make_sco("ipv4-addr", value=pool.address()) if rng.random() < 0.7 \
                else stix.make_sco("domain-name", value=pool.domain())
        elif roll < 0.80:
            refs = [stix.make_sco("ipv4-addr", value=pool.address())["id"] for _ in range(2)]
            yield {"type": "observed-data", "spec_version": "2.1", "id": sid("observed-data", n),
                   "created": T0, "modified": T0, "first_observed": T0, "last_observed": T0,
                   "number_observed": rng.randint(1, 50), "object_refs": refs}
        elif roll < 0.90:
            yield {"type": "sighting", "spec_version": "2.1", "id": sid("sighting", n),
                   "created": T0, "modified": T0, "count": rng.randint(1, 9),
                   "sighting_of_ref": sid("indicator", rng.randrange(max(1, n)))}
        else:
            yield {"type": "relationship", "spec_version": "2.1", "id": sid("relationship", n),
                   "created": T0, "modified": T0, "relationship_type": "related-to",
                   "source_ref": sid("indicator", rng.randrange(max(1, n))),
                   "target_ref": sid("indicator", rng.randrange(max(1, n)))}


def _engine(kind: str, folder: Path) -> tuple[Engine, str | None]:
    if kind == "sqlite":
        return make_engine(f"sqlite:///{folder / 'bench.db'}"), None
    import psycopg

    name = f"mamori_bench_intel_{os.getpid()}"
    admin = PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_engine(f"{PG_SERVER}/{name}"), name


def _drop(name: str | None) -> None:
    if name is None:
        return
    import psycopg

    admin = PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _index_bytes(session: Session) -> int:
    if session.get_bind().dialect.name == "postgresql":
        return int(session.scalar(text("SELECT pg_total_relation_size('intel_index')")) or 0)
    try:
        return int(session.scalar(text(
            "SELECT SUM(pgsize) FROM dbstat WHERE name = 'intel_index' OR name IN "
            "(SELECT name FROM sqlite_master WHERE tbl_name = 'intel_index')")) or 0)
    except Exception:  # dbstat not compiled in: the whole file as an upper bound
        pages = session.scalar(text("PRAGMA page_count")) or 0
        size = session.scalar(text("PRAGMA page_size")) or 0
        return int(pages) * int(size)


def ingest(engine: Engine, count: int, bundle: int, values_per_indicator: int
           ) -> dict[str, Any]:
    stream = objects(count, values_per_indicator=values_per_indicator)
    started = time.perf_counter()
    cpu = time.process_time()
    bundles = stored = 0
    while True:
        chunk = [o for _, o in zip(range(bundle), stream, strict=False)]
        if not chunk:
            break
        with Session(engine) as session:
            result = service.import_bundle(
                session=session, principal=ANALYST,
                bundle={"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": chunk},
                source=f"bench-{bundles}")
            session.commit()
        stored += result.stored + result.merged
        bundles += 1
    wall = time.perf_counter() - started
    return {"objects": stored, "bundles": bundles, "seconds": wall,
            "cpu": time.process_time() - cpu}


def rebuild(engine: Engine, fraction: float | None = None) -> dict[str, Any]:
    """Rebuild the index (of the objects with id ≤ fraction of the max, when given)."""
    with Session(engine) as session:
        if fraction is not None:
            top = int((session.scalar(select(func.max(ObjectRow.id))) or 0) * fraction)
            session.execute(text("UPDATE intel_object SET revoked = NOT revoked WHERE id > :t"),
                            {"t": top})
        started = time.perf_counter()
        cpu = time.process_time()
        result = reindex.rebuild(session)
        session.commit()
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE intel_index"))
        size = _index_bytes(session)
        if fraction is not None:
            session.execute(text("UPDATE intel_object SET revoked = NOT revoked WHERE id > :t"),
                            {"t": top})
            session.commit()
        rows = session.scalar(select(func.count()).select_from(IndexRow)) or 0
    return {"values": result.values, "rows": rows, "seconds": seconds, "cpu": cpu,
            "bytes": size}


def queries(engine: Engine, count: int) -> dict[str, Any]:
    """2-hop queries from addresses that occur in the data (rare and common alike)."""
    rng = random.Random(11)
    chosen = rng.sample(SAMPLE, min(count, len(SAMPLE)))
    times = []
    sizes = []
    ubiquitous = 0
    with Session(engine) as session:
        service.related(session=session, principal=ANALYST, value_or_id=chosen[0], hops=2)
        for value in chosen:
            started = time.perf_counter()
            result = service.related(session=session, principal=ANALYST, value_or_id=value,
                                     hops=2)
            times.append((time.perf_counter() - started) * 1000)
            sizes.append(len(result.nodes))
            ubiquitous += bool(result.ubiquitous)
    times.sort()
    return {"queries": len(times), "median_ms": statistics.median(times),
            "p95_ms": times[int(len(times) * 0.95) - 1], "max_ms": times[-1],
            "median_nodes": statistics.median(sizes), "max_nodes": max(sizes),
            "with_ubiquitous": ubiquitous}


def run(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mamori-bench-intel-") as folder:
        engine, name = _engine(kind, Path(folder))
        try:
            init_db(engine)
            result: dict[str, Any] = {"db": kind}
            result["ingest"] = ingest(engine, args.objects, args.bundle,
                                      args.values_per_indicator)
            print(kind, "ingest", result["ingest"], flush=True)
            result["index_tenth"] = rebuild(engine, 0.1)
            print(kind, "index 10%", result["index_tenth"], flush=True)
            result["index"] = rebuild(engine)
            print(kind, "index", result["index"], flush=True)
            result["query"] = queries(engine, args.queries)
            print(kind, "query", result["query"], flush=True)
            return result
        finally:
            engine.dispose()
            _drop(name)


def markdown(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        "<!-- intel:start -->",
        "## intel — the STIX store, the correlation index and 2-hop queries",
        "",
        f"`.venv/bin/python benchmarks/intel.py --objects {args.objects} "
        f"--values-per-indicator {args.values_per_indicator} --bundle {args.bundle}` — "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
        f"Python {platform.python_version()}, one process on a shared machine.",
        "",
        "| | " + " | ".join(r["db"] for r in results) + " |",
        "| --- |" + " --- |" * len(results),
    ]

    def row(label: str, fn: Any) -> None:
        lines.append(f"| {label} | " + " | ".join(fn(r) for r in results) + " |")

    row("objects ingested (validated, versioned, labelled, indexed)",
        lambda r: f"{r['ingest']['objects']:,}")
    row("**ingest rate** (wall clock; per CPU second of this process)",
        lambda r: f"**{r['ingest']['objects'] / r['ingest']['seconds']:,.0f} objects/s** "
                  f"({r['ingest']['bundles'] / r['ingest']['seconds']:.2f} bundles/s of "
                  f"{args.bundle:,}); {r['ingest']['objects'] / r['ingest']['cpu']:,.0f}/CPU-s")
    row("index: values (rows) at 10 % / 100 %",
        lambda r: f"{r['index_tenth']['values']:,} / {r['index']['values']:,}")
    row("**index build** at 10 % / 100 % (wall; CPU of this process)",
        lambda r: f"{r['index_tenth']['seconds']:.1f} s / **{r['index']['seconds']:.1f} s** "
                  f"({r['index_tenth']['cpu']:.1f} / {r['index']['cpu']:.1f} CPU-s)")
    row("index size at 10 % / 100 % (bytes per value)",
        lambda r: f"{r['index_tenth']['bytes'] / 2**20:,.0f} MiB "
                  f"({r['index_tenth']['bytes'] / max(1, r['index_tenth']['values']):.0f}) / "
                  f"{r['index']['bytes'] / 2**20:,.0f} MiB "
                  f"({r['index']['bytes'] / max(1, r['index']['values']):.0f})")
    row("**related(IP, hops=2)** median / p95 / max",
        lambda r: f"**{r['query']['median_ms']:.1f} ms** / {r['query']['p95_ms']:.1f} ms / "
                  f"{r['query']['max_ms']:.1f} ms")
    row("objects returned, median / max (queries meeting a ubiquitous value)",
        lambda r: f"{r['query']['median_nodes']:.0f} / {r['query']['max_nodes']} "
                  f"({r['query']['with_ubiquitous']} of {r['query']['queries']})")
    lines.append("<!-- intel:end -->")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--objects", type=int, default=1_000_000)
    parser.add_argument("--values-per-indicator", type=int, default=22,
                        help="mean values per indicator (22 gives about 10 values per object)")
    parser.add_argument("--bundle", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = [run(kind, args) for kind in kinds]
    print()
    print(markdown(results, args))


if __name__ == "__main__":
    main()
