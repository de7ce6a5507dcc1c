"""The operator portal's pages under ``/registry``, in Japanese and English.

Operators notify and amend their computers (forms that save drafts, uploads with a
progress bar), see what is due and overdue, and consult; the Cabinet Office and the
supervising ministries see the register, the transition by sector and the questions
waiting for an answer.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from mamori.errors import MamoriError
from mamori.registry import configuration, guard, service, taxonomy
from mamori.registry.forms import (
    BLANK_COMPONENT_ROWS,
    FIELD_LABELS,
    entry_from_form,
    form_values,
)
from mamori.registry.imports import MAX_BYTES
from mamori.registry.messages import N_, RegistryInputError
from mamori.registry.models import Computer
from mamori.web import nav
from mamori.web.deps import LoggedInPage, LoggedInPageRequest
from mamori.web.templating import render

router = APIRouter(prefix="/registry", include_in_schema=False)

STATUS_LABELS: dict[str, str] = {
    "draft": N_("Draft"),
    "notified": N_("Notified"),
    "exempt": N_("Exempt (custom-designed)"),
    "withdrawn": N_("Withdrawn"),
}
STATE_LABELS: dict[str, str] = {
    "overdue": N_("Overdue"),
    "due": N_("Due"),
    "notified": N_("Notified"),
    "exempt": N_("Exempt"),
    "withdrawn": N_("Withdrawn"),
    "no_deadline": N_("No transition deadline"),
}
NOTIFICATION_LABELS: dict[str, str] = {
    "": N_("Draft saved"),
    "new": N_("Notification"),
    "exemption": N_("Exemption claimed"),
    "change": N_("Change notification"),
    "withdrawal": N_("Withdrawal"),
}
COMPONENT_LABEL = N_("Component %(item)s")
ROW_LABEL = N_("Row %(row)s")

nav.register(
    url="/registry",
    label_ja="特定重要電子計算機の届出",
    label_en="Critical computer notifications",
    action="operator.list",
    resource_type="registry",
    description_ja="特定重要電子計算機とその構成要素（SBOM）を届け出て、変更・経過措置の期限を管理します。",
    description_en="Notify specified critical computers and their components (SBOMs), "
    "amend them and follow the transition deadline.",
    order=30,
)
nav.register(
    url="/registry/transition",
    label_ja="届出状況（分野別）",
    label_en="Notifications by sector",
    action="registry.overview",
    resource_type="registry",
    description_ja="経過措置の期限に対する届出済・期限内・期限超過・未届出を分野別に示します。",
    description_en="Notified, due, overdue and missing notifications by sector under the "
    "transition.",
    order=31,
)


async def posted_form(request: Request) -> FormData:
    """The posted form (already read for the CSRF check), for sync handlers."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


def _error_text(current: LoggedInPageRequest, error: MamoriError) -> str:
    """A message for a person, in their language, naming the field by its label."""
    gettext = current.translator.gettext
    if not isinstance(error, RegistryInputError):
        return gettext(error.detail)
    where: list[str] = []
    if error.row is not None:
        where.append(gettext(ROW_LABEL) % {"row": error.row})
    if error.item is not None:
        where.append(gettext(COMPONENT_LABEL) % {"item": error.item})
    if error.field:
        where.append(gettext(FIELD_LABELS[error.field]) if error.field in FIELD_LABELS
                     else error.field)
    text = gettext(error.message_id)
    if error.params:
        text = text % error.params
    return f"{' · '.join(where)}: {text}" if where else text


def _lookups(current: LoggedInPageRequest) -> dict[str, Any]:
    """Names of codes in the reader's language, for every page."""
    lang = current.language
    values = configuration.current(current.session)
    newest = taxonomy.newest()
    return {
        "status_labels": STATUS_LABELS,
        "state_labels": STATE_LABELS,
        "notification_labels": NOTIFICATION_LABELS,
        "field_labels": FIELD_LABELS,
        "zones": {code: names[lang] for code, names in configuration.ZONES.items()},
        "cloud_forms": {code: f[lang] for code, f in values["cloud_forms"].items()},
        "sectors": {code: s[lang] for code, s in values["sectors"].items()},
        "ministries": {code: m[lang] for code, m in values["ministries"].items()},
        "conclusions": {code: c[lang] for code, c in service.CONCLUSIONS.items()},
        "category_groups": [
            (newest.group_name(group, lang),
             [(c.code, c.name(lang)) for c in newest.categories.values() if c.group == group])
            for group in newest.groups
        ],
        "category_names": {
            c.code: c.name(lang) for t in taxonomy.versions().values()
            for c in t.categories.values()
        },
        "taxonomy": newest,
    }


def _permitted_on(current: LoggedInPageRequest, operator_id: int, action: str) -> bool:
    from mamori.registry.operators import load_operator

    return guard.permitted_operator(
        session=current.session, principal=current.principal, action=action,
        operator=load_operator(current.session, operator_id),
    )


# --- the register's front page ------------------------------------------------------------


@router.get("")
def index(request: Request, current: LoggedInPage) -> Response:
    """Operators the reader may view; an operator's staff go straight to their own."""
    operators = service.list_operators(session=current.session, principal=current.principal)
    if "operator" in current.principal.roles and len(operators) == 1:
        return RedirectResponse(f"/registry/operators/{operators[0].id}", status_code=303)
    can_answer = guard.permitted_registry(
        session=current.session, principal=current.principal, action="registry.overview"
    )
    return render(request, "registry/index.html", {
        **_lookups(current),
        "operators": operators,
        "can_add": guard.permitted_registry(
            session=current.session, principal=current.principal, action="operator.add"),
        "can_overview": can_answer,
        "open_consultations": service.open_consultations(
            session=current.session, principal=current.principal) if can_answer else [],
    })


@router.post("/operators")
def add_operator(
    request: Request,
    current: LoggedInPage,
    name: Annotated[str, Form(max_length=200)],
    sector: Annotated[str, Form(max_length=64)],
    name_en: Annotated[str | None, Form(max_length=200)] = None,
    organisation: Annotated[str | None, Form(max_length=64)] = None,
) -> Response:
    try:
        operator = service.add_operator(
            session=current.session, principal=current.principal, name=name, sector=sector,
            name_en=name_en or None, organisation=organisation or None,
        )
    except MamoriError as error:
        if error.status_code in (401, 403):
            raise
        current.session.rollback()
        return render(request, "registry/index.html", {
            **_lookups(current),
            "operators": service.list_operators(session=current.session,
                                                principal=current.principal),
            "can_add": True, "can_overview": True, "open_consultations": [],
            "error": _error_text(current, error),
            "values": {"name": name, "sector": sector, "name_en": name_en or "",
                       "organisation": organisation or ""},
        }, status_code=error.status_code)
    return RedirectResponse(f"/registry/operators/{operator.id}", status_code=303)


@router.get("/transition")
def transition(request: Request, current: LoggedInPage) -> Response:
    """The agency's overview: notified, due, overdue and missing, by sector."""
    summaries = service.transition_overview(session=current.session, principal=current.principal)
    operators = {o.id: o for o in service.list_operators(
        session=current.session, principal=current.principal)}
    values = configuration.current(current.session)
    return render(request, "registry/transition.html", {
        **_lookups(current),
        "summaries": summaries,
        "operators": operators,
        "commencement": configuration.commencement(values),
        "transition_months": values["transition_months"],
    })


# --- one operator -------------------------------------------------------------------------


@router.get("/operators/{operator_id}")
def operator_page(request: Request, current: LoggedInPage, operator_id: int) -> Response:
    session, principal = current.session, current.principal
    operator = service.get_operator(session=session, principal=principal, operator_id=operator_id)
    return render(request, "registry/operator.html", {
        **_lookups(current),
        "operator": operator,
        "ministry": service.operator_supervising_ministry(
            session=session, principal=principal, operator_id=operator_id),
        "computers": service.find_computers(
            session=session, principal=principal, operator_id=operator_id),
        "sites": {s.id: s.name for s in service.list_sites(
            session=session, principal=principal, operator_id=operator_id)},
        "transition": service.operator_transition(
            session=session, principal=principal, operator_id=operator_id),
        "consultations": service.list_consultations(
            session=session, principal=principal, operator_id=operator_id),
        "can_notify": _permitted_on(current, operator_id, "registry.notify"),
        "can_consult": _permitted_on(current, operator_id, "registry.consult"),
        "can_answer": _permitted_on(current, operator_id, "registry.answer"),
    })


def _form_page(
    request: Request,
    current: LoggedInPageRequest,
    *,
    operator_id: int,
    computer: Computer | None,
    form: FormData | None = None,
    error: MamoriError | None = None,
) -> Response:
    session, principal = current.session, current.principal
    sites = service.list_sites(session=session, principal=principal, operator_id=operator_id)
    others = service.find_computers(session=session, principal=principal, operator_id=operator_id)
    values = form_values(computer, dict(form) if form is not None else None)
    if computer is not None and form is None:
        values["site"] = next((s.name for s in sites if s.id == computer.site_id), "")
        values["linked_to"] = next(
            (c.name for c in others if c.id == computer.linked_to_id), "")
    if form is not None:
        columns = ("component_name", "component_version", "component_supplier",
                   "component_type", "cpe", "purl")
        lists = {c: [str(v) for v in form.getlist(c)] for c in columns}
        rows = [
            {c: (lists[c][i] if i < len(lists[c]) else "") for c in columns}
            for i in range(max((len(v) for v in lists.values()), default=0))
        ]
    else:
        rows = [
            {"component_name": p.name, "component_version": p.version or "",
             "component_supplier": p.supplier or "", "component_type": p.component_type or "",
             "cpe": p.cpe or "", "purl": p.purl or ""}
            for p in (computer.components if computer else [])
        ]
    rows = [r for r in rows if any(r.values())] + [{}] * BLANK_COMPONENT_ROWS
    status = error.status_code if error is not None else 200
    return render(request, "registry/computer_form.html", {
        **_lookups(current),
        "operator": service.get_operator(session=session, principal=principal,
                                         operator_id=operator_id),
        "computer": computer,
        "values": values,
        "component_rows": rows,
        "site_names": [s.name for s in sites],
        "existing_names": [c.name for c in others if c.existing and
                           (computer is None or c.id != computer.id)],
        "error": _error_text(current, error) if error is not None else None,
        "error_field": getattr(error, "field", None),
        "required": configuration.required_fields(
            configuration.current(session), values.get("device_category") or None),
    }, status_code=status)


@router.get("/operators/{operator_id}/computers/new")
def new_computer(request: Request, current: LoggedInPage, operator_id: int) -> Response:
    service.get_operator(session=current.session, principal=current.principal,
                         operator_id=operator_id)
    return _form_page(request, current, operator_id=operator_id, computer=None)


def _wants_notify(form: FormData) -> bool:
    return form.get("action") == "notify"


@router.post("/operators/{operator_id}/computers")
def create_computer(
    request: Request, current: LoggedInPage, operator_id: int, form: PostedForm
) -> Response:
    try:
        computer = service.create_computer(
            session=current.session, principal=current.principal, operator_id=operator_id,
            entry=entry_from_form(form), notify=_wants_notify(form), source="form",
        )
    except MamoriError as error:
        if error.status_code in (401, 403, 404):
            raise
        current.session.rollback()
        return _form_page(request, current, operator_id=operator_id, computer=None,
                          form=form, error=error)
    return RedirectResponse(f"/registry/computers/{computer.id}", status_code=303)


@router.get("/computers/{computer_id}")
def computer_page(request: Request, current: LoggedInPage, computer_id: int) -> Response:
    session, principal = current.session, current.principal
    computer = service.get_computer(session=session, principal=principal,
                                    computer_id=computer_id)
    others = {c.id: c.name for c in service.find_computers(
        session=session, principal=principal, operator_id=computer.operator_id)}
    return render(request, "registry/computer.html", {
        **_lookups(current),
        "computer": computer,
        "operator": service.get_operator(session=session, principal=principal,
                                         operator_id=computer.operator_id),
        "site": {s.id: s.name for s in service.list_sites(
            session=session, principal=principal, operator_id=computer.operator_id)
        }.get(computer.site_id or 0),
        "linked_name": others.get(computer.linked_to_id or 0),
        "history": list(reversed(service.computer_history(
            session=session, principal=principal, computer_id=computer_id))),
        "consultations": service.list_consultations(
            session=session, principal=principal, operator_id=computer.operator_id,
            computer_id=computer_id),
        "can_notify": _permitted_on(current, computer.operator_id, "registry.notify"),
        "can_consult": _permitted_on(current, computer.operator_id, "registry.consult"),
        "can_answer": _permitted_on(current, computer.operator_id, "registry.answer"),
    })


@router.get("/computers/{computer_id}/edit")
def edit_computer(request: Request, current: LoggedInPage, computer_id: int) -> Response:
    computer = service.get_computer(session=current.session, principal=current.principal,
                                    computer_id=computer_id)
    return _form_page(request, current, operator_id=computer.operator_id, computer=computer)


@router.post("/computers/{computer_id}")
def update_computer(
    request: Request, current: LoggedInPage, computer_id: int, form: PostedForm
) -> Response:
    computer = service.get_computer(session=current.session, principal=current.principal,
                                    computer_id=computer_id)
    try:
        service.update_computer(
            session=current.session, principal=current.principal, computer_id=computer_id,
            entry=entry_from_form(form), notify=_wants_notify(form), source="form",
        )
    except MamoriError as error:
        if error.status_code in (401, 403, 404):
            raise
        current.session.rollback()
        return _form_page(request, current, operator_id=computer.operator_id,
                          computer=computer, form=form, error=error)
    return RedirectResponse(f"/registry/computers/{computer_id}", status_code=303)


@router.post("/computers/{computer_id}/notify")
def notify_computer(current: LoggedInPage, computer_id: int) -> Response:
    service.notify_computer(session=current.session, principal=current.principal,
                            computer_id=computer_id)
    return RedirectResponse(f"/registry/computers/{computer_id}", status_code=303)


@router.post("/computers/{computer_id}/withdraw")
def withdraw_computer(
    current: LoggedInPage, computer_id: int,
    reason: Annotated[str | None, Form(max_length=4000)] = None,
) -> Response:
    service.withdraw_computer(session=current.session, principal=current.principal,
                              computer_id=computer_id, reason=reason or None)
    return RedirectResponse(f"/registry/computers/{computer_id}", status_code=303)


@router.get("/computers/{computer_id}/sbom.json")
def computer_sbom(current: LoggedInPage, computer_id: int) -> Response:
    text = service.export_sbom(session=current.session, principal=current.principal,
                               computer_id=computer_id)
    return Response(text, media_type="application/vnd.cyclonedx+json", headers={
        "Content-Disposition": f'attachment; filename="computer-{computer_id}.cdx.json"'})


# --- files ---------------------------------------------------------------------------------


@router.get("/template.csv")
def template_csv(current: LoggedInPage) -> Response:
    del current
    return Response("\ufeff" + service.csv_template(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition":
                             'attachment; filename="mamori-registry-template.csv"'})


@router.get("/operators/{operator_id}/export.csv")
def export_csv(current: LoggedInPage, operator_id: int) -> Response:
    text = service.export_csv(session=current.session, principal=current.principal,
                              operator_id=operator_id)
    return Response("\ufeff" + text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="operator-{operator_id}.csv"'})


@router.get("/operators/{operator_id}/import")
def import_page(request: Request, current: LoggedInPage, operator_id: int) -> Response:
    operator = service.get_operator(session=current.session, principal=current.principal,
                                    operator_id=operator_id)
    return render(request, "registry/import.html", {
        **_lookups(current), "operator": operator, "max_mib": MAX_BYTES // (1024 * 1024),
    })


@router.post("/operators/{operator_id}/import")
def import_upload(
    request: Request,
    current: LoggedInPage,
    operator_id: int,
    file: Annotated[UploadFile, File()],
    computer: Annotated[str | None, Form(max_length=200)] = None,
    notify: Annotated[str | None, Form(max_length=8)] = None,
) -> Response:
    """Take the upload whole or not at all; htmx gets the result panel back."""
    operator = service.get_operator(session=current.session, principal=current.principal,
                                    operator_id=operator_id)
    context: dict[str, Any] = {**_lookups(current), "operator": operator,
                               "max_mib": MAX_BYTES // (1024 * 1024)}
    status = 200
    try:
        context["result"] = service.import_file(
            session=current.session, principal=current.principal, operator_id=operator_id,
            data=file.file.read(MAX_BYTES + 1), computer=computer or None,
            notify=notify in ("on", "true", "1"),
        )
    except MamoriError as error:
        if error.status_code in (401, 403, 404):
            raise
        current.session.rollback()
        context["error"] = _error_text(current, error)
        status = error.status_code
    if request.headers.get("hx-request"):  # htmx swaps 2xx only: the panel says what failed
        return render(request, "registry/_import_result.html", context)
    return render(request, "registry/import.html", context, status_code=status)


# --- consultations ---------------------------------------------------------------------------


@router.post("/operators/{operator_id}/consultations")
def ask(
    current: LoggedInPage,
    operator_id: int,
    subject: Annotated[str, Form(max_length=200)],
    question: Annotated[str, Form(max_length=4000)],
    computer_id: Annotated[int | None, Form()] = None,
) -> Response:
    service.ask(session=current.session, principal=current.principal, operator_id=operator_id,
                subject=subject, question=question, computer_id=computer_id)
    target = f"/registry/computers/{computer_id}" if computer_id \
        else f"/registry/operators/{operator_id}"
    return RedirectResponse(f"{target}#consultations", status_code=303)


@router.post("/consultations/{consultation_id}/answer")
def answer(
    current: LoggedInPage,
    consultation_id: int,
    answer: Annotated[str, Form(max_length=4000)],
    conclusion: Annotated[str, Form(max_length=32)],
) -> Response:
    found = service.answer(session=current.session, principal=current.principal,
                           consultation_id=consultation_id, answer=answer,
                           conclusion=conclusion)
    return RedirectResponse(f"/registry/operators/{found.operator_id}#consultations",
                            status_code=303)
