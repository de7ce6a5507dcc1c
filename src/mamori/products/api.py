"""The JSON API of products under ``/api/v1/products``: the same powers as the portal
and the CLI, as RFC 9457 problem details on error."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from mamori.errors import InvalidInput
from mamori.products import service
from mamori.products.audience import Audience
from mamori.products.models import CriteriaOut, DeterminationOut, Product, TierBuildOut
from mamori.products.renderers import FORMATS
from mamori.web.deps import CurrentPrincipal, DbSession

router = APIRouter(prefix="/api/v1/products", tags=["products"])


class ProductBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title_ja: str = Field(max_length=300)
    title_en: str = Field(max_length=300)
    narrative_ja: str = ""
    narrative_en: str = ""
    use: str
    readers: list[str] = Field(max_length=20)
    object_ids: list[str] = Field(default_factory=list, max_length=1000)
    actions_ja: str = ""
    actions_en: str = ""
    supersedes: str | None = None


class AudienceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str
    organisation_id: int | None = None
    attribution_consents: list[str] = Field(default_factory=list, max_length=100)

    def audience(self) -> Audience:
        return Audience(category=self.category, organisation_id=self.organisation_id,
                        attribution_consents=frozenset(self.attribution_consents))


class CriteriaBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[dict[str, str]] = Field(max_length=100)
    decision_ref: str
    reason: str | None = None
    reassess: bool = False


class DeterminationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stix_id: str
    answers: dict[str, bool]
    decision_ref: str


@router.get("", response_model=list[Product])
def list_products(session: DbSession, principal: CurrentPrincipal, include_superseded: bool = False,
                  use: str | None = None, reader: str | None = None, q: str | None = None,
                  limit: int = 100, offset: int = 0) -> list[Product]:
    return service.list_products(session=session, principal=principal,
                                 include_superseded=include_superseded, use=use, reader=reader,
                                 text=q, limit=limit, offset=offset)


@router.post("", response_model=Product, status_code=201)
def compose(body: ProductBody, session: DbSession, principal: CurrentPrincipal) -> Product:
    return service.compose_product(session=session, principal=principal,
                                   **body.model_dump())


@router.get("/criteria", response_model=CriteriaOut)
def criteria(session: DbSession, principal: CurrentPrincipal) -> CriteriaOut:
    return service.current_criteria(session=session, principal=principal)


@router.post("/criteria", response_model=CriteriaOut, status_code=201)
def set_criteria(body: CriteriaBody, session: DbSession,
                 principal: CurrentPrincipal) -> CriteriaOut:
    return service.set_criteria(session=session, principal=principal, items=body.items,
                                decision_ref=body.decision_ref, reason=body.reason,
                                reassess=body.reassess)


@router.post("/determinations", response_model=DeterminationOut, status_code=201)
def determine(body: DeterminationBody, session: DbSession,
              principal: CurrentPrincipal) -> DeterminationOut:
    return service.determine(session=session, principal=principal, stix_id=body.stix_id,
                             answers=body.answers, decision_ref=body.decision_ref)


@router.get("/{product_id}", response_model=Product)
def get_product(product_id: str, session: DbSession, principal: CurrentPrincipal,
                version: int | None = None) -> Product:
    return service.get_product(session=session, principal=principal, product_id=product_id,
                               version=version)


@router.get("/{product_id}/versions", response_model=list[Product])
def versions(product_id: str, session: DbSession, principal: CurrentPrincipal) -> list[Product]:
    return service.list_versions(session=session, principal=principal, product_id=product_id)


@router.get("/{product_id}/builds", response_model=list[TierBuildOut])
def builds(product_id: str, session: DbSession,
           principal: CurrentPrincipal) -> list[TierBuildOut]:
    return service.list_builds(session=session, principal=principal, product_id=product_id)


@router.post("/{product_id}/tiers/{tier}")
def build(product_id: str, tier: int, body: AudienceBody, session: DbSession,
          principal: CurrentPrincipal) -> dict[str, Any]:
    """Build a tier output: its digest, the sanitisation report and the lint's verdict."""
    output = service.build_tier(session=session, principal=principal, product_id=product_id,
                                tier=tier, audience=body.audience())
    return output.summary()


@router.post("/{product_id}/tiers/{tier}/{format}")
def export(product_id: str, tier: int, format: str, body: AudienceBody,
           session: DbSession, principal: CurrentPrincipal) -> Response:
    """Build a tier output and return it rendered (refused unless it passes the lint)."""
    if format not in FORMATS:
        raise InvalidInput(f"format: one of {', '.join(FORMATS)}", field="format")
    output = service.build_tier(session=session, principal=principal, product_id=product_id,
                                tier=tier, audience=body.audience())
    data = service.render(output=output, format=format)  # type: ignore[arg-type]
    name = service.file_name(output, format)  # type: ignore[arg-type]
    return Response(data, media_type=service.media_type(format),  # type: ignore[arg-type]
                    headers={"Content-Disposition": f"attachment; filename={name}",
                             "X-Mamori-Digest": output.digest})
