"""Incident reports (特定侵害事象等の報告) into the store, as they land.

Each report version comes through ``mamori.reporting.service.export_incident`` as a
STIX bundle (incident, indicators, sightings, ATT&CK techniques, report) and is stored
SECRET and ATTRIBUTED to the reporting operator, without consent to be named further.
Its provenance context keeps the incident, the operator and the operator's sector: the
cross-sector analytics group reports by it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from mamori.access import service as access_service
from mamori.access.principal import Principal
from mamori.errors import MamoriError
from mamori.intel import guard
from mamori.intel.ingest.bundle import import_objects
from mamori.intel.ingest.common import IngestSummary, get_cursor, set_cursor
from mamori.intel.labels import Labels, build_labels
from mamori.registry import service as registry
from mamori.reporting import service as reporting


def operator_source(session: Session, principal: Principal, operator_id: int | None,
                    organisation_id: int | None) -> tuple[str, dict[str, Any]]:
    """The attribution source name of a reporting organisation and what is known of it."""
    context: dict[str, Any] = {"operator_id": operator_id, "organisation_id": organisation_id,
                               "sector": None}
    code = None
    if operator_id is not None:
        try:
            operator = registry.get_operator(session=session, principal=principal,
                                             operator_id=operator_id)
            context["sector"] = operator.sector
            organisation_id = operator.organisation_id or organisation_id
            context["organisation_id"] = organisation_id
            context["operator_name"] = operator.name
        except MamoriError:
            pass
    if organisation_id is not None:
        try:
            code = access_service.get_organisation(session=session, principal=principal,
                                                   code=str(organisation_id)).code
        except MamoriError:
            code = None
    name = f"operator:{code}" if code else (
        f"operator:registry-{operator_id}" if operator_id is not None
        else f"organisation:{organisation_id}")
    return name, context


def report_labels(source: str) -> Labels:
    return build_labels(["SECRET"], source=source, consent=[])


def ingest_reports(*, session: Session, principal: Principal) -> IngestSummary:
    """Store every report version not stored yet (the cursor is the version number)."""
    guard.authorize(session=session, principal=principal, action="intel.ingest", key="reporting")
    summary = IngestSummary(source="reporting")
    for incident in reporting.list_incidents(session=session, principal=principal):
        if incident.current_version < 1:
            continue
        cursor = f"reporting:{incident.id}"
        if get_cursor(session, cursor) == str(incident.current_version):
            summary.skipped += 1
            continue
        bundle = reporting.export_incident(session=session, principal=principal,
                                           incident_id=incident.id, format="stix")
        source, context = operator_source(session, principal, incident.operator_id,
                                          incident.organisation_id)
        context.update({"incident_id": incident.id, "version": incident.current_version,
                        "regulation": incident.regulation,
                        "detected_at": incident.detected_at.isoformat()
                        if incident.detected_at else None})
        result = import_objects(
            session=session, principal=principal, objects=bundle.get("objects", []),
            source=f"reporting:incident/{incident.id}/v{incident.current_version}",
            labels=report_labels(source), kind="reporting", context=context,
            action="intel.ingest")
        summary.imports.append(result)
        set_cursor(session, cursor, str(incident.current_version))
    return summary
