"""Matching speed of the vulnerability index, with a pairwise baseline.

Builds the statements of CISA's KEV catalogue (the vendored file, as name hints) plus
20,000 synthetic CVE JSON 5 records with NVD-style CPE configurations (ranges, exact
versions, unbounded criteria, "running on" hardware conditions), parsed by the real CVE
parser; then 100,000 registered components on 10,000 computers (CPE names drawn from
the same products and from a long tail of products nothing mentions, some with purls).
It times:

* building the index and matching every component against it (the full run);
* the pairwise baseline — every component checked against every statement — on a
  sample, extrapolated to the full register, after checking that both find the same;
* incremental re-matching of one changed component: in memory, and through the
  indexed ``vulns_applicability`` table of a SQLite database (the service's path).

Run: ``.venv/bin/python benchmarks/vulns.py [--components N] [--records N]``; the
figures go to ``benchmarks/RESULTS.md`` (its "vulns" section).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from mamori.db import make_engine
from mamori.db.base import Base
from mamori.vulns.ingest import cve5, kev
from mamori.vulns.ingest.records import GroupSpec
from mamori.vulns.matcher import load_index
from mamori.vulns.matching import cpe as cpe_mod
from mamori.vulns.matching.applicability import Group
from mamori.vulns.matching.index import ComponentView, Index, keys_of, pairwise_match
from mamori.vulns.models import Applicability, Vulnerability, VulnFact, VulnSource

RESULTS = Path(__file__).parent / "RESULTS.md"
START, END = "<!-- vulns:start -->", "<!-- vulns:end -->"


def _version(rng: random.Random) -> str:
    shape = rng.random()
    major, minor, patch = rng.randint(0, 12), rng.randint(0, 20), rng.randint(0, 30)
    if shape < 0.6:
        return f"{major}.{minor}.{patch}"
    if shape < 0.75:
        return f"{major}.{minor}p{rng.randint(1, 3)}"
    if shape < 0.9:
        return f"{major}.{minor}.{patch}{rng.choice('abcdefgh')}"
    return f"{major}.{minor}.{patch}-rc{rng.randint(1, 4)}"


def _products(count: int) -> list[tuple[str, str, str]]:
    kev_pairs: set[tuple[str, str]] = set()
    for entry in json.loads(kev.VENDORED.read_text(encoding="utf-8"))["vulnerabilities"]:
        vendor = entry["vendorProject"].lower().replace(" ", "_")
        product = entry["product"].lower().replace(" ", "_")
        if ":" not in vendor + product and "\\" not in vendor + product:
            kev_pairs.add((vendor, product))
    found = [("a", v, p) for v, p in sorted(kev_pairs)]
    while len(found) < count:
        index = len(found)
        found.append((random.Random(index).choice("aaao"), f"vendor{index % 997}",
                      f"product{index}"))
    return found


def _quote(value: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "\\" + c for c in value)


def _cpe(part: str, vendor: str, product: str, version: str = "*") -> str:
    return f"cpe:2.3:{part}:{_quote(vendor)}:{_quote(product)}:{version}:*:*:*:*:*:*:*"


def _record(number: int, rng: random.Random, products: list[tuple[str, str, str]],
            hardware: list[tuple[str, str, str]]) -> dict[str, Any]:
    matches: list[dict[str, Any]] = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        part, vendor, product = rng.choice(products)
        roll = rng.random()
        if roll < 0.05:
            matches.append({"vulnerable": True, "criteria": _cpe(part, vendor, product,
                                                                   _version(rng))})
        elif roll < 0.08:
            matches.append({"vulnerable": True, "criteria": _cpe(part, vendor, product)})
        else:
            low, high = sorted((_version(rng), _version(rng)))
            matches.append({"vulnerable": True, "criteria": _cpe(part, vendor, product),
                            "versionStartIncluding": low, "versionEndExcluding": high})
    nodes = [{"operator": "OR", "negate": False, "cpeMatch": matches}]
    operator = "OR"
    if rng.random() < 0.1:
        part, vendor, product = rng.choice(hardware)
        nodes.append({"operator": "OR", "negate": False, "cpeMatch": [
            {"vulnerable": False, "criteria": _cpe("h", vendor, product, "-")}]})
        operator = "AND"
    return {
        "dataType": "CVE_RECORD", "dataVersion": "5.1",
        "cveMetadata": {"cveId": f"CVE-2099-{number:05d}", "state": "PUBLISHED"},
        "containers": {"cna": {"providerMetadata": {"orgId": "bench"},
                               "descriptions": [{"lang": "en", "value": "synthetic"}],
                               "cpeApplicability": [{"operator": operator, "negate": False,
                                                     "nodes": nodes}]}},
    }


def _groups(specs: Iterator[tuple[str, GroupSpec]]) -> list[Group]:
    vulns: dict[str, int] = {}
    groups: list[Group] = []
    for key, spec in specs:
        vuln = vulns.setdefault(key, len(vulns) + 1)
        shape = ("purl", *spec.key) if spec.scheme == "purl" else (spec.scheme, *spec.key)
        groups.append(Group(vulnerability=vuln, scheme=spec.scheme, key=shape, ranges=spec.ranges,
                            default_status=spec.default_status,
                            version_scheme=spec.version_scheme, part=spec.part, rest=spec.rest,
                            platforms=spec.platforms, authority=spec.authority,
                            group_id=len(groups) + 1))
    return groups


def _register(count: int, rng: random.Random, products: list[tuple[str, str, str]],
              hardware: list[tuple[str, str, str]]) -> list[tuple[ComponentView, tuple[Any, ...]]]:
    computers = max(1, count // 10)
    register: list[tuple[ComponentView, tuple[Any, ...]]] = []
    for computer in range(computers):
        _, hw_vendor, hw_product = rng.choice(hardware)
        platform = (cpe_mod.parse(_cpe("h", hw_vendor, hw_product, "-")),)
        for slot in range(count // computers):
            cid = computer * 10 + slot
            if rng.random() < 0.7:
                part, vendor, product = rng.choice(products)
            else:
                part, vendor, product = "a", f"tail{rng.randint(0, 50_000)}", "app"
            version = _version(rng) if rng.random() < 0.95 else "*"
            purl = f"pkg:npm/lib{cid % 5000}@{_version(rng)}" if rng.random() < 0.1 else None
            view = ComponentView.build(component_id=cid, computer_id=computer,
                                       cpe=_cpe(part, vendor, product, version), purl=purl,
                                       version=None)
            register.append((view, platform))
    return register


def _store_statements(session: Session, groups: list[Group]) -> None:
    source = VulnSource(kind="cve5", name="bench", digest="0" * 64, size=0, imported_by="bench")
    session.add(source)
    session.flush()
    vulns = sorted({g.vulnerability for g in groups})
    session.add_all(Vulnerability(id=v, key=f"V-{v}", cwes=[]) for v in vulns)
    session.flush()
    session.add_all(VulnFact(id=v, vulnerability_id=v, origin="bench", source_id=source.id,
                             data={}) for v in vulns)
    session.flush()
    session.bulk_insert_mappings(Applicability, [  # type: ignore[arg-type]
        {"fact_id": g.vulnerability, "vulnerability_id": g.vulnerability,
         "scheme": g.scheme, "key_1": g.key[1], "key_2": g.key[2],
         "key_3": g.key[3] if len(g.key) > 3 else "", "part": g.part, "rest": list(g.rest),
         "ranges": [r.as_json() for r in g.ranges], "default_status": g.default_status,
         "version_scheme": g.version_scheme, "platforms": [p.as_json() for p in g.platforms],
         "authority": g.authority} for g in groups])
    session.commit()


def run(components: int, records: int, sample: int) -> dict[str, Any]:
    rng = random.Random(42)
    products = _products(6000)
    hardware = [("h", f"hwvendor{i % 50}", f"device{i}") for i in range(300)]

    started = time.perf_counter()
    kev_feed = kev.parse(json.loads(kev.VENDORED.read_text(encoding="utf-8")), "kev")
    cve_feeds = [cve5.parse(_record(n, rng, products, hardware), f"r{n}")
                 for n in range(records)]
    parse_seconds = time.perf_counter() - started
    groups = _groups((r.key, s) for feed in [kev_feed, *cve_feeds] for r in feed.records
                     for s in r.groups)
    register = _register(components, rng, products, hardware)

    started = time.perf_counter()
    index = Index(groups)
    build_seconds = time.perf_counter() - started
    started = time.perf_counter()
    found = [index.match(view, platform) for view, platform in register]
    match_seconds = time.perf_counter() - started
    matches = sum(len(f) for f in found)
    affected = sum(1 for f in found for v in f.values() if v.status == "affected")

    chosen = rng.sample(range(len(register)), min(sample, len(register)))
    started = time.perf_counter()
    baseline = [pairwise_match(groups, *register[i]) for i in chosen]
    pairwise_sample = time.perf_counter() - started
    assert baseline == [found[i] for i in chosen], "the index and the baseline disagree"
    pairwise_seconds = pairwise_sample * len(register) / len(chosen)

    view, platform = next((v, p) for v, p in register if len(index.candidates(v)) >= 3)
    changed = ComponentView.build(component_id=view.component_id, computer_id=view.computer_id,
                                  cpe=(view.cpe.format() if view.cpe else None), purl=None,
                                  version=None)
    memory_times = []
    for _ in range(50):
        started = time.perf_counter()
        index.match(changed, platform)
        memory_times.append(time.perf_counter() - started)

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            _store_statements(session, groups)
            db_times = []
            for view, platform in (register[i] for i in chosen[:50]):
                started = time.perf_counter()
                partial = load_index(session, set(keys_of(view)))
                result = partial.match(view, platform)
                db_times.append(time.perf_counter() - started)
                assert result == index.match(view, platform)
        engine.dispose()
    return {
        "components": len(register), "computers": len(register) // 10,
        "kev_entries": len(kev_feed.records), "cve_records": records,
        "statements": len(groups), "index_keys": len(index.keys()),
        "parse_seconds": parse_seconds, "build_seconds": build_seconds,
        "match_seconds": match_seconds, "full_seconds": build_seconds + match_seconds,
        "matches": matches, "affected": affected, "possible": matches - affected,
        "pairwise_sample": len(chosen), "pairwise_seconds": pairwise_seconds,
        "ratio": pairwise_seconds / (build_seconds + match_seconds),
        "incremental_memory_ms": statistics.median(memory_times) * 1000,
        "incremental_db_ms": statistics.median(db_times) * 1000,
        "incremental_db_max_ms": max(db_times) * 1000,
    }


def report(figures: dict[str, Any]) -> str:
    f = figures
    return "\n".join([
        START,
        "## vulns — matching the register against KEV and CVE records",
        "",
        f"`.venv/bin/python benchmarks/vulns.py` — {f['components']:,} components on "
        f"{f['computers']:,} computers against {f['kev_entries']:,} KEV entries and "
        f"{f['cve_records']:,} CVE JSON 5 records ({f['statements']:,} statements, "
        f"{f['index_keys']:,} product keys).",
        "",
        "| step | result |",
        "| --- | --- |",
        f"| parse the feeds (real parsers) | {f['parse_seconds']:.2f} s |",
        f"| build the index | {f['build_seconds']:.2f} s |",
        f"| match every component | {f['match_seconds']:.2f} s |",
        f"| **full run (index + match)** | **{f['full_seconds']:.2f} s** (target < 10 s) |",
        f"| matches | {f['matches']:,} ({f['affected']:,} affected, {f['possible']:,} "
        "possibly affected, needs review) |",
        f"| pairwise baseline (every component × every statement; measured on "
        f"{f['pairwise_sample']} components, same results, extrapolated) | "
        f"{f['pairwise_seconds']:,.0f} s |",
        f"| **speed-up of the index** | **{f['ratio']:,.0f}×** |",
        f"| incremental re-match of one changed component, in memory | "
        f"{f['incremental_memory_ms']:.3f} ms |",
        f"| incremental re-match of one component through the indexed table (SQLite) | "
        f"{f['incremental_db_ms']:.1f} ms median, {f['incremental_db_max_ms']:.1f} ms max "
        "(target < 50 ms) |",
        END,
    ])


def write_results(section: str) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--components", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--no-write", action="store_true", help="Do not update RESULTS.md.")
    args = parser.parse_args()
    figures = run(args.components, args.records, args.sample)
    section = report(figures)
    print(section)
    if not args.no_write:
        write_results(section)


if __name__ == "__main__":
    main()
