"""The vulnerability JSON API under ``/api/v1/vulns``: exposure for operators' and
ministries' tools, vulnerability records, notices, coordination cases for suppliers'
tools, and the advisories. The catalogue's machine-readable forms are public at
``/vulns/catalogue.json`` and ``/vulns/catalogue.csv``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from mamori.vulns import service
from mamori.vulns.models import (
    AdvisoryOut,
    CaseOut,
    MeasureRequestOut,
    NotificationOut,
    VulnerabilityOut,
)
from mamori.web.deps import CurrentPrincipal, DbSession

router = APIRouter(prefix="/api/v1/vulns", tags=["vulnerabilities"])


class FixIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, max_length=200)
    note: str | None = Field(default=None, max_length=2000)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=2000)


class ResponseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    response: str = Field(min_length=1, max_length=8000)


class SuppressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vulnerability: str = Field(min_length=1, max_length=64)
    component_id: int
    reason: str = Field(min_length=1, max_length=48)
    note: str | None = Field(default=None, max_length=2000)


@router.get("/exposure/{operator_id}", response_model=service.OperatorExposure)
def exposure(operator_id: int, principal: CurrentPrincipal,
             session: DbSession) -> service.OperatorExposure:
    """An operator's computers and what affects them, most urgent first."""
    return service.operator_exposure(session=session, principal=principal,
                                     operator_id=operator_id)


@router.get("/overview", response_model=service.Overview)
def overview(principal: CurrentPrincipal, session: DbSession,
             sector: str | None = Query(None, max_length=64),
             category: str | None = Query(None, max_length=64)) -> service.Overview:
    """Exposure across the operators you may see, by sector or device category."""
    return service.overview(session=session, principal=principal, sector=sector,
                            device_category=category)


@router.post("/suppressions", status_code=201)
def suppress(body: SuppressIn, principal: CurrentPrincipal, session: DbSession) -> dict[str, Any]:
    """Record that a matched component is not affected, with the reason."""
    row = service.suppress(session=session, principal=principal,
                           vulnerability_key=body.vulnerability, component_id=body.component_id,
                           reason=body.reason, note=body.note)
    return {"id": row.id, "reason": row.reason, "component_version": row.component_version}


@router.get("/vulnerabilities/{key}", response_model=VulnerabilityOut)
def vulnerability(key: str, principal: CurrentPrincipal, session: DbSession) -> VulnerabilityOut:
    return service.get_vulnerability(session=session, principal=principal, key=key)


@router.get("/notifications", response_model=list[NotificationOut])
def notifications(principal: CurrentPrincipal, session: DbSession,
                  unread: bool = False) -> list[NotificationOut]:
    return service.list_notifications(session=session, principal=principal, unread_only=unread)


@router.get("/cases", response_model=list[CaseOut])
def cases(principal: CurrentPrincipal, session: DbSession) -> list[CaseOut]:
    """The coordination cases you may see (a supplier: its own)."""
    return service.list_cases(session=session, principal=principal)


@router.get("/cases/{case_id}", response_model=CaseOut)
def case(case_id: int, principal: CurrentPrincipal, session: DbSession) -> CaseOut:
    return service.get_case(session=session, principal=principal, case_id=case_id)


@router.post("/cases/{case_id}/acknowledge", response_model=CaseOut)
def acknowledge(case_id: int, body: NoteIn, principal: CurrentPrincipal,
                session: DbSession) -> CaseOut:
    return service.acknowledge_case(session=session, principal=principal, case_id=case_id,
                                    note=body.note)


@router.post("/cases/{case_id}/fix", response_model=CaseOut)
def fix(case_id: int, body: FixIn, principal: CurrentPrincipal, session: DbSession) -> CaseOut:
    return service.report_fix(session=session, principal=principal, case_id=case_id,
                              fix_version=body.version, note=body.note)


@router.post("/requests/{request_id}/answer", response_model=MeasureRequestOut)
def answer(request_id: int, body: ResponseIn, principal: CurrentPrincipal,
           session: DbSession) -> MeasureRequestOut:
    return service.respond_measures(session=session, principal=principal,
                                    request_id=request_id, response=body.response)


@router.get("/advisories", response_model=list[AdvisoryOut])
def advisories(principal: CurrentPrincipal, session: DbSession) -> list[AdvisoryOut]:
    """The newest version of every CSAF 2.0 advisory."""
    return service.list_advisories(session=session, principal=principal)
