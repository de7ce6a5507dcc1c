"""The operators' and recipients' pages under ``/reports``, in Japanese and English:
the list with reminders and drafts, the report form (saves drafts, explains problems
beside each field), upload with progress, the incident page, and "do I need to report?".
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import JSONResponse, RedirectResponse, Response

from mamori.errors import Forbidden, InvalidInput, MamoriError
from mamori.reporting import registry_link, service
from mamori.reporting.attack import catalogue
from mamori.reporting.form_input import (
    CHECK_FIELD,
    FIELD_LABELS,
    KIND_LABELS,
    STAGE_LABELS,
    TEXT_FIELDS,
    YES_NO_FIELDS,
    document_from_form,
    form_from_document,
)
from mamori.reporting.report_format import MAX_BYTES, STAGES, ReportFormatError
from mamori.reporting.scope import load_rules
from mamori.reporting.workflows import Workflow, load_workflows
from mamori.web import nav
from mamori.web.deps import LoggedInPage, LoggedInPageRequest
from mamori.web.i18n import N_
from mamori.web.templating import render

router = APIRouter(prefix="/reports", include_in_schema=False)

STATUS_LABELS: dict[str, str] = {
    "requested": N_("Requested"),
    "preliminary": N_("Preliminary report filed"),
    "update": N_("Update filed"),
    "final": N_("Final report filed"),
    "overdue": N_("Overdue"),
}
DECISION_LABELS: dict[str, str] = {
    "reportable": N_("Reportable"),
    "not_reportable": N_("Not reportable"),
    "ask": N_("Ask your supervising ministry"),
}
RECIPIENT_LABELS: dict[str, str] = {
    "cabinet_office": N_("Cabinet Office"),
    "supervising_ministry": N_("Supervising ministry"),
}
TRIGGER_LABELS: dict[str, str] = {
    "detection": N_("after detection"),
    "awareness": N_("after becoming aware"),
    "previous_submission": N_("after the previous report"),
    "request": N_("after the request"),
}
DRAFT_SAVED = N_("The draft is saved. You can come back to it from the list of reports.")
FIX_BELOW = N_("The report was not filed. Please correct the fields marked below.")
FILED = N_("The report was filed and sent to your supervising ministry and the Cabinet Office.")
NO_OPERATOR = N_("Your organisation has no operator in the registry yet.")
NOT_A_FILER = N_("Your roles do not file reports.")
CHOOSE_FILE = N_("Choose a JSON file to upload.")
FILE_TOO_LARGE = N_("The file is larger than 1 MiB.")

nav.register(
    url="/reports",
    label_ja="インシデント報告",
    label_en="Incident reports",
    action="report.list",
    resource_type="report",
    description_ja="特定侵害事象等の報告（速報・続報・最終報告）の作成と確認、期限と通知。",
    description_en="File and follow incident reports (preliminary, update, final), "
    "deadlines and reminders.",
    order=40,
)
nav.register(
    url="/reports/check",
    label_ja="報告が必要か確認",
    label_en="Do I need to report?",
    roles=frozenset({"operator", "council_member", "ministry_liaison", "analyst"}),
    action="report.check",
    resource_type="report",
    description_ja="機器のゾーン・分類と事象の段階から、報告の要否と理由を確認します。",
    description_en="Check from the computer's zone and category and the event's stage "
    "whether an event must be reported, and why.",
    order=41,
)


async def posted_form(request: Request) -> FormData:
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


def _tz(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.settings.timezone)


def _labels() -> dict[str, Any]:
    return {
        "status_labels": STATUS_LABELS, "decision_labels": DECISION_LABELS,
        "recipient_labels": RECIPIENT_LABELS, "trigger_labels": TRIGGER_LABELS,
        "kind_labels": KIND_LABELS, "stage_labels": STAGE_LABELS,
        "field_labels": FIELD_LABELS,
    }


def _filer_workflows(current: LoggedInPageRequest) -> list[Workflow]:
    roles = current.principal.roles
    return [w for w in load_workflows().enabled() if w.filer_roles & roles]


def _operators(current: LoggedInPageRequest) -> list[tuple[int, str]]:
    if "operator" not in current.principal.roles:
        return []
    lang = current.language
    return [(i, ja if lang == "ja" else en) for i, ja, en in registry_link.visible_operators(
        session=current.session, principal=current.principal)]


def _computers(current: LoggedInPageRequest, operator_id: int | None) -> list[Any]:
    if operator_id is None:
        return []
    return registry_link.operator_computers(session=current.session,
                                            principal=current.principal,
                                            operator_id=operator_id)


def _error_text(current: LoggedInPageRequest, error: MamoriError) -> str:
    return current.translator.gettext(error.detail)


# --- the list -------------------------------------------------------------------------


@router.get("")
def index(request: Request, current: LoggedInPage) -> Response:
    principal = current.principal
    incidents = service.list_incidents(session=current.session, principal=principal)
    files = bool(_filer_workflows(current))
    notices = drafts = []
    if files and principal.organisation_id is not None:
        notices = service.list_notifications(session=current.session, principal=principal,
                                             unread_only=True)
        drafts = service.list_drafts(session=current.session, principal=principal)
    workflows = {w.key: w.name(current.language) for w in load_workflows().workflows.values()}
    return render(request, "reporting/index.html", {
        **_labels(), "incidents": incidents, "notices": notices, "drafts": drafts,
        "can_file": files, "workflows": workflows,
    })


@router.post("/notifications/{notification_id}/read")
def read_notice(current: LoggedInPage, notification_id: int) -> Response:
    service.mark_notification_read(session=current.session, principal=current.principal,
                                   notification_id=notification_id)
    return RedirectResponse("/reports", status_code=303)


# --- the form -------------------------------------------------------------------------


def _form_context(
    current: LoggedInPageRequest, *, values: dict[str, Any], workflow: Workflow,
    operator_id: int | None, incident: Any | None, draft_id: int | None,
    errors: dict[str, list[str]] | None = None, message: str | None = None,
) -> dict[str, Any]:
    rules = load_rules()
    lang = current.language
    return {
        **_labels(), "values": values, "errors": errors or {}, "message": message,
        "workflow": workflow, "workflows": _filer_workflows(current),
        "operators": _operators(current), "operator_id": operator_id,
        "computers": _computers(current, operator_id), "incident": incident,
        "draft_id": draft_id, "stages": STAGES, "text_fields": TEXT_FIELDS,
        "yes_no_fields": YES_NO_FIELDS,
        "kinds": [k for k in workflow.kinds
                  if incident is None or k != "preliminary" or incident.current_version == 0],
        "required": set(workflow.required_fields.get(values.get("kind") or workflow.kinds[0],
                                                     ())),
        "zones": dict(rules.labels("zones", lang)),
        "categories": dict(rules.labels("categories", lang)),
    }


def _start(current: LoggedInPageRequest, regulation: str | None) -> Workflow:
    workflows = _filer_workflows(current)
    if not workflows:
        raise Forbidden(NOT_A_FILER)
    if regulation:
        chosen = load_workflows().get(regulation)
        if chosen not in workflows:
            raise Forbidden(NOT_A_FILER)
        return chosen
    return next((w for w in workflows if not w.requested_only), workflows[0])


@router.get("/new")
def new_report(
    request: Request, current: LoggedInPage, incident: int | None = None,
    kind: str | None = None, draft: int | None = None, regulation: str | None = None,
    operator: int | None = None,
) -> Response:
    """An empty form, an update started from the last version, or a saved draft."""
    values: dict[str, Any] = {}
    found = None
    if draft is not None:
        saved = service.get_draft(session=current.session, principal=current.principal,
                                  draft_id=draft)
        values = dict(saved.document.get("portal_form", {}))
        incident = incident or saved.incident_id
        operator = operator or saved.operator_id
    if incident is not None:
        found = service.get_incident(session=current.session, principal=current.principal,
                                     incident_id=incident)
        regulation, operator = found.regulation, found.operator_id
        if not values and found.versions:
            values = form_from_document(found.versions[-1].document, _tz(request))
    workflow = _start(current, regulation)
    operators = _operators(current)
    if operator is None and operators:
        operator = operators[0][0]
    if kind:
        values["kind"] = kind
    elif found is not None and "kind" not in values:
        values["kind"] = "update" if "update" in workflow.kinds else workflow.kinds[-1]
    return render(request, "reporting/form.html", _form_context(
        current, values=values, workflow=workflow, operator_id=operator, incident=found,
        draft_id=draft, message=DRAFT_SAVED if request.query_params.get("saved") else None))


@router.post("/new")
def submit_report(request: Request, current: LoggedInPage, form: PostedForm) -> Response:
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    incident_id = int(values["incident"]) if values.get("incident", "").isdigit() else None
    found = (service.get_incident(session=current.session, principal=current.principal,
                                  incident_id=incident_id) if incident_id else None)
    workflow = _start(current, found.regulation if found else values.get("regulation"))
    operator_id = (found.operator_id if found else
                   int(values["operator_id"]) if values.get("operator_id", "").isdigit()
                   else None)
    draft_id = int(values["draft_id"]) if values.get("draft_id", "").isdigit() else None
    if values.get("action") == "save_draft":
        draft = service.save_draft(
            session=current.session, principal=current.principal, draft_id=draft_id,
            incident_id=incident_id, operator_id=operator_id,
            document={"portal_form": {k: v for k, v in values.items()
                                      if k not in ("action", "draft_id")}},
        )
        query = f"draft={draft.id}&saved=1"
        return RedirectResponse(f"/reports/new?{query}", status_code=303)
    computers = {c.id: c.directly_managed for c in _computers(current, operator_id)}
    built = document_from_form(values, workflow=workflow, computers=computers, tz=_tz(request),
                               gettext=current.translator.gettext)
    errors = built.errors
    if not errors:
        try:
            incident = service.file_report(session=current.session, principal=current.principal,
                                           document=built.document, operator_id=operator_id,
                                           draft_id=draft_id)
            return RedirectResponse(f"/reports/{incident.id}?filed=1", status_code=303)
        except ReportFormatError as exc:
            key = str(exc.extra.get("field", "")).split(".")[-1].split("[")[0]
            errors = {key: [current.translator.gettext(CHECK_FIELD) % {"detail": exc.detail}]}
        except InvalidInput as exc:
            key = str(exc.extra.get("field", "")).split(".")[0].split("[")[0]
            errors = {key or "form": [_error_text(current, exc)]}
    current.session.rollback()
    return render(request, "reporting/form.html", _form_context(
        current, values=values, workflow=workflow, operator_id=operator_id, incident=found,
        draft_id=draft_id, errors=errors, message=FIX_BELOW), status_code=422)


# --- upload ---------------------------------------------------------------------------


@router.get("/upload")
def upload_page(request: Request, current: LoggedInPage) -> Response:
    _start(current, None)
    return render(request, "reporting/upload.html", {
        "operators": _operators(current), "max_kib": MAX_BYTES // 1024})


@router.post("/upload")
def upload(request: Request, current: LoggedInPage, form: PostedForm) -> Response:
    """A report file (JSON); the page's script shows the upload's progress."""
    wants_json = "application/json" in request.headers.get("accept", "")
    file = form.get("file")
    try:
        if not isinstance(file, UploadFile) or not file.filename:
            raise InvalidInput(CHOOSE_FILE, field="file")
        data = file.file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise InvalidInput(FILE_TOO_LARGE, field="file")
        operator = str(form.get("operator_id", ""))
        incident = service.file_report(
            session=current.session, principal=current.principal, document=data,
            operator_id=int(operator) if operator.isdigit() else None)
    except MamoriError as exc:
        current.session.rollback()
        message = _error_text(current, exc)
        if wants_json:
            return JSONResponse({"detail": message}, status_code=exc.status_code)
        return render(request, "reporting/upload.html", {
            "operators": _operators(current), "max_kib": MAX_BYTES // 1024,
            "error": message}, status_code=exc.status_code)
    url = f"/reports/{incident.id}?filed=1"
    if wants_json:
        return JSONResponse({"incident": incident.id, "url": url}, status_code=201)
    return RedirectResponse(url, status_code=303)


# --- scope check ----------------------------------------------------------------------


@router.get("/check")
def check_page(request: Request, current: LoggedInPage) -> Response:
    return _check(request, current, {})


@router.post("/check")
def check(request: Request, current: LoggedInPage, form: PostedForm) -> Response:
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    return _check(request, current, values, ask=True)


def _check(request: Request, current: LoggedInPageRequest, values: dict[str, str],
           ask: bool = False) -> Response:
    lang = current.language
    rules = load_rules()
    operators = _operators(current)
    operator_id = operators[0][0] if operators else None
    computers = _computers(current, operator_id)
    decision, error = None, None
    if ask:
        computer = values.get("computer", "")
        techniques = [t.strip().upper() for t in values.get("techniques", "").replace(
            "、", ",").split(",") if t.strip()]
        try:
            decision = service.check_scope(
                session=current.session, principal=current.principal,
                stage=values.get("stage", ""), zone=values.get("zone") or None,
                category=values.get("category") or None, techniques=techniques,
                operator_id=operator_id if computer.isdigit() else None,
                computer_ids=[int(computer)] if computer.isdigit() else [])
        except MamoriError as exc:
            error = _error_text(current, exc)
    return render(request, "reporting/check.html", {
        **_labels(), "values": values, "decision": decision, "error": error,
        "zones": rules.labels("zones", lang), "categories": rules.labels("categories", lang),
        "stages": STAGES, "computers": computers,
        "can_file": bool(_filer_workflows(current)),
    }, status_code=422 if error else 200)


# --- one incident ---------------------------------------------------------------------


@router.get("/{incident_id}")
def incident_page(request: Request, current: LoggedInPage, incident_id: int) -> Response:
    incident = service.get_incident(session=current.session, principal=current.principal,
                                    incident_id=incident_id)
    workflow = load_workflows().workflows.get(incident.regulation)
    can_file = bool(workflow and workflow.filer_roles & current.principal.roles
                    and incident.status != "final")
    ministry = None
    if incident.operator_id is not None:
        try:
            info = registry_link.operator_info(session=current.session,
                                               principal=current.principal,
                                               operator_id=incident.operator_id)
            ministry = (info.ministry_name_ja if current.language == "ja"
                        else info.ministry_name_en)
        except MamoriError:
            ministry = None
    attack = catalogue()
    return render(request, "reporting/incident.html", {
        **_labels(), "incident": incident, "workflow": workflow, "can_file": can_file,
        "ministry": ministry, "formats": service.export_formats(),
        "technique_names": {t: attack.techniques[t].name for v in incident.versions
                            for t in (x["id"] for x in v.document.get("techniques", []))
                            if t in attack.techniques},
        "filed": bool(request.query_params.get("filed")), "filed_message": FILED,
        "versions": list(reversed(incident.versions)),
    })


@router.get("/{incident_id}/export")
def export(current: LoggedInPage, incident_id: int, format: str = "stix",
           version: int | None = None) -> Response:
    result = service.export_incident(session=current.session, principal=current.principal,
                                     incident_id=incident_id, format=format, version=version)
    name = quote(f"incident-{incident_id}-{format}.json")
    return Response(json.dumps(result, ensure_ascii=False, indent=2),
                    media_type="application/json",
                    headers={"Content-Disposition": f"attachment; filename={name}"})
