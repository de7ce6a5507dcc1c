"""Which registered computers are exposed to which active campaign (R-4.2-2).

For every campaign a reader may analyse (found here or received from partners), the
vulnerabilities within ``HOPS`` of it are the ones it is known to exploit; a registered
computer that has one of them (``infrastructure --has--> vulnerability``, recorded from
the vulnerability matching of the register) is exposed. Confidence rises when the
vulnerability is known exploited (KEV) or exploited in Japan.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.intel import stix
from mamori.intel.analytics.findings import Draft
from mamori.intel.exclusions import Exclusions
from mamori.intel.extract import extract
from mamori.intel.labels import Labels
from mamori.intel.models import ObjectRow, RefRow
from mamori.intel.related import walk_related
from mamori.intel.visibility import Scope

HOPS = 4


def _campaigns(session: Session, scope: Scope) -> list[ObjectRow]:
    return list(session.scalars(select(ObjectRow).where(
        ObjectRow.stix_type == "campaign", ObjectRow.latest.is_(True),
        ObjectRow.revoked.is_(False), scope.where(ObjectRow.label_set_id))))


def plain_cves(result: Any) -> set[str]:
    return {value.key for node in result.nodes for value in extract(node.object).values
            if value.kind == "cve"}


def _plain_path(vuln: dict[str, Any], without: Any) -> bool:
    """Whether the campaign reaches this vulnerability without COMMS objects."""
    return bool({v.key for v in extract(vuln).values if v.kind == "cve"} & plain_cves(without))


def _vulnerabilities(session: Session, scope: Scope, cves: set[str]) -> dict[str, dict[str, Any]]:
    """The vulnerability objects of the vulnerability domain for ``cves``."""
    from mamori.intel.ingest.vulns import vulnerability_id

    ids = {vulnerability_id(cve): cve for cve in cves}
    rows = session.execute(select(ObjectRow.stix_id, ObjectRow.body).where(
        ObjectRow.stix_id.in_(sorted(ids)), ObjectRow.latest.is_(True),
        scope.where(ObjectRow.label_set_id))).all()
    return {stix_id: json.loads(body) for stix_id, body in rows}


def _has_relationships(session: Session, scope: Scope, vulnerability: str
                       ) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(ObjectRow.body).join(RefRow, RefRow.object_id == ObjectRow.id).where(
            RefRow.ref == vulnerability, RefRow.prop == "target_ref",
            ObjectRow.stix_type == "relationship", scope.where(ObjectRow.label_set_id)))
    found = [json.loads(body) for body in rows]
    return [r for r in found if r.get("relationship_type") == "has"]


def drafts(session: Session, scope: Scope, exclusions: Exclusions, cap: int) -> list[Draft]:
    result: list[Draft] = []
    # A link found only through communications-derived objects makes the finding COMMS:
    # walk without them first, and add them as evidence only where they were needed.
    plain = Scope(allowed=scope.allowed - scope.comms, comms=frozenset(), labels=scope.labels)
    for campaign in _campaigns(session, scope):
        related = walk_related(session, scope, start_rows=[campaign.id], start_value=None,
                               hops=HOPS, cap=cap, limit=5000, exclusions=exclusions,
                               query=campaign.stix_id)
        without = walk_related(session, plain, start_rows=[campaign.id], start_value=None,
                               hops=HOPS, cap=cap, limit=5000, exclusions=exclusions,
                               query=campaign.stix_id) if scope.comms and \
            plain.sees(campaign.label_set_id) else related
        comms_nodes = sorted(n.stix_id for n in related.nodes if n.labels.comms)
        cves = {value.key for node in related.nodes for value in extract(node.object).values
                if value.kind == "cve"}
        vulnerabilities = _vulnerabilities(session, scope, cves)
        for vuln_id, vuln in sorted(vulnerabilities.items()):
            facts = vuln.get("x_mamori_vulns") or {}
            for relationship in _has_relationships(session, scope, vuln_id):
                computer = relationship["source_ref"]
                rows = session.scalars(select(ObjectRow.body).where(
                    ObjectRow.stix_id == computer, ObjectRow.latest.is_(True),
                    scope.where(ObjectRow.label_set_id))).all()
                if not rows:
                    continue
                infra = json.loads(rows[0])
                registry = infra.get("x_mamori_registry") or {}
                score = min(95, 55 + (20 if facts.get("kev") else 0) +
                            (10 if facts.get("exploited_in_japan") else 0))
                evidence = sorted({campaign.stix_id, vuln_id, relationship["id"], computer} |
                                  (set() if _plain_path(vuln, without)
                                   else set(comms_nodes)))
                name = str(vuln.get("name", vuln_id))
                result.append(Draft(
                    kind="exposure", key_parts=[campaign.stix_id, computer, vuln_id],
                    confidence=score,
                    params={"campaign": campaign.name, "computer": infra.get("name"),
                            "operator_id": registry.get("operator_id"),
                            "computer_id": registry.get("computer_id"),
                            "vulnerability": name, "kev": bool(facts.get("kev")),
                            "exploited_in_japan": bool(facts.get("exploited_in_japan"))},
                    evidence={"campaign": campaign.stix_id, "vulnerability": vuln_id,
                              "relationship": relationship["id"], "computer": computer,
                              "path": [e.model_dump() for e in related.edges
                                       if vuln_id in (e.source, e.target)][:20]},
                    evidence_ids=evidence, labels=Labels(),
                    title=f"{infra.get('name')} is exposed to {campaign.name} through {name}",
                    objects=[{
                        "type": "relationship", "spec_version": "2.1",
                        "id": stix.mamori_id("relationship", campaign.stix_id, "targets",
                                             vuln_id),
                        "relationship_type": "targets", "source_ref": campaign.stix_id,
                        "target_ref": vuln_id}]))
    return result
