"""Governance JSON API under ``/api/v1/governance``: measures and approvals, the gate,
carriers' cooperation, agreements, consents, use decisions, notifications, retention
purge and the annual report statistics. Errors are problem+json; every call goes
through ``authorize()``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from mamori.db import utcnow
from mamori.errors import InvalidInput
from mamori.governance import (
    agreements,
    consents,
    cooperation,
    gate,
    measures,
    notifications,
    retention,
    statistics,
    use,
)
from mamori.governance.guard import authorize
from mamori.governance.models import (
    AgreementOut,
    ArrangementOut,
    ConsentOut,
    CooperationOut,
    MeasureOut,
    NoteOut,
    NotificationOut,
)
from mamori.web.deps import CurrentPrincipal, DbSession

router = APIRouter(prefix="/api/v1/governance", tags=["governance"])


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MeasureIn(_In):
    article: int = Field(description="17, 32 or 33")
    grounds: str = Field(min_length=1, max_length=4000)
    target_act: str = Field(default="", max_length=4000)
    carrier: str = Field(default="", max_length=300)
    facilities: list[str] = Field(default_factory=list, max_length=100)
    starts_at: datetime | None = None
    ends_at: datetime | None = None


class DecisionIn(_In):
    note: str = Field(default="", max_length=4000)


class RenewalIn(_In):
    ends_at: datetime
    grounds: str = Field(min_length=1, max_length=4000)
    starts_at: datetime | None = None


class EndIn(_In):
    reason: str = Field(min_length=1, max_length=4000)


class CooperationIn(_In):
    measure_id: str = Field(max_length=20)
    carrier: str = Field(min_length=1, max_length=300)
    items: list[str] = Field(min_length=1, max_length=10,
                             description="foreign_facility_info, equipment_connection, "
                             "transmission, other")
    description: str = Field(default="", max_length=4000)
    conditions: str = Field(default="", max_length=4000)
    burden: str = Field(default="", max_length=4000)


class ExplanationIn(_In):
    method: str = Field(max_length=16, description="meeting, document or call")
    summary: str = Field(min_length=1, max_length=4000)
    document_digest: str | None = Field(default=None, max_length=80)
    explained_at: datetime | None = None


class ResponseIn(_In):
    outcome: str = Field(max_length=16, description="cooperating or refused")
    reason: str | None = Field(default=None, max_length=4000)
    evaluation: str | None = Field(default=None, max_length=16)
    note: str | None = Field(default=None, max_length=4000)


class EvaluationIn(_In):
    evaluation: str = Field(max_length=16,
                            description="legitimate, not_legitimate or under_review")
    note: str = Field(default="", max_length=4000)


class AgreementIn(_In):
    party_name: str = Field(min_length=1, max_length=300)
    party_organisation_id: int | None = None
    comm_scope: str = Field(default="", max_length=4000)
    party_identifiers: list[str] = Field(default_factory=list, max_length=1000)
    delivery_method: str = Field(default="", max_length=4000)
    priority: int | None = None
    items: dict[str, str] | None = None
    deviations: str = Field(default="", max_length=4000)


class ConcludeIn(_In):
    signed_digest: str = Field(max_length=80)
    effective_from: datetime
    effective_until: datetime | None = None


class NoteIn(_In):
    note: str = Field(min_length=1, max_length=4000)


class UseIn(_In):
    basis_id: str = Field(max_length=20)
    batch_ids: list[str] = Field(default_factory=list, max_length=10000)
    record_ids: list[str] = Field(default_factory=list, max_length=100000)
    categories: list[str] = Field(max_length=100)
    selected_from: datetime | None = None
    selected_until: datetime | None = None
    user_body_id: int | None = None
    purpose_code: str = Field(max_length=64)
    purpose_text: str = Field(default="", max_length=2000)


class UseOut(BaseModel):
    granted: bool
    reason: str
    explanation: str
    provision: bool
    decision_id: int
    consent_id: str | None
    arrangement_id: str | None


class GateOut(BaseModel):
    basis_id: str
    at: datetime
    allowed: bool
    reason: str
    explanation: str
    kind: str | None
    article: int | None
    directions: list[str]
    party_identifiers: list[str]
    valid_from: datetime | None
    valid_until: datetime | None


def _aware(value: datetime | None, field: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidInput(f"{field}: give a timezone (e.g. +09:00 or Z)")
    return value


# --- measures ---------------------------------------------------------------------------


@router.get("/measures", response_model=list[MeasureOut])
def list_measures(session: DbSession, principal: CurrentPrincipal,
                  article: int | None = None) -> list[MeasureOut]:
    return [measures.to_out(m) for m in measures.list_measures(
        session=session, principal=principal, article=article)]


@router.post("/measures", response_model=MeasureOut, status_code=201)
def request_measure(body: MeasureIn, session: DbSession,
                    principal: CurrentPrincipal) -> MeasureOut:
    return measures.to_out(measures.request_measure(
        session=session, principal=principal, article=body.article, grounds=body.grounds,
        target_act=body.target_act, carrier=body.carrier, facilities=body.facilities,
        starts_at=_aware(body.starts_at, "starts_at"), ends_at=_aware(body.ends_at, "ends_at")))


@router.get("/measures/{measure_id}", response_model=MeasureOut)
def get_measure(measure_id: str, session: DbSession,
                principal: CurrentPrincipal) -> MeasureOut:
    return measures.to_out(measures.get_measure(session=session, principal=principal,
                                                measure_id=measure_id))


@router.post("/measures/{measure_id}/approve", response_model=MeasureOut)
def approve_measure(measure_id: str, body: DecisionIn, session: DbSession,
                    principal: CurrentPrincipal) -> MeasureOut:
    return measures.to_out(measures.approve_measure(
        session=session, principal=principal, measure_id=measure_id, note=body.note))


@router.post("/measures/{measure_id}/refuse", response_model=MeasureOut)
def refuse_measure(measure_id: str, body: DecisionIn, session: DbSession,
                   principal: CurrentPrincipal) -> MeasureOut:
    return measures.to_out(measures.refuse_measure(
        session=session, principal=principal, measure_id=measure_id, note=body.note))


@router.post("/measures/{measure_id}/renew", response_model=MeasureOut)
def renew_measure(measure_id: str, body: RenewalIn, session: DbSession,
                  principal: CurrentPrincipal) -> MeasureOut:
    return measures.to_out(measures.renew_measure(
        session=session, principal=principal, measure_id=measure_id,
        ends_at=_aware(body.ends_at, "ends_at") or body.ends_at, grounds=body.grounds,
        starts_at=_aware(body.starts_at, "starts_at")))


@router.post("/measures/{measure_id}/end", response_model=MeasureOut)
def end_measure(measure_id: str, body: EndIn, session: DbSession,
                principal: CurrentPrincipal) -> MeasureOut:
    return measures.to_out(measures.end_measure(
        session=session, principal=principal, measure_id=measure_id, reason=body.reason))


@router.get("/gate/{basis_id}", response_model=GateOut)
def gate_decision(basis_id: str, session: DbSession, principal: CurrentPrincipal,
                  at: datetime | None = None) -> GateOut:
    """What the selection gate answers for a measure or agreement at a moment."""
    authorize(session=session, principal=principal, action="measure.view",
              resource_type=measures.RESOURCE, resource_id=basis_id)
    decision = gate.measure_in_force(session=session, measure_id=basis_id,
                                     at=_aware(at, "at") or utcnow())
    return GateOut(
        basis_id=decision.basis_id, at=decision.at, allowed=decision.allowed,
        reason=decision.reason, explanation=decision.explanation, kind=decision.kind,
        article=decision.article, directions=list(decision.directions),
        party_identifiers=list(decision.party_identifiers), valid_from=decision.valid_from,
        valid_until=decision.valid_until)


# --- cooperation of telecom carriers ----------------------------------------------------


@router.get("/cooperation", response_model=list[CooperationOut])
def list_cooperation(
    session: DbSession, principal: CurrentPrincipal,
    measure_id: Annotated[str | None, Query(max_length=20)] = None,
) -> list[CooperationOut]:
    return [cooperation.to_out(r) for r in cooperation.list_requests(
        session=session, principal=principal, measure_id=measure_id)]


@router.post("/cooperation", response_model=CooperationOut, status_code=201)
def request_cooperation(body: CooperationIn, session: DbSession,
                        principal: CurrentPrincipal) -> CooperationOut:
    return cooperation.to_out(cooperation.request_cooperation(
        session=session, principal=principal, **body.model_dump()))


@router.get("/cooperation/{request_id}", response_model=CooperationOut)
def get_cooperation(request_id: str, session: DbSession,
                    principal: CurrentPrincipal) -> CooperationOut:
    return cooperation.to_out(cooperation.get_request(session=session, principal=principal,
                                                      request_id=request_id))


@router.post("/cooperation/{request_id}/explain", response_model=CooperationOut,
             status_code=201)
def explain_cooperation(request_id: str, body: ExplanationIn, session: DbSession,
                        principal: CurrentPrincipal) -> CooperationOut:
    explanation = cooperation.record_explanation(
        session=session, principal=principal, request_id=request_id, method=body.method,
        summary=body.summary, document_digest=body.document_digest,
        explained_at=_aware(body.explained_at, "explained_at"))
    return cooperation.to_out(explanation.request)


@router.post("/cooperation/{request_id}/send", response_model=CooperationOut)
def send_cooperation(request_id: str, session: DbSession,
                     principal: CurrentPrincipal) -> CooperationOut:
    return cooperation.to_out(cooperation.send_request(session=session, principal=principal,
                                                       request_id=request_id))


@router.post("/cooperation/{request_id}/respond", response_model=CooperationOut)
def respond_cooperation(request_id: str, body: ResponseIn, session: DbSession,
                        principal: CurrentPrincipal) -> CooperationOut:
    return cooperation.to_out(cooperation.record_response(
        session=session, principal=principal, request_id=request_id, **body.model_dump()))


@router.post("/cooperation/{request_id}/evaluate", response_model=CooperationOut)
def evaluate_cooperation(request_id: str, body: EvaluationIn, session: DbSession,
                         principal: CurrentPrincipal) -> CooperationOut:
    return cooperation.to_out(cooperation.evaluate_refusal(
        session=session, principal=principal, request_id=request_id, **body.model_dump()))


@router.post("/cooperation/{request_id}/withdraw", response_model=CooperationOut)
def withdraw_cooperation(request_id: str, session: DbSession,
                         principal: CurrentPrincipal) -> CooperationOut:
    return cooperation.to_out(cooperation.withdraw_request(
        session=session, principal=principal, request_id=request_id))


# --- agreements -------------------------------------------------------------------------


@router.get("/agreements", response_model=list[AgreementOut])
def list_agreements(session: DbSession, principal: CurrentPrincipal,
                    status: str | None = None) -> list[AgreementOut]:
    return [AgreementOut.model_validate(a) for a in agreements.list_agreements(
        session=session, principal=principal, status=status)]


@router.post("/agreements", response_model=AgreementOut, status_code=201)
def create_agreement(body: AgreementIn, session: DbSession,
                     principal: CurrentPrincipal) -> AgreementOut:
    return AgreementOut.model_validate(agreements.create_agreement(
        session=session, principal=principal, **body.model_dump()))


@router.get("/agreements/{agreement_id}")
def get_agreement(agreement_id: str, session: DbSession,
                  principal: CurrentPrincipal) -> dict[str, Any]:
    row = agreements.get_agreement(session=session, principal=principal,
                                   agreement_id=agreement_id)
    return {**AgreementOut.model_validate(row).model_dump(mode="json"),
            "notes": [NoteOut.model_validate(n).model_dump(mode="json") for n in row.notes]}


@router.post("/agreements/{agreement_id}/notes", response_model=NoteOut, status_code=201)
def add_note(agreement_id: str, body: NoteIn, session: DbSession,
             principal: CurrentPrincipal) -> NoteOut:
    return NoteOut.model_validate(agreements.add_consultation_note(
        session=session, principal=principal, agreement_id=agreement_id, note=body.note))


@router.post("/agreements/{agreement_id}/conclude", response_model=AgreementOut)
def conclude_agreement(agreement_id: str, body: ConcludeIn, session: DbSession,
                       principal: CurrentPrincipal) -> AgreementOut:
    return AgreementOut.model_validate(agreements.conclude_agreement(
        session=session, principal=principal, agreement_id=agreement_id,
        signed_digest=body.signed_digest,
        effective_from=_aware(body.effective_from, "effective_from") or body.effective_from,
        effective_until=_aware(body.effective_until, "effective_until")))


# --- consents and use -------------------------------------------------------------------


@router.get("/consents", response_model=list[ConsentOut])
def list_consents(session: DbSession, principal: CurrentPrincipal,
                  agreement_id: str | None = None) -> list[ConsentOut]:
    return [ConsentOut.model_validate(c) for c in consents.list_consents(
        session=session, principal=principal, agreement_id=agreement_id)]


@router.get("/arrangements", response_model=list[ArrangementOut])
def list_arrangements(session: DbSession, principal: CurrentPrincipal) -> list[ArrangementOut]:
    return [ArrangementOut.model_validate(a)
            for a in consents.list_arrangements(session=session, principal=principal)]


@router.post("/use-decisions", response_model=UseOut, status_code=201)
def decide_use(body: UseIn, session: DbSession, principal: CurrentPrincipal) -> UseOut:
    """Whether selected information may be used or provided; refusals are answers too."""
    decision = use.decide_use(
        session=session, principal=principal,
        data_ref=use.SelectedInfoRef(
            basis_id=body.basis_id, batch_ids=tuple(body.batch_ids),
            record_ids=tuple(body.record_ids), categories=tuple(body.categories),
            selected_from=_aware(body.selected_from, "selected_from"),
            selected_until=_aware(body.selected_until, "selected_until")),
        user_body_id=body.user_body_id, purpose_code=body.purpose_code,
        purpose_text=body.purpose_text)
    return UseOut(granted=decision.granted, reason=decision.reason,
                  explanation=decision.explanation, provision=decision.provision,
                  decision_id=decision.decision_id, consent_id=decision.consent_id,
                  arrangement_id=decision.arrangement_id)


# --- oversight --------------------------------------------------------------------------


@router.get("/notifications", response_model=list[NotificationOut])
def list_notifications(session: DbSession,
                       principal: CurrentPrincipal) -> list[NotificationOut]:
    return [NotificationOut.model_validate(n)
            for n in notifications.list_notifications(session=session, principal=principal)]


@router.post("/retention/purge")
def purge(session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    """Run the purge now (administrators); returns what each class lost."""
    reports = retention.purge_expired(session=session, principal=principal)
    return {"purged": [{"data_class": r.data_class, "deleted": r.outcome.count,
                        "before": r.cutoff.isoformat(), "certificate": r.certificate_id}
                       for r in reports]}


@router.get("/report")
def report(
    session: DbSession,
    principal: CurrentPrincipal,
    year: Annotated[int, Query(ge=2000, le=2200)],
    fiscal: bool = False,
    format: Annotated[str, Query(pattern="^(csv|json)$")] = "json",
) -> Response:
    """Annual report statistics (Art 61(2)) as JSON or CSV."""
    start, end, label = statistics.year_period(year, fiscal=fiscal)
    result = statistics.annual_report(session=session, principal=principal, start=start,
                                      end=end, label=label)
    if format == "csv":
        return Response(statistics.to_csv(result), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition":
                                 f'attachment; filename="mamori-report-{label}.csv"'})
    import json

    body = {"period": label, "start": start.isoformat(), "end": end.isoformat(),
            "rows": [r.__dict__ for r in result.rows]}
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")
