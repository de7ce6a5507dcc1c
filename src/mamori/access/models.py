"""Tables of the access domain, and the Pydantic schemas that leave it.

Other domains never import the ``*Record`` tables; they get ``User``,
``Organisation`` and ``Designation`` from ``mamori.access.service``.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mamori.db.base import Base, UTCDateTime, utcnow
from mamori.db.sealed import SealedText


class OrganisationRecord(Base):
    """A ministry, an operator, a supplier, the oversight committee, a council member..."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    sector: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UserRecord(Base):
    """An account: a person or a machine client. ``demo`` accounts work only in demo mode."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Sealed at rest (a dump or backup holds ciphertext only; see mamori.db.sealed).
    totp_secret: Mapped[str | None] = mapped_column(
        SealedText(64, label="access.totp_secret"), nullable=True)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    language: Mapped[str] = mapped_column(String(8), default="ja")
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    organisation: Mapped[OrganisationRecord] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRoleRecord]] = relationship(
        lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(r.role for r in self.role_rows)


class UserRoleRecord(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    granted_by: Mapped[str] = mapped_column(String(64))


class DesignationRecord(Base):
    """An entry on the roster of designated communications-information handlers.

    The roster limits who may handle communications-derived data (R-3.3-12); the
    training and acknowledgement dates are recorded before the designation (R-1.4-2).
    """

    __tablename__ = "handler_designations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    training_completed_on: Mapped[date] = mapped_column(Date)
    acknowledged_on: Mapped[date] = mapped_column(Date)
    designated_by: Mapped[str] = mapped_column(String(64))
    designated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ApiTokenRecord(Base):
    """A machine client's bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    mfa: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LoginSessionRecord(Base):
    """A signed-in web session; only the SHA-256 of its token is stored."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    mfa: Mapped[bool] = mapped_column(Boolean, default=False)
    via: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str | None] = mapped_column(String(64), nullable=True)
    purpose_declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


# --- schemas that cross the domain boundary -------------------------------------------


class Organisation(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: int
    code: str
    name_ja: str
    name_en: str
    kind: str
    sector: str | None = None

    def name(self, language: str) -> str:
        return self.name_ja if language == "ja" else self.name_en


class Designation(BaseModel):
    """One roster entry, as the oversight committee reads it."""

    model_config = ConfigDict(frozen=True)

    username: str
    display_name: str
    organisation_code: str
    valid_from: date
    valid_until: date
    training_completed_on: date
    acknowledged_on: date
    designated_by: str
    designated_at: datetime
    revoked_at: datetime | None = None
    current: bool


class User(BaseModel):
    """An account as other domains and the UI see it (never its secrets)."""

    model_config = ConfigDict(frozen=True)

    id: int
    username: str
    display_name: str
    roles: list[str]
    organisation_id: int
    organisation_code: str
    organisation_kind: str
    language: str
    demo: bool
    active: bool
    totp_enrolled: bool
    designated_handler: bool
    created_at: datetime
