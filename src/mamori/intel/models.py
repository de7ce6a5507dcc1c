"""Tables of the intel store and the schemas that cross its boundary.

``intel_object`` keeps every version of every STIX object, one row per (id, label set,
version); ``latest`` marks the newest ``modified`` per id and label set. Only latest,
unrevoked rows are in the correlation index (``intel_index``) and the reference table
(``intel_ref``), which carry the label set so that the visibility filter applies to
them without a join.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mamori.db import Base, UTCDateTime, utcnow
from mamori.intel.labels import Labels

STIX_ID_MAX = 300
NAME_MAX = 300
SOURCE_MAX = 300
KEY_MAX = 400
ObjectId = BigInteger().with_variant(Integer(), "sqlite")


class LabelSetRow(Base):
    """One distinct label set; objects point at it."""

    __tablename__ = "intel_label_set"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(1000), unique=True)
    comms: Mapped[bool] = mapped_column(Boolean)
    provision_derived: Mapped[bool] = mapped_column(Boolean)
    secret: Mapped[bool] = mapped_column(Boolean)
    public: Mapped[bool] = mapped_column(Boolean)


class ImportRow(Base):
    """One ingestion: a bundle, a TAXII page run, a source sync or an analysis run."""

    __tablename__ = "intel_import"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(SOURCE_MAX))
    actor: Mapped[str] = mapped_column(String(200))
    label_set_id: Mapped[int] = mapped_column(ForeignKey("intel_label_set.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    stored: Mapped[int] = mapped_column(Integer, default=0)
    merged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ObjectRow(Base):
    """One version of one STIX object under one label set, exactly as received."""

    __tablename__ = "intel_object"
    __table_args__ = (
        UniqueConstraint("stix_id", "label_set_id", "version"),
        Index("ix_intel_object_type_latest", "stix_type", "latest"),
    )

    id: Mapped[int] = mapped_column(ObjectId, primary_key=True, autoincrement=True)
    stix_id: Mapped[str] = mapped_column(String(STIX_ID_MAX))
    stix_type: Mapped[str] = mapped_column(String(250))
    version: Mapped[int] = mapped_column(Integer)
    modified: Mapped[datetime | None] = mapped_column(UTCDateTime())
    label_set_id: Mapped[int] = mapped_column(ForeignKey("intel_label_set.id"), index=True)
    latest: Mapped[bool] = mapped_column(Boolean)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    body: Mapped[str] = mapped_column(Text)
    import_id: Mapped[int] = mapped_column(ForeignKey("intel_import.id"), index=True)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProvenanceRow(Base):
    """A further source that delivered an already stored version (a merge)."""

    __tablename__ = "intel_provenance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_id: Mapped[int] = mapped_column(
        ObjectId, ForeignKey("intel_object.id", ondelete="CASCADE"), index=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("intel_import.id"), index=True)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LineageRow(Base):
    """``object_id`` was derived from the object ``derived_from`` (a STIX id)."""

    __tablename__ = "intel_lineage"
    __table_args__ = (PrimaryKeyConstraint("object_id", "derived_from"),)

    object_id: Mapped[int] = mapped_column(
        ObjectId, ForeignKey("intel_object.id", ondelete="CASCADE"))
    derived_from: Mapped[str] = mapped_column(String(STIX_ID_MAX), index=True)


class RefRow(Base):
    """A reference from a latest object row to another object (by STIX id)."""

    __tablename__ = "intel_ref"
    __table_args__ = (PrimaryKeyConstraint("ref", "label_set_id", "object_id", "prop"),)

    ref: Mapped[str] = mapped_column(String(STIX_ID_MAX))
    label_set_id: Mapped[int] = mapped_column(Integer)
    object_id: Mapped[int] = mapped_column(ObjectId, index=True)
    prop: Mapped[str] = mapped_column(String(64))


class IndexRow(Base):
    """The correlation index: a normalised value mentioned by a latest object row."""

    __tablename__ = "intel_index"
    __table_args__ = (PrimaryKeyConstraint("kind", "key", "plen", "label_set_id", "object_id"),)

    kind: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(KEY_MAX))
    plen: Mapped[int] = mapped_column(SmallInteger)
    label_set_id: Mapped[int] = mapped_column(Integer)
    object_id: Mapped[int] = mapped_column(ObjectId, index=True)


class PrefixLengthRow(Base):
    """Which network prefix lengths the index holds per kind, so that an address is
    looked up only in the enclosing networks that can exist."""

    __tablename__ = "intel_prefix_length"
    __table_args__ = (PrimaryKeyConstraint("kind", "plen"),)

    kind: Mapped[str] = mapped_column(String(8))
    plen: Mapped[int] = mapped_column(SmallInteger)


class FindingRow(Base):
    """A finding of the analytics, with its evidence, confidence and review."""

    __tablename__ = "intel_finding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    label_set_id: Mapped[int] = mapped_column(ForeignKey("intel_label_set.id"), index=True)
    confidence: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    stix_id: Mapped[str | None] = mapped_column(String(STIX_ID_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str | None] = mapped_column(Text)


class TaxiiSourceRow(Base):
    """A partner's TAXII 2.1 collection, pulled incrementally with ``added_after``."""

    __tablename__ = "intel_taxii_source"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(1000))
    username: Mapped[str | None] = mapped_column(String(200))
    password_env: Mapped[str | None] = mapped_column(String(100))
    label_set_id: Mapped[int] = mapped_column(ForeignKey("intel_label_set.id"))
    added_after: Mapped[str | None] = mapped_column(String(40))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_pulled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CursorRow(Base):
    """How far the ingest of one internal source has got."""

    __tablename__ = "intel_cursor"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- schemas that cross the boundary ------------------------------------------------------


class Provenance(BaseModel):
    """One delivery of an object version: which import, from which source, when."""

    import_id: int
    kind: str
    source: str
    actor: str
    at: datetime
    context: dict[str, Any] | None = None


class StixRecord(BaseModel):
    """One stored object version: the STIX object, its labels, provenance and lineage.

    ``derived_from`` lists the STIX ids this object was derived from, so a sanitiser can
    drop anything derived only from COMMS objects.
    """

    model_config = ConfigDict(frozen=True)

    stix_id: str
    type: str
    version: int
    modified: datetime | None
    latest: bool
    revoked: bool
    labels: Labels
    object: dict[str, Any]
    provenance: list[Provenance]
    derived_from: list[str]
    name: str


class Rejection(BaseModel):
    """An object that was not stored, and why (names the position and id, never content)."""

    index: int
    id: str | None
    reason: str


class ImportResult(BaseModel):
    import_id: int | None
    source: str
    labels: Labels
    stored: int
    merged: int
    rejected: list[Rejection]
    warnings: list[str]
    stored_ids: list[str] = []

    @property
    def counts(self) -> dict[str, int]:
        return {"stored": self.stored, "merged": self.merged, "rejected": len(self.rejected)}


class RelatedNode(BaseModel):
    stix_id: str
    type: str
    name: str
    hop: int
    labels: Labels
    object: dict[str, Any]


class RelatedEdge(BaseModel):
    """Why two objects are related: a shared value, a reference or a relationship."""

    source: str
    target: str
    via: str  # "value", "ref" or "relationship"
    detail: str  # the value label, the property name or the relationship type
    relationship_id: str | None = None


class RelatedResult(BaseModel):
    query: str
    hops: int
    nodes: list[RelatedNode]
    edges: list[RelatedEdge]
    ubiquitous: list[str]
    excluded: list[str]
    truncated: bool


class FindingOut(BaseModel):
    id: int
    kind: str
    confidence: int
    status: str
    labels: Labels
    params: dict[str, Any]
    evidence: dict[str, Any]
    stix_id: str | None
    created_at: datetime
    updated_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str | None


class TaxiiSourceOut(BaseModel):
    id: int
    name: str
    url: str
    username: str | None
    password_env: str | None
    labels: Labels
    added_after: str | None
    enabled: bool
    last_pulled_at: datetime | None
    last_status: str | None


class PullResult(BaseModel):
    source: str
    pages: int
    objects: int
    stored: int
    merged: int
    rejected: int
    added_after: str | None
