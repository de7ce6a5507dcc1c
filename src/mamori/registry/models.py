"""Tables of the register of specified critical computers (特定重要電子計算機の届出), and
the schemas that leave the domain.

Other domains get ``Operator``, ``Computer``, ``Component`` and friends from
``mamori.registry.service`` and never read these tables. Organisation ids refer to
``mamori.access`` organisations by value (no foreign key across domains). Nothing here
holds communications content: the register describes equipment and software.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mamori.db.base import Base, UTCDateTime, utcnow

# Lengths shared by the tables, the forms and the importers.
NAME_MAX = 200
TEXT_MAX = 4000
CPE_MAX = 1024
PURL_MAX = 2048


class ConfigVersion(Base):
    """One version of a registry setting (R-4.2-4/-5/-7/-8, R-4.2-16, R-5.2-2)."""

    __tablename__ = "registry_config_version"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    value: Mapped[Any] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OperatorRecord(Base):
    """A special infrastructure operator (特別社会基盤事業者) and its supervising ministry."""

    __tablename__ = "registry_operator"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    name_en: Mapped[str | None] = mapped_column(String(NAME_MAX))
    organisation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    sector: Mapped[str] = mapped_column(String(64), index=True)
    supervising_ministry: Mapped[str] = mapped_column(String(64), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SiteRecord(Base):
    """A place where an operator runs specified critical computers."""

    __tablename__ = "registry_site"
    __table_args__ = (UniqueConstraint("operator_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("registry_operator.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    address: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ComputerRecord(Base):
    """A specified critical computer (特定重要電子計算機): its current state.

    Every change writes a :class:`ComputerVersionRecord`; once notified, each change is
    a change notification (R-4.2-6).
    """

    __tablename__ = "registry_computer"
    __table_args__ = (UniqueConstraint("operator_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("registry_operator.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("registry_site.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    device_category: Mapped[str | None] = mapped_column(String(64), index=True)
    taxonomy_version: Mapped[int] = mapped_column(Integer)
    facility: Mapped[str | None] = mapped_column(String(300))
    zone: Mapped[str | None] = mapped_column(String(32))
    directly_managed: Mapped[bool] = mapped_column(Boolean, default=True)
    manager_name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    manager_contact: Mapped[str | None] = mapped_column(String(NAME_MAX))
    cloud_form: Mapped[str | None] = mapped_column(String(16))
    cloud_provider: Mapped[str | None] = mapped_column(String(NAME_MAX))
    product_vendor: Mapped[str | None] = mapped_column(String(NAME_MAX))
    product_name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    product_version: Mapped[str | None] = mapped_column(String(NAME_MAX))
    custom_designed: Mapped[bool] = mapped_column(Boolean, default=False)
    exemption_reason: Mapped[str | None] = mapped_column(Text)
    existing: Mapped[bool] = mapped_column(Boolean, default=False)
    in_service_since: Mapped[date | None] = mapped_column(Date)
    linked_to_id: Mapped[int | None] = mapped_column(ForeignKey("registry_computer.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))

    components: Mapped[list[ComponentRecord]] = relationship(
        cascade="all, delete-orphan", order_by="ComponentRecord.position", lazy="selectin"
    )


class ComponentRecord(Base):
    """A hardware, firmware or software component of a computer, with CPE 2.3 and purl.

    The CPE vendor/product and purl type/name columns are indexed for the matcher that
    looks up notified computers by vulnerable product.
    """

    __tablename__ = "registry_component"
    __table_args__ = (
        Index("ix_registry_component_cpe", "cpe_vendor", "cpe_product"),
        Index("ix_registry_component_purl", "purl_type", "purl_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    computer_id: Mapped[int] = mapped_column(
        ForeignKey("registry_computer.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    version: Mapped[str | None] = mapped_column(String(NAME_MAX))
    supplier: Mapped[str | None] = mapped_column(String(300))
    component_type: Mapped[str | None] = mapped_column(String(32))
    bom_ref: Mapped[str | None] = mapped_column(String(300))
    cpe: Mapped[str | None] = mapped_column(String(CPE_MAX))
    cpe_part: Mapped[str | None] = mapped_column(String(1))
    cpe_vendor: Mapped[str | None] = mapped_column(String(300))
    cpe_product: Mapped[str | None] = mapped_column(String(300))
    cpe_version: Mapped[str | None] = mapped_column(String(300))
    purl: Mapped[str | None] = mapped_column(String(PURL_MAX))
    purl_type: Mapped[str | None] = mapped_column(String(64))
    purl_namespace: Mapped[str | None] = mapped_column(String(512))
    purl_name: Mapped[str | None] = mapped_column(String(512))
    purl_version: Mapped[str | None] = mapped_column(String(300))


class ComputerVersionRecord(Base):
    """One version of a computer: what changed, when, by whom, and whether it notified."""

    __tablename__ = "registry_computer_version"
    __table_args__ = (UniqueConstraint("computer_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    computer_id: Mapped[int] = mapped_column(
        ForeignKey("registry_computer.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    notification: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32))
    source_digest: Mapped[str | None] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConsultationRecord(Base):
    """A consultation (相談, R-4.2-11): an operator's question and the answer kept with it."""

    __tablename__ = "registry_consultation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("registry_operator.id"), index=True)
    computer_id: Mapped[int | None] = mapped_column(
        ForeignKey("registry_computer.id"), index=True
    )
    subject: Mapped[str] = mapped_column(String(NAME_MAX))
    question: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    asked_by: Mapped[str] = mapped_column(String(64))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    conclusion: Mapped[str | None] = mapped_column(String(32))
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# --- schemas that cross the domain boundary -------------------------------------------


class _Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class SupervisingMinistry(_Schema):
    """A supervising ministry (所管省庁) as configured, and its organisation if registered."""

    code: str
    name_ja: str
    name_en: str
    organisation_id: int | None = None


class Operator(_Schema):
    id: int
    name: str
    name_en: str | None = None
    organisation_id: int | None = None
    sector: str
    supervising_ministry: str
    created_at: datetime

    def display_name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name


class Site(_Schema):
    id: int
    operator_id: int
    name: str
    address: str | None = None


class Component(_Schema):
    id: int
    computer_id: int
    name: str
    version: str | None = None
    supplier: str | None = None
    component_type: str | None = None
    bom_ref: str | None = None
    cpe: str | None = None
    cpe_vendor: str | None = None
    cpe_product: str | None = None
    purl: str | None = None
    purl_type: str | None = None
    purl_namespace: str | None = None
    purl_name: str | None = None
    purl_version: str | None = None


class Computer(_Schema):
    """A specified critical computer with its components, as other domains see it."""

    id: int
    operator_id: int
    site_id: int | None = None
    name: str
    device_category: str | None = None
    taxonomy_version: int
    facility: str | None = None
    zone: str | None = None
    directly_managed: bool
    manager_name: str | None = None
    manager_contact: str | None = None
    cloud_form: str | None = None
    cloud_provider: str | None = None
    product_vendor: str | None = None
    product_name: str | None = None
    product_version: str | None = None
    custom_designed: bool
    exemption_reason: str | None = None
    existing: bool
    in_service_since: date | None = None
    linked_to_id: int | None = None
    notes: str | None = None
    status: str
    version: int
    notified_at: datetime | None = None
    changed_at: datetime
    changed_by: str
    components: list[Component] = []


class ComputerVersion(_Schema):
    computer_id: int
    version: int
    status: str
    notification: str | None = None
    source: str
    changes: dict[str, Any]
    changed_by: str
    changed_at: datetime


class Consultation(_Schema):
    id: int
    operator_id: int
    computer_id: int | None = None
    subject: str
    question: str
    status: str
    asked_by: str
    asked_at: datetime
    answer: str | None = None
    conclusion: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None


class TransitionItem(_Schema):
    """Where one computer stands against the transition deadline (R-4.2-8, R-4.2-9)."""

    computer_id: int
    operator_id: int
    name: str
    state: str
    deadline: date | None = None
    days_left: int | None = None


class OperatorTransition(_Schema):
    operator_id: int
    commencement_date: date | None = None
    deadline: date | None = None
    items: list[TransitionItem]
    counts: dict[str, int]


class SectorSummary(_Schema):
    """The agency's view of one sector: what is notified, due, overdue and missing."""

    sector: str
    supervising_ministry: str
    operators: int
    operators_without_notification: list[int]
    counts: dict[str, int]
    overdue_operators: list[int]


class ImportResult(_Schema):
    operator_id: int
    source: str
    digest: str
    computers: list[int]
    created: list[int]
    components: int
