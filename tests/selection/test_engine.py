"""The engine end to end on both databases: selection, receipts, records, idempotency,
application-layer selectors, YARA command tokens, flow records, failures and retention."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.db import utcnow
from mamori.errors import InvalidInput
from mamori.governance import retention
from mamori.selection import samples, service
from mamori.selection.engine import run_selection
from mamori.selection.flows.batch import empty_columns
from mamori.selection.flows.encode import encode_ipfix
from mamori.selection.inputs import InputSource
from mamori.selection.models import Receipt, SelectedRecord
from mamori.selection.pseudonymise import CryptoPAn

from .conftest import ADMIN, ANALYST, C2_V4, C2_V6, HANDLER, audit_count, audit_details

NOW_NS = int(utcnow().timestamp() * 1e9)
FOREIGN_A = "8.8.4.4"
FOREIGN_B = "9.9.9.9"


def _records(session: Session) -> list[SelectedRecord]:
    return list(session.scalars(select(SelectedRecord).order_by(SelectedRecord.seq)))


def _capture(tmp_path: Path, name: str = "in.pcap") -> Path:
    packets = [
        samples.tcp(FOREIGN_A, C2_V4, 40000, 443, b"payload one", flags=0x002),
        samples.tcp(FOREIGN_A, C2_V4, 40000, 443, b"payload two", flags=0x010, ttl=50),
        samples.tcp(C2_V4, FOREIGN_A, 443, 40000, b"reply", flags=0x012),
        samples.tcp(FOREIGN_A, FOREIGN_B, 40001, 80, b"unselected"),
        samples.udp(FOREIGN_B, "192.0.2.9", 5000, 6000, b"to the C2 net"),
        samples.tcp(FOREIGN_A, "2001:db8:dead::1", 40002, 443, b"v6 flow")
        if False else samples.tcp("2001:db8:beef::5", C2_V6, 40002, 443, b"v6 flow"),
        samples.tcp(FOREIGN_A, FOREIGN_B, 40003, 4444, b"port selector"),
        samples.udp(FOREIGN_A, FOREIGN_B, 40004, 4444, b"udp is not tcp/4444"),
    ]
    return samples.write_capture(tmp_path / name, packets, NOW_NS - 60_000_000_000)


def _run(session: Session, measure: str, path: Path, batch: str = "b-1", **kw: object):
    return run_selection(
        session=session, principal_or_system=HANDLER, measure_id=measure,
        selector_set_id="c2", inputs=[InputSource.from_path(path)], batch_id=batch, **kw,
    )


def test_selects_non_identifies_and_writes_a_receipt(session: Session, zone, tmp_path):
    measure = zone()
    receipt = _run(session, measure, _capture(tmp_path))
    counts = receipt.counts
    assert counts.packets.received == 8
    assert counts.packets.by_direction["foreign_foreign"] == 8
    assert counts.packets.matched == 6  # 3 C2, C2 net, v6 C2, tcp/4444
    assert counts.discarded == 2
    records = _records(session)
    assert len(records) == receipt.records_out == counts.records_out == 5
    forward = next(r for r in records if r.dst_addr == C2_V4)
    assert forward.packets == 2 and forward.tcp_flags == 0x012 and forward.ttl_min == 50
    assert forward.src_pseudonymised and not forward.dst_pseudonymised
    assert forward.src_addr != FOREIGN_A
    assert ipaddress.ip_address(forward.src_addr).version == 4
    assert forward.matched_selectors == [f"ip:{C2_V4}"]
    assert forward.label == "COMMS" and forward.measure_id == measure
    assert forward.receipt_seq == receipt.audit_seq
    assert forward.key_epoch == receipt.key_epoch
    assert forward.pseudonymisation.startswith("crypto-pan")
    assert forward.expires_at - forward.created_at == timedelta(days=730)
    reply = next(r for r in records if r.src_addr == C2_V4)
    assert reply.dst_addr == forward.src_addr  # one key: the same pseudonym both ways
    net = next(r for r in records if r.matched_selectors == ["ip:192.0.2.0/28"])
    assert net.dst_addr == "192.0.2.9" and net.src_pseudonymised
    v6 = next(r for r in records if r.family == 6)
    assert v6.dst_addr == C2_V6 and v6.src_addr != "2001:db8:beef::5"
    port = next(r for r in records if r.matched_selectors == ["port:tcp/4444"])
    assert port.src_pseudonymised and port.dst_pseudonymised
    (details,) = audit_details(session, "selection.receipt")
    assert details["counts"]["records_out"] == 5
    assert details["selector_digest"] == receipt.selector_digest
    assert details["inputs"][0]["sha256"] and details["input_digest"] == receipt.input_digest
    row = session.get(Receipt, "b-1")
    assert row is not None and row.audit_seq == receipt.audit_seq


def test_pseudonyms_are_crypto_pan_under_the_epoch_key(session: Session, zone, tmp_path):
    from mamori.selection.zonekey import key_epoch

    measure = zone()
    receipt = _run(session, measure, _capture(tmp_path))
    epoch = key_epoch(receipt.started_at)
    assert epoch.epoch == receipt.key_epoch
    forward = next(r for r in _records(session) if r.dst_addr == C2_V4)
    assert forward.src_addr == epoch.pseudonymiser().address(FOREIGN_A)
    assert isinstance(epoch.pseudonymiser(), CryptoPAn)


def test_a_committed_batch_is_not_selected_again(session: Session, zone, tmp_path):
    measure = zone()
    path = _capture(tmp_path)
    first = _run(session, measure, path)
    entries = audit_count(session, "selection.receipt")
    again = _run(session, measure, path)
    assert again.existing and again.audit_seq == first.audit_seq
    assert again.details() == first.details()
    assert audit_count(session, "selection.receipt") == entries
    assert session.scalar(select(func.count()).select_from(SelectedRecord)) == 5


def test_consume_deletes_inputs_only_after_success(session: Session, zone, tmp_path):
    measure = zone()
    path = _capture(tmp_path)
    _run(session, measure, path, consume=True)
    assert not path.exists()


def test_a_broken_capture_keeps_nothing_and_is_audited(session: Session, zone, tmp_path):
    measure = zone()
    path = _capture(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:-7])
    with pytest.raises(InvalidInput) as caught:
        _run(session, measure, path, consume=True)
    assert "offset" in caught.value.detail
    assert path.exists()  # nothing consumed
    assert _records(session) == []
    assert session.get(Receipt, "b-1") is None
    (failed,) = audit_details(session, "selection.failed")
    assert failed["records_kept"] == 0 and failed["error"] == "CaptureFormatError"


def test_names_fingerprints_and_items(session: Session, zone, tmp_path):
    measure = zone()
    hello = samples.tls_client_hello("cdn.evil.example")
    from mamori.selection.dpi import parse_client_hello

    fingerprint = parse_client_hello(hello)
    extra = tmp_path / "fp.txt"
    extra.write_text(f"ja3 {fingerprint.ja3_md5}\n")
    service.import_selectors(
        session=session, principal=ANALYST, name="names",
        files=[("n.txt", b"*.evil.example\n"), ("fp.txt", extra.read_bytes())],
    )
    session.commit()
    packets = [
        samples.udp(FOREIGN_A, FOREIGN_B, 5353, 53, samples.dns_query("www.evil.example", 1)),
        samples.udp(FOREIGN_B, FOREIGN_A, 53, 5353,
                    samples.dns_txt_response("www.evil.example", [b"txt data"])),
        samples.tcp(FOREIGN_A, FOREIGN_B, 40010, 8443, hello),
        samples.tcp(FOREIGN_A, FOREIGN_B, 40011, 8080,
                    samples.http_request("shop.evil.example:8080", "/path?q=1")),
        samples.udp(FOREIGN_A, FOREIGN_B, 5354, 53, samples.dns_query("good.example", 28)),
    ]
    path = samples.write_capture(tmp_path / "names.pcap", packets, NOW_NS - 10_000_000_000)
    receipt = run_selection(
        session=session, principal_or_system="worker-1", measure_id=measure,
        selector_set_id="names", inputs=[InputSource.from_path(path)], batch_id="names-1",
    )
    assert receipt.counts.packets.matched == 4
    records = _records(session)
    query = next(r for r in records if r.dst_port == 53)
    assert (query.dns_qname, query.dns_qtype) == ("www.evil.example", 1)
    response = next(r for r in records if r.src_port == 53)
    assert response.dns_rcode == 0 and response.dns_qname == "www.evil.example"
    tls = next(r for r in records if r.dst_port == 8443)
    assert tls.tls_sni == "cdn.evil.example"
    assert tls.ja3 == fingerprint.ja3_md5 and tls.ja4 == fingerprint.ja4
    assert sorted(tls.matched_selectors) == sorted(
        ["domain_suffix:evil.example", f"ja3:{fingerprint.ja3_md5}"])
    http = next(r for r in records if r.dst_port == 8080)
    assert http.matched_selectors == ["domain_suffix:evil.example"]
    assert http.http_host is None  # not in the default item set
    assert receipt.counts.records_out == 4


def test_yara_emits_rule_ids_and_only_declared_tokens(session: Session, zone, tmp_path):
    measure = zone()
    rules = b'''
rule bot_cmd { meta: command_token = true
  strings: $a = "!ddos" nocase $b = /secret[0-9]+/
  condition: any of them }
rule bot_beacon { strings: $x = "BEACON" condition: $x }
'''
    service.import_selectors(session=session, principal=ANALYST, name="yara",
                             files=[("bot.yar", rules)])
    session.commit()
    packets = [
        samples.tcp(FOREIGN_A, FOREIGN_B, 1, 6667, b"PRIVMSG #c :!DDoS 203.0.113.9 secret42"),
        samples.tcp(FOREIGN_A, FOREIGN_B, 2, 6667, b"hello BEACON id=77"),
        samples.tcp(FOREIGN_A, FOREIGN_B, 3, 6667, b"nothing here"),
    ]
    path = samples.write_capture(tmp_path / "y.pcap", packets, NOW_NS - 10_000_000_000)
    receipt = run_selection(
        session=session, principal_or_system=HANDLER, measure_id=measure,
        selector_set_id="yara@1", inputs=[InputSource.from_path(path)], batch_id="y-1",
    )
    assert receipt.counts.rule_matches == 2
    cmd, beacon = sorted(_records(session), key=lambda r: r.src_port or 0)
    assert cmd.matched_rules == ["yara:bot_cmd"] and cmd.command_tokens == ["!ddos"]
    assert beacon.matched_rules == ["yara:bot_beacon"] and beacon.command_tokens is None


def test_item_set_limits_what_leaves(session: Session, zone, tmp_path):
    measure = zone()
    service.set_item_set(
        session=session, principal=ADMIN, items=["first_seen", "dst_addr", "packets",
                                                 "matched_selectors"],
        public_comment_ref="PC-2026-1", consultation_ref="OC-2026-3",
    )
    session.commit()
    receipt = _run(session, measure, _capture(tmp_path))
    assert receipt.item_set_version == 1
    for record in _records(session):
        assert record.src_addr is None and record.src_port is None and record.bytes is None
        assert record.packets and record.matched_selectors and record.item_set_version == 1
    with pytest.raises(InvalidInput):
        service.set_item_set(session=session, principal=ADMIN, items=["packets"],
                             public_comment_ref="", consultation_ref="OC-1")


def test_flow_records_are_selected_like_packets(session: Session, zone, tmp_path):
    measure = zone()
    cols = empty_columns(3)
    cols["family"][:] = 4
    cols["src4"][:] = [int(ipaddress.ip_address(a)) for a in (FOREIGN_A, FOREIGN_B, FOREIGN_A)]
    cols["dst4"][:] = [int(ipaddress.ip_address(a)) for a in (C2_V4, FOREIGN_A, FOREIGN_B)]
    cols["sport"][:] = [1000, 1001, 1002]
    cols["dport"][:] = [443, 80, 4444]
    cols["proto"][:] = 6
    cols["packets"][:] = [10, 20, 30]
    cols["bytes"][:] = [1000, 2000, 3000]
    cols["start_ns"][:] = (NOW_NS // 1_000_000 - 5000) * 1_000_000
    cols["end_ns"][:] = (NOW_NS // 1_000_000 - 1000) * 1_000_000
    path = tmp_path / "flows.ipfix"
    path.write_bytes(b"".join(encode_ipfix(cols)))
    receipt = _run(session, measure, path, batch="flows-1")
    assert receipt.inputs[0].kind == "flows"
    assert receipt.counts.flows.received == 3 and receipt.counts.flows.matched == 2
    records = _records(session)
    assert sorted(r.packets for r in records) == [10, 30]
    assert all(r.ttl_min is None for r in records)


def test_staged_input_is_ciphertext_and_shredded(session: Session, zone, tmp_path):
    from mamori.selection.spool import SpoolError, spool_stream

    measure = zone()
    raw = _capture(tmp_path).read_bytes()
    spool = spool_stream(iter([raw[:100], raw[100:]]), tmp_path / "spool")
    on_disk = spool.path.read_bytes()
    assert b"payload one" not in on_disk and raw[:24] not in on_disk
    with spool.open() as stream:
        assert stream.read() == raw
    receipt = run_selection(
        session=session, principal_or_system=HANDLER, measure_id=measure,
        selector_set_id="c2", inputs=[InputSource.from_spool(spool)], batch_id="spooled",
    )
    assert receipt.records_out == 5 and receipt.inputs[0].name == "stdin"
    assert spool.shredded and not spool.path.exists()
    with pytest.raises(SpoolError):
        spool.open()


def test_retention_purges_expired_records(session: Session, zone, tmp_path):
    from mamori.selection import retention as selection_retention  # registers the class
    from mamori.selection.erasure import purge_selected

    assert selection_retention.DATA.name in [d.name for d in retention.registered()]
    measure = zone()
    _run(session, measure, _capture(tmp_path))
    assert len(_records(session)) == 5
    kept = purge_selected(session, utcnow() - timedelta(days=1))
    assert kept.rows == []
    session.commit()
    erased = purge_selected(session, utcnow() + timedelta(days=2))
    session.commit()
    assert len(erased.rows) == 5 and all(i.startswith("b-1:") for i, _ in erased.rows)
    assert _records(session) == []
    if session.get_bind().dialect.name == "postgresql":
        assert erased.partitions_dropped == 1
    # The governance job certifies the deletion with the registered callback.
    _run(session, measure, _capture(tmp_path, "again.pcap"), batch="b-2")
    from mamori.access.principal import Principal

    reports = retention.purge_expired(
        session=session, principal=Principal.system("retention"),
        at=utcnow() + timedelta(days=733), classes=["selected_comm_info"],
    )
    session.commit()
    assert reports[0].outcome.count == 5 and reports[0].certificate_id is not None


def test_rerun_with_a_new_batch_id_after_purge_works_on_a_fresh_partition(
    session: Session, zone, tmp_path
):
    measure = zone()
    _run(session, measure, _capture(tmp_path), batch="p-1")
    from mamori.selection.erasure import purge_selected

    purge_selected(session, utcnow() + timedelta(days=2))
    session.commit()
    _run(session, measure, _capture(tmp_path, "b.pcap"), batch="p-2")
    assert len(_records(session)) == 5
    assert np.all([r.batch_id == "p-2" for r in _records(session)])
