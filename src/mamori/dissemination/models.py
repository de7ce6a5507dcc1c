"""Tables of provision (提供) and the schemas that leave the domain.

Organisation ids refer to ``mamori.access`` organisations by value and product ids to
``mamori.products`` by value (no foreign keys across domains). The served STIX objects
are the sanitised tier outputs exactly as provided: tier 2 and 3 carry no
communications-derived content by construction, tier 1 goes only to bodies whose
provision governance granted, and nothing here holds communications content
(payloads, URIs, headers).
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
from sqlalchemy.orm import Mapped, mapped_column

from mamori.db.base import Base, UTCDateTime, utcnow

NAME_MAX = 200
TEXT_MAX = 4000
URL_MAX = 2000
EMAIL_MAX = 254


class RecipientRecord(Base):
    """A recipient: an organisation in one of the six categories (or the public site)."""

    __tablename__ = "dis_recipient"
    __table_args__ = (UniqueConstraint("organisation_id", "category"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    name_ja: Mapped[str] = mapped_column(String(NAME_MAX))
    name_en: Mapped[str] = mapped_column(String(NAME_MAX))
    organisation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    publishes: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(2), default="ja")
    contact_email: Mapped[str | None] = mapped_column(String(EMAIL_MAX))
    webhook_url: Mapped[str | None] = mapped_column(String(URL_MAX))
    webhook_key_generation: Mapped[int] = mapped_column(Integer, default=1)
    attribution_consent: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProvisionBasisRecord(Base):
    """Why an administrative body may receive tier 1: the article and its trigger."""

    __tablename__ = "dis_provision_basis"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("dis_recipient.id"), index=True)
    article: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(NAME_MAX))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CouncilSafeguardRecord(Base):
    """A council member's prior consent (Art 45(2)) and safeguards (Art 45(4))."""

    __tablename__ = "dis_council_safeguard"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("dis_recipient.id"), index=True)
    consent_on: Mapped[date] = mapped_column(Date)
    consent_reference: Mapped[str] = mapped_column(String(NAME_MAX))
    safeguards_reference: Mapped[str] = mapped_column(String(NAME_MAX))
    valid_until: Mapped[date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ForeignCheckRecord(Base):
    """One of the two findings a foreign provision needs (R-5.2-4), for one provision."""

    __tablename__ = "dis_foreign_check"
    __table_args__ = (
        UniqueConstraint("recipient_id", "product_id", "product_version", "tier", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("dis_recipient.id"), index=True)
    product_id: Mapped[str] = mapped_column(String(64))
    product_version: Mapped[int] = mapped_column(Integer)
    tier: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    finding: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(NAME_MAX))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MatrixVersionRecord(Base):
    """A version of the entitlement matrix, as first used for a provision."""

    __tablename__ = "dis_matrix_version"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    first_used_by: Mapped[str] = mapped_column(String(64))
    first_used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProvisionRecord(Base):
    """One product tier delivered to one recipient: the evidence of a provision."""

    __tablename__ = "dis_provision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("dis_recipient.id"), index=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    organisation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    product_id: Mapped[str] = mapped_column(String(64), index=True)
    product_version: Mapped[int] = mapped_column(Integer)
    tier: Mapped[int] = mapped_column(Integer)
    title_ja: Mapped[str] = mapped_column(String(NAME_MAX))
    title_en: Mapped[str] = mapped_column(String(NAME_MAX))
    narrative_ja: Mapped[str] = mapped_column(Text, default="")
    narrative_en: Mapped[str] = mapped_column(Text, default="")
    digest: Mapped[str] = mapped_column(String(128))
    object_count: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(64))
    legal_basis: Mapped[str] = mapped_column(String(64))
    matrix_version: Mapped[int] = mapped_column(Integer)
    matrix_sha256: Mapped[str] = mapped_column(String(64))
    use_decision_id: Mapped[int | None] = mapped_column(Integer)
    foreign_check_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    contributors: Mapped[list[str]] = mapped_column(JSON, default=list)
    published: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    provided_by: Mapped[str] = mapped_column(String(64))
    provided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class ServedObjectRecord(Base):
    """A STIX object version in a recipient's TAXII collection (a provided tier output)."""

    __tablename__ = "dis_object"
    __table_args__ = (
        UniqueConstraint("recipient_id", "stix_id", "version_key"),
        Index("ix_dis_object_position", "recipient_id", "date_added", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("dis_recipient.id"))
    provision_id: Mapped[int] = mapped_column(ForeignKey("dis_provision.id"), index=True)
    tier: Mapped[int] = mapped_column(Integer)
    stix_id: Mapped[str] = mapped_column(String(200), index=True)
    stix_type: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(40))
    version_key: Mapped[str] = mapped_column(String(32))
    spec_version: Mapped[str] = mapped_column(String(8))
    date_added: Mapped[datetime] = mapped_column(UTCDateTime())
    body: Mapped[str] = mapped_column(Text)


class DeliveryRecord(Base):
    """A notice of a provision by webhook or e-mail, and where its retries stand."""

    __tablename__ = "dis_delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provision_id: Mapped[int] = mapped_column(ForeignKey("dis_provision.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(URL_MAX))
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DeliveryAttemptRecord(Base):
    """One try of a delivery: when, and what came of it (a status code, never a body)."""

    __tablename__ = "dis_delivery_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("dis_delivery.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(32))
    status_code: Mapped[int | None] = mapped_column(Integer)


class AcknowledgementRecord(Base):
    """A recipient's acknowledgement that it received a provision."""

    __tablename__ = "dis_acknowledgement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provision_id: Mapped[int] = mapped_column(ForeignKey("dis_provision.id"), unique=True)
    acknowledged_by: Mapped[str] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FeedbackRecord(Base):
    """What a recipient thought of a provision (1–5) and what it did with it (R-5.1-2)."""

    __tablename__ = "dis_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provision_id: Mapped[int] = mapped_column(ForeignKey("dis_provision.id"), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    action_taken: Mapped[str] = mapped_column(Text)
    given_by: Mapped[str] = mapped_column(String(64))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UsageRequestRecord(Base):
    """A request that the receiving body attest how it used a provision carrying selected
    communications information (利用状況の確認, R-2.3-12), and the analysts' review."""

    __tablename__ = "dis_usage_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provision_id: Mapped[int] = mapped_column(ForeignKey("dis_provision.id"), unique=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("dis_recipient.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    use_decision_id: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    outcome: Mapped[str | None] = mapped_column(String(32))
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class UsageAttestationRecord(Base):
    """What the receiving body attested about its use: one statement per request."""

    __tablename__ = "dis_usage_attestation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("dis_usage_request.id"), unique=True)
    purposes: Mapped[list[str]] = mapped_column(JSON, default=list)
    usage: Mapped[str] = mapped_column(Text)
    shared_onward: Mapped[bool] = mapped_column(Boolean)
    shared_with: Mapped[str | None] = mapped_column(Text)
    still_held: Mapped[bool] = mapped_column(Boolean)
    kept_until: Mapped[date | None] = mapped_column(Date)
    attested_by: Mapped[str] = mapped_column(String(64))
    attested_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class TaxiiStatusRecord(Base):
    """A TAXII status resource: the outcome of one POST of objects."""

    __tablename__ = "dis_taxii_status"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("dis_recipient.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(64))
    request_timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    total_count: Mapped[int] = mapped_column(Integer)
    success_count: Mapped[int] = mapped_column(Integer)
    failure_count: Mapped[int] = mapped_column(Integer)
    successes: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    failures: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)


class SigningKeyRecord(Base):
    """A random key shared by every server process (cursor and webhook signatures)."""

    __tablename__ = "dis_signing_key"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- schemas that cross the boundary ---------------------------------------------------


class _Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Recipient(_Schema):
    id: int
    code: str
    category: str
    name_ja: str
    name_en: str
    organisation_id: int | None
    publishes: bool
    language: str
    contact_email: str | None
    webhook_url: str | None
    attribution_consent: list[str]
    active: bool
    created_at: datetime


class ProvisionBasis(_Schema):
    id: int
    recipient_id: int
    article: str
    trigger: str
    reference: str
    valid_from: date
    valid_until: date | None
    recorded_by: str
    recorded_at: datetime
    revoked_at: datetime | None


class CouncilSafeguard(_Schema):
    id: int
    recipient_id: int
    consent_on: date
    consent_reference: str
    safeguards_reference: str
    valid_until: date | None
    recorded_by: str
    recorded_at: datetime
    withdrawn_at: datetime | None


class ForeignCheck(_Schema):
    id: int
    recipient_id: int
    product_id: str
    product_version: int
    tier: int
    kind: str
    finding: str
    reference: str | None
    recorded_by: str
    recorded_at: datetime


class Provision(_Schema):
    id: int
    recipient_id: int
    recipient_code: str = ""
    category: str
    organisation_id: int | None
    product_id: str
    product_version: int
    tier: int
    title_ja: str
    title_en: str
    narrative_ja: str
    narrative_en: str
    digest: str
    object_count: int
    purpose: str
    legal_basis: str
    matrix_version: int
    matrix_sha256: str
    use_decision_id: int | None
    foreign_check_ids: list[int]
    published: bool
    provided_by: str
    provided_at: datetime


class Delivery(_Schema):
    id: int
    provision_id: int
    channel: str
    target: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None


class Feedback(_Schema):
    id: int
    provision_id: int
    rating: int
    action_taken: str
    given_by: str
    given_at: datetime


class UsageAttestation(_Schema):
    id: int
    purposes: list[str]
    usage: str
    shared_onward: bool
    shared_with: str | None
    still_held: bool
    kept_until: date | None
    attested_by: str
    attested_at: datetime


class UsageRequest(_Schema):
    id: int
    provision_id: int
    recipient_code: str = ""
    category: str = ""
    product_id: str = ""
    tier: int = 1
    use_decision_id: int
    purpose: str
    status: str
    overdue: bool = False
    requested_at: datetime
    due_at: datetime
    attestation: UsageAttestation | None = None
    outcome: str | None
    review_note: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None
