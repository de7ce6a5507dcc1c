"""Filing: a submission becomes an immutable version of an incident, routed at once to
the supervising ministry and the Cabinet Office (the one window, R-4.2-25).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.audit import service as audit
from mamori.db import utcnow
from mamori.errors import Conflict, Forbidden, InvalidInput, NotFound
from mamori.reporting import registry_link
from mamori.reporting.access_rules import authorize_collection, authorize_incident
from mamori.reporting.deadlines import kind_rank
from mamori.reporting.models import (
    AffectedComputer,
    Draft,
    Incident,
    ReportedIndicator,
    ReportVersion,
    Routing,
)
from mamori.reporting.report_format import ReportDocument, check_required, parse_report
from mamori.reporting.scope import load_rules
from mamori.reporting.workflows import Workflow, load_workflows

CLOCK_SKEW = timedelta(minutes=5)
CABINET_OFFICE = "cabinet_office"
MINISTRY = "supervising_ministry"


def digest(document: Mapping[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_incident(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"no incident report {incident_id}", field="incident")
    return incident


def _check_filer(principal: Principal, workflow: Workflow) -> None:
    if not (principal.roles & workflow.filer_roles) and not principal.is_system:
        raise Forbidden(
            f"{workflow.key} reports are filed by: {', '.join(sorted(workflow.filer_roles))}"
        )


def _check_times(doc: ReportDocument, now: datetime) -> None:
    for name in ("detected_at", "aware_at"):
        if getattr(doc, name) > now + CLOCK_SKEW:
            raise InvalidInput(f"{name}: cannot be in the future", field=name)


def _new_incident(
    session: Session, principal: Principal, doc: ReportDocument, workflow: Workflow,
    operator_id: int | None,
) -> tuple[Incident, str]:
    """A new incident and the code of the ministry its reports go to."""
    if workflow.requested_only:
        raise InvalidInput(
            f"{workflow.key} reports answer a request: give the incident id of the request",
            field="incident",
        )
    ministry_org: int | None = None
    ministry_code = ""
    if workflow.requires_operator:
        if operator_id is None:
            raise InvalidInput("name the operator the report is for (--operator ID)",
                               field="operator_id")
        info = registry_link.operator_info(session=session, principal=principal,
                                           operator_id=operator_id)
        organisation_id = info.organisation_id
        ministry_org, ministry_code = info.ministry_organisation_id, info.ministry_code
    else:
        if principal.organisation_id is None:
            raise InvalidInput("your account belongs to no organisation", field="organisation")
        organisation_id = principal.organisation_id
        if operator_id is not None:
            info = registry_link.operator_info(session=session, principal=principal,
                                               operator_id=operator_id)
            if info.organisation_id != organisation_id:
                raise Forbidden("this operator is not your organisation")
            ministry_org, ministry_code = info.ministry_organisation_id, info.ministry_code
    authorize_collection(session=session, principal=principal, action="report.file",
                         organisation_id=organisation_id, regulation=workflow.key)
    incident = Incident(
        regulation=workflow.key, organisation_id=organisation_id, operator_id=operator_id,
        ministry_id=ministry_org, title=doc.title, phase="requested", current_version=0,
        created_by=principal.username,
    )
    session.add(incident)
    session.flush()
    return incident, ministry_code


def _existing_incident(
    session: Session, principal: Principal, doc: ReportDocument, operator_id: int | None
) -> Incident:
    assert doc.incident is not None
    incident = load_incident(session, doc.incident)
    authorize_incident(session=session, principal=principal, action="report.file",
                       incident=incident)
    if incident.regulation != doc.regulation:
        raise InvalidInput(f"incident {incident.id} is a {incident.regulation} report",
                           field="regulation")
    if operator_id is not None and incident.operator_id != operator_id:
        raise InvalidInput(f"incident {incident.id} is not operator {operator_id}'s",
                           field="operator_id")
    if incident.phase == "final":
        raise Conflict(f"the final report of incident {incident.id} is in; it is closed")
    if incident.current_version and kind_rank(doc.kind) < kind_rank(incident.phase):
        raise Conflict(f"a {doc.kind} report cannot follow the {incident.phase} report",
                       field="kind")
    return incident


def _computers(
    session: Session, principal: Principal, incident: Incident, doc: ReportDocument
) -> dict[int, registry_link.ComputerInfo]:
    if not doc.computers:
        return {}
    if incident.operator_id is None:
        raise InvalidInput("computers: only an operator's report names registered computers",
                           field="computers")
    found = registry_link.computers(session=session, principal=principal,
                                    operator_id=incident.operator_id,
                                    ids=[c.id for c in doc.computers])
    for i, entry in enumerate(doc.computers):
        computer = found.get(entry.id)
        if computer is None:
            raise InvalidInput(f"computers[{i}].id: computer {entry.id} is not registered for "
                               f"operator {incident.operator_id}", field=f"computers[{i}].id")
        if entry.not_obtainable is not None and computer.directly_managed:
            raise InvalidInput(
                f"computers[{i}]: 'not obtainable' is for computers the operator does not "
                "manage directly (R-4.2-22)", field=f"computers[{i}].not_obtainable",
            )
    return found


def _route(
    session: Session, incident: Incident, number: int, ministry_code: str
) -> list[Routing]:
    """Both recipients at once; the ministry is the one that supervises the operator."""
    previous = next((r for r in incident.routings if r.recipient == MINISTRY), None)
    code = ministry_code or (previous.code if previous else "")
    rows = [Routing(incident_id=incident.id, version_number=number, recipient=CABINET_OFFICE,
                    code=CABINET_OFFICE, organisation_id=None)]
    if incident.ministry_id is not None or code:
        rows.append(Routing(incident_id=incident.id, version_number=number, recipient=MINISTRY,
                            code=code, organisation_id=incident.ministry_id))
    session.add_all(rows)
    session.flush()
    session.refresh(incident, ["routings"])
    return rows


def file_report(
    *,
    session: Session,
    principal: Principal,
    document: bytes | str | Mapping[str, Any] | ReportDocument,
    operator_id: int | None = None,
    draft_id: int | None = None,
    now: datetime | None = None,
) -> Incident:
    """File one submission: a new incident, or the next version of an existing one."""
    now = now or utcnow()
    doc = document if isinstance(document, ReportDocument) else parse_report(document)
    workflows = load_workflows()
    workflow = workflows.get(doc.regulation)
    _check_filer(principal, workflow)
    _check_times(doc, now)
    check_required(doc, workflow)
    if doc.incident is None:
        incident, ministry_code = _new_incident(session, principal, doc, workflow, operator_id)
    else:
        incident = _existing_incident(session, principal, doc, operator_id)
        ministry_code = ""
    computers = _computers(session, principal, incident, doc)
    decision = load_rules().evaluate_many(
        computers=[(computers[c.id].zone, computers[c.id].category) for c in doc.computers],
        stage=doc.stage, techniques=[t.id for t in doc.techniques],
    )
    number = incident.current_version + 1
    content = {**doc.to_json(), "incident": incident.id}
    version = ReportVersion(
        incident_id=incident.id, number=number, kind=doc.kind, document=content,
        digest=digest(content), scope=decision.to_json(), workflow_digest=workflows.digest,
        submitted_by=principal.username, submitted_at=now,
    )
    session.add(version)
    session.add_all(
        ReportedIndicator(incident_id=incident.id, version_number=number, type=i.type,
                          value=i.value, uncertain=i.uncertain, first_seen=i.first_seen,
                          last_seen=i.last_seen)
        for i in doc.indicators
    )
    session.add_all(
        AffectedComputer(incident_id=incident.id, version_number=number, computer_id=c.id,
                         uncertain=c.uncertain, not_obtainable=c.not_obtainable)
        for c in doc.computers
    )
    if incident.current_version == 0:
        incident.detected_at, incident.aware_at = doc.detected_at, doc.aware_at
    incident.title, incident.stage, incident.phase = doc.title, doc.stage, doc.kind
    incident.current_version = number
    incident.scope_decision, incident.scope_rule = decision.decision, decision.rule_id
    incident.updated_at = now
    session.flush()
    routed = _route(session, incident, number, ministry_code)
    drafts = delete(Draft).where(Draft.organisation_id == incident.organisation_id)
    if draft_id is not None:
        session.execute(drafts.where(Draft.id == draft_id))
    session.execute(drafts.where(Draft.incident_id == incident.id))
    audit.record(
        session=session, actor=principal.username, action="report.submitted",
        object_type="incident_report", object_id=str(incident.id),
        legal_basis=workflow.legal_basis, purpose=principal.purpose,
        details={
            "version": number, "kind": doc.kind, "digest": version.digest,
            "regulation": workflow.key, "operator_id": incident.operator_id,
            "routed_to": [{"recipient": r.recipient, "code": r.code,
                           "organisation_id": r.organisation_id} for r in routed],
            "scope": {"decision": decision.decision, "rule": decision.rule_id},
            "indicators": len(doc.indicators), "computers": [c.id for c in doc.computers],
        },
    )
    session.flush()
    return incident


def request_report(
    *,
    session: Session,
    principal: Principal,
    regulation: str,
    title: str,
    operator_id: int | None = None,
    organisation_id: int | None = None,
    due_at: datetime | None = None,
    now: datetime | None = None,
) -> Incident:
    """Ask for a report: an Art 9 report collection order (報告徴収) to an operator, or an
    Art 45(5) request to a council member (R-4.2-18, R-6.4-2)."""
    now = now or utcnow()
    workflow = load_workflows().get(regulation)
    if not workflow.requested_only:
        raise InvalidInput(f"{regulation} reports are filed on the operator's own initiative",
                           field="regulation")
    title = title.strip()
    if not title or len(title) > 200:
        raise InvalidInput("the subject needs 1-200 characters", field="title")
    if due_at is not None and (due_at.tzinfo is None or due_at <= now):
        raise InvalidInput("the due time must be a timezone-aware time in the future",
                           field="due_at")
    ministry_org: int | None = None
    ministry_code = ""
    supervised = "false"
    if workflow.requires_operator:
        if operator_id is None:
            raise InvalidInput("name the operator (operator_id)", field="operator_id")
        info = registry_link.operator_info(session=session, principal=principal,
                                           operator_id=operator_id)
        organisation_id = info.organisation_id
        ministry_org, ministry_code = info.ministry_organisation_id, info.ministry_code
        supervised = "true" if (principal.organisation_id is not None
                                and principal.organisation_id == ministry_org) else "false"
    elif organisation_id is None:
        raise InvalidInput("name the organisation asked to report (organisation_id)",
                           field="organisation_id")
    authorize_collection(session=session, principal=principal, action="report.request",
                         regulation=regulation, supervised_by_requester=supervised)
    incident = Incident(
        regulation=regulation, organisation_id=organisation_id, operator_id=operator_id,
        ministry_id=ministry_org, title=title, phase="requested", current_version=0,
        requested_at=now, requested_by=principal.username, request_due_at=due_at,
        created_by=principal.username,
    )
    session.add(incident)
    session.flush()
    if ministry_code or ministry_org is not None:
        session.add(Routing(incident_id=incident.id, version_number=0, recipient=MINISTRY,
                            code=ministry_code, organisation_id=ministry_org))
    session.add(Routing(incident_id=incident.id, version_number=0, recipient=CABINET_OFFICE,
                        code=CABINET_OFFICE, organisation_id=None))
    session.flush()
    session.refresh(incident, ["routings"])
    audit.record(
        session=session, actor=principal.username, action="report.requested",
        object_type="incident_report", object_id=str(incident.id),
        legal_basis=workflow.legal_basis, purpose=principal.purpose,
        details={"regulation": regulation, "operator_id": operator_id,
                 "organisation_id": organisation_id,
                 "due_at": due_at.isoformat() if due_at else None},
    )
    return incident


def versions_of(session: Session, incident: Incident) -> list[ReportVersion]:
    return list(session.scalars(
        select(ReportVersion).where(ReportVersion.incident_id == incident.id)
        .order_by(ReportVersion.number)
    ))
