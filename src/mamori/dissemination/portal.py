"""The portal pages of provision, in Japanese and English.

``/provisions``: what the signed-in person's organisation received (read, download the
STIX bundle, acknowledge, rate, say what was done, attest its use of selected
information) and what became of what it reported.
``/dissemination``: the Cabinet Office's side — recipients and what is on record for
them, providing a product tier, foreign checks, the feedback on each product, and the
usage attestations with their review.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from mamori.access.principal import Principal
from mamori.dissemination import categories as cat
from mamori.dissemination import entitlements as ent
from mamori.dissemination import (
    feedback,
    foreign,
    guard,
    outcomes,
    provisions,
    recipients,
    usage,
)
from mamori.dissemination import safeguards as records
from mamori.dissemination.entitled import recipients_of
from mamori.dissemination.public import summarise
from mamori.errors import InvalidInput
from mamori.web import nav
from mamori.web.deps import LoggedInPage
from mamori.web.i18n import N_
from mamori.web.templating import render

router = APIRouter(include_in_schema=False)

TIER_LABELS = {1: N_("Tier 1 (integrated analysis information)"),
               2: N_("Tier 2 (shareable analysis information)"),
               3: N_("Tier 3 (public analysis information)")}
CHECK_LABELS = {foreign.PURPOSE_CONFORMITY: N_("Purpose-conformity finding"),
                foreign.EQUIVALENT_SAFEGUARDS: N_("Confirmation of equivalent safeguards")}
STATUS_LABELS = {usage.REQUESTED: N_("Awaiting attestation"), usage.ATTESTED: N_("Attested"),
                 usage.REVIEWED: N_("Reviewed")}
OUTCOME_LABELS = {usage.WITHIN_CONSENT: N_("Within consent"),
                  usage.OUTSIDE_CONSENT: N_("Outside consent"),
                  usage.UNCLEAR: N_("Unclear")}
HELD, DISPOSED = "held", "disposed"


def _is_recipient(*, session: Any, principal: Principal) -> bool:
    return bool(recipients_of(session, principal))


nav.register(
    url="/provisions", label_ja="受領した情報", label_en="Received information",
    when=_is_recipient, order=60,
    description_ja="提供された分析情報を読み、受領確認と評価・対応結果を返します。",
    description_en="Read what was provided to your organisation, acknowledge it, rate it "
    "and say what you did.",
)
nav.register(
    url="/dissemination", label_ja="情報提供", label_en="Provision",
    action="recipient.view", resource_type=guard.RECIPIENT, order=61,
    description_ja="提供先、提供の要件の記録、製品の提供とフィードバック。",
    description_en="Recipients, what is on record for them, providing products and the "
    "feedback on them.",
)


async def posted_form(request: Request) -> FormData:
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


def _field(form: FormData, name: str, *, required: bool = True) -> str:
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise InvalidInput(f"{name} is required", field=name)
    return text


def _int(form: FormData, name: str) -> int:
    text = _field(form, name)
    if not text.isdigit() or len(text) > 9:
        raise InvalidInput(f"{name}: expected a whole number", field=name)
    return int(text)


def _date(form: FormData, name: str, *, required: bool = True) -> date | None:
    text = _field(form, name, required=required)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name}: expected a date (YYYY-MM-DD)", field=name) from None


def _checkbox(form: FormData, name: str) -> bool:
    value = _field(form, name, required=False)
    if value not in ("", "on"):
        raise InvalidInput(f"{name}: a checkbox is ticked or not", field=name)
    return value == "on"


def attestation_input(form: FormData) -> dict[str, Any]:
    """The attestation form as :func:`usage.attest` takes it (which checks the content)."""
    held = _field(form, "held")
    if held not in (HELD, DISPOSED):
        raise InvalidInput("held: say whether you still hold it or disposed of it",
                           field="held")
    return {"purposes": [v.strip() for v in form.getlist("purposes") if isinstance(v, str)],
            "usage": _field(form, "usage", required=False),
            "shared_onward": _checkbox(form, "shared_onward"),
            "shared_with": _field(form, "shared_with", required=False) or None,
            "still_held": held == HELD,
            "kept_until": _date(form, "kept_until", required=False)}


def _labels() -> dict[str, Any]:
    return {"tier_labels": TIER_LABELS, "categories": cat.CATEGORIES,
            "check_labels": CHECK_LABELS, "status_labels": STATUS_LABELS,
            "outcome_labels": OUTCOME_LABELS}


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- recipients' side ------------------------------------------------------------------


@router.get("/provisions")
def received_page(request: Request, current: LoggedInPage) -> Response:
    items = provisions.received(session=current.session, principal=current.principal)
    own = recipients_of(current.session, current.principal)
    can_outcomes = guard.permitted(
        session=current.session, principal=current.principal, action="provision.outcome",
        resource=guard.resource(guard.DOMAIN, "outcomes",
                                organisation_id=current.principal.organisation_id))
    pending = usage.pending_for(session=current.session, principal=current.principal)
    return render(request, "dissemination/received.html", {
        "items": items, "recipients": own, "can_outcomes": can_outcomes, "pending": pending,
        **_labels()})


@router.get("/provisions/outcomes")
def outcomes_page(request: Request, current: LoggedInPage) -> Response:
    found = outcomes.report_outcomes(session=current.session, principal=current.principal)
    return render(request, "dissemination/outcomes.html", {"outcomes": found, **_labels()})


@router.get("/provisions/{provision_id}")
def provision_page(provision_id: int, request: Request, current: LoggedInPage) -> Response:
    item = provisions.get_provision(session=current.session, principal=current.principal,
                                    provision_id=provision_id)
    found = provisions.provision_objects(session=current.session, principal=current.principal,
                                         provision_id=provision_id)
    acknowledged_at, given = feedback.feedback_of(current.session, provision_id)
    own = {r.id for r in recipients_of(current.session, current.principal)}
    return render(request, "dissemination/provision.html", {
        "item": item, "summary": summarise(found), "object_count": len(found),
        "acknowledged_at": acknowledged_at, "feedback": given,
        "asked": usage.request_of(current.session, provision_id),
        "purposes": ent.load_matrix().purposes, "is_recipient": item.recipient_id in own,
        **_labels()})


@router.get("/provisions/{provision_id}/stix")
def provision_stix(provision_id: int, current: LoggedInPage) -> Response:
    found = provisions.provision_objects(session=current.session, principal=current.principal,
                                         provision_id=provision_id)
    bundle = {"type": "bundle", "id": f"bundle--{_uuid(provision_id)}", "objects": found}
    return Response(json.dumps(bundle, ensure_ascii=False, indent=2),
                    media_type="application/stix+json;version=2.1",
                    headers={"Content-Disposition":
                             f'attachment; filename="provision-{provision_id}.json"'})


def _uuid(provision_id: int) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mamori:provision:{provision_id}"))


@router.post("/provisions/{provision_id}/acknowledge")
def acknowledge_form(provision_id: int, current: LoggedInPage) -> Response:
    feedback.acknowledge(session=current.session, principal=current.principal,
                         provision_id=provision_id)
    return _see_other(f"/provisions/{provision_id}")


@router.post("/provisions/{provision_id}/feedback")
def feedback_form(provision_id: int, form: PostedForm, current: LoggedInPage) -> Response:
    feedback.give_feedback(session=current.session, principal=current.principal,
                           provision_id=provision_id, rating=_int(form, "rating"),
                           action_taken=_field(form, "action_taken"))
    return _see_other(f"/provisions/{provision_id}")


@router.post("/provisions/{provision_id}/attestation")
def attestation_form(provision_id: int, form: PostedForm, current: LoggedInPage) -> Response:
    usage.attest(session=current.session, principal=current.principal,
                 provision_id=provision_id, **attestation_input(form))
    return _see_other(f"/provisions/{provision_id}#attestation")


# --- the Cabinet Office's side ----------------------------------------------------------


def _products(current: Any) -> list[Any]:
    from mamori.products import service as products

    if not guard.permitted(session=current.session, principal=current.principal,
                           action="provision.provide", resource=guard.resource(
                               guard.PROVISION)):
        return []
    return list(products.list_products(session=current.session, principal=current.principal))


@router.get("/dissemination")
def overview_page(request: Request, current: LoggedInPage) -> Response:
    listed = recipients.list_recipients(session=current.session, principal=current.principal)
    can_view = guard.permitted(session=current.session, principal=current.principal,
                               action="provision.view",
                               resource=guard.resource(guard.PROVISION))
    recent = provisions.list_provisions(session=current.session, principal=current.principal,
                                        limit=50) if can_view else []
    matrix = ent.load_matrix()
    return render(request, "dissemination/overview.html", {
        "recipients": listed, "provisions": recent, "matrix": matrix, "can_view": can_view,
        "products": _products(current), "can_manage": guard.permitted(
            session=current.session, principal=current.principal, action="recipient.manage",
            resource=guard.resource(guard.RECIPIENT)), **_labels()})


@router.post("/dissemination/recipients")
def add_recipient_form(form: PostedForm, current: LoggedInPage) -> Response:
    created = recipients.create_recipient(
        session=current.session, principal=current.principal, code=_field(form, "code"),
        category=_field(form, "category"), name_ja=_field(form, "name_ja"),
        name_en=_field(form, "name_en"),
        organisation=_field(form, "organisation", required=False) or None,
        publishes=_field(form, "publishes", required=False) == "on",
        language=_field(form, "language", required=False) or "ja",
        contact_email=_field(form, "contact_email", required=False) or None,
        webhook_url=_field(form, "webhook_url", required=False) or None)
    return _see_other(f"/dissemination/recipients/{created.code}")


@router.get("/dissemination/recipients/{code}")
def recipient_page(code: str, request: Request, current: LoggedInPage) -> Response:
    item = recipients.get_recipient(session=current.session, principal=current.principal,
                                    code=code)
    bases, councils = records.list_records(session=current.session,
                                           principal=current.principal, recipient=code)
    checks = foreign.list_checks(session=current.session, principal=current.principal,
                                 recipient=code)
    return render(request, "dissemination/recipient.html", {
        "item": item, "bases": bases, "councils": councils, "checks": checks,
        "triggers": records.TRIGGERS, "products": _products(current), **_labels()})


@router.post("/dissemination/recipients/{code}/basis")
def basis_form(code: str, form: PostedForm, current: LoggedInPage) -> Response:
    records.record_provision_basis(
        session=current.session, principal=current.principal, recipient=code,
        trigger=_field(form, "trigger"), reference=_field(form, "reference"),
        valid_until=_date(form, "valid_until", required=False))
    return _see_other(f"/dissemination/recipients/{code}")


@router.post("/dissemination/recipients/{code}/safeguards")
def safeguards_form(code: str, form: PostedForm, current: LoggedInPage) -> Response:
    consent_on = _date(form, "consent_on")
    assert consent_on is not None
    records.record_council_safeguards(
        session=current.session, principal=current.principal, recipient=code,
        consent_on=consent_on, consent_reference=_field(form, "consent_reference"),
        safeguards_reference=_field(form, "safeguards_reference"),
        valid_until=_date(form, "valid_until", required=False))
    return _see_other(f"/dissemination/recipients/{code}")


@router.post("/dissemination/recipients/{code}/foreign-checks")
def foreign_check_form(code: str, form: PostedForm, current: LoggedInPage) -> Response:
    foreign.record_foreign_check(
        session=current.session, principal=current.principal, recipient=code,
        product_id=_field(form, "product_id"), product_version=_int(form, "product_version"),
        tier=_int(form, "tier"), kind=_field(form, "kind"), finding=_field(form, "finding"),
        reference=_field(form, "reference", required=False) or None)
    return _see_other(f"/dissemination/recipients/{code}")


@router.post("/dissemination/provide")
def provide_form(request: Request, form: PostedForm, current: LoggedInPage) -> Response:
    from mamori.dissemination.api import send_notices

    with provisions.refusals_recorded(current.session):
        made = provisions.provide(
            session=current.session, principal=current.principal,
            product_id=_field(form, "product_id"), tier=_int(form, "tier"),
            recipient=_field(form, "recipient"), purpose=_field(form, "purpose"))
    return RedirectResponse(f"/provisions/{made.id}", status_code=303,
                            background=send_notices(request, made.id))


@router.get("/dissemination/products/{product_id}/feedback")
def product_feedback_page(product_id: str, request: Request, current: LoggedInPage
                          ) -> Response:
    found = feedback.product_feedback(session=current.session, principal=current.principal,
                                      product_id=product_id)
    return render(request, "dissemination/product_feedback.html", {"found": found,
                                                                   **_labels()})


@router.get("/dissemination/attestations")
def attestations_page(request: Request, current: LoggedInPage, overdue: bool = False
                      ) -> Response:
    found = usage.list_attestations(session=current.session, principal=current.principal,
                                    overdue=overdue)
    can_review = guard.permitted(session=current.session, principal=current.principal,
                                 action="provision.review",
                                 resource=guard.resource(guard.PROVISION, "attestations"))
    return render(request, "dissemination/attestations.html", {
        "requests": found, "overdue_only": overdue, "can_review": can_review,
        "purposes": ent.load_matrix().purposes, **_labels()})


@router.post("/dissemination/attestations/{request_id}/review")
def review_form(request_id: int, form: PostedForm, current: LoggedInPage) -> Response:
    usage.review(session=current.session, principal=current.principal, request_id=request_id,
                 outcome=_field(form, "outcome"),
                 note=_field(form, "note", required=False) or None)
    return _see_other(f"/dissemination/attestations#request-{request_id}")
