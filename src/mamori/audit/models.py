"""Audit tables (entries and signed tree heads) and the schemas that leave the domain.

Both tables are append-only: database triggers refuse UPDATE and DELETE
(migration ``0001_audit``). ``details`` holds metadata only, as canonical JSON.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mamori.db.base import Base, UTCDateTime

ACTOR_MAX = 200
ACTION_MAX = 100
OBJECT_TYPE_MAX = 100
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OBJECT_ID_MAX = 200
LEGAL_BASIS_MAX = 200
PURPOSE_MAX = 500


def format_time(value: datetime) -> str:
    """The UTC ISO form that goes into a leaf, e.g. ``2025-11-26T05:50:00.123456Z``."""
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class AuditEntry(Base):
    """One leaf of the log; ``seq`` runs 0, 1, 2, … without gaps."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    time: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(ACTOR_MAX), index=True)
    action: Mapped[str] = mapped_column(String(ACTION_MAX), index=True)
    object_type: Mapped[str] = mapped_column(String(OBJECT_TYPE_MAX), index=True)
    object_id: Mapped[str] = mapped_column(String(OBJECT_ID_MAX), index=True)
    legal_basis: Mapped[str | None] = mapped_column(String(LEGAL_BASIS_MAX))
    purpose: Mapped[str | None] = mapped_column(String(PURPOSE_MAX))
    details: Mapped[str] = mapped_column(Text)
    details_digest: Mapped[str] = mapped_column(String(64))
    leaf_hash: Mapped[str] = mapped_column(String(64))

    @property
    def details_dict(self) -> dict[str, Any]:
        value = json.loads(self.details)
        return value if isinstance(value, dict) else {}

    def leaf_fields(self) -> dict[str, Any]:
        """The fields as the leaf encodes them, plus details and the stored leaf hash."""
        return {
            "seq": self.seq,
            "time": format_time(self.time),
            "actor": self.actor,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "legal_basis": self.legal_basis,
            "purpose": self.purpose,
            "details_digest": self.details_digest,
            "details": _loads_or_none(self.details),
            "leaf_hash": self.leaf_hash,
        }


def _loads_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


class TreeHead(Base):
    """A signed tree head: the log's size and root at one moment, signed with Ed25519."""

    __tablename__ = "audit_tree_heads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))

    @property
    def timestamp_ms(self) -> int:
        """Milliseconds since the epoch: the timestamp inside the signed bytes."""
        return (self.issued_at - EPOCH) // timedelta(milliseconds=1)

    def as_record(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "timestamp_ms": self.timestamp_ms,
            "issued_at": format_time(self.issued_at),
            "key_id": self.key_id,
            "signature": self.signature,
        }


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    time: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    legal_basis: str | None
    purpose: str | None
    details: dict[str, Any]
    details_digest: str
    leaf_hash: str

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        return cls(
            seq=entry.seq,
            time=entry.time,
            actor=entry.actor,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            legal_basis=entry.legal_basis,
            purpose=entry.purpose,
            details=entry.details_dict,
            details_digest=entry.details_digest,
            leaf_hash=entry.leaf_hash,
        )


class EntryPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[AuditEntryOut]


class TreeHeadOut(BaseModel):
    tree_size: int
    root_hash: str
    issued_at: datetime
    timestamp_ms: int
    key_id: str
    signature: str

    @classmethod
    def of(cls, head: TreeHead) -> TreeHeadOut:
        return cls(
            tree_size=head.tree_size,
            root_hash=head.root_hash,
            issued_at=head.issued_at,
            timestamp_ms=head.timestamp_ms,
            key_id=head.key_id,
            signature=head.signature,
        )


class InclusionProof(BaseModel):
    """RFC 9162 inclusion proof of entry ``seq`` in the tree of ``tree_size`` entries."""

    seq: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    path: list[str]


class ConsistencyProof(BaseModel):
    """RFC 9162 consistency proof: tree ``first`` is a prefix of tree ``second``."""

    first: int
    second: int
    first_root: str
    second_root: str
    path: list[str]
