"""Selected records (選別後通信情報) into the store, batch by batch, labelled COMMS.

Records are aggregated per batch into one ``observed-data`` per flow (source,
destination, port, protocol, JA4), with the addresses, the network traffic and the
names seen (DNS query name, TLS SNI, HTTP host) as observables. Pseudonymised
addresses stay pseudonyms: they carry their key epoch and correlate only with the same
pseudonym. Command information becomes a count of flows that carried it, never the
command itself.

Batches come through the selection domain's hand-over service
(``selection.service.committed_batches`` / ``batch_records``), which authorizes and
audits each batch. Ingesting is the platform moving COMMS data without showing it to
anyone (``intel.ingest`` and ``selection.handover`` are ``system.comms_maintenance``
actions); reading it back needs the comms gate like every other COMMS read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.intel import guard, stix
from mamori.intel.extract import JA4_PROPERTY
from mamori.intel.ingest.bundle import import_objects
from mamori.intel.ingest.common import IngestSummary, get_cursor, set_cursor
from mamori.intel.labels import Labels
from mamori.selection import service as selection
from mamori.selection.service import CommittedBatch

PROTOCOLS = {1: "icmp", 6: "tcp", 17: "udp", 58: "ipv6-icmp", 132: "sctp"}
COMMS = Labels(comms=True)


@dataclass
class _Flow:
    family: int
    src: str | None
    dst: str | None
    src_epoch: str | None
    dst_epoch: str | None
    dst_port: int | None
    protocol: int | None
    ja4: str | None
    count: int = 0
    packets: int = 0
    octets: int = 0
    commands: int = 0
    first: datetime | None = None
    last: datetime | None = None
    names: set[str] = field(default_factory=set)
    directions: set[str] = field(default_factory=set)


def _ends(record: Any) -> tuple[tuple[Any, bool, Any], tuple[Any, bool, Any]]:
    """(address, pseudonymised, port) of initiator and responder: a record whose source
    port is the lower one is the server's answer, so its ends are swapped."""
    src = (record.src_addr, record.src_pseudonymised, record.src_port)
    dst = (record.dst_addr, record.dst_pseudonymised, record.dst_port)
    if record.src_port is not None and record.dst_port is not None and \
            record.src_port < record.dst_port:
        return dst, src
    return src, dst


def aggregate(records: Iterator[Any]) -> list[_Flow]:
    """One flow per initiator, responder, service port, protocol and JA4."""
    flows: dict[tuple[Any, ...], _Flow] = {}
    for record in records:
        initiator, responder = _ends(record)
        key = (record.family, initiator[:2], responder, record.key_epoch, record.protocol,
               record.ja4)
        flow = flows.get(key)
        if flow is None:
            flow = flows[key] = _Flow(
                family=record.family, src=initiator[0], dst=responder[0],
                src_epoch=record.key_epoch if initiator[1] else None,
                dst_epoch=record.key_epoch if responder[1] else None,
                dst_port=responder[2], protocol=record.protocol, ja4=record.ja4)
        flow.count += 1
        flow.packets += record.packets or 0
        flow.octets += record.bytes or 0
        flow.commands += 1 if record.command_tokens else 0
        seen = [t for t in (record.first_seen, record.last_seen, record.created_at) if t]
        if seen:
            flow.first = min([flow.first, *seen]) if flow.first else min(seen)
            flow.last = max([flow.last, *seen]) if flow.last else max(seen)
        for name in (record.dns_qname, record.tls_sni, record.http_host):
            if name:
                flow.names.add(name.lower().rstrip("."))
        if record.direction:
            flow.directions.add(record.direction)
    return list(flows.values())


def _address(flow: _Flow, value: str, epoch: str | None) -> dict[str, Any]:
    kind = "ipv4-addr" if flow.family == 4 else "ipv6-addr"
    properties: dict[str, Any] = {"value": value}
    if epoch:
        properties[stix.PSEUDONYM_EPOCH] = epoch
    return stix.make_sco(kind, **properties)


def flow_objects(batch: CommittedBatch, flow: _Flow) -> list[dict[str, Any]]:
    """The observables and the observed-data of one aggregated flow."""
    objects: list[dict[str, Any]] = []
    traffic: dict[str, Any] = {
        "protocols": [PROTOCOLS.get(flow.protocol or -1, f"ipv{flow.family}")]}
    for side, value, epoch in (("src_ref", flow.src, flow.src_epoch),
                               ("dst_ref", flow.dst, flow.dst_epoch)):
        if value:
            address = _address(flow, value, epoch)
            objects.append(address)
            traffic[side] = address["id"]
    if flow.dst_port is not None:
        traffic["dst_port"] = flow.dst_port
    if flow.first is not None:
        traffic["start"] = stix.format_timestamp(flow.first)
    if flow.ja4:
        traffic[JA4_PROPERTY] = flow.ja4
    if "src_ref" not in traffic and "dst_ref" not in traffic:
        traffic["x_mamori_addresses_withheld"] = True
    network = stix.make_sco("network-traffic", **traffic)
    objects.append(network)
    refs = [o["id"] for o in objects]
    for name in sorted(flow.names):
        domain = stix.make_sco("domain-name", value=name)
        objects.append(domain)
        refs.append(domain["id"])
    first = stix.format_timestamp(flow.first or batch.created_at)
    last = stix.format_timestamp(flow.last or flow.first or batch.created_at)
    created = stix.format_timestamp(batch.created_at)
    objects.append({
        "type": "observed-data", "spec_version": "2.1",
        "id": stix.mamori_id("observed-data", batch.batch_id, network["id"]),
        "created": created, "modified": created, "first_observed": first,
        "last_observed": last, "number_observed": flow.count, "object_refs": refs,
        "x_mamori_flow": {"packets": flow.packets, "bytes": flow.octets,
                          "command_flows": flow.commands,
                          "directions": sorted(flow.directions)},
    })
    return objects


def ingest_selected(*, session: Session, principal: Principal) -> IngestSummary:
    """Store every committed selection batch not stored yet."""
    guard.authorize(session=session, principal=principal, action="intel.ingest",
                    labels=COMMS, key="selection")
    summary = IngestSummary(source="selection")
    for batch in selection.committed_batches(session=session, principal=principal):
        cursor = "selection:" + stix.digest(batch.batch_id)[:40]
        if get_cursor(session, cursor) is not None:
            summary.skipped += 1
            continue
        objects: list[dict[str, Any]] = []
        records = selection.batch_records(session=session, principal=principal,
                                          batch_id=batch.batch_id)
        for flow in aggregate(records):
            objects += flow_objects(batch, flow)
        objects = list({o["id"]: o for o in objects}.values())
        if objects:
            summary.imports.append(import_objects(
                session=session, principal=principal, objects=objects,
                source=f"selection:batch/{batch.batch_id}"[:300], labels=COMMS,
                kind="selection", action="intel.ingest",
                context={"batch_id": batch.batch_id, "measure_id": batch.measure_id,
                         "receipt_seq": batch.receipt_seq}))
        set_cursor(session, cursor, str(batch.receipt_seq))
    return summary
