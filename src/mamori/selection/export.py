"""Export of selected records for designated handlers: CSV, Parquet or STIX 2.1.

A boundary module: every export is authorized against a resource labelled COMMS
(so the comms gate requires the roster, a second factor and a declared purpose),
and audited with its format, filters, record count and the SHA-256 of the file.
Only what the records hold leaves — mechanical items and their provenance — so an
export can contain nothing from before selection. The file is written straight to
its destination; no temporary copy is made.
"""

from __future__ import annotations

import csv
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from mamori.access import service as access_service
from mamori.access.principal import Principal, Resource
from mamori.audit import service as audit
from mamori.errors import InvalidInput

from .models import COMMS_LABEL, SelectedRecord
from .store import iter_records, records_query

FORMATS = ("csv", "parquet", "stix")
COLUMNS = (
    "batch_id", "seq", "measure_id", "receipt_seq", "label", "direction", "created_at",
    "expires_at", "item_set_version", "key_epoch", "pseudonymisation", "family", "first_seen",
    "last_seen", "src_addr", "src_pseudonymised", "dst_addr", "dst_pseudonymised", "src_port",
    "dst_port", "protocol", "tcp_flags", "packets", "bytes", "ttl_min", "ttl_max", "icmp_type",
    "icmp_code", "dns_qname", "dns_qtype", "dns_rcode", "tls_sni", "ja3", "ja4", "http_host",
    "matched_selectors", "matched_rules", "command_tokens",
)  # fmt: skip
LIST_COLUMNS = frozenset({"matched_selectors", "matched_rules", "command_tokens"})
TLP_RED = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
STIX_NAMESPACE = uuid.UUID("6f1f4cf4-2a55-5b2c-9a64-6d616d6f7269")
PROTOCOL_NAMES = {1: "icmp", 6: "tcp", 17: "udp", 58: "ipv6-icmp", 132: "sctp"}


@dataclass(frozen=True)
class ExportResult:
    path: Path
    format: str
    records: int
    sha256: str


def _value(record: SelectedRecord, column: str) -> Any:
    return getattr(record, column)


def _rows(session: Session, **filters: Any) -> Iterator[SelectedRecord]:
    yield from iter_records(session, records_query(**filters))


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write_csv(path: Path, records: Iterator[SelectedRecord]) -> int:
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for record in records:
            writer.writerow([_csv_cell(_value(record, c)) for c in COLUMNS])
            count += 1
    return count


def _write_parquet(path: Path, records: Iterator[SelectedRecord]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            (c, pa.list_(pa.string()) if c in LIST_COLUMNS
             else pa.timestamp("us", tz="UTC") if c in (
                 "created_at", "expires_at", "first_seen", "last_seen")
             else pa.bool_() if c.endswith("_pseudonymised")
             else pa.int64() if c in (
                 "seq", "receipt_seq", "item_set_version", "family", "src_port", "dst_port",
                 "protocol", "tcp_flags", "packets", "bytes", "ttl_min", "ttl_max", "icmp_type",
                 "icmp_code", "dns_qtype", "dns_rcode")
             else pa.string())
            for c in COLUMNS
        ]
    )  # fmt: skip
    count = 0
    with pq.ParquetWriter(path, schema) as writer:
        chunk: dict[str, list[Any]] = {c: [] for c in COLUMNS}
        for record in records:
            for c in COLUMNS:
                chunk[c].append(_value(record, c))
            count += 1
            if len(chunk["seq"]) >= 10_000:
                writer.write_table(pa.table(chunk, schema=schema))
                chunk = {c: [] for c in COLUMNS}
        if chunk["seq"] or count == 0:
            writer.write_table(pa.table(chunk, schema=schema))
    return count


def _stix_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _sid(kind: str, *parts: Any) -> str:
    return f"{kind}--{uuid.uuid5(STIX_NAMESPACE, '|'.join(str(p) for p in parts))}"


def stix_objects(record: SelectedRecord) -> list[dict[str, Any]]:
    """An observed-data object and its cyber-observables for one record."""
    objects: list[dict[str, Any]] = []
    refs: list[str] = []
    kind = "ipv4-addr" if record.family == 4 else "ipv6-addr"
    addr_refs: dict[str, str] = {}
    for side, value in (("src", record.src_addr), ("dst", record.dst_addr)):
        if value is None:
            continue
        ident = _sid(kind, value)
        addr_refs[side] = ident
        if ident not in refs:
            objects.append({"type": kind, "spec_version": "2.1", "id": ident, "value": value})
            refs.append(ident)
    traffic: dict[str, Any] = {
        "type": "network-traffic", "spec_version": "2.1",
        "id": _sid("network-traffic", record.batch_id, record.seq),
        "protocols": [PROTOCOL_NAMES.get(record.protocol or -1, f"ipv{record.family}")],
    }  # fmt: skip
    if "src" in addr_refs:
        traffic["src_ref"] = addr_refs["src"]
    if "dst" in addr_refs:
        traffic["dst_ref"] = addr_refs["dst"]
    for field_name, number in (("src_port", record.src_port), ("dst_port", record.dst_port),
                               ("src_packets", record.packets), ("src_byte_count", record.bytes)):
        if number is not None:
            traffic[field_name] = number
    if record.first_seen is not None:
        traffic["start"] = _stix_time(record.first_seen)
    if "src_ref" not in traffic and "dst_ref" not in traffic:
        traffic["x_mamori_addresses_withheld"] = True
    objects.append(traffic)
    refs.append(traffic["id"])
    mechanical = {
        c: _value(record, c)
        for c in ("tcp_flags", "ttl_min", "ttl_max", "icmp_type", "icmp_code", "dns_qname",
                  "dns_qtype", "dns_rcode", "tls_sni", "ja3", "ja4", "http_host",
                  "matched_selectors", "matched_rules", "command_tokens")
        if _value(record, c) is not None
    }  # fmt: skip
    first = _stix_time(record.first_seen or record.created_at)
    last = _stix_time(record.last_seen or record.first_seen or record.created_at)
    created = _stix_time(record.created_at)
    objects.append(
        {
            "type": "observed-data", "spec_version": "2.1",
            "id": _sid("observed-data", record.batch_id, record.seq),
            "created": created, "modified": created,
            "first_observed": first, "last_observed": last,
            "number_observed": 1, "object_refs": refs,
            "labels": [COMMS_LABEL.lower()], "object_marking_refs": [TLP_RED],
            "x_mamori_selection": {
                "batch_id": record.batch_id, "seq": record.seq, "measure_id": record.measure_id,
                "receipt_seq": record.receipt_seq, "direction": record.direction,
                "item_set_version": record.item_set_version, "key_epoch": record.key_epoch,
                "pseudonymisation": record.pseudonymisation,
                "src_pseudonymised": record.src_pseudonymised,
                "dst_pseudonymised": record.dst_pseudonymised,
                "expires_at": _stix_time(record.expires_at),
            },
            "x_mamori_mechanical": mechanical,
        }
    )  # fmt: skip
    return objects


def _write_stix(path: Path, records: Iterator[SelectedRecord], bundle_seed: str) -> int:
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('{"type":"bundle","id":"' + _sid("bundle", bundle_seed) + '","objects":[')
        first = True
        seen: set[str] = set()
        for record in records:
            for obj in stix_objects(record):
                if obj["id"] in seen and obj["type"] in ("ipv4-addr", "ipv6-addr"):
                    continue
                seen.add(obj["id"])
                handle.write(("" if first else ",") + json.dumps(obj, ensure_ascii=False))
                first = False
            count += 1
        handle.write("]}")
    return count


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def export_records(
    *,
    session: Session,
    principal: Principal,
    fmt: str,
    path: Path,
    measure_id: str | None = None,
    batch_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ExportResult:
    """Write selected records to ``path`` and audit the export (caller commits)."""
    fmt = (fmt or "").lower()
    if fmt not in FORMATS:
        raise InvalidInput(f"export format: one of {', '.join(FORMATS)}")
    filters = {"measure_id": measure_id, "batch_id": batch_id, "since": since, "until": until}
    access_service.authorize(
        session=session, principal=principal, action="selection.export",
        resource=Resource(type="selection.record", id=measure_id or batch_id or "",
                          labels=frozenset({COMMS_LABEL})),
    )  # fmt: skip
    if path.exists() and path.is_dir():
        raise InvalidInput(f"export destination {path.name} is a directory")
    records = _rows(session, **filters)
    try:
        if fmt == "csv":
            count = _write_csv(path, records)
        elif fmt == "parquet":
            count = _write_parquet(path, records)
        else:
            count = _write_stix(path, records, f"{principal.username}|{datetime.now().isoformat()}")
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise InvalidInput(
            f"export destination cannot be written ({exc.strerror or type(exc).__name__})"
        ) from None
    digest = _sha256(path)
    audit.record(
        session=session, actor=principal.username, action="selection.exported",
        object_type="selection.record", object_id=measure_id or batch_id or "",
        purpose=principal.purpose,
        details={"format": fmt, "records": count, "sha256": digest,
                 "filters": {k: (v.isoformat() if isinstance(v, datetime) else v)
                             for k, v in filters.items() if v is not None}},
    )  # fmt: skip
    return ExportResult(path, fmt, count, digest)
