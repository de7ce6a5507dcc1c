"""The products domain's public API (keyword-only functions, ``session=`` first).

Compose, version and read products; build a tier output of a product for an audience
through the sanitiser; lint it; render it; and keep the criteria for releasable
selected information. Dissemination delivers what :func:`build_tier` builds, after
checking ``output.lint.passed`` (or calling :func:`lint` again on what it will send).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.products import guard
from mamori.products.audience import CATEGORIES, Audience, parse_audience
from mamori.products.compose import (
    compose_product,
    get_product,
    list_products,
    list_versions,
)
from mamori.products.criteria import (
    criteria_history,
    determine,
    in_force,
    list_determinations,
    set_criteria,
)
from mamori.products.criteria import withdraw as withdraw_determination
from mamori.products.labels import lint
from mamori.products.models import (
    CriteriaOut,
    DeterminationOut,
    Product,
    TierBuild,
    TierBuildOut,
)
from mamori.products.output import LintFinding, LintResult, TierOutput
from mamori.products.renderers import file_name, media_type, render
from mamori.products.sanitisation_report import SanitisationItem, SanitisationReport
from mamori.products.tiers import build_tier
from mamori.products.vocabulary import READERS, TIERS, USES


def current_criteria(*, session: Session, principal: Principal) -> CriteriaOut:
    """The criteria version in force for releasable selected information."""
    guard.authorize(session=session, principal=principal, action="product.criteria_view",
                    resource=guard.criteria())
    return in_force(session)


def list_builds(*, session: Session, principal: Principal, product_id: str,
                limit: int = 100) -> list[TierBuildOut]:
    """The record of the tier outputs built of a product (digest, sanitisation, lint)."""
    product = get_product(session=session, principal=principal, product_id=product_id)
    guard.authorize(session=session, principal=principal, action="product.build_records",
                    resource=guard.product(product.id))
    rows = session.scalars(select(TierBuild).where(TierBuild.product_id == product.id)
                           .order_by(TierBuild.id.desc()).limit(max(1, min(limit, 1000))))
    return [TierBuildOut.model_validate(r) for r in rows]


__all__ = [
    "CATEGORIES",
    "READERS",
    "TIERS",
    "USES",
    "Audience",
    "CriteriaOut",
    "DeterminationOut",
    "LintFinding",
    "LintResult",
    "Product",
    "SanitisationItem",
    "SanitisationReport",
    "TierBuildOut",
    "TierOutput",
    "build_tier",
    "compose_product",
    "criteria_history",
    "current_criteria",
    "determine",
    "file_name",
    "get_product",
    "lint",
    "list_builds",
    "list_determinations",
    "list_products",
    "list_versions",
    "media_type",
    "parse_audience",
    "render",
    "set_criteria",
    "withdraw_determination",
]
