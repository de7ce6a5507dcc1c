"""The register of specified critical computers (特定重要電子計算機) into the store.

Each operator becomes an ``identity`` (with its sector), each computer an
``infrastructure`` object related to its operator, and each component with a CPE a
``software`` observable the computer consists of. Notification data is SECRET and
ATTRIBUTED to the operator; an unchanged computer makes no new version, a withdrawn
one a revoked version.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.intel import guard, stix
from mamori.intel.ingest.bundle import import_objects
from mamori.intel.ingest.common import IngestSummary, stamp
from mamori.intel.ingest.reporting import operator_source, report_labels
from mamori.registry import service as registry

# Device categories of the register that name a STIX infrastructure type.
INFRASTRUCTURE_TYPES: dict[str, str] = {
    "plc": "control-system", "dcs": "control-system", "scada": "control-system",
    "hmi": "control-system", "rtu": "control-system", "ics": "control-system",
    "firewall": "firewall", "router": "routers-switches", "switch": "routers-switches",
    "workstation": "workstation", "pc": "workstation",
}


def operator_identity_id(operator_id: int) -> str:
    return stix.mamori_id("identity", "operator", operator_id)


def computer_id(computer: int) -> str:
    """The STIX id of a registered computer (stable across versions)."""
    return stix.mamori_id("infrastructure", "computer", computer)


def _operator_objects(operator: Any) -> dict[str, Any]:
    return {"type": "identity", "spec_version": "2.1", "id": operator_identity_id(operator.id),
            "name": operator.name, "identity_class": "organization",
            "sectors": [operator.sector],
            "x_mamori_registry": {"operator_id": operator.id,
                                  "supervising_ministry": operator.supervising_ministry}}


def _computer_objects(computer: Any, identity: str) -> list[dict[str, Any]]:
    infra = computer_id(computer.id)
    category = (computer.device_category or "").lower()
    objects: list[dict[str, Any]] = [{
        "type": "infrastructure", "spec_version": "2.1", "id": infra, "name": computer.name,
        "infrastructure_types": [INFRASTRUCTURE_TYPES.get(category, "unknown")],
        "revoked": computer.status == "withdrawn",
        "x_mamori_registry": {
            "computer_id": computer.id, "operator_id": computer.operator_id,
            "device_category": computer.device_category, "zone": computer.zone,
            "status": computer.status, "version": computer.version},
    }, {
        "type": "relationship", "spec_version": "2.1",
        "id": stix.mamori_id("relationship", infra, "related-to", identity),
        "relationship_type": "related-to", "source_ref": infra, "target_ref": identity,
        "description": "registered computer of this operator",
    }]
    for component in computer.components:
        if not component.cpe:
            continue
        properties = {"name": component.name, "cpe": component.cpe}
        if component.version:
            properties["version"] = component.version
        software = stix.make_sco("software", **properties)
        objects.append(software)
        objects.append({
            "type": "relationship", "spec_version": "2.1",
            "id": stix.mamori_id("relationship", infra, "consists-of", software["id"]),
            "relationship_type": "consists-of", "source_ref": infra,
            "target_ref": software["id"]})
    return objects


def ingest_registry(*, session: Session, principal: Principal) -> IngestSummary:
    """Store the operators and computers the principal may see (new versions only)."""
    guard.authorize(session=session, principal=principal, action="intel.ingest", key="registry")
    summary = IngestSummary(source="registry")
    for operator in registry.list_operators(session=session, principal=principal):
        source, context = operator_source(session, principal, operator.id,
                                          operator.organisation_id)
        labels = report_labels(source)
        identity = _operator_objects(operator)
        objects = [identity]
        for computer in registry.find_computers(session=session, principal=principal,
                                                operator_id=operator.id):
            objects += _computer_objects(computer, identity["id"])
        fresh, unchanged = stamp(session, objects, labels)
        summary.skipped += unchanged
        if not fresh:
            continue
        summary.imports.append(import_objects(
            session=session, principal=principal, objects=fresh,
            source=f"registry:operator/{operator.id}", labels=labels, kind="registry",
            context=context, action="intel.ingest"))
    return summary
