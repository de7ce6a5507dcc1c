"""Governance pages under ``/governance`` (Japanese and English): party agreements,
other-purpose consents, transmission measures and the committee's decisions, and the
cooperation of telecom carriers under a measure.

Forms post back here; a user-caused error is raised and shown on the error page in
the reader's language, and the request's transaction is rolled back.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from mamori.governance import agreements, consents, cooperation, measures
from mamori.governance import constants as c
from mamori.governance.guard import permitted
from mamori.governance.labels import label_context
from mamori.governance.parsing import parse_digest, parse_when
from mamori.web import nav
from mamori.web.deps import LoggedInPage, LoggedInPageRequest
from mamori.web.templating import render

router = APIRouter(prefix="/governance", include_in_schema=False)

nav.register(
    url="/governance/measures",
    label_ja="送信措置と承認",
    label_en="Measures and approvals",
    action="measure.view",
    resource_type="governance.measure",
    description_ja="外外・特定外内・特定内外通信目的送信措置の承認の求め、監理委員会の承認と更新。",
    description_en="Requests for transmission measures (Art 17, 32, 33), the committee's "
    "approvals and renewals.",
    order=40,
)
nav.register(
    url="/governance/agreements",
    label_ja="当事者協定",
    label_en="Party agreements",
    action="agreement.view",
    resource_type="governance.agreement",
    description_ja="協定のひな型、協議の記録、締結・終了、提供される通信情報の範囲。",
    description_en="The agreement template, consultations, conclusion and end, and which "
    "communications each party provides.",
    order=41,
)
nav.register(
    url="/governance/consents",
    label_ja="他目的利用の同意",
    label_en="Other-purpose consents",
    action="consent.view",
    resource_type="governance.consent",
    description_ja="(ア)情報の範囲・(イ)利用する機関・(ウ)具体的な目的を明示した同意と事前の書面。",
    description_en="Consents naming (ア) the information, (イ) the body and (ウ) the specific "
    "purpose, and prior written arrangements.",
    order=42,
)
nav.register(
    url="/governance/cooperation",
    label_ja="電気通信事業者の協力",
    label_en="Carrier cooperation",
    action="cooperation.view",
    resource_type="governance.cooperation",
    description_ja="措置に係る協力の求め、事前説明の記録、事業者の回答と正当な理由の評価。",
    description_en="Requests to telecom carriers under a measure, advance explanations, "
    "the carriers' answers and the evaluation of a refusal's reason.",
    order=43,
)


async def posted_form(request: Request) -> FormData:
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


def _can(current: LoggedInPageRequest, action: str, resource_type: str,
         resource_id: str = "", **attrs: Any) -> bool:
    return permitted(session=current.session, principal=current.principal, action=action,
                     resource_type=resource_type, resource_id=resource_id, **attrs)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _list(form: FormData, name: str) -> list[str]:
    return [v for v in (x.strip() for x in _text(form, name).replace("\n", ",").split(",")) if v]


def _see(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


# --- overview ---------------------------------------------------------------------------


@router.get("")
def index(request: Request, current: LoggedInPage) -> Response:
    return render(request, "governance/index.html", {
        **label_context(),
        "can_measures": _can(current, "measure.view", "governance.measure"),
        "can_agreements": _can(current, "agreement.view", "governance.agreement"),
        "can_consents": _can(current, "consent.view", "governance.consent"),
        "can_cooperation": _can(current, "cooperation.view", cooperation.RESOURCE),
        "can_console": _can(current, "oversight.view", "governance.oversight"),
    })


# --- measures ---------------------------------------------------------------------------


@router.get("/measures")
def measure_list(request: Request, current: LoggedInPage) -> Response:
    rows = [measures.to_out(m) for m in measures.list_measures(
        session=current.session, principal=current.principal)]
    return render(request, "governance/measures.html", {
        **label_context(), "measures": rows,
        "can_request": _can(current, "measure.request", "governance.measure"),
        "articles": sorted(c.MEASURE_ARTICLES),
    })


@router.post("/measures")
def measure_request(request: Request, current: LoggedInPage, form: PostedForm) -> Response:
    start, end = _text(form, "starts_at"), _text(form, "ends_at")
    try:
        article = int(_text(form, "article"))
    except ValueError:
        article = 0
    measure = measures.request_measure(
        session=current.session, principal=current.principal, article=article,
        grounds=_text(form, "grounds"), target_act=_text(form, "target_act"),
        carrier=_text(form, "carrier"), facilities=_list(form, "facilities"),
        starts_at=parse_when(start, field="start") if start else None,
        ends_at=parse_when(end, field="end") if end else None)
    return _see(f"/governance/measures/{measure.id}")


@router.get("/measures/{measure_id}")
def measure_detail(request: Request, current: LoggedInPage, measure_id: str) -> Response:
    measure = measures.get_measure(session=current.session, principal=current.principal,
                                   measure_id=measure_id)
    out = measures.to_out(measure)
    pending = next((t for t in measure.terms if t.status == c.TERM_REQUESTED), None)
    requested_by = pending.requested_by if pending else ""
    return render(request, "governance/measure.html", {
        **label_context(), "measure": out, "pending": pending,
        "can_decide": pending is not None and _can(
            current, "measure.approve", "governance.measure", measure.id,
            requested_by=requested_by),
        "can_request": _can(current, "measure.request", "governance.measure", measure.id),
        "can_cooperation": _can(current, "cooperation.view", cooperation.RESOURCE),
    })


@router.post("/measures/{measure_id}/{decision}")
def measure_action(request: Request, current: LoggedInPage, measure_id: str, decision: str,
                   form: PostedForm) -> Response:
    session, principal = current.session, current.principal
    if decision == "approve":
        measures.approve_measure(session=session, principal=principal, measure_id=measure_id,
                                 note=_text(form, "note"))
    elif decision == "refuse":
        measures.refuse_measure(session=session, principal=principal, measure_id=measure_id,
                                note=_text(form, "note"))
    elif decision == "renew":
        start = _text(form, "starts_at")
        measures.renew_measure(
            session=session, principal=principal, measure_id=measure_id,
            ends_at=parse_when(_text(form, "ends_at"), field="end"),
            grounds=_text(form, "grounds"),
            starts_at=parse_when(start, field="start") if start else None)
    elif decision == "end":
        measures.end_measure(session=session, principal=principal, measure_id=measure_id,
                             reason=_text(form, "reason"))
    else:
        return Response(status_code=404)
    return _see(f"/governance/measures/{measure_id}")


# --- agreements -------------------------------------------------------------------------


@router.get("/agreements")
def agreement_list(request: Request, current: LoggedInPage) -> Response:
    rows = agreements.list_agreements(session=current.session, principal=current.principal)
    version, template = agreements.agreement_template(session=current.session)
    return render(request, "governance/agreements.html", {
        **label_context(), "agreements": rows, "template": template,
        "template_version": version,
        "can_draft": _can(current, "agreement.draft", "governance.agreement"),
    })


@router.post("/agreements")
def agreement_draft(request: Request, current: LoggedInPage, form: PostedForm) -> Response:
    priority = _text(form, "priority")
    agreement = agreements.create_agreement(
        session=current.session, principal=current.principal,
        party_name=_text(form, "party_name"), comm_scope=_text(form, "comm_scope"),
        party_identifiers=_list(form, "party_identifiers"),
        delivery_method=_text(form, "delivery_method"),
        priority=int(priority) if priority.isdigit() else None)
    return _see(f"/governance/agreements/{agreement.id}")


@router.get("/agreements/{agreement_id}")
def agreement_detail(request: Request, current: LoggedInPage, agreement_id: str) -> Response:
    agreement = agreements.get_agreement(session=current.session, principal=current.principal,
                                         agreement_id=agreement_id)
    _, template = agreements.agreement_template(session=current.session)
    return render(request, "governance/agreement.html", {
        **label_context(), "agreement": agreement, "template": template,
        "consents": consents.list_consents(session=current.session,
                                           principal=current.principal,
                                           agreement_id=agreement.id)
        if _can(current, "consent.view", "governance.consent") else [],
        "can_draft": _can(current, "agreement.draft", "governance.agreement", agreement.id),
        "can_conclude": _can(current, "agreement.conclude", "governance.agreement",
                             agreement.id),
        "can_consent": _can(current, "consent.manage", "governance.consent"),
    })


@router.post("/agreements/{agreement_id}/{step}")
def agreement_action(request: Request, current: LoggedInPage, agreement_id: str, step: str,
                     form: PostedForm) -> Response:
    session, principal = current.session, current.principal
    if step == "notes":
        agreements.add_consultation_note(session=session, principal=principal,
                                         agreement_id=agreement_id, note=_text(form, "note"))
    elif step == "items":
        _, template = agreements.agreement_template(session=session)
        items = {t["key"]: _text(form, f"item_{t['key']}") for t in template}
        agreements.update_draft(session=session, principal=principal,
                                agreement_id=agreement_id,
                                items={k: v for k, v in items.items() if v},
                                deviations=_text(form, "deviations"),
                                comm_scope=_text(form, "comm_scope") or None)
    elif step == "conclude":
        until = _text(form, "effective_until")
        agreements.conclude_agreement(
            session=session, principal=principal, agreement_id=agreement_id,
            signed_digest=parse_digest(_text(form, "signed_digest"),
                                       field="signed document digest"),
            effective_from=parse_when(_text(form, "effective_from"), field="effective from"),
            effective_until=parse_when(until, field="effective until") if until else None)
    elif step == "end":
        agreements.end_agreement(session=session, principal=principal,
                                 agreement_id=agreement_id, reason=_text(form, "reason"))
    elif step == "withdraw":
        agreements.withdraw_draft(session=session, principal=principal,
                                  agreement_id=agreement_id)
        return _see("/governance/agreements")
    else:
        return Response(status_code=404)
    return _see(f"/governance/agreements/{agreement_id}")


# --- consents ---------------------------------------------------------------------------


@router.get("/consents")
def consent_list(request: Request, current: LoggedInPage) -> Response:
    return render(request, "governance/consents.html", {
        **label_context(),
        "consents": consents.list_consents(session=current.session,
                                           principal=current.principal),
        "arrangements": consents.list_arrangements(session=current.session,
                                                   principal=current.principal),
    })


@router.post("/consents")
def consent_record(request: Request, current: LoggedInPage, form: PostedForm) -> Response:
    body = _text(form, "user_body_id")
    digest = _text(form, "document_digest")
    consent = consents.record_consent(
        session=current.session, principal=current.principal,
        agreement_id=_text(form, "agreement_id"), scope_batches=_list(form, "scope_batches"),
        scope_categories=_list(form, "scope_categories"),
        user_body_id=int(body) if body.isdigit() else None,
        user_body_name=_text(form, "user_body_name"),
        purpose_code=_text(form, "purpose_code"), purpose_text=_text(form, "purpose_text"),
        document_digest=digest or None)
    return _see(f"/governance/consents/{consent.id}")


@router.get("/consents/{consent_id}")
def consent_detail(request: Request, current: LoggedInPage, consent_id: str) -> Response:
    consent = consents.get_consent(session=current.session, principal=current.principal,
                                   consent_id=consent_id)
    return render(request, "governance/consent.html", {
        **label_context(), "consent": consent,
        "missing": consents.missing_elements(consent),
        "can_manage": _can(current, "consent.manage", "governance.consent", consent.id),
        "can_activate": _can(current, "consent.activate", "governance.consent", consent.id),
    })


@router.post("/consents/{consent_id}/{step}")
def consent_action(request: Request, current: LoggedInPage, consent_id: str, step: str,
                   form: PostedForm) -> Response:
    session, principal = current.session, current.principal
    if step == "examine":
        consents.examine_consent(session=session, principal=principal, consent_id=consent_id,
                                 examination=_text(form, "examination"))
    elif step == "activate":
        consents.activate_consent(session=session, principal=principal, consent_id=consent_id)
    elif step == "withdraw":
        consents.withdraw_consent(session=session, principal=principal, consent_id=consent_id)
    else:
        return Response(status_code=404)
    return _see(f"/governance/consents/{consent_id}")


# --- cooperation of telecom carriers ----------------------------------------------------


@router.get("/cooperation")
def cooperation_list(request: Request, current: LoggedInPage,
                     measure: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    rows = cooperation.list_requests(session=current.session, principal=current.principal,
                                     measure_id=measure or None)
    return render(request, "governance/cooperation_requests.html", {
        **label_context(), "requests": rows, "measure_id": measure or "",
        "items": c.COOP_ITEMS,
        "can_manage": _can(current, "cooperation.manage", cooperation.RESOURCE),
    })


@router.post("/cooperation")
def cooperation_record(request: Request, current: LoggedInPage, form: PostedForm) -> Response:
    created = cooperation.request_cooperation(
        session=current.session, principal=current.principal,
        measure_id=_text(form, "measure_id"), carrier=_text(form, "carrier"),
        items=[v for v in form.getlist("items") if isinstance(v, str)],
        description=_text(form, "description"), conditions=_text(form, "conditions"),
        burden=_text(form, "burden"))
    return _see(f"/governance/cooperation/{created.id}")


@router.get("/cooperation/{request_id}")
def cooperation_detail(request: Request, current: LoggedInPage, request_id: str) -> Response:
    row = cooperation.get_request(session=current.session, principal=current.principal,
                                  request_id=request_id)
    return render(request, "governance/cooperation_request.html", {
        **label_context(), "r": row, "methods": c.EXPLANATION_METHODS,
        "evaluations": c.REFUSAL_EVALUATIONS,
        "can_manage": _can(current, "cooperation.manage", cooperation.RESOURCE, row.id),
    })


@router.post("/cooperation/{request_id}/{step}")
def cooperation_action(request: Request, current: LoggedInPage, request_id: str, step: str,
                       form: PostedForm) -> Response:
    session, principal = current.session, current.principal
    if step == "explain":
        digest, at = _text(form, "document_digest"), _text(form, "explained_at")
        cooperation.record_explanation(
            session=session, principal=principal, request_id=request_id,
            method=_text(form, "method"), summary=_text(form, "summary"),
            document_digest=digest or None,
            explained_at=parse_when(at, field="explained at") if at else None)
    elif step == "send":
        cooperation.send_request(session=session, principal=principal, request_id=request_id)
    elif step == "respond":
        cooperation.record_response(
            session=session, principal=principal, request_id=request_id,
            outcome=_text(form, "outcome"), reason=_text(form, "reason") or None,
            evaluation=_text(form, "evaluation") or None, note=_text(form, "note") or None)
    elif step == "evaluate":
        cooperation.evaluate_refusal(session=session, principal=principal,
                                     request_id=request_id,
                                     evaluation=_text(form, "evaluation"),
                                     note=_text(form, "note"))
    elif step == "withdraw":
        cooperation.withdraw_request(session=session, principal=principal,
                                     request_id=request_id)
    else:
        return Response(status_code=404)
    return _see(f"/governance/cooperation/{request_id}")
