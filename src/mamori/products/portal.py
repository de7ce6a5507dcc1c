"""The analysts' pages under ``/products``, in Japanese and English: the list, composing
a product (or its next version), a product with its versions, and building a tier for an
audience — what the sanitiser removed or changed and why, the lint's verdict, and the
download of each rendering."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from mamori.errors import InvalidInput, MamoriError
from mamori.products import guard, service
from mamori.products.audience import CATEGORIES, Audience
from mamori.products.renderers import FORMATS
from mamori.products.vocabulary import READERS, REASONS, TIERS, USES
from mamori.web import nav
from mamori.web.deps import LoggedInPage, LoggedInPageRequest
from mamori.web.i18n import N_
from mamori.web.templating import render

router = APIRouter(prefix="/products", include_in_schema=False)
_IDS = re.compile(r"[a-z][a-z0-9-]*--[0-9a-fA-F-]{36}")

nav.register(
    url="/products",
    label_ja="分析プロダクト",
    label_en="Products",
    action="product.list",
    resource_type="product",
    description_ja="総合整理分析情報を作成し、3つの区分（総合・提供用・周知等用）に加工して確認します。",
    description_en="Compose analysis products and build their three tiers (integrated, "
    "shareable, public) for each audience.",
    order=60,
)

COMPOSED = N_("The product was saved.")


def _labels() -> dict[str, Any]:
    return {"uses": USES, "readers": READERS, "tiers": TIERS, "categories": CATEGORIES,
            "reasons": REASONS, "formats": list(FORMATS)}


def _can_compose(current: LoggedInPageRequest) -> bool:
    return guard.permitted(session=current.session, principal=current.principal,
                           action="product.compose", resource=guard.product())


@router.get("")
def index(request: Request, current: LoggedInPage, q: str | None = None,
          all: bool = False) -> Response:
    products = service.list_products(session=current.session, principal=current.principal,
                                     include_superseded=all, text=q)
    return render(request, "products/index.html", {
        **_labels(), "products": products, "q": q or "", "show_all": all,
        "can_compose": _can_compose(current)})


def _form_values(form: FormData) -> dict[str, Any]:
    ids = _IDS.findall(str(form.get("object_ids", "")))
    return {
        "title_ja": str(form.get("title_ja", "")), "title_en": str(form.get("title_en", "")),
        "narrative_ja": str(form.get("narrative_ja", "")),
        "narrative_en": str(form.get("narrative_en", "")),
        "actions_ja": str(form.get("actions_ja", "")),
        "actions_en": str(form.get("actions_en", "")),
        "use": str(form.get("use", "")), "readers": [str(r) for r in form.getlist("readers")],
        "object_ids": ids,
    }


@router.get("/new")
def new(request: Request, current: LoggedInPage, supersedes: str | None = None) -> Response:
    values: dict[str, Any] = {"readers": [], "object_ids": [], "use": "tactical"}
    if supersedes:
        product = service.get_product(session=current.session, principal=current.principal,
                                      product_id=supersedes)
        values = product.model_dump()
    return render(request, "products/compose.html", {
        **_labels(), "values": values, "supersedes": supersedes, "error": None})


@router.post("/new")
async def create(request: Request, current: LoggedInPage) -> Response:
    form = await request.form()
    values = _form_values(form)
    supersedes = str(form.get("supersedes") or "") or None
    try:
        product = service.compose_product(session=current.session,
                                          principal=current.principal,
                                          supersedes=supersedes, **values)
    except InvalidInput as exc:
        return render(request, "products/compose.html", {
            **_labels(), "values": values, "supersedes": supersedes, "error": exc.detail},
            status_code=422)
    return RedirectResponse(f"/products/{quote(product.id)}?composed=1", status_code=303)


@router.get("/{product_id}")
def product_page(request: Request, current: LoggedInPage, product_id: str,
                 version: int | None = None) -> Response:
    product = service.get_product(session=current.session, principal=current.principal,
                                  product_id=product_id, version=version)
    versions = service.list_versions(session=current.session, principal=current.principal,
                                     product_id=product.id)
    try:
        builds = service.list_builds(session=current.session, principal=current.principal,
                                     product_id=product.id)
    except MamoriError:
        builds = []
    return render(request, "products/product.html", {
        **_labels(), "product": product, "versions": versions, "builds": builds[:20],
        "composed": bool(request.query_params.get("composed")), "composed_message": COMPOSED,
        "can_compose": _can_compose(current)})


def _audience(form: FormData) -> tuple[int, Audience]:
    try:
        tier = int(str(form.get("tier", "")))
    except ValueError:
        raise InvalidInput("tier: 1, 2 or 3", field="tier") from None
    org = str(form.get("organisation_id") or "").strip()
    if org and not org.isdigit():
        raise InvalidInput("organisation: a number", field="organisation_id")
    return tier, Audience(category=str(form.get("category", "")),
                          organisation_id=int(org) if org else None)


@router.post("/{product_id}/build")
async def build(request: Request, current: LoggedInPage, product_id: str) -> Response:
    tier, audience = _audience(await request.form())
    output = service.build_tier(session=current.session, principal=current.principal,
                                product_id=product_id, tier=tier, audience=audience)
    return render(request, "products/build.html", {
        **_labels(), "output": output, "items": output.report.items})


@router.post("/{product_id}/export")
async def export(request: Request, current: LoggedInPage, product_id: str) -> Response:
    form = await request.form()
    tier, audience = _audience(form)
    fmt = str(form.get("format", "stix"))
    if fmt not in FORMATS:
        raise InvalidInput(f"format: one of {', '.join(FORMATS)}", field="format")
    output = service.build_tier(session=current.session, principal=current.principal,
                                product_id=product_id, tier=tier, audience=audience)
    data = service.render(output=output, format=fmt)  # type: ignore[arg-type]
    name = quote(service.file_name(output, fmt))  # type: ignore[arg-type]
    return Response(data, media_type=service.media_type(fmt),  # type: ignore[arg-type]
                    headers={"Content-Disposition": f"attachment; filename={name}"})
