"""The register's JSON API under ``/api/v1/registry``: the portal's powers for an
operator's tools (asset inventories, SBOM generators, scripts)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile as StarletteUploadFile
from starlette.responses import Response

from mamori.errors import NotFound
from mamori.registry import service
from mamori.registry.entries import ComponentEntry, ComputerEntry, component
from mamori.registry.imports import MAX_BYTES
from mamori.registry.messages import N_, RegistryInputError
from mamori.registry.models import (
    Component,
    Computer,
    ComputerVersion,
    Consultation,
    ImportResult,
    Operator,
    OperatorTransition,
    SectorSummary,
    Site,
    SupervisingMinistry,
)
from mamori.web.deps import CurrentPrincipal, DbSession

router = APIRouter(prefix="/api/v1/registry", tags=["registry"])

CSV_TYPE = "text/csv; charset=utf-8"
CDX_TYPE = "application/vnd.cyclonedx+json"


class OperatorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    sector: str = Field(min_length=1, max_length=64)
    name_en: str | None = Field(default=None, max_length=200)
    organisation: str | None = Field(default=None, max_length=64,
                                     description="Code of the sign-in organisation.")
    supervising_ministry: str | None = Field(default=None, max_length=64)


class OperatorOut(BaseModel):
    operator: Operator
    ministry: SupervisingMinistry


class SiteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    address: str | None = Field(default=None, max_length=300)


class ComponentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=300)
    version: str | None = Field(default=None, max_length=200)
    supplier: str | None = Field(default=None, max_length=300)
    component_type: str | None = Field(default=None, max_length=32)
    cpe: str | None = Field(default=None, max_length=1024, description="CPE 2.3 formatted string")
    purl: str | None = Field(default=None, max_length=2048, description="Package URL")


class ComputerIn(BaseModel):
    """A computer's notification fields; ``components`` omitted keeps the current list."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    device_category: str | None = None
    site: str | None = Field(default=None, description="Site name (created if new).")
    facility: str | None = None
    zone: str | None = Field(default=None,
                             description="critical_equipment, internal or internet_boundary")
    directly_managed: bool = True
    manager_name: str | None = None
    manager_contact: str | None = None
    cloud_form: str | None = Field(default=None, description="iaas, paas or saas")
    cloud_provider: str | None = None
    product_vendor: str | None = None
    product_name: str | None = None
    product_version: str | None = None
    custom_designed: bool = False
    exemption_reason: str | None = None
    existing: bool = False
    in_service_since: date | None = None
    linked_to: str | None = Field(default=None, description="Name of an existing computer.")
    notes: str | None = None
    components: list[ComponentIn] | None = None
    notify: bool = Field(default=False, description="Notify now instead of saving a draft.")

    def entry(self) -> ComputerEntry:
        parts: list[ComponentEntry] | None = None
        if self.components is not None:
            parts = []
            for index, item in enumerate(self.components, start=1):
                try:
                    parts.append(component(**item.model_dump()))
                except RegistryInputError as error:
                    raise error.located(item=index) from None
        data = self.model_dump(exclude={"components", "notify"})
        return ComputerEntry(**data, components=parts)


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=4000)


class QuestionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=200)
    question: str = Field(min_length=1, max_length=4000)
    computer_id: int | None = None


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str = Field(min_length=1, max_length=4000)
    conclusion: str = Field(description="notification_required, not_required or see_answer")


class SettingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: Any
    reason: str | None = Field(default=None, max_length=500)


# --- operators and sites ----------------------------------------------------------------


@router.get("/operators", response_model=list[Operator], summary="Operators you may view")
def operators(
    principal: CurrentPrincipal, session: DbSession, sector: str | None = None
) -> list[Operator]:
    return service.list_operators(session=session, principal=principal, sector=sector)


@router.post("/operators", response_model=Operator, status_code=201,
             summary="Register an operator")
def add_operator(body: OperatorIn, principal: CurrentPrincipal, session: DbSession) -> Operator:
    return service.add_operator(session=session, principal=principal, **body.model_dump())


@router.get("/operators/{operator_id}", response_model=OperatorOut, summary="One operator")
def operator(operator_id: int, principal: CurrentPrincipal, session: DbSession) -> OperatorOut:
    return OperatorOut(
        operator=service.get_operator(session=session, principal=principal,
                                      operator_id=operator_id),
        ministry=service.operator_supervising_ministry(
            session=session, principal=principal, operator_id=operator_id),
    )


@router.get("/operators/{operator_id}/sites", response_model=list[Site], summary="Sites")
def sites(operator_id: int, principal: CurrentPrincipal, session: DbSession) -> list[Site]:
    return service.list_sites(session=session, principal=principal, operator_id=operator_id)


@router.post("/operators/{operator_id}/sites", response_model=Site, status_code=201,
             summary="Add a site")
def add_site(
    operator_id: int, body: SiteIn, principal: CurrentPrincipal, session: DbSession
) -> Site:
    return service.add_site(session=session, principal=principal, operator_id=operator_id,
                            name=body.name, address=body.address)


# --- computers ----------------------------------------------------------------------------


@router.get("/operators/{operator_id}/computers", response_model=list[Computer],
            summary="An operator's computers with their components")
def computers(operator_id: int, principal: CurrentPrincipal, session: DbSession) -> list[Computer]:
    return service.find_computers(session=session, principal=principal, operator_id=operator_id)


@router.post("/operators/{operator_id}/computers", response_model=Computer, status_code=201,
             summary="Save a new computer as a draft, or notify it")
def create_computer(
    operator_id: int, body: ComputerIn, principal: CurrentPrincipal, session: DbSession
) -> Computer:
    return service.create_computer(
        session=session, principal=principal, operator_id=operator_id, entry=body.entry(),
        notify=body.notify, source="api",
    )


@router.get("/computers/{computer_id}", response_model=Computer, summary="One computer")
def computer(computer_id: int, principal: CurrentPrincipal, session: DbSession) -> Computer:
    return service.get_computer(session=session, principal=principal, computer_id=computer_id)


@router.put("/computers/{computer_id}", response_model=Computer,
            summary="Replace a computer's fields (a change notification once notified)")
def update_computer(
    computer_id: int, body: ComputerIn, principal: CurrentPrincipal, session: DbSession
) -> Computer:
    return service.update_computer(
        session=session, principal=principal, computer_id=computer_id, entry=body.entry(),
        notify=body.notify, source="api",
    )


@router.post("/computers/{computer_id}/notify", response_model=Computer,
             summary="Submit a draft as a notification")
def notify(computer_id: int, principal: CurrentPrincipal, session: DbSession) -> Computer:
    return service.notify_computer(session=session, principal=principal, computer_id=computer_id)


@router.post("/computers/{computer_id}/withdraw", response_model=Computer,
             summary="Notify that a computer left service")
def withdraw(
    computer_id: int, body: WithdrawIn, principal: CurrentPrincipal, session: DbSession
) -> Computer:
    return service.withdraw_computer(session=session, principal=principal,
                                     computer_id=computer_id, reason=body.reason)


@router.get("/computers/{computer_id}/history", response_model=list[ComputerVersion],
            summary="Every version: what changed, when, by whom")
def history(
    computer_id: int, principal: CurrentPrincipal, session: DbSession
) -> list[ComputerVersion]:
    return service.computer_history(session=session, principal=principal,
                                    computer_id=computer_id)


@router.get("/computers/{computer_id}/sbom", summary="The computer as a CycloneDX 1.6 SBOM")
def sbom(computer_id: int, principal: CurrentPrincipal, session: DbSession) -> Response:
    text = service.export_sbom(session=session, principal=principal, computer_id=computer_id)
    return Response(text, media_type=CDX_TYPE)


@router.get("/components", response_model=list[Component],
            summary="Components by CPE vendor/product or purl type/name")
def components(
    principal: CurrentPrincipal,
    session: DbSession,
    operator_id: int | None = None,
    cpe_vendor: str | None = None,
    cpe_product: str | None = None,
    purl_type: str | None = None,
    purl_name: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[Component]:
    return service.list_components(
        session=session, principal=principal, operator_id=operator_id, cpe_vendor=cpe_vendor,
        cpe_product=cpe_product, purl_type=purl_type, purl_name=purl_name, limit=limit,
        offset=offset,
    )


# --- files -------------------------------------------------------------------------------


async def _upload(request: Request) -> tuple[bytes, dict[str, str]]:
    """The file and form fields of a multipart upload, or a raw body and the query."""
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, StarletteUploadFile):
            raise RegistryInputError(N_("the file is empty"), field="file")
        data = await upload.read(MAX_BYTES + 1)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        return data, fields
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            raise RegistryInputError(
                N_("the file is larger than %(limit)s MiB"), field="file",
                limit=MAX_BYTES // (1024 * 1024),
            )
        chunks.append(chunk)
    return b"".join(chunks), dict(request.query_params)


Upload = Annotated[tuple[bytes, dict[str, str]], Depends(_upload)]


@router.post(
    "/operators/{operator_id}/imports", response_model=ImportResult, status_code=201,
    summary="Import a CycloneDX SBOM (JSON/XML) or the CSV template: all or nothing",
    description="Send the file as the request body (`Content-Type: application/json`, "
    "`application/xml`, `text/csv` or `application/octet-stream`) with `computer`, "
    "`format` and `notify` as query parameters, or as a multipart form field `file`.",
)
def import_file(
    operator_id: int, principal: CurrentPrincipal, session: DbSession, upload: Upload
) -> ImportResult:
    data, fields = upload
    return service.import_file(
        session=session, principal=principal, operator_id=operator_id, data=data,
        computer=fields.get("computer") or None, fmt=fields.get("format") or None,
        notify=fields.get("notify", "").lower() in ("1", "true", "on", "yes"),
    )


@router.get("/operators/{operator_id}/export.csv", summary="The register in the CSV layout")
def export_csv(operator_id: int, principal: CurrentPrincipal, session: DbSession) -> Response:
    text = service.export_csv(session=session, principal=principal, operator_id=operator_id)
    return Response(text, media_type=CSV_TYPE)


@router.get("/template.csv", summary="The CSV template for bulk notification")
def template(principal: CurrentPrincipal) -> Response:
    del principal  # signed-in users only, like the rest of the register
    return Response(
        "\ufeff" + service.csv_template(), media_type=CSV_TYPE,
        headers={"Content-Disposition": 'attachment; filename="mamori-registry-template.csv"'},
    )


# --- transition, consultations, settings ---------------------------------------------------


@router.get("/operators/{operator_id}/transition", response_model=OperatorTransition,
            summary="What is due and overdue for one operator")
def operator_transition(
    operator_id: int, principal: CurrentPrincipal, session: DbSession
) -> OperatorTransition:
    return service.operator_transition(session=session, principal=principal,
                                       operator_id=operator_id)


@router.get("/transition", response_model=list[SectorSummary],
            summary="By sector: notified, due, overdue and missing")
def transition(principal: CurrentPrincipal, session: DbSession) -> list[SectorSummary]:
    return service.transition_overview(session=session, principal=principal)


@router.get("/operators/{operator_id}/consultations", response_model=list[Consultation],
            summary="An operator's consultations")
def consultations(
    operator_id: int, principal: CurrentPrincipal, session: DbSession
) -> list[Consultation]:
    return service.list_consultations(session=session, principal=principal,
                                      operator_id=operator_id)


@router.post("/operators/{operator_id}/consultations", response_model=Consultation,
             status_code=201, summary="Ask whether something must be notified")
def ask(
    operator_id: int, body: QuestionIn, principal: CurrentPrincipal, session: DbSession
) -> Consultation:
    return service.ask(session=session, principal=principal, operator_id=operator_id,
                       subject=body.subject, question=body.question,
                       computer_id=body.computer_id)


@router.get("/consultations", response_model=list[Consultation],
            summary="Open consultations you may answer")
def open_consultations(principal: CurrentPrincipal, session: DbSession) -> list[Consultation]:
    return service.open_consultations(session=session, principal=principal)


@router.post("/consultations/{consultation_id}/answer", response_model=Consultation,
             summary="Answer a consultation")
def answer(
    consultation_id: int, body: AnswerIn, principal: CurrentPrincipal, session: DbSession
) -> Consultation:
    return service.answer(session=session, principal=principal,
                          consultation_id=consultation_id, answer=body.answer,
                          conclusion=body.conclusion)


@router.get("/categories", summary="The device-category taxonomy (機器の分類)")
def categories(version: int | None = None) -> dict[str, Any]:
    found = service.device_categories(version)
    if found is None:
        raise NotFound("no such taxonomy version", field="version")
    return {
        "version": found.version,
        "published": found.published,
        "sources": list(found.sources),
        "groups": found.groups,
        "categories": [vars(c) for c in found.categories.values()],
    }


@router.get("/settings", summary="The register's settings in force")
def settings(principal: CurrentPrincipal, session: DbSession) -> dict[str, Any]:
    return service.registry_settings(session=session, principal=principal)


@router.put("/settings/{key}", summary="Set a new version of one setting (administrators)")
def configure(
    key: str, body: SettingIn, principal: CurrentPrincipal, session: DbSession
) -> dict[str, Any]:
    version = service.configure(session=session, principal=principal, key=key,
                                value=body.value, reason=body.reason)
    return {"key": key, "version": version}
