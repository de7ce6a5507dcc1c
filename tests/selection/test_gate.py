"""The gate: no basis in force, nothing read; direction classes, agreement parties and
the basis's period bound what may be selected; every refusal is audited."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.db import utcnow
from mamori.governance import constants as gc
from mamori.selection import prefixes, samples
from mamori.selection.engine import SelectionRefused, run_selection
from mamori.selection.inputs import InputSource
from mamori.selection.models import SelectedRecord
from mamori.selection.spool import spool_stream

from .conftest import C2_V4, HANDLER, audit_count, audit_details, make_agreement

NOW_NS = int(utcnow().timestamp() * 1e9)
DOMESTIC = "133.1.2.3"  # in the test table's JP range
FOREIGN = "8.8.4.4"


def _records(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(SelectedRecord)) or 0)


def _run(session: Session, basis: str, inputs: list[InputSource], batch: str = "g-1"):
    return run_selection(session=session, principal_or_system=HANDLER, measure_id=basis,
                         selector_set_id="c2", inputs=inputs, batch_id=batch)


def _capture(tmp_path: Path, packets, name: str = "g.pcap", start: int | None = None) -> Path:
    return samples.write_capture(tmp_path / name, packets, start or NOW_NS - 30_000_000_000)


def test_direction_names_match_governance() -> None:
    assert prefixes.DIRECTIONS == (gc.FOREIGN_FOREIGN, gc.FOREIGN_DOMESTIC,
                                   gc.DOMESTIC_FOREIGN, gc.DOMESTIC_DOMESTIC)


@pytest.mark.parametrize("case", ["pending", "ended", "future", "unknown"])
def test_a_basis_not_in_force_reads_nothing(session: Session, zone, tmp_path, case: str):
    if case == "pending":
        basis = zone(approve=False)
    elif case == "ended":
        from mamori.governance import measures

        from .conftest import ANALYST

        basis = zone()
        measures.end_measure(session=session, principal=ANALYST, measure_id=basis,
                             reason="the C2 went dark")
        session.commit()
    elif case == "future":
        basis = zone(start=utcnow() + timedelta(days=2))
    else:
        zone()
        basis = "M-2026-9999"
    # Not a capture at all: reading it would fail; the refusal comes first.
    garbage = tmp_path / "garbage.pcap"
    garbage.write_bytes(b"this is not read")
    spool = spool_stream(iter([b"staged bytes"]), tmp_path / "spool")
    with pytest.raises(SelectionRefused) as caught:
        _run(session, basis, [InputSource(name="garbage.pcap", kind="packets", path=garbage),
                              InputSource.from_spool(spool)])
    assert "nothing was read" in caught.value.detail
    assert spool.shredded and not spool.path.exists()
    (refusal,) = audit_details(session, "selection.refused")
    assert refusal["measure_id"] == basis and refusal["batch_id"] == "g-1"
    assert audit_count(session, "selection.receipt") == 0 and _records(session) == 0


@pytest.mark.parametrize(
    ("article", "src", "dst", "selected"),
    [
        (17, FOREIGN, C2_V4, True),
        (17, DOMESTIC, C2_V4, False),   # domestic-foreign under a foreign-foreign measure
        (32, FOREIGN, "203.0.113.7", True),   # foreign-domestic under Art 32
        (32, DOMESTIC, C2_V4, False),
        (33, DOMESTIC, C2_V4, True),    # domestic-foreign under Art 33
        (33, FOREIGN, C2_V4, False),
    ],
)
def test_only_the_articles_direction_class_passes(
    session: Session, zone, tmp_path, article: int, src: str, dst: str, selected: bool
):
    from mamori.selection import service

    from .conftest import ANALYST

    basis = zone(article=article)
    service.import_selectors(session=session, principal=ANALYST, name="c2",
                             files=[("c2.txt", f"{C2_V4}\n203.0.113.7\n".encode())])
    session.commit()
    path = _capture(tmp_path, [samples.tcp(src, dst, 1234, 443, b"x")])
    receipt = _run(session, basis, [InputSource.from_path(path)])
    assert receipt.counts.packets.gated_out == (0 if selected else 1)
    assert _records(session) == (1 if selected else 0)
    refusals = audit_details(session, "selection.refused")
    if selected:
        assert refusals == []
    else:
        assert refusals[0]["reason"] == "direction_class" and refusals[0]["gated_out"] == 1


def test_mixed_traffic_passes_only_allowed_classes(session: Session, zone, tmp_path):
    basis = zone(article=17)
    packets = [
        samples.tcp(FOREIGN, C2_V4, 1, 443, b"ff"),
        samples.tcp(DOMESTIC, C2_V4, 2, 443, b"df"),
        samples.tcp(C2_V4, DOMESTIC, 443, 2, b"fd"),
        samples.tcp(DOMESTIC, "133.9.9.9", 3, 443, b"dd"),
    ]
    receipt = _run(session, basis, [InputSource.from_path(_capture(tmp_path, packets))])
    assert receipt.counts.packets.by_direction == {
        "foreign_foreign": 1, "foreign_domestic": 1, "domestic_foreign": 1,
        "domestic_domestic": 1,
    }
    assert receipt.counts.packets.gated_out == 3 and receipt.counts.packets.matched == 1
    assert _records(session) == 1
    assert audit_count(session, "selection.refused") == 0


def test_an_agreement_selects_only_the_partys_communications(session: Session, zone, tmp_path):
    zone()
    agreement = make_agreement(session, ["198.51.100.0/24", "AS64500"])
    packets = [
        samples.tcp(FOREIGN, C2_V4, 1, 443, b"party is the destination"),
        samples.tcp(FOREIGN, "192.0.2.3", 2, 443, b"C2 net, not the party"),
        samples.tcp(DOMESTIC, "198.51.100.99", 3, 4444, b"party, domestic source"),
    ]
    receipt = _run(session, agreement, [InputSource.from_path(_capture(tmp_path, packets))])
    assert receipt.basis_kind == "party_agreement" and receipt.article == 13
    assert receipt.counts.packets.gated_out == 1
    assert receipt.counts.packets.matched == 2 and _records(session) == 2


def test_an_agreement_without_addresses_is_refused(session: Session, zone, tmp_path):
    zone()
    agreement = make_agreement(session, ["AS64500"])
    path = _capture(tmp_path, [samples.tcp(FOREIGN, C2_V4, 1, 443, b"x")])
    with pytest.raises(SelectionRefused):
        _run(session, agreement, [InputSource.from_path(path)])
    (refusal,) = audit_details(session, "selection.refused")
    assert refusal["reason"] == "no_party_addresses"


def test_packets_outside_the_approved_period_are_not_selected(session: Session, zone, tmp_path):
    basis = zone(start=utcnow() - timedelta(hours=1), days=10)
    before = NOW_NS - 3 * 3600 * 1_000_000_000
    packets = [samples.tcp(FOREIGN, C2_V4, 1, 443, b"old")]
    path = _capture(tmp_path, packets, start=before)
    receipt = _run(session, basis, [InputSource.from_path(path)])
    assert receipt.counts.packets.outside_period == 1 and _records(session) == 0
    (refusal,) = audit_details(session, "selection.refused")
    assert refusal["reason"] == "outside_period"


def test_selection_needs_a_prefix_table(session: Session, env, tmp_path):
    from mamori.errors import InvalidInput
    from mamori.selection import service

    from .conftest import ANALYST, SELECTORS, make_measure

    service.import_selectors(session=session, principal=ANALYST, name="c2",
                             files=[("c2.txt", SELECTORS)])
    basis = make_measure(session)
    path = _capture(tmp_path, [samples.tcp(FOREIGN, C2_V4, 1, 443, b"x")])
    with pytest.raises(InvalidInput, match="domestic-prefix table"):
        _run(session, basis, [InputSource.from_path(path)])
    assert _records(session) == 0
