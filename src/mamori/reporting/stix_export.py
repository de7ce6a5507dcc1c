"""A report version as a STIX 2.1 bundle: report, incident (with the incident core
extension), indicators, attack-patterns, sightings and their relationships.

Ids are UUIDv5 of the incident and version, so exporting twice gives the same bundle.
The incident uses the OASIS Incident Core Extension (v2.0), a property extension.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from mamori.reporting.attack import catalogue
from mamori.reporting.models import Incident, ReportVersion

INCIDENT_EXTENSION = "extension-definition--ef765651-680c-498d-9894-99799f2fa126"
NAMESPACE = uuid.UUID("6f7c2a1e-9d3b-5e8a-b0c4-2f1d6a7e9b35")
DETERMINATION = {
    "attempt_blocked": "blocked",
    "detected_inside": "suspected",
    "confirmed_compromise": "successful-attempt",
    "impact": "successful-attempt",
}
_PATTERNS = {
    "ipv4-addr": "[ipv4-addr:value = '{v}']",
    "ipv6-addr": "[ipv6-addr:value = '{v}']",
    "domain-name": "[domain-name:value = '{v}']",
    "file-sha256": "[file:hashes.'SHA-256' = '{v}']",
    "file-sha1": "[file:hashes.'SHA-1' = '{v}']",
    "file-md5": "[file:hashes.MD5 = '{v}']",
    "autonomous-system": "[autonomous-system:number = {v}]",
}


def stix_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{value.astimezone(UTC).microsecond // 1000:03d}Z"


def stix_id(kind: str, *parts: object) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, '/'.join(str(p) for p in (kind, *parts)))}"


def indicator_pattern(kind: str, value: str) -> str:
    return _PATTERNS[kind].format(v=value)


def _value(fields: dict[str, Any], key: str) -> Any:
    entry = fields.get(key) or {}
    return entry.get("value")


def _extension(incident: Incident, version: ReportVersion) -> dict[str, Any]:
    doc = version.document
    stage = doc["stage"]["value"]
    fields = doc.get("fields", {})
    ext: dict[str, Any] = {
        "extension_type": "property-extension",
        "determination": DETERMINATION[stage],
        "investigation_status": "closed" if version.kind == "final" else
        ("new" if version.number == 1 else "open"),
    }
    types = []
    if stage in ("confirmed_compromise", "impact"):
        types.append("compromised-system")
    if _value(fields, "service_disruption") is True:
        types.append("denial-of-service")
    if _value(fields, "personal_data_affected") is True:
        types.append("unauthorized-access")
    if types:
        ext["incident_types"] = types
    if doc.get("computers"):
        ext["impacted_entity_counts"] = {"system": len(doc["computers"])}
    return ext


def _uncertain(doc: dict[str, Any]) -> bool:
    return bool(
        doc["stage"].get("uncertain")
        or any(f.get("uncertain") for f in doc.get("fields", {}).values())
        or any(t.get("uncertain") for t in doc.get("techniques", []))
    )


def build_bundle(
    incident: Incident, version: ReportVersion, *, reporter_name: str
) -> dict[str, Any]:
    """The bundle of one version (``reporter_name`` names the filing organisation)."""
    doc = version.document
    first = incident.versions[0].submitted_at if incident.versions else version.submitted_at
    created, modified = stix_time(first), stix_time(version.submitted_at)
    key = (incident.id, version.number)
    identity_id = stix_id("identity", "organisation", incident.organisation_id)
    common = {"spec_version": "2.1", "created_by_ref": identity_id}
    identity = {
        "type": "identity", "spec_version": "2.1", "id": identity_id, "created": created,
        "modified": created, "name": reporter_name, "identity_class": "organization",
    }
    incident_id = stix_id("incident", incident.id)
    summary = _value(doc.get("fields", {}), "summary")
    stix_incident: dict[str, Any] = {
        "type": "incident", **common, "id": incident_id, "created": created,
        "modified": modified, "name": doc["title"],
        "confidence": 50 if _uncertain(doc) else 85,
        "extensions": {INCIDENT_EXTENSION: _extension(incident, version)},
        "external_references": [
            {"source_name": "mamori", "external_id": f"incident-{incident.id}-v{version.number}",
             "description": f"{incident.regulation} {version.kind} report, "
                            f"version {version.number}"},
        ],
    }
    if summary:
        stix_incident["description"] = summary
    objects: list[dict[str, Any]] = [identity, stix_incident]
    attack = catalogue()
    for technique in doc.get("techniques", []):
        found = attack.technique(technique["id"])
        if found is None:
            continue
        pattern_id = stix_id("attack-pattern", *key, found.id)
        objects.append({
            "type": "attack-pattern", **common, "id": pattern_id, "created": modified,
            "modified": modified, "name": found.name,
            "external_references": [{"source_name": "mitre-attack" if found.domain ==
                                     "enterprise" else "mitre-ics-attack",
                                     "external_id": found.id, "url": found.url}],
        })
        objects.append(_relationship(common, key, incident_id, "related-to", pattern_id,
                                     modified))
    for n, indicator in enumerate(doc.get("indicators", [])):
        indicator_id = stix_id("indicator", *key, n)
        valid_from = indicator.get("first_seen")
        valid_from = stix_time(datetime.fromisoformat(valid_from)) if valid_from else modified
        objects.append({
            "type": "indicator", **common, "id": indicator_id, "created": modified,
            "modified": modified, "name": f"{indicator['type']} indicator",
            "description": f"Named in the {version.kind} report on incident {incident.id} "
                           f"(version {version.number}).",
            "indicator_types": ["anomalous-activity" if indicator.get("uncertain")
                                else "malicious-activity"],
            "pattern": indicator_pattern(indicator["type"], indicator["value"]),
            "pattern_type": "stix", "valid_from": valid_from,
        })
        sighting: dict[str, Any] = {
            "type": "sighting", **common, "id": stix_id("sighting", *key, n),
            "created": modified, "modified": modified, "count": 1,
            "sighting_of_ref": indicator_id, "where_sighted_refs": [identity_id],
        }
        for name in ("first_seen", "last_seen"):
            if indicator.get(name):
                sighting[name] = stix_time(datetime.fromisoformat(indicator[name]))
        objects.append(sighting)
        objects.append(_relationship(common, key, indicator_id, "related-to", incident_id,
                                     modified, n))
    report = {
        "type": "report", **common, "id": stix_id("report", *key), "created": modified,
        "modified": modified, "name": f"{doc['title']} ({version.kind}, v{version.number})",
        "report_types": ["incident"], "published": modified,
        "object_refs": [o["id"] for o in objects],
    }
    return {"type": "bundle", "id": stix_id("bundle", *key), "objects": [report, *objects]}


def _relationship(
    common: dict[str, Any], key: tuple[int, int], source: str, kind: str, target: str,
    when: str, n: int = 0,
) -> dict[str, Any]:
    return {
        "type": "relationship", **common,
        "id": stix_id("relationship", *key, source, kind, target, n),
        "created": when, "modified": when, "relationship_type": kind,
        "source_ref": source, "target_ref": target,
    }
