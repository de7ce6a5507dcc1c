"""Export of selected records: designated handlers with a purpose only, audited, and the
three formats hold the same records (STIX checked with the OASIS validator)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session
from stix2validator import ValidationOptions, validate_instance

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.errors import Forbidden
from mamori.selection import samples
from mamori.selection.engine import run_selection
from mamori.selection.export import export_records
from mamori.selection.inputs import InputSource

from .conftest import ANALYST, C2_V4, HANDLER, INSPECTOR, audit_count, audit_details

NOW_NS = int(utcnow().timestamp() * 1e9)


@pytest.fixture
def selected(session: Session, zone, tmp_path: Path) -> str:
    measure = zone()
    packets = [
        samples.tcp("8.8.4.4", C2_V4, 1000, 443, b"x", flags=0x002),
        samples.tcp(C2_V4, "8.8.4.4", 443, 1000, b"y", flags=0x012),
        samples.udp("8.8.4.4", "9.9.9.9", 5000, 53, samples.dns_query("a.evil.example")),
        samples.tcp("2001:db8:beef::1", "2001:db8:dead::1", 5, 443, b"z"),
    ]
    path = samples.write_capture(tmp_path / "x.pcap", packets, NOW_NS - 10_000_000_000)
    run_selection(session=session, principal_or_system=HANDLER, measure_id=measure,
                  selector_set_id="c2", inputs=[InputSource.from_path(path)], batch_id="e-1")
    return measure


def test_three_formats_hold_the_same_records(session: Session, selected: str, tmp_path: Path):
    results = {
        fmt: export_records(session=session, principal=HANDLER, fmt=fmt,
                            path=tmp_path / f"out.{fmt}", measure_id=selected)
        for fmt in ("csv", "parquet", "stix")
    }
    session.commit()
    assert {r.records for r in results.values()} == {4}
    rows = list(csv.DictReader((tmp_path / "out.csv").open()))
    table = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert [r["dst_addr"] for r in rows] == [r["dst_addr"] for r in table]
    assert {r["label"] for r in rows} == {"COMMS"}
    assert table[0]["matched_selectors"] == [f"ip:{C2_V4}"]
    bundle = json.loads((tmp_path / "out.stix").read_text())
    observed = [o for o in bundle["objects"] if o["type"] == "observed-data"]
    assert len(observed) == 4
    for obj in bundle["objects"]:
        result = validate_instance(obj, ValidationOptions(version="2.1", strict=False))
        assert result.is_valid, (obj["type"], [str(e) for e in result.errors])
    exports = audit_details(session, "selection.exported")
    assert [e["format"] for e in exports] == ["csv", "parquet", "stix"]
    assert exports[0]["sha256"] == results["csv"].sha256 and exports[0]["records"] == 4
    assert audit_count(session, "access.comms_data") == 3


@pytest.mark.parametrize("principal", [
    ANALYST, INSPECTOR, HANDLER.with_purpose(None),
    Principal(username="s-h2", roles=frozenset({"comms_handler"}), designated_handler=False,
              mfa=True, purpose="specified_damage_prevention"),
    HANDLER.with_purpose("criminal_investigation"),
])
def test_only_designated_handlers_with_a_purpose_export(session: Session, selected: str,
                                                        tmp_path: Path, principal: Principal):
    with pytest.raises(Forbidden):
        export_records(session=session, principal=principal, fmt="csv",
                       path=tmp_path / "no.csv")
    assert not (tmp_path / "no.csv").exists()
    assert audit_count(session, "selection.exported") == 0
    assert audit_count(session, "access.denied") >= 1
