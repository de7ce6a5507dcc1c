"""STIX 2.1 bundles of report versions pass stix2-validator and parse with stix2."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import stix2
from stix2validator import ValidationOptions, validate_instance

from mamori.reporting.models import Incident, ReportVersion
from mamori.reporting.report_format import parse_report
from mamori.reporting.stix_export import INCIDENT_EXTENSION, build_bundle

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "mamori" / "reporting" / "examples"


def assert_valid_stix(bundle: dict) -> None:
    """No stix2-validator errors (strict on types), and stix2 parses every object."""
    results = validate_instance(bundle, ValidationOptions(version="2.1"))
    errors = [str(e) for r in results.object_results for e in r.errors] if hasattr(
        results, "object_results") else []
    assert results.is_valid, errors or results.as_dict()
    stix2.parse(bundle, allow_custom=True)


def _version(incident: Incident, name: str, number: int) -> ReportVersion:
    doc = parse_report(json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8")))
    return ReportVersion(
        incident_id=incident.id, number=number, kind=doc.kind,
        document={**doc.to_json(), "incident": incident.id}, digest="0" * 64, scope={},
        workflow_digest="", submitted_by="op",
        submitted_at=datetime(2026, 11, 20, number, 30, tzinfo=UTC),
    )


def _incident() -> Incident:
    incident = Incident(id=7, regulation="art5", organisation_id=3, operator_id=1, title="t",
                        phase="update", current_version=2, created_by="op")
    incident.versions = [_version(incident, "preliminary", 1), _version(incident, "update", 2)]
    return incident


def test_bundle_of_each_version_is_valid() -> None:
    incident = _incident()
    for version in incident.versions:
        bundle = build_bundle(incident, version, reporter_name="さくら電力株式会社")
        assert_valid_stix(bundle)


def test_bundle_contents() -> None:
    incident = _incident()
    bundle = build_bundle(incident, incident.versions[0], reporter_name="Sakura Electric")
    by_type: dict[str, list[dict]] = {}
    for obj in bundle["objects"]:
        by_type.setdefault(obj["type"], []).append(obj)
    (report,) = by_type["report"]
    (stix_incident,) = by_type["incident"]
    assert report["report_types"] == ["incident"]
    assert set(report["object_refs"]) == {o["id"] for o in bundle["objects"]} - {report["id"]}
    ext = stix_incident["extensions"][INCIDENT_EXTENSION]
    assert ext["extension_type"] == "property-extension"
    assert ext["determination"] == "suspected"  # detected inside, not yet confirmed
    assert ext["investigation_status"] == "new"
    assert stix_incident["confidence"] == 50  # the preliminary report has uncertain facts
    patterns = sorted(i["pattern"] for i in by_type["indicator"])
    assert patterns == ["[domain-name:value = 'update-check.example.net']",
                        "[ipv4-addr:value = '203.0.113.45']"]
    assert len(by_type["sighting"]) == 2
    assert {s["sighting_of_ref"] for s in by_type["sighting"]} == {
        i["id"] for i in by_type["indicator"]}
    ids = {p["external_references"][0]["external_id"] for p in by_type["attack-pattern"]}
    assert ids == {"T0869", "T0886"}
    assert by_type["attack-pattern"][0]["external_references"][0]["source_name"] == \
        "mitre-ics-attack"


def test_same_version_same_bundle() -> None:
    incident = _incident()
    one = build_bundle(incident, incident.versions[1], reporter_name="x")
    two = build_bundle(incident, incident.versions[1], reporter_name="x")
    assert one == two
    ext = next(o for o in one["objects"] if o["type"] == "incident")["extensions"]
    assert ext[INCIDENT_EXTENSION]["determination"] == "successful-attempt"
