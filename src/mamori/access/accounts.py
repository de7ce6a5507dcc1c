"""Accounts: creating users, API tokens, second factors, language, the handler roster."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access import auditing, passwords, roster, tokens, totp
from mamori.access.authentication import check_totp, locked_out, require_fresh_factor
from mamori.access.authorization import authorize, deny
from mamori.access.models import (
    ApiTokenRecord,
    Designation,
    DesignationRecord,
    OrganisationRecord,
    User,
    UserRecord,
    UserRoleRecord,
)
from mamori.access.principal import Principal, Resource
from mamori.access.principals import BOOTSTRAP, admin_exists, find_user
from mamori.access.roles import validate_roles
from mamori.db import utcnow
from mamori.errors import Conflict, InvalidInput, NotFound

LANGUAGES = ("ja", "en")
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
_TOKEN_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


def user_view(session: Session, user: UserRecord) -> User:
    return User(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=sorted(user.roles),
        organisation_id=user.organisation_id,
        organisation_code=user.organisation.code,
        organisation_kind=user.organisation.kind,
        language=user.language,
        demo=user.demo,
        active=user.active,
        totp_enrolled=user.totp_secret is not None,
        designated_handler=roster.is_designated(session, user.id),
        created_at=user.created_at,
    )


def _user_resource(username: str, user: UserRecord | None) -> Resource:
    return Resource(
        type="user", id=username, organisation_id=user.organisation_id if user else None
    )


def authorized_user(
    session: Session, principal: Principal, action: str, username: str
) -> UserRecord:
    """The account ``username`` once ``action`` on it is authorized; else NotFound.

    Authorization comes first, so that a principal without the right cannot learn
    which accounts exist.
    """
    user = find_user(session, username)
    authorize(
        session=session, principal=principal, action=action,
        resource=_user_resource(username, user),
    )
    if user is None:
        raise NotFound(f"no user {username[:64]!r}", field="username")
    return user


def _validate_new_user(username: str, display_name: str, language: str) -> None:
    if not _USERNAME.fullmatch(username):
        raise InvalidInput(
            "a username is 2-64 characters of a-z, 0-9, '.', '_' and '-', starting with a "
            "letter or digit",
            field="username",
        )
    if not display_name.strip() or len(display_name) > 200:
        raise InvalidInput("the display name must have 1-200 characters", field="display_name")
    if language not in LANGUAGES:
        raise InvalidInput("the language is ja or en", field="language")


def create_user(
    *,
    session: Session,
    principal: Principal,
    username: str,
    display_name: str,
    roles: list[str] | tuple[str, ...] | frozenset[str],
    organisation_id: int,
    password: str,
    language: str = "ja",
    demo: bool = False,
) -> User:
    """Create an account. ``demo`` accounts work only while the platform runs in demo mode."""
    authorize(
        session=session, principal=principal, action="user.add",
        resource=Resource(type="user", id=username, organisation_id=organisation_id),
    )
    chosen = validate_roles(roles)
    if principal.username == BOOTSTRAP and ("admin" not in chosen or admin_exists(session)):
        raise deny(
            session=session, principal=principal, action="user.add",
            resource=Resource(type="user", id=username),
            reason="without an administrator's token only the first administrator can be "
            "created",
        )
    _validate_new_user(username, display_name, language)
    passwords.check_policy(password)
    if session.get(OrganisationRecord, organisation_id) is None:
        raise NotFound(f"no organisation with id {organisation_id}", field="organisation_id")
    if find_user(session, username) is not None:
        raise Conflict(f"user {username} exists already", field="username")
    user = UserRecord(
        username=username,
        display_name=display_name.strip(),
        organisation_id=organisation_id,
        password_hash=passwords.hash_password(password),
        language=language,
        demo=demo,
        active=True,
    )
    user.role_rows = [UserRoleRecord(role=r, granted_by=principal.username) for r in sorted(chosen)]
    session.add(user)
    session.flush()
    auditing.record(
        session, actor=principal.username, action="user.add", object_type="user",
        object_id=username,
        details={"roles": sorted(chosen), "organisation_id": organisation_id, "demo": demo},
    )
    return user_view(session, user)


def get_user(*, session: Session, principal: Principal, username: str) -> User:
    return user_view(session, authorized_user(session, principal, "user.show", username))


def list_users(
    *, session: Session, principal: Principal, organisation_id: int | None = None
) -> list[User]:
    """Accounts, optionally of one organisation, by username."""
    authorize(
        session=session, principal=principal, action="user.list",
        resource=Resource(type="user", organisation_id=organisation_id),
    )
    query = select(UserRecord).order_by(UserRecord.username)
    if organisation_id is not None:
        query = query.where(UserRecord.organisation_id == organisation_id)
    return [user_view(session, u) for u in session.scalars(query)]


def set_language(*, session: Session, principal: Principal, username: str, language: str) -> User:
    user = authorized_user(session, principal, "user.language", username)
    if language not in LANGUAGES:
        raise InvalidInput("the language is ja or en", field="language")
    user.language = language
    session.flush()
    return user_view(session, user)


# --- API tokens -----------------------------------------------------------------------


def issue_api_token(
    *,
    session: Session,
    principal: Principal,
    username: str,
    name: str,
    expires_at: datetime | None = None,
    totp_code: str | None = None,
) -> str:
    """A new API token for ``username``; the token is returned once and stored hashed.

    With the account's current one-time code the token counts as signed in with a
    second factor, which communications-derived data requires.
    """
    user = authorized_user(session, principal, "user.token", username)
    if not _TOKEN_NAME.fullmatch(name):
        raise InvalidInput("a token name is 1-64 characters of A-Z, a-z, 0-9, '.', '_', '-'",
                           field="name")
    now = utcnow()
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
        raise InvalidInput("the expiry must be a timezone-aware time in the future",
                           field="expires_at")
    active = session.scalars(
        select(ApiTokenRecord).where(
            ApiTokenRecord.user_id == user.id,
            ApiTokenRecord.name == name,
            ApiTokenRecord.revoked_at.is_(None),
        )
    ).all()
    if any(t.expires_at is None or t.expires_at > now for t in active):
        raise Conflict(f"{username} has an active token named {name} already", field="name")
    mfa = False
    if totp_code is not None:
        if not check_totp(user, totp_code):
            raise InvalidInput("wrong or already used one-time code", field="totp_code")
        mfa = True
    token = tokens.new_api_token()
    session.add(
        ApiTokenRecord(
            user_id=user.id, name=name, key_id=token.key_id, token_hash=tokens.digest(str(token)),
            mfa=mfa, created_by=principal.username, expires_at=expires_at,
        )
    )
    session.flush()
    auditing.record(
        session, actor=principal.username, action="user.token_issued", object_type="user",
        object_id=username,
        details={
            "name": name, "key_id": token.key_id, "mfa": mfa,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return str(token)


def revoke_api_token(*, session: Session, principal: Principal, username: str, name: str) -> None:
    user = authorized_user(session, principal, "user.token", username)
    rows = session.scalars(
        select(ApiTokenRecord).where(
            ApiTokenRecord.user_id == user.id,
            ApiTokenRecord.name == name,
            ApiTokenRecord.revoked_at.is_(None),
        )
    ).all()
    if not rows:
        raise NotFound(f"{username} has no active token named {name[:64]!r}", field="name")
    for row in rows:
        row.revoked_at = utcnow()
    session.flush()
    auditing.record(
        session, actor=principal.username, action="user.token_revoked", object_type="user",
        object_id=username, details={"name": name},
    )


# --- second factor -----------------------------------------------------------------


def enroll_totp(*, session: Session, principal: Principal, username: str) -> str:
    """A new TOTP secret for ``username``; returns its ``otpauth://`` provisioning URI.

    Replacing an enrolled factor of one's own account needs a session signed in with it.
    """
    user = authorized_user(session, principal, "user.totp", username)
    if user.totp_secret is not None and "admin" not in principal.roles:
        require_fresh_factor(
            session=session, principal=principal, action="user.totp",
            resource=_user_resource(username, user),
        )
    secret = totp.new_secret()
    user.totp_secret = secret
    user.totp_last_step = None
    session.flush()
    auditing.record(
        session, actor=principal.username, action="user.totp_enrolled", object_type="user",
        object_id=username, details={},
    )
    return totp.provisioning_uri(secret, username)


def unlock_sign_in(*, session: Session, principal: Principal, username: str) -> bool:
    """End a sign-in lockout of ``username`` now; returns whether it was locked.

    Audited either way; failures before this moment no longer count."""
    user = authorized_user(session, principal, "user.unlock", username)
    was_locked = locked_out(session, username=username, user=user)
    auditing.record(
        session, actor=principal.username, action="access.sign_in_unlocked",
        object_type="user", object_id=username, details={"was_locked": was_locked},
    )
    return was_locked


# --- roster of designated handlers ---------------------------------------------------


def designate_handler(
    *,
    session: Session,
    principal: Principal,
    username: str,
    training_completed_on: date,
    acknowledged_on: date | None = None,
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> Designation:
    """Put a communications handler on the roster, recording training and acknowledgement.

    ``acknowledged_on`` (the written acknowledgement of the secrecy of communications)
    defaults to the training date; the entry is valid from today for one year unless
    dates are given. Renewal adds a new entry.
    """
    user = authorized_user(session, principal, "user.designate", username)
    if "comms_handler" not in user.roles:
        raise InvalidInput(
            f"{username} does not hold the comms_handler role; only communications handlers "
            "are designated",
            field="username",
        )
    today = roster.today()
    acknowledged_on = acknowledged_on or training_completed_on
    valid_from = valid_from or today
    valid_until = valid_until or valid_from + timedelta(days=roster.DEFAULT_VALIDITY_DAYS)
    if training_completed_on > today or acknowledged_on > today:
        raise InvalidInput("training and acknowledgement dates cannot be in the future",
                           field="training_completed_on")
    if training_completed_on > valid_from or acknowledged_on > valid_from:
        raise InvalidInput(
            "training and acknowledgement must precede the designation (R-1.4-2)",
            field="valid_from",
        )
    if valid_until < valid_from:
        raise InvalidInput("the designation ends before it starts", field="valid_until")
    row = DesignationRecord(
        user_id=user.id,
        valid_from=valid_from,
        valid_until=valid_until,
        training_completed_on=training_completed_on,
        acknowledged_on=acknowledged_on,
        designated_by=principal.username,
    )
    session.add(row)
    session.flush()
    auditing.record(
        session, actor=principal.username, action="user.designated", object_type="user",
        object_id=username,
        details={
            "valid_from": valid_from.isoformat(),
            "valid_until": valid_until.isoformat(),
            "training_completed_on": training_completed_on.isoformat(),
            "acknowledged_on": acknowledged_on.isoformat(),
        },
    )
    return designation_view(row, user)


def revoke_designation(*, session: Session, principal: Principal, username: str) -> int:
    """Take a handler off the roster now; returns how many entries were revoked."""
    user = authorized_user(session, principal, "user.designate", username)
    rows = session.scalars(
        select(DesignationRecord).where(
            DesignationRecord.user_id == user.id, DesignationRecord.revoked_at.is_(None)
        )
    ).all()
    if not rows:
        raise NotFound(f"{username} is not on the roster", field="username")
    now = utcnow()
    for row in rows:
        row.revoked_at = now
        row.revoked_by = principal.username
    session.flush()
    auditing.record(
        session, actor=principal.username, action="user.designation_revoked",
        object_type="user", object_id=username, details={"entries": len(rows)},
    )
    return len(rows)


def designation_view(row: DesignationRecord, user: UserRecord) -> Designation:
    return Designation(
        username=user.username,
        display_name=user.display_name,
        organisation_code=user.organisation.code,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        training_completed_on=row.training_completed_on,
        acknowledged_on=row.acknowledged_on,
        designated_by=row.designated_by,
        designated_at=row.designated_at,
        revoked_at=row.revoked_at,
        current=roster.covers(row, roster.today()),
    )


def list_roster(
    *, session: Session, principal: Principal, include_past: bool = False
) -> list[Designation]:
    """The roster as the oversight committee inspects it."""
    authorize(
        session=session, principal=principal, action="user.roster",
        resource=Resource(type="roster"),
    )
    return [designation_view(d, u) for d, u in roster.entries(session, include_past=include_past)]
