"""Tables of the vulnerability domain and the schemas that leave it.

Every fact keeps where it came from: a :class:`VulnSource` row per imported file (kind,
digest, when fetched, who imported it) and one :class:`VulnFact` per vulnerability and
origin (the CNA's record, an ADP's, KEV, JVN, a vendor's CSAF), each owning the
applicability statements (:class:`Applicability`) it made. Registry and access ids
(components, computers, operators, organisations) are kept by value: no foreign key
crosses a domain. No column holds communications content.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mamori.db.base import Base, UTCDateTime, utcnow

KEY_MAX = 64
NAME_MAX = 300
TEXT_MAX = 8000


class VulnSource(Base):
    """One imported file (or bundle): provenance of every fact it brought."""

    __tablename__ = "vulns_source"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    digest: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    catalog_version: Mapped[str | None] = mapped_column(String(64))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    records: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    imported_by: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Vulnerability(Base):
    """A vulnerability, with the summary merged from its facts.

    ``confidentiality`` and ``urgency`` drive handling (R-5.2-17): an undisclosed
    vulnerability is visible to the Cabinet Office and the supplier coordinating it.
    """

    __tablename__ = "vulns_vulnerability"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_MAX), unique=True)
    cve_id: Mapped[str | None] = mapped_column(String(KEY_MAX), index=True)
    title: Mapped[str | None] = mapped_column(String(NAME_MAX))
    title_ja: Mapped[str | None] = mapped_column(String(NAME_MAX))
    description: Mapped[str | None] = mapped_column(Text)
    description_ja: Mapped[str | None] = mapped_column(Text)
    cvss_score: Mapped[float | None] = mapped_column(Float)
    cvss_vector: Mapped[str | None] = mapped_column(String(200))
    severity: Mapped[str | None] = mapped_column(String(16))
    cwes: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    kev: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    kev_date_added: Mapped[date | None] = mapped_column(Date)
    kev_due_date: Mapped[date | None] = mapped_column(Date)
    exploited_in_japan: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    confidentiality: Mapped[str] = mapped_column(String(16), default="public")
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class VulnAlias(Base):
    """Another identifier of the same vulnerability (JVNDB-…, a vendor's advisory id)."""

    __tablename__ = "vulns_alias"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alias: Mapped[str] = mapped_column(String(KEY_MAX), unique=True)
    vulnerability_id: Mapped[int] = mapped_column(
        ForeignKey("vulns_vulnerability.id", ondelete="CASCADE"), index=True
    )


class VulnFact(Base):
    """What one origin says about one vulnerability, from which file and where in it."""

    __tablename__ = "vulns_fact"
    __table_args__ = (UniqueConstraint("vulnerability_id", "origin"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vulnerability_id: Mapped[int] = mapped_column(
        ForeignKey("vulns_vulnerability.id", ondelete="CASCADE"), index=True
    )
    origin: Mapped[str] = mapped_column(String(200))
    source_id: Mapped[int] = mapped_column(ForeignKey("vulns_source.id"), index=True)
    locator: Mapped[str | None] = mapped_column(String(NAME_MAX))
    record_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Applicability(Base):
    """One statement of which versions of one product a vulnerability affects."""

    __tablename__ = "vulns_applicability"
    __table_args__ = (Index("ix_vulns_applicability_key", "scheme", "key_1", "key_2", "key_3"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fact_id: Mapped[int] = mapped_column(
        ForeignKey("vulns_fact.id", ondelete="CASCADE"), index=True
    )
    vulnerability_id: Mapped[int] = mapped_column(Integer, index=True)
    scheme: Mapped[str] = mapped_column(String(8))
    key_1: Mapped[str] = mapped_column(String(NAME_MAX))
    key_2: Mapped[str] = mapped_column(String(NAME_MAX))
    key_3: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    part: Mapped[str] = mapped_column(String(1), default="*")
    rest: Mapped[list[str]] = mapped_column(JSON, default=list)
    ranges: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    default_status: Mapped[str] = mapped_column(String(16))
    version_scheme: Mapped[str] = mapped_column(String(16))
    platforms: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    authority: Mapped[str] = mapped_column(String(16))


SLOT_MAX = 400


class ComponentState(Base):
    """What a registered component looked like when it was last matched.

    A component is followed by its slot — its computer and its name (or SBOM bom-ref) —
    because the register gives a component a new id whenever its computer is amended.
    """

    __tablename__ = "vulns_component_state"

    slot: Mapped[str] = mapped_column(String(SLOT_MAX), primary_key=True)
    component_id: Mapped[int] = mapped_column(Integer)
    computer_id: Mapped[int] = mapped_column(Integer, index=True)
    operator_id: Mapped[int] = mapped_column(Integer, index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class VulnMatch(Base):
    """A registered component that a vulnerability affects (or may affect)."""

    __tablename__ = "vulns_match"
    __table_args__ = (UniqueConstraint("vulnerability_id", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vulnerability_id: Mapped[int] = mapped_column(
        ForeignKey("vulns_vulnerability.id", ondelete="CASCADE"), index=True
    )
    slot: Mapped[str] = mapped_column(String(SLOT_MAX), index=True)
    component_id: Mapped[int] = mapped_column(Integer, index=True)
    computer_id: Mapped[int] = mapped_column(Integer, index=True)
    operator_id: Mapped[int] = mapped_column(Integer, index=True)
    organisation_id: Mapped[int | None] = mapped_column(Integer)
    sector: Mapped[str | None] = mapped_column(String(64), index=True)
    device_category: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    review_reason: Mapped[str | None] = mapped_column(String(32))
    applicability_id: Mapped[int] = mapped_column(Integer)
    component_version: Mapped[str | None] = mapped_column(String(NAME_MAX))
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    first_matched_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_matched_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Suppression(Base):
    """"Not affected" for one component, with the reason; it holds only while the
    reason still does (see ``suppressions.REASONS``)."""

    __tablename__ = "vulns_suppression"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vulnerability_id: Mapped[int] = mapped_column(
        ForeignKey("vulns_vulnerability.id", ondelete="CASCADE"), index=True
    )
    slot: Mapped[str] = mapped_column(String(SLOT_MAX), index=True)
    component_id: Mapped[int] = mapped_column(Integer, index=True)
    computer_id: Mapped[int] = mapped_column(Integer)
    operator_id: Mapped[int] = mapped_column(Integer, index=True)
    reason: Mapped[str] = mapped_column(String(48))
    note: Mapped[str | None] = mapped_column(Text)
    component_version: Mapped[str | None] = mapped_column(String(NAME_MAX))
    component_identity: Mapped[str] = mapped_column(String(1200))
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lapsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lapse_reason: Mapped[str | None] = mapped_column(String(48))


class VulnNotification(Base):
    """An in-portal notice to an organisation; ``dedupe_key`` sends it once."""

    __tablename__ = "vulns_notification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(Integer, index=True)
    operator_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    vulnerability_id: Mapped[int | None] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(NAME_MAX))
    computers: Mapped[int] = mapped_column(Integer, default=0)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CatalogueEntry(Base):
    """An entry of the domestic exploited-vulnerability catalogue (国内で悪用されている
    脆弱性情報): only what may be published."""

    __tablename__ = "vulns_catalogue_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vulnerability_id: Mapped[int] = mapped_column(
        ForeignKey("vulns_vulnerability.id"), unique=True
    )
    cve_id: Mapped[str] = mapped_column(String(KEY_MAX), unique=True)
    vendor_project: Mapped[str] = mapped_column(String(NAME_MAX))
    product: Mapped[str] = mapped_column(String(NAME_MAX))
    name_en: Mapped[str] = mapped_column(String(NAME_MAX))
    name_ja: Mapped[str] = mapped_column(String(NAME_MAX))
    description_en: Mapped[str] = mapped_column(Text)
    description_ja: Mapped[str] = mapped_column(Text)
    action_en: Mapped[str] = mapped_column(Text)
    action_ja: Mapped[str] = mapped_column(Text)
    notes: Mapped[str] = mapped_column(Text, default="")
    ransomware: Mapped[str] = mapped_column(String(16), default="Unknown")
    cwes: Mapped[list[str]] = mapped_column(JSON, default=list)
    date_added: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    published: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CatalogueEvidence(Base):
    """Why an entry exists: the linked incident report or analysis. Internal only."""

    __tablename__ = "vulns_catalogue_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("vulns_catalogue_entry.id"), index=True)
    incident_id: Mapped[int | None] = mapped_column(Integer)
    analysis_ref: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Supplier(Base):
    """A computer supplier (電子計算機等供給者) and its business ministry (R-5.2-2)."""

    __tablename__ = "vulns_supplier"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    name_en: Mapped[str | None] = mapped_column(String(NAME_MAX))
    organisation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    business_ministry: Mapped[str] = mapped_column(String(64))
    cpe_vendors: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CoordinationCase(Base):
    """An undisclosed vulnerability coordinated with its supplier before publication."""

    __tablename__ = "vulns_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(KEY_MAX), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("vulns_supplier.id"), index=True)
    vulnerability_id: Mapped[int] = mapped_column(ForeignKey("vulns_vulnerability.id"))
    title: Mapped[str] = mapped_column(String(NAME_MAX))
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    urgency: Mapped[str] = mapped_column(String(16))
    embargo_until: Mapped[date | None] = mapped_column(Date)
    fix_version: Mapped[str | None] = mapped_column(String(NAME_MAX))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fixed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseEvent(Base):
    """One step of a case: sent, acknowledged, fixed, requested, answered, published."""

    __tablename__ = "vulns_case_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("vulns_case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)


class MeasureRequest(Base):
    """A request that the supplier take measures (Art 42), with a due date and the
    notified computers it concerns (R-5.2-15)."""

    __tablename__ = "vulns_measure_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("vulns_case.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    requesting_organisation_id: Mapped[int | None] = mapped_column(Integer)
    measures: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date)
    computer_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16))
    response: Mapped[str | None] = mapped_column(Text)
    responded_by: Mapped[str | None] = mapped_column(String(200))
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Advisory(Base):
    """A generated CSAF 2.0 advisory, kept exactly as issued."""

    __tablename__ = "vulns_advisory"
    __table_args__ = (UniqueConstraint("tracking_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracking_id: Mapped[str] = mapped_column(String(KEY_MAX), index=True)
    version: Mapped[int] = mapped_column(Integer)
    source_kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- schemas that cross the domain boundary -------------------------------------------


class _Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class SourceOut(_Schema):
    id: int
    kind: str
    name: str
    digest: str
    catalog_version: str | None = None
    fetched_at: datetime | None = None
    records: int
    skipped: int
    imported_by: str
    imported_at: datetime


class ImportReport(_Schema):
    """What one file brought: its provenance row, or why it was left out."""

    path: str
    kind: str
    source_id: int | None
    records: int
    skipped_criteria: int
    unchanged: bool
    error: str | None = None


class ImportResult(_Schema):
    """An import: each file, and what matching the register again found."""

    files: list[ImportReport]
    new_matches: int
    notices: int

    @property
    def failed(self) -> list[ImportReport]:
        return [f for f in self.files if f.error]


class VulnerabilityOut(_Schema):
    id: int
    key: str
    cve_id: str | None = None
    title: str | None = None
    title_ja: str | None = None
    description: str | None = None
    cvss_score: float | None = None
    severity: str | None = None
    kev: bool
    kev_due_date: date | None = None
    exploited_in_japan: bool
    confidentiality: str
    urgency: str
    aliases: list[str] = []
    sources: list[str] = []


class NotificationOut(_Schema):
    id: int
    organisation_id: int
    operator_id: int | None = None
    kind: str
    vulnerability_id: int | None = None
    case_id: int | None = None
    subject: str
    computers: int
    created_at: datetime
    read_at: datetime | None = None


class SupplierOut(_Schema):
    id: int
    name: str
    name_en: str | None = None
    organisation_id: int | None = None
    business_ministry: str
    cpe_vendors: list[str]


class MeasureRequestOut(_Schema):
    id: int
    case_id: int
    requested_by: str
    measures: str
    due_date: date
    computer_ids: list[int]
    status: str
    response: str | None = None
    responded_at: datetime | None = None


class CaseEventOut(_Schema):
    kind: str
    actor: str
    at: datetime
    note: str | None = None


class CaseOut(_Schema):
    id: int
    reference: str
    supplier_id: int
    supplier: str
    vulnerability_key: str
    title: str
    summary: str
    status: str
    urgency: str
    embargo_until: date | None = None
    fix_version: str | None = None
    sent_at: datetime | None = None
    acknowledged_at: datetime | None = None
    fixed_at: datetime | None = None
    published_at: datetime | None = None
    events: list[CaseEventOut] = []
    requests: list[MeasureRequestOut] = []


class AdvisoryOut(_Schema):
    id: int
    tracking_id: str
    version: int
    source_kind: str
    source_id: int
    created_at: datetime
    document: dict[str, Any]
