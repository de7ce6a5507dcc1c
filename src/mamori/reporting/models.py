"""Reporting tables and the schemas that cross the domain's boundary.

Organisation, operator and computer ids refer to ``mamori.access`` and
``mamori.registry`` records by value (no foreign key across domains). A submitted
version is immutable: the database refuses UPDATE and DELETE on ``rep_version``.
No column holds communications content: indicators are addresses, names and digests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mamori.db.base import Base, UTCDateTime, utcnow


class Incident(Base):
    """One incident and its reports: preliminary (速報) → updates → final."""

    __tablename__ = "rep_incident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    regulation: Mapped[str] = mapped_column(String(64), index=True)
    organisation_id: Mapped[int] = mapped_column(Integer, index=True)
    operator_id: Mapped[int | None] = mapped_column(Integer, index=True)
    ministry_id: Mapped[int | None] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str | None] = mapped_column(String(32))
    detected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    aware_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_by: Mapped[str | None] = mapped_column(String(200))
    request_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    phase: Mapped[str] = mapped_column(String(16), index=True)
    current_version: Mapped[int] = mapped_column(Integer, default=0)
    scope_decision: Mapped[str | None] = mapped_column(String(16))
    scope_rule: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[ReportVersion]] = relationship(
        back_populates="incident", order_by="ReportVersion.number"
    )
    routings: Mapped[list[Routing]] = relationship(order_by="Routing.id")


class ReportVersion(Base):
    """One submission, exactly as filed (append-only)."""

    __tablename__ = "rep_version"
    __table_args__ = (UniqueConstraint("incident_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("rep_incident.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    scope: Mapped[dict[str, Any]] = mapped_column(JSON)
    workflow_digest: Mapped[str] = mapped_column(String(64))
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="versions")


class Routing(Base):
    """A version delivered to a recipient: the supervising ministry and the Cabinet Office."""

    __tablename__ = "rep_routing"
    __table_args__ = (UniqueConstraint("incident_id", "version_number", "recipient"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("rep_incident.id"), index=True)
    version_number: Mapped[int] = mapped_column(Integer)
    recipient: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    routed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportedIndicator(Base):
    """An indicator named in a version, for correlation by analysis (R-4.2-2)."""

    __tablename__ = "rep_indicator"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("rep_incident.id"), index=True)
    version_number: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(253), index=True)
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AffectedComputer(Base):
    """A registered computer named in a version."""

    __tablename__ = "rep_affected_computer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("rep_incident.id"), index=True)
    version_number: Mapped[int] = mapped_column(Integer)
    computer_id: Mapped[int] = mapped_column(Integer, index=True)
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False)
    not_obtainable: Mapped[str | None] = mapped_column(Text)


class Draft(Base):
    """A report being written in the portal; it becomes a version when submitted."""

    __tablename__ = "rep_draft"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organisation_id: Mapped[int] = mapped_column(Integer, index=True)
    operator_id: Mapped[int | None] = mapped_column(Integer)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("rep_incident.id"), index=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(Base):
    """An in-portal notice to the filing organisation; ``dedupe_key`` sends it once."""

    __tablename__ = "rep_notification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organisation_id: Mapped[int] = mapped_column(Integer, index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("rep_incident.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    report_kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lead_hours: Mapped[float] = mapped_column(Float)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PrecursorBatch(Base):
    """One machine submission of attack-precursor information (API or TAXII)."""

    __tablename__ = "rep_precursor_batch"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(Integer, index=True)
    received_by: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    channel: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64))
    total: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)
    failures: Mapped[list[dict[str, str]]] = mapped_column(JSON)


class Precursor(Base):
    """An accepted STIX indicator or sighting."""

    __tablename__ = "rep_precursor"
    __table_args__ = (UniqueConstraint("organisation_id", "stix_id", "modified"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("rep_precursor_batch.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(Integer, index=True)
    stix_id: Mapped[str] = mapped_column(String(100), index=True)
    stix_type: Mapped[str] = mapped_column(String(20))
    modified: Mapped[str] = mapped_column(String(40))
    object: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- schemas that cross the boundary -------------------------------------------------


class DeadlineOut(BaseModel):
    kind: str
    trigger: str
    offset_hours: float
    due_at: datetime | None
    met_at: datetime | None
    overdue: bool


class RoutingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version_number: int
    recipient: str
    code: str
    organisation_id: int | None
    routed_at: datetime


class VersionOut(BaseModel):
    number: int
    kind: str
    submitted_at: datetime
    submitted_by: str
    digest: str
    scope: dict[str, Any]
    document: dict[str, Any]


class IncidentOut(BaseModel):
    id: int
    regulation: str
    organisation_id: int
    operator_id: int | None
    ministry_id: int | None
    title: str
    stage: str | None
    detected_at: datetime | None
    aware_at: datetime | None
    requested_at: datetime | None
    status: str
    current_version: int
    scope_decision: str | None
    scope_rule: str | None
    next_due_at: datetime | None
    deadlines: list[DeadlineOut]
    routings: list[RoutingOut]
    versions: list[VersionOut] = []


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    incident_id: int
    kind: str
    report_kind: str
    due_at: datetime
    lead_hours: float
    created_at: datetime
    read_at: datetime | None


class PrecursorReceipt(BaseModel):
    id: str
    total: int
    accepted: int
    rejected: int
    failures: list[dict[str, str]]
    received_at: datetime
