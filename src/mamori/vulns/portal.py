"""The vulnerability pages: the public catalogue of vulnerabilities exploited in Japan
(``/vulns/catalogue``, no login, with JSON and CSV), and for signed-in users their
exposure, their notices and — for suppliers and the Cabinet Office — coordination cases.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from mamori.registry import service as registry
from mamori.vulns import guard, service
from mamori.vulns.notices import KINDS as NOTICE_KINDS
from mamori.vulns.suppressions import REASONS
from mamori.web import nav
from mamori.web.deps import DbSession, LoggedInPage, Page
from mamori.web.i18n import N_
from mamori.web.templating import render

router = APIRouter(prefix="/vulns", include_in_schema=False)

REVIEW_LABELS: dict[str, str] = {
    "unknown_component_version": N_("component version unknown"),
    "unreadable_version_bound": N_("version bound cannot be read"),
    "no_version_bound": N_("no version bound given"),
    "status_unknown": N_("status unknown at the source"),
    "cpe_attribute_unknown": N_("CPE attribute not stated"),
    "platform_unknown": N_("platform cannot be confirmed"),
    "name_only": N_("matched by product name only"),
}
STATUS_LABELS: dict[str, str] = {
    "affected": N_("Affected"),
    "possible": N_("Possibly affected — needs review"),
    "draft": N_("Draft"),
    "sent": N_("Sent to the supplier"),
    "acknowledged": N_("Acknowledged"),
    "fixed": N_("Fixed"),
    "published": N_("Published"),
    "closed": N_("Closed"),
    "open": N_("Open"),
    "answered": N_("Answered"),
    "overdue": N_("Overdue"),
}

nav.register(
    url="/vulns",
    label_ja="脆弱性と影響",
    label_en="Vulnerabilities",
    roles=frozenset({"analyst", "admin", "operator", "ministry_liaison", "supplier"}),
    description_ja="登録された特定重要電子計算機に影響する脆弱性を、国内で悪用されているもの、KEV、深刻度の順に示します。",
    description_en="Vulnerabilities that affect the registered critical computers, exploited in "
    "Japan first, then KEV, then by severity.",
    order=40,
)
nav.register(
    url="/vulns/catalogue",
    label_ja="国内で悪用されている脆弱性",
    label_en="Exploited in Japan",
    description_ja="国内での悪用が確認された脆弱性の一覧（公開）。",
    description_en="The public list of vulnerabilities confirmed exploited in Japan.",
    order=41,
)


def _labels() -> dict[str, object]:
    return {"review_labels": REVIEW_LABELS, "status_labels": STATUS_LABELS,
            "notice_kinds": NOTICE_KINDS, "reasons": REASONS}


# --- public ---------------------------------------------------------------------------


@router.get("/catalogue")
def catalogue_page(request: Request, current: Page) -> Response:
    entries = service.public_entries(session=current.session)
    return render(request, "vulns/catalogue.html", {"entries": entries})


@router.get("/catalogue.json")
def catalogue_json(session: DbSession) -> Response:
    return JSONResponse(service.catalogue_document(session=session),
                        headers={"Cache-Control": "public, max-age=300"})


@router.get("/catalogue.csv")
def catalogue_csv(session: DbSession) -> Response:
    return Response(service.catalogue_csv(session=session), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="catalogue.csv"'})


# --- signed in ------------------------------------------------------------------------


@router.get("")
def index(request: Request, current: LoggedInPage) -> Response:
    principal = current.principal
    operators = []
    if principal.roles & {"analyst", "admin", "operator", "ministry_liaison"}:
        operators = registry.list_operators(session=current.session, principal=principal)
    notices = []
    if principal.organisation_id is not None and guard.permitted(
            session=current.session, principal=principal, action="vulns.notifications",
            resource=guard.domain(principal.organisation_id)):
        notices = service.list_notifications(session=current.session, principal=principal,
                                              unread_only=True)
    cases = service.list_cases(session=current.session, principal=principal)
    return render(request, "vulns/index.html", {
        **_labels(), "operators": operators, "notices": notices, "cases": cases})


@router.get("/operators/{operator_id}")
def exposure_page(request: Request, current: LoggedInPage, operator_id: int) -> Response:
    exposure = service.operator_exposure(session=current.session, principal=current.principal,
                                         operator_id=operator_id)
    operator = registry.get_operator(session=current.session, principal=current.principal,
                                     operator_id=operator_id)
    may_suppress = guard.permitted(
        session=current.session, principal=current.principal, action="vulns.suppress",
        resource=guard.operator(current.session, current.principal, operator_id=operator.id,
                                organisation_id=operator.organisation_id,
                                supervising_ministry=operator.supervising_ministry))
    return render(request, "vulns/exposure.html", {
        **_labels(), "exposure": exposure, "may_suppress": may_suppress})


@router.post("/operators/{operator_id}/suppress")
def suppress(
    current: LoggedInPage, operator_id: int, vulnerability: Annotated[str, Form()],
    component: Annotated[int, Form()], reason: Annotated[str, Form()],
    note: Annotated[str | None, Form()] = None,
) -> Response:
    service.suppress(session=current.session, principal=current.principal,
                     vulnerability_key=vulnerability, component_id=component, reason=reason,
                     note=note)
    return RedirectResponse(f"/vulns/operators/{operator_id}", status_code=303)


@router.post("/notifications/{notification_id}/read")
def read_notice(current: LoggedInPage, notification_id: int) -> Response:
    service.mark_notification_read(session=current.session, principal=current.principal,
                                   notification_id=notification_id)
    return RedirectResponse("/vulns", status_code=303)


@router.get("/cases/{case_id}")
def case_page(request: Request, current: LoggedInPage, case_id: int) -> Response:
    case = service.get_case(session=current.session, principal=current.principal,
                            case_id=case_id)
    supplier = "supplier" in current.principal.roles
    return render(request, "vulns/case.html", {**_labels(), "case": case, "supplier": supplier})


@router.post("/cases/{case_id}/acknowledge")
def case_acknowledge(current: LoggedInPage, case_id: int,
                     note: Annotated[str | None, Form()] = None) -> Response:
    service.acknowledge_case(session=current.session, principal=current.principal,
                             case_id=case_id, note=note)
    return RedirectResponse(f"/vulns/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/fix")
def case_fix(current: LoggedInPage, case_id: int, version: Annotated[str, Form()],
             note: Annotated[str | None, Form()] = None) -> Response:
    service.report_fix(session=current.session, principal=current.principal, case_id=case_id,
                       fix_version=version, note=note)
    return RedirectResponse(f"/vulns/cases/{case_id}", status_code=303)


@router.post("/requests/{request_id}/answer")
def request_answer(current: LoggedInPage, request_id: int, case: Annotated[int, Form()],
                   response: Annotated[str, Form()]) -> Response:
    service.respond_measures(session=current.session, principal=current.principal,
                             request_id=request_id, response=response)
    return RedirectResponse(f"/vulns/cases/{case}", status_code=303)
