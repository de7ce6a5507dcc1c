"""Exports of a report version: a STIX 2.1 bundle, or another law's form."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.audit import service as audit
from mamori.errors import MamoriError, NotFound
from mamori.reporting import registry_link
from mamori.reporting.access_rules import authorize_incident
from mamori.reporting.forms import fill, load_mapping, mapping_files
from mamori.reporting.lifecycle import load_incident, versions_of
from mamori.reporting.models import Incident, ReportVersion
from mamori.reporting.stix_export import build_bundle


def export_formats() -> list[str]:
    return ["stix", *sorted(mapping_files())]


def _reporter(session: Session, principal: Principal, incident: Incident) -> tuple[str, str]:
    """The filing organisation's name and its ministry, as the registry knows them."""
    if incident.operator_id is not None:
        try:
            info = registry_link.operator_info(session=session, principal=principal,
                                               operator_id=incident.operator_id)
            return info.name, info.ministry_name_ja
        except MamoriError:
            pass
    ministry = next((r.code for r in incident.routings if r.recipient == "supervising_ministry"),
                    "")
    return f"organisation {incident.organisation_id}", ministry


def _version(session: Session, incident: Incident, number: int | None) -> ReportVersion:
    versions = versions_of(session, incident)
    if not versions:
        raise NotFound(f"incident {incident.id} has no submitted report yet", field="version")
    if number is None:
        return versions[-1]
    found = next((v for v in versions if v.number == number), None)
    if found is None:
        raise NotFound(f"incident {incident.id} has no version {number}", field="version")
    return found


def export_incident(
    *,
    session: Session,
    principal: Principal,
    incident_id: int,
    format: str = "stix",
    version: int | None = None,
) -> dict[str, Any]:
    """One version (default: the latest) as a STIX bundle or as a form's fields."""
    incident = load_incident(session, incident_id)
    authorize_incident(session=session, principal=principal, action="report.export",
                       incident=incident)
    chosen = _version(session, incident, version)
    mapping = None if format == "stix" else load_mapping(format)
    name, ministry = _reporter(session, principal, incident)
    if mapping is None:
        result = build_bundle(incident, chosen, reporter_name=name)
    else:
        result = fill(mapping, context={
            "document": chosen.document,
            "version": {"version": chosen.number, "kind": chosen.kind,
                        "submitted_at": chosen.submitted_at.isoformat()},
            "operator.name": name, "operator.ministry": ministry,
            "incident.id": incident.id, "incident.regulation": incident.regulation,
        })
    audit.record(
        session=session, actor=principal.username, action="report.exported",
        object_type="incident_report", object_id=str(incident.id), purpose=principal.purpose,
        details={"format": format, "version": chosen.number},
    )
    return result
