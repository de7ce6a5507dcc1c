"""Handing committed batches over to the intelligence store: the selection domain's one
reading service. Behind the comms gate (only designated handlers with a purpose and the
platform's maintenance job), audited per batch, and an unknown batch is an error."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.errors import Forbidden, NotFound
from mamori.selection import samples, service
from mamori.selection.engine import run_selection
from mamori.selection.inputs import InputSource

from .conftest import ADMIN, ANALYST, C2_V4, HANDLER, INSPECTOR, audit_count, audit_details

NOW_NS = int(utcnow().timestamp() * 1e9)
SYSTEM = Principal.system("selection-handover-test")


@pytest.fixture
def batch(session: Session, zone, tmp_path: Path) -> str:
    measure = zone()
    packets = [samples.tcp("8.8.4.4", C2_V4, 1000, 443, b"x", flags=0x002),
               samples.tcp(C2_V4, "8.8.4.4", 443, 1000, b"y", flags=0x012),
               samples.udp("8.8.4.4", "9.9.9.9", 5000, 53, b"not a match")]
    path = samples.write_capture(tmp_path / "h.pcap", packets, NOW_NS - 10_000_000_000)
    run_selection(session=session, principal_or_system=HANDLER, measure_id=measure,
                  selector_set_id="c2", inputs=[InputSource.from_path(path)], batch_id="h-1")
    session.commit()
    return measure


@pytest.mark.parametrize("principal", [HANDLER, SYSTEM], ids=["handler", "system"])
def test_committed_batches_and_their_records_are_handed_over(
        session: Session, batch: str, principal: Principal) -> None:
    batches = service.committed_batches(session=session, principal=principal)
    assert [(b.batch_id, b.measure_id, b.records) for b in batches] == [("h-1", batch, 2)]
    records = list(service.batch_records(session=session, principal=principal,
                                         batch_id="h-1"))
    assert {r.dst_addr for r in records} | {r.src_addr for r in records} >= {C2_V4}
    assert all(r.batch_id == "h-1" for r in records) and len(records) == 2
    [entry] = audit_details(session, "selection.handed_over")
    assert entry == {"measure_id": batch, "records": 2, "receipt_seq": batches[0].receipt_seq}


@pytest.mark.parametrize("principal", [
    ANALYST, ADMIN, INSPECTOR, HANDLER.with_purpose(None),
    HANDLER.with_purpose("criminal_investigation"),
], ids=["analyst", "admin", "inspector", "no-purpose", "criminal-investigation"])
def test_nobody_else_learns_of_batches_or_reads_records(
        session: Session, batch: str, principal: Principal) -> None:
    with pytest.raises(Forbidden):
        service.committed_batches(session=session, principal=principal)
    with pytest.raises(Forbidden):
        service.batch_records(session=session, principal=principal, batch_id="h-1")
    assert audit_count(session, "selection.handed_over") == 0


def test_an_unknown_batch_is_an_error_not_an_empty_batch(session: Session, batch: str) -> None:
    with pytest.raises(NotFound, match="no committed receipt"):
        service.batch_records(session=session, principal=HANDLER, batch_id="h-unknown")
    assert audit_count(session, "selection.handed_over") == 0
