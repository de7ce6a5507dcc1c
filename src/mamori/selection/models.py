"""Tables of the sealed selection zone and the schemas that cross its boundary.

What is stored here is configuration (selector sets, the domestic-prefix table, the
mechanical-information item set), receipts, and the selected records themselves.
Nothing pre-selection is ever stored: the records table has one column per
mechanical-information item and no column that could hold a payload.

On PostgreSQL ``selection_record`` is partitioned by range of ``day`` so that
retention drops whole partitions; the partitions are created on demand in the
schema :data:`PARTITION_SCHEMA`. On SQLite it is a plain table.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
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

PARTITION_SCHEMA = "selection_parts"
"""PostgreSQL schema holding the per-day partitions of ``selection_record``."""

COMMS_LABEL = "COMMS"
BATCH_ID_MAX = 100
NAME_MAX = 100


class SelectorSet(Base):
    """A named set of selection criteria; its content lives in immutable versions."""

    __tablename__ = "selection_selector_set"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SelectorVersion(Base):
    """One immutable version of a selector set; ``digest`` is SHA-256 of ``content``."""

    __tablename__ = "selection_selector_version"
    __table_args__ = (UniqueConstraint("set_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("selection_selector_set.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    """Canonical JSON of the selectors (see ``mamori.selection.selectors``)."""
    counts: Mapped[dict[str, int]] = mapped_column(JSON)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """What was imported: file name, format, accepted and skipped entries."""
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PrefixVersion(Base):
    """One version of the domestic-prefix table used to classify direction."""

    __tablename__ = "selection_prefix_version"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    country: Mapped[str] = mapped_column(String(2))
    digest: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    """Canonical JSON: the merged domestic ranges and the overrides that shaped them."""
    counts: Mapped[dict[str, int]] = mapped_column(JSON)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ItemSetVersion(Base):
    """A version of the mechanical-information item set (機械的情報, R-1.5-7).

    Version 0 is the built-in default and has no row; a new version needs the
    references of the public comment and of the committee consultation (R-1.5-8).
    """

    __tablename__ = "selection_item_set"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    items: Mapped[list[str]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    public_comment_ref: Mapped[str] = mapped_column(String(200))
    consultation_ref: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Receipt(Base):
    """The selection receipt of one batch; the same content is in the audit log."""

    __tablename__ = "selection_receipt"

    batch_id: Mapped[str] = mapped_column(String(BATCH_ID_MAX), primary_key=True)
    audit_seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    measure_id: Mapped[str] = mapped_column(String(20), index=True)
    selector_version_id: Mapped[int] = mapped_column(
        ForeignKey("selection_selector_version.id"), index=True
    )
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The receipt as written to the audit log (``SelectionReceipt.details()``)."""
    records_out: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class SelectedRecord(Base):
    """One selected flow record: mechanical information only, labelled COMMS.

    Items outside the active item set stay NULL. Addresses are text: either the
    selector value itself or its Crypto-PAn pseudonym (``*_pseudonymised``).
    """

    __tablename__ = "selection_record"
    __table_args__ = (
        PrimaryKeyConstraint("batch_id", "seq", "day"),
        Index("ix_selection_record_measure_id", "measure_id"),
        Index("ix_selection_record_created_at", "created_at"),
        {"postgresql_partition_by": "RANGE (day)"},
    )

    batch_id: Mapped[str] = mapped_column(String(BATCH_ID_MAX))
    seq: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)
    """UTC day of ``created_at``: the partition key."""
    label: Mapped[str] = mapped_column(String(16), default=COMMS_LABEL)
    measure_id: Mapped[str] = mapped_column(String(20))
    receipt_seq: Mapped[int] = mapped_column(BigInteger)
    """Sequence number of the receipt's entry in the audit log."""
    item_set_version: Mapped[int] = mapped_column(Integer)
    direction: Mapped[str] = mapped_column(String(20))
    key_epoch: Mapped[str] = mapped_column(String(40))
    pseudonymisation: Mapped[str] = mapped_column(String(40))
    family: Mapped[int] = mapped_column(SmallInteger)
    first_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)
    src_addr: Mapped[str | None] = mapped_column(String(45))
    dst_addr: Mapped[str | None] = mapped_column(String(45))
    src_pseudonymised: Mapped[bool] = mapped_column(Boolean, default=False)
    dst_pseudonymised: Mapped[bool] = mapped_column(Boolean, default=False)
    src_port: Mapped[int | None] = mapped_column(Integer)
    dst_port: Mapped[int | None] = mapped_column(Integer)
    protocol: Mapped[int | None] = mapped_column(SmallInteger)
    tcp_flags: Mapped[int | None] = mapped_column(Integer)
    packets: Mapped[int | None] = mapped_column(BigInteger)
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    ttl_min: Mapped[int | None] = mapped_column(SmallInteger)
    ttl_max: Mapped[int | None] = mapped_column(SmallInteger)
    icmp_type: Mapped[int | None] = mapped_column(SmallInteger)
    icmp_code: Mapped[int | None] = mapped_column(SmallInteger)
    dns_qname: Mapped[str | None] = mapped_column(String(255))
    dns_qtype: Mapped[int | None] = mapped_column(Integer)
    dns_rcode: Mapped[int | None] = mapped_column(SmallInteger)
    tls_sni: Mapped[str | None] = mapped_column(String(255))
    ja3: Mapped[str | None] = mapped_column(String(32))
    ja4: Mapped[str | None] = mapped_column(String(64))
    http_host: Mapped[str | None] = mapped_column(String(255))
    matched_selectors: Mapped[list[str] | None] = mapped_column(JSON)
    matched_rules: Mapped[list[str] | None] = mapped_column(JSON)
    command_tokens: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- schemas that cross the boundary ---------------------------------------------------


class SelectorSetOut(BaseModel):
    name: str
    description: str
    version: int
    digest: str
    counts: dict[str, int]
    created_at: datetime
    created_by: str


class ReceiptOut(BaseModel):
    batch_id: str
    audit_seq: int
    measure_id: str
    records_out: int
    created_at: datetime
    details: dict[str, Any]
