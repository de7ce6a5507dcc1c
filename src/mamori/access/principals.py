"""Turning a stored account into the ``Principal`` that ``authorize()`` judges."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access import roster
from mamori.access.models import UserRecord, UserRoleRecord
from mamori.access.principal import Principal
from mamori.config import get_settings

BOOTSTRAP = "system:bootstrap"


def find_user(session: Session, username: str) -> UserRecord | None:
    if not username or len(username) > 64:
        return None
    return session.scalars(select(UserRecord).where(UserRecord.username == username)).first()


def principal_of(
    session: Session, user: UserRecord, *, mfa: bool, via: str, purpose: str | None = None
) -> Principal:
    """The principal for ``user`` now: roles, organisation and today's roster status."""
    return Principal(
        username=user.username,
        roles=user.roles,
        user_id=user.id,
        organisation_id=user.organisation_id,
        organisation_kind=user.organisation.kind,
        designated_handler=roster.is_designated(session, user.id),
        purpose=purpose,
        mfa=mfa,
        via=via,
    )


def admin_exists(session: Session) -> bool:
    """Whether an administrator who can sign in now exists (demo ones only in demo mode)."""
    query = (
        select(UserRoleRecord.user_id)
        .join(UserRecord, UserRecord.id == UserRoleRecord.user_id)
        .where(UserRoleRecord.role == "admin", UserRecord.active.is_(True))
    )
    if not get_settings().demo:
        query = query.where(UserRecord.demo.is_(False))
    return session.scalars(query.limit(1)).first() is not None
