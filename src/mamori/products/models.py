"""Tables of the products domain and the schemas that cross its boundary.

``products_product`` keeps every version of every product (one voice: exactly one
current version per product id); ``products_criteria`` the versioned criteria for
releasable selected information (R-3.3-17) and ``products_determination`` each
determination made under them; ``products_tier_build`` the record of every tier output
built (digest, sanitisation report, lint) — metadata only, never the content.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mamori.db import Base, UTCDateTime, utcnow

STIX_ID_MAX = 300
TITLE_MAX = 300


class ProductRecord(Base):
    """One version of one product."""

    __tablename__ = "products_product"
    __table_args__ = (UniqueConstraint("product_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer)
    current: Mapped[bool] = mapped_column(Boolean, index=True)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    title_ja: Mapped[str] = mapped_column(String(TITLE_MAX))
    title_en: Mapped[str] = mapped_column(String(TITLE_MAX))
    narrative_ja: Mapped[str] = mapped_column(Text)
    narrative_en: Mapped[str] = mapped_column(Text)
    actions_ja: Mapped[str] = mapped_column(Text)
    actions_en: Mapped[str] = mapped_column(Text)
    use: Mapped[str] = mapped_column(String(16))
    readers: Mapped[list[str]] = mapped_column(JSON)
    object_ids: Mapped[list[str]] = mapped_column(JSON)
    labels: Mapped[str] = mapped_column(String(100), index=True)
    organisation_id: Mapped[int | None] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CriteriaVersion(Base):
    """One version of the criteria for releasable selected information (提供用選別後情報)."""

    __tablename__ = "products_criteria"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    items: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    reassess: Mapped[bool] = mapped_column(Boolean)
    decision_ref: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Determination(Base):
    """A determination that a store object is releasable selected information."""

    __tablename__ = "products_determination"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stix_id: Mapped[str] = mapped_column(String(STIX_ID_MAX), index=True)
    source_id: Mapped[str] = mapped_column(String(STIX_ID_MAX))
    criteria_version: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, bool]] = mapped_column(JSON)
    satisfied: Mapped[bool] = mapped_column(Boolean)
    decision_ref: Mapped[str] = mapped_column(String(200))
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by: Mapped[str | None] = mapped_column(String(200))


class TierBuild(Base):
    """The record of one tier output: for whom, its digest, what the sanitiser did, and
    the lint's verdict. The content itself is not kept."""

    __tablename__ = "products_tier_build"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer)
    tier: Mapped[int] = mapped_column(Integer)
    audience_category: Mapped[str] = mapped_column(String(64))
    audience_organisation_id: Mapped[int | None] = mapped_column(Integer)
    audience_key: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64))
    lint_passed: Mapped[bool] = mapped_column(Boolean)
    lint: Mapped[dict[str, Any]] = mapped_column(JSON)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    built_by: Mapped[str] = mapped_column(String(200))
    built_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- schemas that cross the boundary ------------------------------------------------------


class Product(BaseModel):
    """One product version as readers see it. ``current_version`` always points to the
    version every agency speaks with (R-5.3-1); an older version says it is superseded."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: str
    version: int
    current_version: int
    superseded: bool
    superseded_at: datetime | None = None
    title_ja: str
    title_en: str
    narrative_ja: str
    narrative_en: str
    actions_ja: str
    actions_en: str
    use: str
    readers: list[str]
    object_ids: list[str]
    labels: list[str]
    organisation_id: int | None = None
    digest: str
    created_by: str
    created_at: datetime

    @property
    def is_current(self) -> bool:
        return not self.superseded


class CriteriaOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    items: list[dict[str, str]]
    reassess: bool
    decision_ref: str
    reason: str | None = None
    created_by: str
    created_at: datetime | None = None


class DeterminationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    stix_id: str
    source_id: str
    criteria_version: int
    answers: dict[str, bool]
    satisfied: bool
    standing: bool
    decision_ref: str
    decided_by: str
    decided_at: datetime
    withdrawn_at: datetime | None = None


class TierBuildOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    product_id: str
    version: int
    tier: int
    audience_category: str
    audience_organisation_id: int | None
    digest: str
    lint_passed: bool
    lint: dict[str, Any]
    report: dict[str, Any]
    built_by: str
    built_at: datetime
