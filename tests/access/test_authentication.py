"""Sign-in with password and TOTP, login sessions, purposes, API tokens, demo accounts.

Bad input (unknown user, wrong password, bad token, malformed token) is a clear 4xx
that changes nothing but the audit log of the failure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from mamori.access import service, totp
from mamori.access.authentication import SIGN_IN_FAILED
from mamori.access.models import LoginSessionRecord, UserRecord
from mamori.access.principals import find_user
from mamori.audit.models import AuditEntry
from mamori.db import utcnow
from mamori.errors import Forbidden, InvalidInput, Unauthenticated

from .world import PASSWORD, World


def _code(world: World, username: str, offset_steps: int = 0) -> str:
    user = find_user(world.session, username)
    assert user is not None and user.totp_secret is not None
    at = utcnow() + timedelta(seconds=30 * offset_steps)
    return pyotp.TOTP(user.totp_secret).at(at)


def test_password_sign_in(world: World, audit_log: Callable[[], list[AuditEntry]]) -> None:
    world.add_user("ana", "analyst")
    world.session.commit()
    principal = service.authenticate(session=world.session, username="ana", password=PASSWORD)
    world.session.commit()
    assert principal.username == "ana" and principal.roles == {"analyst"}
    assert principal.organisation_id == world.cao and not principal.mfa
    assert audit_log()[-1].action == "access.sign_in"


@pytest.mark.parametrize(
    ("username", "password"),
    [("ghost", PASSWORD), ("ana", "wrong password"), ("", ""), ("x" * 500, "y" * 5000)],
    ids=["unknown-user", "wrong-password", "empty", "oversized"],
)
def test_failed_sign_in_is_generic_audited_and_changes_nothing(
    world: World,
    username: str,
    password: str,
    snapshot: Callable[[], dict[str, int]],
    audit_log: Callable[[], list[AuditEntry]],
) -> None:
    world.add_user("ana", "analyst")
    world.session.commit()
    before = snapshot()
    with pytest.raises(Unauthenticated) as caught:
        service.authenticate(session=world.session, username=username, password=password)
    world.session.rollback()
    assert caught.value.detail == SIGN_IN_FAILED and caught.value.status_code == 401
    after = snapshot()
    assert after.pop("audit_entries") == before.pop("audit_entries") + 1
    assert after == before
    assert audit_log()[-1].action == "access.sign_in_failed"


def test_totp_roles_need_an_enrolled_second_factor(world: World) -> None:
    world.add_user("hana", "comms_handler")
    world.session.commit()
    with pytest.raises(Unauthenticated, match="second factor"):
        service.authenticate(session=world.session, username="hana", password=PASSWORD)
    uri = service.enroll_totp(session=world.session, principal=world.root, username="hana")
    assert uri.startswith("otpauth://totp/") and "issuer=mamori" in uri
    world.session.commit()
    with pytest.raises(Unauthenticated):
        service.authenticate(session=world.session, username="hana", password=PASSWORD)
    principal = service.authenticate(
        session=world.session, username="hana", password=PASSWORD,
        totp_code=_code(world, "hana"),
    )
    assert principal.mfa


def test_a_one_time_code_cannot_be_replayed(world: World) -> None:
    world.add_user("hana", "comms_handler")
    service.enroll_totp(session=world.session, principal=world.root, username="hana")
    world.session.commit()
    code = _code(world, "hana")
    service.authenticate(session=world.session, username="hana", password=PASSWORD,
                         totp_code=code)
    world.session.commit()
    with pytest.raises(Unauthenticated):
        service.authenticate(session=world.session, username="hana", password=PASSWORD,
                             totp_code=code)
    with pytest.raises(Unauthenticated):
        service.authenticate(session=world.session, username="hana", password=PASSWORD,
                             totp_code=_code(world, "hana", offset_steps=-3))


def test_login_session_lifecycle(world: World) -> None:
    world.add_user("ana", "analyst")
    principal = service.authenticate(session=world.session, username="ana", password=PASSWORD)
    token = service.start_login(session=world.session, principal=principal)
    world.session.commit()
    stored = world.session.scalars(select(LoginSessionRecord.token_hash)).all()
    assert token not in stored and len(stored) == 1
    again = service.principal_for_login(session=world.session, login_token=token)
    assert again.username == "ana" and again.purpose is None
    declared = service.declare_purpose(
        session=world.session, login_token=token, principal=again,
        purpose="specified_damage_prevention",
    )
    assert declared.purpose == "specified_damage_prevention"
    world.session.commit()
    resumed = service.principal_for_login(session=world.session, login_token=token)
    assert resumed.purpose == "specified_damage_prevention"
    service.end_login(session=world.session, login_token=token)
    world.session.commit()
    with pytest.raises(Unauthenticated):
        service.principal_for_login(session=world.session, login_token=token)
    service.end_login(session=world.session, login_token=token)  # idempotent
    with pytest.raises(Unauthenticated):
        service.principal_for_login(session=world.session, login_token="not a token!")


def test_expired_login_session(world: World) -> None:
    principal = world.add_user("ana", "analyst")
    token = service.start_login(session=world.session, principal=principal)
    for row in world.session.scalars(select(LoginSessionRecord)):
        row.expires_at = utcnow() - timedelta(seconds=1)
    world.session.commit()
    with pytest.raises(Unauthenticated):
        service.principal_for_login(session=world.session, login_token=token)


def test_purpose_declarations(
    world: World, audit_log: Callable[[], list[AuditEntry]]
) -> None:
    analyst = world.add_user("ana", "analyst")
    operator = world.add_user("opal", "operator", org=world.electric)
    world.session.commit()
    declared = service.declare_purpose(session=world.session, login_token=None,
                                       principal=analyst, purpose="specified_damage_prevention")
    world.session.commit()
    assert declared.purpose == "specified_damage_prevention"
    entry = audit_log()[-1]
    assert (entry.action, entry.purpose) == ("access.purpose_declared",
                                             "specified_damage_prevention")
    with pytest.raises(InvalidInput):
        service.declare_purpose(session=world.session, login_token=None, principal=analyst,
                                purpose="curiosity")
    with pytest.raises(Forbidden, match="never permitted"):
        service.declare_purpose(session=world.session, login_token=None, principal=analyst,
                                purpose="criminal_investigation")
    world.session.rollback()
    assert audit_log()[-1].action == "access.denied"
    assert audit_log()[-1].object_id == "criminal_investigation"
    with pytest.raises(Forbidden):
        service.declare_purpose(session=world.session, login_token=None, principal=operator,
                                purpose="specified_damage_prevention")
    with pytest.raises(Forbidden):
        service.declare_purpose(session=world.session, login_token=None, principal=analyst,
                                purpose="other_purpose_consented")


def test_api_tokens(world: World, snapshot: Callable[[], dict[str, int]]) -> None:
    world.add_user("bot", "analyst")
    token = service.issue_api_token(session=world.session, principal=world.root,
                                    username="bot", name="feed")
    world.session.commit()
    assert token.startswith("mamori_")
    principal = service.principal_for_token(session=world.session, username="bot", token=token)
    assert principal.username == "bot" and principal.via == "cli" and not principal.mfa
    via_api = service.principal_for_api_token(session=world.session, token=token)
    assert via_api.username == "bot" and via_api.via == "api"
    world.session.commit()
    before = snapshot()
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for username, presented in (("root", token), ("bot", forged), ("bot", "mamori_x_y"),
                                ("ghost", token), ("bot", "")):
        with pytest.raises(Unauthenticated, match="invalid, expired or revoked token"):
            service.principal_for_token(session=world.session, username=username,
                                        token=presented)
        world.session.rollback()
    after = snapshot()
    assert after.pop("audit_entries") == before.pop("audit_entries") + 5
    assert after == before
    service.revoke_api_token(session=world.session, principal=world.root, username="bot",
                             name="feed")
    world.session.commit()
    with pytest.raises(Unauthenticated):
        service.principal_for_api_token(session=world.session, token=token)


def test_expired_api_token(world: World) -> None:
    world.add_user("bot", "analyst")
    with pytest.raises(InvalidInput):
        service.issue_api_token(session=world.session, principal=world.root, username="bot",
                                name="old", expires_at=utcnow() - timedelta(days=1))
    token = service.issue_api_token(session=world.session, principal=world.root,
                                    username="bot", name="soon",
                                    expires_at=utcnow() + timedelta(days=1))
    world.session.commit()
    from mamori.access.models import ApiTokenRecord

    for row in world.session.scalars(select(ApiTokenRecord)):
        row.expires_at = utcnow() - timedelta(seconds=1)
    world.session.commit()
    with pytest.raises(Unauthenticated):
        service.principal_for_token(session=world.session, username="bot", token=token)


def test_a_token_issued_with_the_one_time_code_counts_as_mfa(world: World) -> None:
    world.add_user("hana", "comms_handler")
    service.enroll_totp(session=world.session, principal=world.root, username="hana")
    with pytest.raises(InvalidInput):
        service.issue_api_token(session=world.session, principal=world.root, username="hana",
                                name="cli", totp_code="000000x")
    token = service.issue_api_token(session=world.session, principal=world.root,
                                    username="hana", name="cli",
                                    totp_code=_code(world, "hana"))
    world.session.commit()
    assert service.principal_for_token(session=world.session, username="hana",
                                       token=token).mfa


def test_demo_accounts_work_only_in_demo_mode(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mamori.config import reset_settings_cache

    world.add_user("demo-analyst", "analyst", password="demo-analyst")
    user = find_user(world.session, "demo-analyst")
    assert user is not None
    user.demo = True
    world.add_user("ana", "analyst")
    token = service.issue_api_token(session=world.session, principal=world.root,
                                    username="demo-analyst", name="cli")
    world.session.commit()
    with pytest.raises(Unauthenticated):
        service.principal_for_user(session=world.session, username="demo-analyst")
    with pytest.raises(Unauthenticated, match="sign-in failed"):
        service.authenticate(session=world.session, username="demo-analyst",
                             password="demo-analyst")
    with pytest.raises(Unauthenticated):
        service.principal_for_token(session=world.session, username="demo-analyst",
                                    token=token)
    monkeypatch.setenv("MAMORI_DEMO", "1")
    reset_settings_cache()
    assert service.principal_for_user(session=world.session,
                                      username="demo-analyst").username == "demo-analyst"
    assert service.authenticate(session=world.session, username="demo-analyst",
                                password="demo-analyst").username == "demo-analyst"
    with pytest.raises(Unauthenticated):
        service.principal_for_user(session=world.session, username="ana")
    with pytest.raises(Unauthenticated):
        service.principal_for_user(session=world.session, username="ghost")


def test_disabled_accounts_cannot_act(world: World) -> None:
    world.add_user("ana", "analyst")
    token = service.issue_api_token(session=world.session, principal=world.root,
                                    username="ana", name="cli")
    login = service.start_login(session=world.session, principal=world.principal("ana"))
    for user in world.session.scalars(select(UserRecord).where(UserRecord.username == "ana")):
        user.active = False
    world.session.commit()
    with pytest.raises(Unauthenticated):
        service.authenticate(session=world.session, username="ana", password=PASSWORD)
    with pytest.raises(Unauthenticated):
        service.principal_for_token(session=world.session, username="ana", token=token)
    with pytest.raises(Unauthenticated):
        service.principal_for_login(session=world.session, login_token=login)


def test_demo_totp_secret_is_deterministic() -> None:
    assert totp.demo_secret("demo-admin") == totp.demo_secret("demo-admin")
    assert totp.demo_secret("demo-admin") != totp.demo_secret("demo-comms_handler")
