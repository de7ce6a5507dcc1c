"""The JSON API of reporting under ``/api/v1/reports``: the same powers as the portal
and the CLI. Bodies are read raw so that the report parser's messages (JSON paths,
never values) are what a client sees, as RFC 9457 problem details."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from mamori.reporting import service
from mamori.reporting.models import IncidentOut, NotificationOut, PrecursorReceipt
from mamori.web.deps import CurrentPrincipal, DbSession

router = APIRouter(prefix="/api/v1/reports", tags=["reporting"])
SCHEMA_PATH = Path(__file__).parent / "schema"

REPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {
            "$ref": "https://mamori.example/schemas/incident-report-1.json"}}},
        "description": "A report in the mamori.incident-report/1 format "
                       "(GET /api/v1/reports/schema).",
    }
}
STIX_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "A STIX 2.1 bundle of indicator and sighting objects.",
    }
}


async def raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


class ScopeQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: str
    zone: str | None = None
    category: str | None = None
    techniques: list[str] = Field(default_factory=list, max_length=100)
    operator_id: int | None = None
    computer_ids: list[int] = Field(default_factory=list, max_length=500)


class ScopeAnswer(BaseModel):
    decision: str
    rule: str
    reason_ja: str
    reason_en: str
    rules_version: str


class ReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    regulation: str = "art9_order"
    title: str = Field(min_length=1, max_length=200)
    operator_id: int | None = None
    organisation_id: int | None = None
    due_at: datetime | None = None


class DraftBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document: dict[str, Any]
    incident_id: int | None = None
    operator_id: int | None = None


class DraftOut(BaseModel):
    id: int
    incident_id: int | None
    operator_id: int | None
    document: dict[str, Any]
    updated_by: str
    updated_at: datetime


def _draft_out(draft: Any) -> DraftOut:
    return DraftOut(id=draft.id, incident_id=draft.incident_id, operator_id=draft.operator_id,
                    document=draft.document, updated_by=draft.updated_by,
                    updated_at=draft.updated_at)


@router.get("/schema", summary="JSON Schema of the report format")
def report_schema() -> Response:
    text = (SCHEMA_PATH / "incident-report.schema.json").read_text(encoding="utf-8")
    return Response(text, media_type="application/schema+json")


@router.post("", status_code=201, response_model=IncidentOut, openapi_extra=REPORT_BODY,
             summary="File a preliminary report, an update or a final report")
def file_report(
    body: RawBody, principal: CurrentPrincipal, session: DbSession,
    operator_id: Annotated[int | None, Query(description="Registry id of the operator")] = None,
) -> IncidentOut:
    return service.file_report(session=session, principal=principal, document=body,
                               operator_id=operator_id)


@router.get("", response_model=list[IncidentOut], summary="Incidents you may see")
def list_reports(
    principal: CurrentPrincipal, session: DbSession,
    status: Annotated[str | None, Query(max_length=16)] = None,
) -> list[IncidentOut]:
    return service.list_incidents(session=session, principal=principal, status_filter=status)


@router.post("/check", response_model=ScopeAnswer, summary="Do I need to report?")
def check(question: ScopeQuestion, principal: CurrentPrincipal,
          session: DbSession) -> ScopeAnswer:
    decision = service.check_scope(session=session, principal=principal, **question.model_dump())
    return ScopeAnswer(decision=decision.decision, rule=decision.rule_id,
                       reason_ja=decision.reason_ja, reason_en=decision.reason_en,
                       rules_version=decision.rules_version)


@router.post("/requests", status_code=201, response_model=IncidentOut,
             summary="Issue an Art 9 report collection order or an Art 45(5) request")
def request_report(body: ReportRequest, principal: CurrentPrincipal,
                   session: DbSession) -> IncidentOut:
    return service.request_report(session=session, principal=principal, **body.model_dump())


@router.get("/notifications", response_model=list[NotificationOut],
            summary="Reminders and overdue notices of your organisation")
def notifications(principal: CurrentPrincipal, session: DbSession,
                  unread: bool = False) -> list[NotificationOut]:
    return service.list_notifications(session=session, principal=principal, unread_only=unread)


@router.post("/notifications/{notification_id}/read", response_model=NotificationOut)
def read_notification(notification_id: int, principal: CurrentPrincipal,
                      session: DbSession) -> NotificationOut:
    return service.mark_notification_read(session=session, principal=principal,
                                          notification_id=notification_id)


@router.post("/remind", response_model=list[NotificationOut],
             summary="Record the reminders that are due (administrators)")
def remind(principal: CurrentPrincipal, session: DbSession) -> list[NotificationOut]:
    return service.send_due_reminders(session=session, principal=principal)


@router.post("/precursors", status_code=202, response_model=PrecursorReceipt,
             openapi_extra=STIX_BODY,
             summary="Submit attack-precursor information (STIX 2.1 indicators, sightings)")
def precursors(body: RawBody, principal: CurrentPrincipal,
               session: DbSession) -> PrecursorReceipt:
    return service.submit_precursors(session=session, principal=principal, document=body)


@router.get("/precursors/{batch_id}", response_model=PrecursorReceipt)
def precursor_batch(batch_id: str, principal: CurrentPrincipal,
                    session: DbSession) -> PrecursorReceipt:
    receipt, _ = service.get_precursor_batch(session=session, principal=principal,
                                             batch_id=batch_id)
    return receipt


@router.get("/analysis/indicators", summary="Indicators named in reports (analysts)")
def indicators(principal: CurrentPrincipal, session: DbSession,
               value: str | None = None) -> list[dict[str, Any]]:
    return service.reported_indicators(session=session, principal=principal, value=value)


@router.get("/drafts", response_model=list[DraftOut])
def drafts(principal: CurrentPrincipal, session: DbSession) -> list[DraftOut]:
    return [_draft_out(d) for d in service.list_drafts(session=session, principal=principal)]


@router.post("/drafts", status_code=201, response_model=DraftOut)
def create_draft(body: DraftBody, principal: CurrentPrincipal, session: DbSession) -> DraftOut:
    return _draft_out(service.save_draft(session=session, principal=principal,
                                         **body.model_dump()))


@router.put("/drafts/{draft_id}", response_model=DraftOut)
def update_draft(draft_id: int, body: DraftBody, principal: CurrentPrincipal,
                 session: DbSession) -> DraftOut:
    return _draft_out(service.save_draft(session=session, principal=principal,
                                         draft_id=draft_id, **body.model_dump()))


@router.delete("/drafts/{draft_id}", status_code=204)
def delete_draft(draft_id: int, principal: CurrentPrincipal, session: DbSession) -> Response:
    service.delete_draft(session=session, principal=principal, draft_id=draft_id)
    return Response(status_code=204)


@router.get("/{incident_id}", response_model=IncidentOut, summary="One incident")
def get_report(incident_id: int, principal: CurrentPrincipal, session: DbSession) -> IncidentOut:
    return service.get_incident(session=session, principal=principal, incident_id=incident_id)


@router.get("/{incident_id}/export", summary="A version as STIX 2.1 or another law's form")
def export(
    incident_id: int, principal: CurrentPrincipal, session: DbSession,
    format: Annotated[str, Query(max_length=64)] = "stix",
    version: int | None = None,
) -> JSONResponse:
    result = service.export_incident(session=session, principal=principal,
                                     incident_id=incident_id, format=format, version=version)
    media = "application/stix+json;version=2.1" if format == "stix" else "application/json"
    return JSONResponse(result, media_type=media)
