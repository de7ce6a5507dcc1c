"""No query path lets a principal without the comms gate learn that a COMMS object
exists: not the object, not a count, not a correlation, not a finding.

The property is differential: for random stores, every answer an analyst (or a handler
without a declared purpose) gets is the same before and after COMMS objects that share
values and references with the rest are added, and analysed by the platform's job.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.errors import NotFound
from mamori.intel import service, stix
from mamori.intel import settings as intel_settings
from mamori.intel.models import (
    CursorRow,
    FindingRow,
    ImportRow,
    IndexRow,
    LabelSetRow,
    LineageRow,
    ObjectRow,
    ProvenanceRow,
    RefRow,
)

from .conftest import ANALYST, HANDLER, HANDLER_NO_PURPOSE, SYSTEM, bundle, indicator, sid

ADDRESSES = ["198.51.100.1", "198.51.100.2", "198.51.100.0/30", "203.0.113.9"]
DOMAINS = ["a.example", "b.a.example", "c.example"]
BLIND = (ANALYST, HANDLER_NO_PURPOSE)


def _pattern(address: str | None, domain: str | None) -> str:
    parts = []
    if address:
        op = "ISSUBSET" if "/" in address else "="
        parts.append(f"[ipv4-addr:value {op} '{address}']")
    if domain:
        parts.append(f"[domain-name:value = '{domain}']")
    return " AND ".join(parts) or "[ipv4-addr:value = '192.0.2.250']"


item = st.tuples(st.sampled_from([None, *ADDRESSES]), st.sampled_from([None, *DOMAINS]),
                 st.integers(min_value=-1, max_value=7))


def _objects(prefix: str, items: list[tuple[Any, Any, int]]) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for n, (address, domain, link) in enumerate(items):
        objects.append(indicator(f"{prefix}{n}", _pattern(address, domain)))
        if link >= 0:
            objects.append({"type": "relationship", "spec_version": "2.1",
                            "id": sid("relationship", f"{prefix}{n}-{link}"),
                            "created": "2026-11-01T00:00:00.000Z",
                            "modified": "2026-11-01T00:00:00.000Z",
                            "relationship_type": "related-to",
                            "source_ref": sid("indicator", f"{prefix}{n}"),
                            "target_ref": sid("indicator", f"p{link}")})
    return objects


def _flows(count: int) -> list[dict[str, Any]]:
    """COMMS flows: bots to one C2 (an infrastructure finding for the platform's job)."""
    objects: list[dict[str, Any]] = []
    c2 = stix.make_sco("ipv4-addr", value="198.51.100.2")
    objects.append(c2)
    for n in range(count):
        bot = stix.make_sco("ipv4-addr", value=f"192.0.2.{n + 1}")
        traffic = stix.make_sco("network-traffic", src_ref=bot["id"], dst_ref=c2["id"],
                                dst_port=6667, protocols=["tcp"])
        objects += [bot, traffic, {
            "type": "observed-data", "spec_version": "2.1", "id": sid("observed-data", n),
            "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
            "first_observed": "2026-11-01T00:00:00Z", "last_observed": "2026-11-01T00:00:00Z",
            "number_observed": 1, "object_refs": [bot["id"], c2["id"], traffic["id"]]}]
    return objects


def _answers(session: Session, principal: Principal, probe_ids: list[str]) -> dict[str, Any]:
    def records(found: list[service.StixRecord]) -> list[Any]:
        return sorted((r.stix_id, r.version, r.labels.key, stix.canonical(r.object))
                      for r in found)

    answers: dict[str, Any] = {}
    for value in ADDRESSES + DOMAINS + ["198.51.100.0/24", "example"]:
        answers[f"search {value}"] = records(service.search(
            session=session, principal=principal, query=value, limit=500))
        for hops in (1, 2):
            result = service.related(session=session, principal=principal, value_or_id=value,
                                     hops=hops)
            answers[f"related {value} {hops}"] = (
                sorted((n.stix_id, n.hop) for n in result.nodes),
                sorted((e.source, e.target, e.via, e.detail) for e in result.edges),
                result.ubiquitous, result.excluded, result.truncated)
    answers["objects"] = records(service.get_objects(session=session, principal=principal,
                                                     ids=probe_ids))
    for stix_id in probe_ids:
        try:
            service.get_object(session=session, principal=principal, stix_id=stix_id)
            answers[f"get {stix_id}"] = "found"
        except NotFound as exc:
            answers[f"get {stix_id}"] = exc.detail
    answers["export"] = sorted(stix.canonical(o) for o in service.export_bundle(
        session=session, principal=principal)["objects"])
    answers["imports"] = sorted((i["kind"], i["source"], i["stored"], i["merged"])
                                for i in service.list_imports(session=session,
                                                              principal=principal))
    answers["findings"] = sorted((f.kind, f.confidence, stix.canonical(f.evidence))
                                 for f in service.list_findings(session=session,
                                                                principal=principal))
    return answers


def _reset(session: Session) -> None:
    session.rollback()
    for table in (IndexRow, RefRow, LineageRow, ProvenanceRow, FindingRow, ObjectRow,
                  ImportRow, CursorRow, LabelSetRow):
        session.execute(delete(table))
    session.commit()
    session.info.clear()


@settings(max_examples=8, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(plain=st.lists(item, min_size=1, max_size=6),
       comms=st.lists(item, min_size=1, max_size=5),
       bots=st.integers(min_value=0, max_value=4))
def test_comms_objects_never_show(session: Session, monkeypatch: pytest.MonkeyPatch,
                                  plain: list[Any], comms: list[Any], bots: int) -> None:
    monkeypatch.setenv("MAMORI_INTEL_FANOUT_CAP", "2")
    intel_settings.reset()
    _reset(session)
    public = _objects("p", plain)
    secret = _objects("c", comms) + _flows(bots)
    probes = [o["id"] for o in public + secret] + [sid("indicator", "absent")]
    service.import_bundle(session=session, principal=ANALYST, bundle=bundle(*public),
                          source="partner")
    service.analyze(session=session, principal=SYSTEM)
    session.commit()
    before = {p.username: _answers(session, p, probes) for p in BLIND}
    service.import_bundle(session=session, principal=HANDLER, bundle=bundle(*secret),
                          source="selection", labels=["COMMS"])
    service.analyze(session=session, principal=SYSTEM)
    session.commit()
    session.info.clear()
    for principal in BLIND:
        assert _answers(session, principal, probes) == before[principal.username]
    # the handler with a declared purpose does see them: the test is not vacuous
    seen = service.get_objects(session=session, principal=HANDLER, ids=probes)
    assert {r.stix_id for r in seen if r.labels.comms} >= {o["id"] for o in secret
                                                          if o["type"] == "indicator"}
    if bots >= 3:
        assert any(f.kind == "c2_structure" and f.labels.comms
                   for f in service.list_findings(session=session, principal=HANDLER))
