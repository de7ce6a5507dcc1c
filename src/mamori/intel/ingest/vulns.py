"""Vulnerability data into the store: every CVE the store mentions, enriched from
``mamori.vulns`` (KEV, exploited in Japan, severity), and every registered computer's
exposure to it as ``infrastructure --has--> vulnerability``.

A published vulnerability is PUBLIC; an undisclosed one (公表前の脆弱性情報) SECRET. An
operator's exposure is SECRET and ATTRIBUTED to the operator.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.errors import MamoriError
from mamori.intel import guard, stix
from mamori.intel.ingest.bundle import import_objects
from mamori.intel.ingest.common import IngestSummary, stamp
from mamori.intel.ingest.registry import computer_id
from mamori.intel.ingest.reporting import operator_source, report_labels
from mamori.intel.labels import Labels
from mamori.intel.models import IndexRow
from mamori.intel.visibility import scope
from mamori.registry import service as registry
from mamori.vulns import service as vulns


def vulnerability_id(key: str) -> str:
    return stix.mamori_id("vulnerability", key.upper())


def vulnerability_object(vuln: Any) -> dict[str, Any]:
    refs = [{"source_name": "cve", "external_id": vuln.cve_id}] if vuln.cve_id else []
    obj: dict[str, Any] = {
        "type": "vulnerability", "spec_version": "2.1", "id": vulnerability_id(vuln.key),
        "name": vuln.cve_id or vuln.key, "external_references": refs,
        "x_mamori_vulns": {
            "kev": vuln.kev, "kev_due_date": vuln.kev_due_date.isoformat()
            if vuln.kev_due_date else None, "exploited_in_japan": vuln.exploited_in_japan,
            "severity": vuln.severity, "cvss_score": vuln.cvss_score,
            "urgency": vuln.urgency},
    }
    if vuln.title:
        obj["description"] = vuln.title
    if not refs:
        obj.pop("external_references")
    return obj


def _labels(vuln: Any) -> Labels:
    return Labels(public=True) if vuln.confidentiality == "public" else Labels(secret=True)


def mentioned_cves(session: Session, principal: Principal) -> list[str]:
    reader = scope(session=session, principal=principal, action="intel.ingest")
    rows = session.scalars(select(IndexRow.key).where(
        IndexRow.kind == "cve", reader.where(IndexRow.label_set_id)).distinct())
    return sorted(rows)


def _store_vulnerabilities(session: Session, principal: Principal, keys: set[str],
                           summary: IngestSummary) -> dict[str, Any]:
    found: dict[str, Any] = {}
    by_labels: dict[Labels, list[dict[str, Any]]] = {}
    for key in sorted(keys):
        try:
            vuln = vulns.get_vulnerability(session=session, principal=principal, key=key)
        except MamoriError:
            continue
        found[key] = vuln
        by_labels.setdefault(_labels(vuln), []).append(vulnerability_object(vuln))
    for labels, objects in by_labels.items():
        fresh, unchanged = stamp(session, objects, labels)
        summary.skipped += unchanged
        if fresh:
            summary.imports.append(import_objects(
                session=session, principal=principal, objects=fresh, source="vulns:catalogue",
                labels=labels, kind="vulns", action="intel.ingest"))
    return found


def ingest_vulns(*, session: Session, principal: Principal) -> IngestSummary:
    """Enrich the CVEs the store mentions and record the register's exposures."""
    guard.authorize(session=session, principal=principal, action="intel.ingest", key="vulns")
    summary = IngestSummary(source="vulns")
    exposures: dict[int, Any] = {}
    for operator in registry.list_operators(session=session, principal=principal):
        try:
            exposures[operator.id] = vulns.operator_exposure(
                session=session, principal=principal, operator_id=operator.id)
        except MamoriError:
            summary.notes.append(f"operator {operator.id}: exposure not available")
    keys = set(mentioned_cves(session, principal))
    keys |= {item.vulnerability.key for e in exposures.values() for item in e.items
             if not item.suppressed}
    known = _store_vulnerabilities(session, principal, keys, summary)
    for operator_id, exposure in exposures.items():
        relationships = []
        for item in exposure.items:
            if item.suppressed or item.vulnerability.key not in known:
                continue
            target = vulnerability_id(item.vulnerability.key)
            for computer in item.computers:
                source = computer_id(computer.id)
                relationships.append({
                    "type": "relationship", "spec_version": "2.1",
                    "id": stix.mamori_id("relationship", source, "has", target),
                    "relationship_type": "has", "source_ref": source, "target_ref": target,
                    "x_mamori_exposure": {"status": item.vulnerability.status,
                                          "components": [c.id for c in computer.components]}})
        if not relationships:
            continue
        name, context = operator_source(session, principal, operator_id, None)
        labels = report_labels(name)
        fresh, unchanged = stamp(session, relationships, labels)
        summary.skipped += unchanged
        if fresh:
            summary.imports.append(import_objects(
                session=session, principal=principal, objects=fresh,
                source=f"vulns:exposure/operator/{operator_id}", labels=labels, kind="vulns",
                context=context, action="intel.ingest"))
    return summary
