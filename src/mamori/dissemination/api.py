"""The JSON API of provision under ``/api/v1/dissemination``: recipients, providing,
provisions, what an organisation received, acknowledgement and feedback, and usage
attestations after provisions of selected information."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask
from starlette.responses import JSONResponse

from mamori.access.principal import Principal
from mamori.dissemination import deliveries, feedback, provisions, recipients, usage
from mamori.dissemination.models import Feedback, Provision, Recipient, UsageRequest
from mamori.dissemination.usage import PURPOSES_MAX
from mamori.web.deps import CurrentPrincipal, DbSession

router = APIRouter(prefix="/api/v1/dissemination", tags=["dissemination"])

DELIVERY_JOB = Principal.system("dissemination-delivery")


class RecipientIn(BaseModel):
    code: str = Field(max_length=64)
    category: str = Field(max_length=40)
    name_ja: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    organisation: str | None = Field(default=None, max_length=64)
    publishes: bool = False
    language: str = "ja"
    contact_email: str | None = Field(default=None, max_length=254)
    webhook_url: str | None = Field(default=None, max_length=2000)
    attribution_consent: list[str] = Field(default_factory=list, max_length=20)


class ProvideIn(BaseModel):
    product_id: str = Field(max_length=64)
    tier: int
    recipient: str = Field(max_length=64)
    purpose: str = Field(max_length=64)


class FeedbackIn(BaseModel):
    rating: int
    action_taken: str = Field(max_length=4000)


class AttestationIn(BaseModel):
    purposes: list[str] = Field(max_length=PURPOSES_MAX)
    usage: str = Field(max_length=4000)
    shared_onward: bool
    shared_with: str | None = Field(default=None, max_length=4000)
    still_held: bool
    kept_until: date | None = None


class ReviewIn(BaseModel):
    outcome: str = Field(max_length=32)
    note: str | None = Field(default=None, max_length=4000)


def send_notices(request: Request, provision_id: int) -> BackgroundTask:
    """Send a provision's notices after the response, in a transaction of their own."""
    factory = request.app.state.session_factory

    def run() -> None:
        with factory() as session:
            deliveries.deliver_pending(session=session, principal=DELIVERY_JOB,
                                       provision_id=provision_id)
            session.commit()

    return BackgroundTask(run)


@router.get("/recipients", summary="List recipients")
def list_recipients(principal: CurrentPrincipal, session: DbSession,
                    category: str | None = None) -> list[Recipient]:
    return recipients.list_recipients(session=session, principal=principal, category=category)


@router.post("/recipients", status_code=201, summary="Register a recipient")
def add_recipient(body: RecipientIn, principal: CurrentPrincipal,
                  session: DbSession) -> Recipient:
    return recipients.create_recipient(session=session, principal=principal,
                                       **body.model_dump())


@router.get("/provisions", summary="List provisions (oversight and analysts)")
def list_provisions(principal: CurrentPrincipal, session: DbSession,
                    product_id: str | None = None, recipient: str | None = None,
                    limit: int = 200) -> list[Provision]:
    return provisions.list_provisions(session=session, principal=principal,
                                      product_id=product_id, recipient=recipient,
                                      limit=provisions.check_limit(limit))


@router.post("/provisions", status_code=201, summary="Provide a product tier to a recipient")
def provide(body: ProvideIn, request: Request, principal: CurrentPrincipal,
            session: DbSession) -> JSONResponse:
    with provisions.refusals_recorded(session):
        made = provisions.provide(session=session, principal=principal, **body.model_dump())
    return JSONResponse(made.model_dump(mode="json"), status_code=201,
                        background=send_notices(request, made.id))


@router.get("/provisions/attestations", summary="Usage attestations (analysts, oversight)")
def list_attestations(principal: CurrentPrincipal, session: DbSession,
                      overdue: bool = False, limit: int = 200) -> list[UsageRequest]:
    return usage.list_attestations(session=session, principal=principal, overdue=overdue,
                                   limit=provisions.check_limit(limit))


@router.post("/provisions/attestations/{request_id}/review",
             summary="Review a usage attestation (analysts)")
def review_attestation(request_id: int, body: ReviewIn, principal: CurrentPrincipal,
                       session: DbSession) -> UsageRequest:
    return usage.review(session=session, principal=principal, request_id=request_id,
                        **body.model_dump())


@router.get("/provisions/{provision_id}", summary="One provision")
def get_provision(provision_id: int, principal: CurrentPrincipal,
                  session: DbSession) -> dict[str, Any]:
    item = provisions.get_provision(session=session, principal=principal,
                                    provision_id=provision_id)
    found = provisions.provision_objects(session=session, principal=principal,
                                         provision_id=provision_id)
    return {**item.model_dump(mode="json"),
            "bundle": {"type": "bundle", "id": f"bundle--{_uuid(provision_id)}",
                       "objects": found}}


def _uuid(provision_id: int) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mamori:provision:{provision_id}"))


@router.get("/received", summary="What your organisation received")
def received(principal: CurrentPrincipal, session: DbSession) -> list[Provision]:
    return provisions.received(session=session, principal=principal)


@router.post("/provisions/{provision_id}/acknowledge", summary="Acknowledge a provision")
def acknowledge(provision_id: int, principal: CurrentPrincipal,
                session: DbSession) -> dict[str, str]:
    at = feedback.acknowledge(session=session, principal=principal, provision_id=provision_id)
    return {"acknowledged_at": at.isoformat()}


@router.post("/provisions/{provision_id}/feedback", status_code=201,
             summary="Rate a provision and say what you did")
def give_feedback(provision_id: int, body: FeedbackIn, principal: CurrentPrincipal,
                  session: DbSession) -> Feedback:
    return feedback.give_feedback(session=session, principal=principal,
                                  provision_id=provision_id, rating=body.rating,
                                  action_taken=body.action_taken)


@router.post("/provisions/{provision_id}/attestation", status_code=201,
             summary="Attest how your organisation used selected information it received")
def attest(provision_id: int, body: AttestationIn, principal: CurrentPrincipal,
           session: DbSession) -> UsageRequest:
    return usage.attest(session=session, principal=principal, provision_id=provision_id,
                        **body.model_dump())


@router.get("/products/{product_id}/feedback", summary="Feedback on one product")
def product_feedback(product_id: str, principal: CurrentPrincipal,
                     session: DbSession) -> dict[str, Any]:
    found = feedback.product_feedback(session=session, principal=principal,
                                      product_id=product_id)
    return {"product_id": found.product_id, "provisions": found.provisions,
            "acknowledged": found.acknowledged, "average_rating": found.average_rating,
            "entries": [{"provision_id": e.provision_id, "recipient": e.recipient,
                         "category": e.category, "tier": e.tier,
                         "acknowledged_at": e.acknowledged_at.isoformat()
                         if e.acknowledged_at else None,
                         "feedback": [f.model_dump(mode="json") for f in e.ratings]}
                        for e in found.entries]}
