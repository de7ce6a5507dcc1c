"""Reading reports: one incident with its deadlines and versions, lists per role,
and what analysis may correlate (indicators and computers named in reports)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.reporting.access_rules import authorize_collection, authorize_incident, may
from mamori.reporting.deadlines import (
    Anchors,
    Deadline,
    Submission,
    compute_deadlines,
    next_deadline,
    status,
)
from mamori.reporting.lifecycle import load_incident, versions_of
from mamori.reporting.models import (
    AffectedComputer,
    DeadlineOut,
    Incident,
    IncidentOut,
    ReportedIndicator,
    ReportVersion,
    Routing,
    RoutingOut,
    VersionOut,
)
from mamori.reporting.workflows import load_workflows


def deadlines_of(incident: Incident, versions: list[ReportVersion]) -> list[Deadline]:
    workflow = load_workflows().workflows.get(incident.regulation)
    if workflow is None:
        return []
    anchors = Anchors(
        detected_at=incident.detected_at, aware_at=incident.aware_at,
        requested_at=incident.requested_at,
        submissions=tuple(Submission(v.kind, v.submitted_at) for v in versions),
        request_due_at=incident.request_due_at,
    )
    return compute_deadlines(workflow, anchors)


def incident_view(
    session: Session, incident: Incident, *, with_versions: bool = True,
    now: datetime | None = None,
) -> IncidentOut:
    now = now or utcnow()
    versions = versions_of(session, incident)
    deadlines = deadlines_of(incident, versions)
    upcoming = next_deadline(deadlines)
    return IncidentOut(
        id=incident.id, regulation=incident.regulation,
        organisation_id=incident.organisation_id, operator_id=incident.operator_id,
        ministry_id=incident.ministry_id, title=incident.title, stage=incident.stage,
        detected_at=incident.detected_at, aware_at=incident.aware_at,
        requested_at=incident.requested_at,
        status=status(deadlines, [Submission(v.kind, v.submitted_at) for v in versions], now),
        current_version=incident.current_version, scope_decision=incident.scope_decision,
        scope_rule=incident.scope_rule, next_due_at=upcoming.due_at if upcoming else None,
        deadlines=[
            DeadlineOut(kind=d.kind, trigger=d.trigger, offset_hours=d.offset_hours,
                        due_at=d.due_at, met_at=d.met_at, overdue=d.overdue(now))
            for d in deadlines
        ],
        routings=[RoutingOut.model_validate(r) for r in incident.routings],
        versions=[
            VersionOut(number=v.number, kind=v.kind, submitted_at=v.submitted_at,
                       submitted_by=v.submitted_by, digest=v.digest, scope=v.scope,
                       document=v.document)
            for v in versions
        ] if with_versions else [],
    )


def get_incident(
    *, session: Session, principal: Principal, incident_id: int, now: datetime | None = None
) -> IncidentOut:
    incident = load_incident(session, incident_id)
    authorize_incident(session=session, principal=principal, action="report.view",
                       incident=incident)
    return incident_view(session, incident, now=now)


def _visible(query: Select[Any], principal: Principal) -> Select[Any]:
    """Narrow a query to the incidents the principal's roles may see."""
    if principal.roles & {"analyst", "admin"} or principal.is_system:
        return query
    if "ministry_liaison" in principal.roles and principal.organisation_id is not None:
        routed = select(Routing.incident_id).where(
            Routing.organisation_id == principal.organisation_id
        )
        return query.where(Incident.id.in_(routed))
    return query.where(Incident.organisation_id == principal.organisation_id)


def list_incidents(
    *,
    session: Session,
    principal: Principal,
    status_filter: str | None = None,
    regulation: str | None = None,
    now: datetime | None = None,
) -> list[IncidentOut]:
    """The incidents the principal may see, newest first (each checked with the policy)."""
    authorize_collection(session=session, principal=principal, action="report.list")
    query = _visible(select(Incident), principal).order_by(Incident.updated_at.desc(),
                                                          Incident.id.desc())
    if regulation:
        query = query.where(Incident.regulation == regulation)
    result = []
    for incident in session.scalars(query):
        if not may(session=session, principal=principal, action="report.view",
                   incident=incident):
            continue
        view = incident_view(session, incident, with_versions=False, now=now)
        if status_filter is None or view.status == status_filter:
            result.append(view)
    return result


def reported_indicators(
    *, session: Session, principal: Principal, value: str | None = None,
    since: datetime | None = None,
) -> list[dict[str, Any]]:
    """Indicators named in the current version of each report, for correlation (R-4.2-2)."""
    authorize_collection(session=session, principal=principal, action="report.analysis")
    query = (
        select(ReportedIndicator, Incident)
        .join(Incident, Incident.id == ReportedIndicator.incident_id)
        .where(ReportedIndicator.version_number == Incident.current_version)
        .order_by(ReportedIndicator.id)
    )
    if value is not None:
        query = query.where(ReportedIndicator.value == value.strip().lower())
    if since is not None:
        query = query.where(Incident.updated_at >= since)
    return [
        {"incident_id": inc.id, "operator_id": inc.operator_id, "type": ind.type,
         "value": ind.value, "uncertain": ind.uncertain, "first_seen": ind.first_seen,
         "last_seen": ind.last_seen, "stage": inc.stage}
        for ind, inc in session.execute(query)
    ]


def incidents_for_computers(
    *, session: Session, principal: Principal, computer_ids: list[int]
) -> dict[int, list[int]]:
    """Which incidents name each registered computer (current versions only)."""
    authorize_collection(session=session, principal=principal, action="report.analysis")
    query = (
        select(AffectedComputer.computer_id, Incident.id)
        .join(Incident, Incident.id == AffectedComputer.incident_id)
        .where(AffectedComputer.version_number == Incident.current_version,
               AffectedComputer.computer_id.in_(computer_ids))
        .order_by(Incident.id)
    )
    found: dict[int, list[int]] = {c: [] for c in computer_ids}
    for computer_id, incident_id in session.execute(query):
        found[computer_id].append(incident_id)
    return found
