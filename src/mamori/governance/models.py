"""Governance tables and the schemas that cross the domain's boundary.

No table here holds communications content: agreements, consents and measures carry
descriptions, digests of signed documents and ids; decisions carry codes and counts.
Organisation ids refer to ``mamori.access`` organisations by value (no foreign key
across domains).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mamori.db.base import Base, UTCDateTime, utcnow


class ParameterVersion(Base):
    """One version of a regulatory parameter (R-7.1-2); the newest version applies."""

    __tablename__ = "gov_parameter_version"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    value: Mapped[Any] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    decision_ref: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Agreement(Base):
    """A party agreement (当事者協定, Art 13): draft → in force → ended."""

    __tablename__ = "gov_agreement"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    party_name: Mapped[str] = mapped_column(String(300))
    party_organisation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    priority: Mapped[int | None] = mapped_column(Integer)
    template_version: Mapped[int] = mapped_column(Integer)
    items: Mapped[dict[str, str]] = mapped_column(JSON)
    deviations: Mapped[str] = mapped_column(Text, default="")
    comm_scope: Mapped[str] = mapped_column(Text, default="")
    party_identifiers: Mapped[list[str]] = mapped_column(JSON)
    delivery_method: Mapped[str] = mapped_column(Text, default="")
    signed_digest: Mapped[str | None] = mapped_column(String(64))
    effective_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    effective_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    concluded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    notes: Mapped[list[ConsultationNote]] = relationship(
        back_populates="agreement",
        cascade="all, delete-orphan",
        order_by="ConsultationNote.id",
    )


class ConsultationNote(Base):
    """A note from a negotiation meeting with the party."""

    __tablename__ = "gov_consultation_note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agreement_id: Mapped[str] = mapped_column(
        ForeignKey("gov_agreement.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text)

    agreement: Mapped[Agreement] = relationship(back_populates="notes")


class Consent(Base):
    """An other-purpose consent (他目的利用の同意) with its elements (ア)(イ)(ウ)."""

    __tablename__ = "gov_consent"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("gov_agreement.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    # (ア) which selected communications information
    scope_batches: Mapped[list[str]] = mapped_column(JSON)
    scope_categories: Mapped[list[str]] = mapped_column(JSON)
    scope_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scope_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # (イ) which body may use it
    user_body_id: Mapped[int | None] = mapped_column(Integer)
    user_body_name: Mapped[str] = mapped_column(String(300), default="")
    # (ウ) the specific purpose
    purpose_code: Mapped[str] = mapped_column(String(64), default="")
    purpose_text: Mapped[str] = mapped_column(Text, default="")
    document_digest: Mapped[str | None] = mapped_column(String(64))
    examination: Mapped[str | None] = mapped_column(Text)
    examined_by: Mapped[str | None] = mapped_column(String(200))
    examined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    activated_by: Mapped[str | None] = mapped_column(String(200))
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Arrangement(Base):
    """A prior written arrangement with a body that will receive SCI (R-2.3-11)."""

    __tablename__ = "gov_arrangement"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    body_organisation_id: Mapped[int] = mapped_column(Integer, index=True)
    body_name: Mapped[str] = mapped_column(String(300))
    purposes: Mapped[list[str]] = mapped_column(JSON)
    scope: Mapped[str] = mapped_column(Text)
    document_digest: Mapped[str] = mapped_column(String(64))
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime)
    effective_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UseDecision(Base):
    """The outcome of one use-or-provision check (granted or refused, and why)."""

    __tablename__ = "gov_use_decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    basis_id: Mapped[str] = mapped_column(String(20), index=True)
    user_body_id: Mapped[int | None] = mapped_column(Integer)
    purpose_code: Mapped[str] = mapped_column(String(64))
    granted: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(64))
    provision: Mapped[bool] = mapped_column(Boolean)
    consent_id: Mapped[str | None] = mapped_column(String(20))
    arrangement_id: Mapped[str | None] = mapped_column(String(20))
    batch_count: Mapped[int] = mapped_column(Integer, default=0)
    record_count: Mapped[int] = mapped_column(Integer, default=0)


class Measure(Base):
    """A transmission measure (Art 17, 32 or 33); its approved terms make it in force."""

    __tablename__ = "gov_measure"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    article: Mapped[int] = mapped_column(Integer, index=True)
    grounds: Mapped[str] = mapped_column(Text)
    target_act: Mapped[str] = mapped_column(Text, default="")
    carrier: Mapped[str] = mapped_column(String(300), default="")
    facilities: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(200))
    end_reason: Mapped[str | None] = mapped_column(Text)

    terms: Mapped[list[MeasureTerm]] = relationship(
        back_populates="measure", cascade="all, delete-orphan", order_by="MeasureTerm.seq"
    )


class MeasureTerm(Base):
    """One period of a measure, requested and then approved or refused by the committee.

    The first term is the original request; each renewal adds a term.
    """

    __tablename__ = "gov_measure_term"
    __table_args__ = (UniqueConstraint("measure_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    measure_id: Mapped[str] = mapped_column(
        ForeignKey("gov_measure.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), index=True)
    grounds: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    decision_note: Mapped[str | None] = mapped_column(Text)

    measure: Mapped[Measure] = relationship(back_populates="terms")


class CooperationRequest(Base):
    """A request to a telecom carrier for cooperation under a measure (協力の求め, Art 20):
    draft → sent → cooperating, refused or withdrawn. The platform records the answer;
    people judge it."""

    __tablename__ = "gov_cooperation_request"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    measure_id: Mapped[str] = mapped_column(ForeignKey("gov_measure.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(300))
    items: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[str] = mapped_column(Text, default="")
    burden: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_by: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    responded_by: Mapped[str | None] = mapped_column(String(200))
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_by: Mapped[str | None] = mapped_column(String(200))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    measure: Mapped[Measure] = relationship()
    explanations: Mapped[list[CooperationExplanation]] = relationship(
        back_populates="request", cascade="all, delete-orphan",
        order_by="CooperationExplanation.id",
    )
    evaluations: Mapped[list[RefusalEvaluation]] = relationship(
        back_populates="request", cascade="all, delete-orphan",
        order_by="RefusalEvaluation.id",
    )

    @property
    def evaluation(self) -> str | None:
        """The current evaluation of a refusal: the latest row."""
        return self.evaluations[-1].evaluation if self.evaluations else None


class CooperationExplanation(Base):
    """An advance explanation (事前説明) of the content and conditions to the carrier."""

    __tablename__ = "gov_cooperation_explanation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("gov_cooperation_request.id", ondelete="CASCADE"), index=True
    )
    explained_at: Mapped[datetime] = mapped_column(UTCDateTime)
    explained_by: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    document_digest: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[CooperationRequest] = relationship(back_populates="explanations")


class RefusalEvaluation(Base):
    """The Cabinet Office's evaluation of a refusal's legitimate reason (正当な理由); a
    change of view adds a row, so the history stays."""

    __tablename__ = "gov_refusal_evaluation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("gov_cooperation_request.id", ondelete="CASCADE"), index=True
    )
    evaluation: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    evaluated_by: Mapped[str] = mapped_column(String(200))
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    request: Mapped[CooperationRequest] = relationship(back_populates="evaluations")


class Notification(Base):
    """A notification to the committee (Art 30), generated when a configured event happens."""

    __tablename__ = "gov_notification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    event: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class DeletionCertificate(Base):
    """What a retention purge deleted; the same facts are an entry in the audit log."""

    __tablename__ = "gov_deletion_certificate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    data_class: Mapped[str] = mapped_column(String(64), index=True)
    record_count: Mapped[int] = mapped_column(Integer)
    cutoff: Mapped[datetime] = mapped_column(UTCDateTime)
    oldest: Mapped[datetime | None] = mapped_column(UTCDateTime)
    newest: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ids_digest: Mapped[str] = mapped_column(String(64))
    retention_days: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


# ---------------------------------------------------------------------------
# Schemas that leave the domain (JSON API, CLI --json).


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class TermOut(_Out):
    seq: int
    starts_at: datetime
    ends_at: datetime
    status: str
    grounds: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None


class MeasureOut(_Out):
    id: str
    article: int
    kind: str
    status: str
    grounds: str
    target_act: str
    carrier: str
    facilities: list[str]
    created_by: str
    created_at: datetime
    ended_at: datetime | None
    terms: list[TermOut]


class AgreementOut(_Out):
    id: str
    party_name: str
    party_organisation_id: int | None
    status: str
    priority: int | None
    template_version: int
    items: dict[str, str]
    deviations: str
    comm_scope: str
    party_identifiers: list[str]
    delivery_method: str
    signed_digest: str | None
    effective_from: datetime | None
    effective_until: datetime | None
    created_by: str
    created_at: datetime
    concluded_at: datetime | None
    ended_at: datetime | None


class NoteOut(_Out):
    id: int
    author: str
    created_at: datetime
    note: str


class ConsentOut(_Out):
    id: str
    agreement_id: str
    status: str
    scope_batches: list[str]
    scope_categories: list[str]
    scope_from: datetime | None
    scope_until: datetime | None
    user_body_id: int | None
    user_body_name: str
    purpose_code: str
    purpose_text: str
    document_digest: str | None
    examination: str | None
    examined_by: str | None
    examined_at: datetime | None
    activated_by: str | None
    activated_at: datetime | None
    withdrawn_at: datetime | None
    created_by: str
    created_at: datetime


class ArrangementOut(_Out):
    id: str
    body_organisation_id: int
    body_name: str
    purposes: list[str]
    scope: str
    document_digest: str
    effective_from: datetime
    effective_until: datetime | None


class NotificationOut(_Out):
    id: int
    event: str
    object_type: str
    object_id: str
    occurred_at: datetime
    created_at: datetime
    details: dict[str, Any]


class CertificateOut(_Out):
    id: int
    data_class: str
    record_count: int
    cutoff: datetime
    oldest: datetime | None
    newest: datetime | None
    ids_digest: str
    retention_days: int
    actor: str
    created_at: datetime


class ExplanationOut(_Out):
    id: int
    explained_at: datetime
    explained_by: str
    method: str
    summary: str
    document_digest: str | None
    recorded_at: datetime


class EvaluationOut(_Out):
    id: int
    evaluation: str
    note: str
    evaluated_by: str
    evaluated_at: datetime


class CooperationOut(_Out):
    id: str
    measure_id: str
    carrier: str
    items: list[str]
    description: str
    conditions: str
    burden: str
    status: str
    created_by: str
    created_at: datetime
    sent_by: str | None
    sent_at: datetime | None
    responded_by: str | None
    responded_at: datetime | None
    refusal_reason: str | None
    evaluation: str | None
    withdrawn_by: str | None
    withdrawn_at: datetime | None
    explanations: list[ExplanationOut]
    evaluations: list[EvaluationOut]
