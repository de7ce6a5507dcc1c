"""Who is acting: passwords with TOTP, web login sessions, API tokens, demo accounts,
and the purpose of use declared for a session."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mamori.access import auditing, passwords, tokens, totp
from mamori.access.authorization import authorize, deny
from mamori.access.models import ApiTokenRecord, LoginSessionRecord, UserRecord
from mamori.access.principal import Principal, Resource
from mamori.access.principals import find_user, principal_of
from mamori.access.purposes import PURPOSES
from mamori.access.roles import TOTP_ROLES
from mamori.audit.models import AuditEntry
from mamori.config import get_settings
from mamori.db import utcnow
from mamori.errors import InvalidInput, Unauthenticated

LOGIN_LIFETIME = timedelta(hours=12)
SIGN_IN_FAILED = "sign-in failed: unknown user, wrong password or wrong one-time code"
BAD_LOGIN = "invalid or expired login session"


class SignInLocked(Unauthenticated):
    """Too many failed sign-ins for one account name: refused whatever the password."""


def _usable(user: UserRecord | None) -> bool:
    """Active, and a demo account only while the platform runs in demo mode."""
    return user is not None and user.active and (not user.demo or get_settings().demo)


def _failed(session: Session, *, username: str, via: str, reason: str,
            error: Unauthenticated | None = None) -> Unauthenticated:
    auditing.record_independently(
        session,
        actor=username[:64] or "anonymous",
        action="access.sign_in_failed",
        object_type="user",
        object_id=username[:64],
        details={"reason": reason, "via": via},
    )
    return error or Unauthenticated(SIGN_IN_FAILED)


def locked_out(session: Session, *, username: str, user: UserRecord | None = None) -> bool:
    """Whether ``username`` has failed to sign in too often in the lockout window.

    Counted from the audit log's failures (written independently, so a rollback does not
    erase them) since the later of the window's start, the last successful sign-in and
    the last unlock by an administrator. Unknown names are counted the same way, so the
    answer reveals nothing about which accounts exist."""
    settings = get_settings()
    if settings.sign_in_lockout_threshold <= 0:
        return False
    name = username[:64]
    since = utcnow() - timedelta(minutes=settings.sign_in_lockout_minutes)
    unlocked = session.scalar(select(func.max(AuditEntry.time)).where(
        AuditEntry.action == "access.sign_in_unlocked", AuditEntry.object_id == name))
    for moment in (user.last_login_at if user is not None else None, unlocked):
        if moment is not None and moment > since:
            since = moment
    failures = session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "access.sign_in_failed", AuditEntry.object_id == name,
        AuditEntry.time > since))
    return int(failures or 0) >= settings.sign_in_lockout_threshold


def needs_totp(user: UserRecord) -> bool:
    return bool(user.roles & TOTP_ROLES) or user.totp_secret is not None


def check_totp(user: UserRecord, code: str | None) -> bool:
    """Verify a code and remember its time step so that it cannot be replayed.

    Demo accounts skip the replay check: their current code is shown on the demo
    login page and several people may use it within the same 30 seconds.
    """
    if not code or user.totp_secret is None:
        return False
    step = totp.matching_step(user.totp_secret, code)
    if step is None:
        return False
    if not user.demo and user.totp_last_step is not None and step <= user.totp_last_step:
        return False
    user.totp_last_step = step
    return True


def authenticate(
    *,
    session: Session,
    username: str,
    password: str,
    totp_code: str | None = None,
    via: str = "web",
) -> Principal:
    """Check a password (and the one-time code where required) and return the principal."""
    user = find_user(session, username)
    if locked_out(session, username=username, user=user):
        passwords.verify_password(None, password)  # same cost as any other answer
        minutes = get_settings().sign_in_lockout_minutes
        raise _failed(session, username=username, via=via, reason="locked out",
                      error=SignInLocked(f"too many failed sign-ins for this account: try "
                                         f"again in {minutes} minutes"))
    if not _usable(user):
        passwords.verify_password(None, password)  # same cost as for a real account
        raise _failed(session, username=username, via=via, reason="unknown or disabled user")
    assert user is not None
    if not passwords.verify_password(user.password_hash, password):
        raise _failed(session, username=username, via=via, reason="wrong password")
    mfa = False
    if needs_totp(user):
        if user.totp_secret is None:
            auditing.record_independently(
                session, actor=user.username, action="access.sign_in_failed",
                object_type="user", object_id=user.username,
                details={"reason": "second factor not enrolled", "via": via},
            )
            raise Unauthenticated(
                "this account needs a second factor (TOTP) and has none yet: "
                "ask an administrator to enrol one (`mamori user totp`)"
            )
        if not check_totp(user, totp_code):
            raise _failed(session, username=username, via=via, reason="wrong one-time code")
        mfa = True
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = utcnow()
    auditing.record(
        session, actor=user.username, action="access.sign_in", object_type="user",
        object_id=user.username, details={"via": via, "mfa": mfa},
    )
    session.flush()
    return principal_of(session, user, mfa=mfa, via=via)


# --- web login sessions -----------------------------------------------------------


def start_login(*, session: Session, principal: Principal) -> str:
    """Open a login session for an authenticated principal; the token is shown once."""
    if principal.user_id is None:
        raise InvalidInput("only an account can open a login session", field="principal")
    token = tokens.new_login_token()
    session.add(
        LoginSessionRecord(
            user_id=principal.user_id,
            token_hash=tokens.digest(token),
            mfa=principal.mfa,
            via=principal.via,
            purpose=principal.purpose,
            purpose_declared_at=utcnow() if principal.purpose else None,
            expires_at=utcnow() + LOGIN_LIFETIME,
        )
    )
    session.flush()
    return token


def _login_row(session: Session, login_token: str) -> LoginSessionRecord:
    tokens.check_login_token(login_token)
    row = session.scalars(
        select(LoginSessionRecord).where(
            LoginSessionRecord.token_hash == tokens.digest(login_token)
        )
    ).first()
    if row is None or row.ended_at is not None or row.expires_at <= utcnow():
        raise Unauthenticated(BAD_LOGIN)
    return row


def principal_for_login(*, session: Session, login_token: str) -> Principal:
    """The principal of an open login session, with today's roster status."""
    row = _login_row(session, login_token)
    user = session.get(UserRecord, row.user_id)
    if not _usable(user):
        raise Unauthenticated(BAD_LOGIN)
    assert user is not None
    return principal_of(session, user, mfa=row.mfa, via=row.via, purpose=row.purpose)


def end_login(*, session: Session, login_token: str) -> None:
    """Sign out; an unknown or already closed session is simply left alone."""
    try:
        row = _login_row(session, login_token)
    except Unauthenticated:
        return
    row.ended_at = utcnow()
    session.flush()


def declare_purpose(
    *, session: Session, login_token: str | None, principal: Principal, purpose: str
) -> Principal:
    """Declare the purpose of use for this session (kept with the login session, if any)."""
    known = PURPOSES.get(purpose)
    if known is None:
        names = ", ".join(c for c, p in PURPOSES.items() if not p.forbidden)
        raise InvalidInput(f"unknown purpose of use; known: {names}", field="purpose")
    resource = Resource(type="purpose", id=purpose)
    if known.forbidden:
        raise deny(
            session=session, principal=principal, action="purpose.declare", resource=resource,
            reason=f"the purpose {purpose} is never permitted (R-2.3-10)",
        )
    row = _login_row(session, login_token) if login_token is not None else None
    if row is not None and row.user_id != principal.user_id:
        raise Unauthenticated(BAD_LOGIN)
    authorize(session=session, principal=principal, action="purpose.declare", resource=resource)
    if row is not None:
        row.purpose = purpose
        row.purpose_declared_at = utcnow()
    auditing.record(
        session, actor=principal.username, action="access.purpose_declared",
        object_type="purpose", object_id=purpose, purpose=purpose,
        details={"via": principal.via, "previous": principal.purpose},
    )
    session.flush()
    return principal.with_purpose(purpose)


# --- API tokens and demo accounts ---------------------------------------------------


def _token_principal(
    session: Session, token: str, *, username: str | None, via: str
) -> Principal:
    claimed = username or "anonymous"
    try:
        parsed = tokens.parse_api_token(token)
    except Unauthenticated:
        auditing.record_independently(
            session, actor=claimed[:64], action="access.token_rejected", object_type="user",
            object_id=claimed[:64], details={"reason": "malformed token", "via": via},
        )
        raise
    row = session.scalars(
        select(ApiTokenRecord).where(ApiTokenRecord.key_id == parsed.key_id)
    ).first()
    user = session.get(UserRecord, row.user_id) if row is not None else None
    now = utcnow()
    reason = None
    if row is None or user is None or not tokens.same_digest(str(parsed), row.token_hash):
        reason = "unknown token"
    elif row.revoked_at is not None:
        reason = "revoked token"
    elif row.expires_at is not None and row.expires_at <= now:
        reason = "expired token"
    elif username is not None and user.username != username:
        reason = "token of another user"
    elif not _usable(user):
        reason = "disabled or demo-only account"
    if reason is not None:
        auditing.record_independently(
            session, actor=claimed[:64], action="access.token_rejected", object_type="user",
            object_id=claimed[:64],
            details={"reason": reason, "via": via, "key_id": parsed.key_id},
        )
        raise Unauthenticated(tokens.BAD_TOKEN)
    assert row is not None and user is not None
    # Bookkeeping outside the caller's transaction, so that a request that only reads
    # leaves that transaction clean (a denial later in it is then audited on its own).
    token_id = row.id
    auditing.write_independently(
        session,
        lambda own: own.execute(
            update(ApiTokenRecord).where(ApiTokenRecord.id == token_id).values(last_used_at=now)
        ),
    )
    return principal_of(session, user, mfa=row.mfa and user.totp_secret is not None, via=via)


def principal_for_token(
    *, session: Session, username: str, token: str, via: str = "cli"
) -> Principal:
    """The principal for ``--as USERNAME`` with that user's API token."""
    return _token_principal(session, token, username=username, via=via)


def principal_for_api_token(*, session: Session, token: str, via: str = "api") -> Principal:
    """The principal for a bearer token (the token names its own account)."""
    return _token_principal(session, token, username=None, via=via)


def principal_for_user(*, session: Session, username: str, via: str = "cli") -> Principal:
    """Act as a demo account without a token: only in demo mode, only demo accounts."""
    user = find_user(session, username)
    if not get_settings().demo or user is None or not user.demo or not user.active:
        raise Unauthenticated(
            "acting without MAMORI_TOKEN works only for demo accounts in demo mode"
        )
    return principal_of(session, user, mfa=user.totp_secret is not None, via=via)


def require_fresh_factor(
    *, session: Session, principal: Principal, action: str, resource: Resource
) -> None:
    """Refuse an action that needs a session signed in with the second factor."""
    if not principal.mfa:
        raise deny(
            session=session, principal=principal, action=action, resource=resource,
            reason="this needs a session signed in with the second factor",
        )

