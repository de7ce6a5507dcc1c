"""Sign-in lockout: too many failures for one account name within the window refuse
even the right password, until the window has passed or an administrator unlocks it.
Unknown names lock the same way, so the answer says nothing about which accounts exist."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from mamori.access import authentication, service
from mamori.audit.models import AuditEntry
from mamori.config import reset_settings_cache
from mamori.db import utcnow
from mamori.errors import Forbidden, Unauthenticated

from .world import PASSWORD, World

THRESHOLD = 3


@pytest.fixture(autouse=True)
def small_threshold(env, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAMORI_SIGN_IN_LOCKOUT_THRESHOLD", str(THRESHOLD))
    monkeypatch.setenv("MAMORI_SIGN_IN_LOCKOUT_MINUTES", "15")
    reset_settings_cache()


def _fail(world: World, username: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(Unauthenticated) as caught:
            service.authenticate(session=world.session, username=username,
                                 password="wrong password")
        world.session.rollback()
        assert not isinstance(caught.value, service.SignInLocked)


def _sign_in(world: World, username: str) -> None:
    service.authenticate(session=world.session, username=username, password=PASSWORD)
    world.session.commit()


def _locked(world: World, username: str, password: str = PASSWORD) -> str:
    with pytest.raises(service.SignInLocked) as caught:
        service.authenticate(session=world.session, username=username, password=password)
    world.session.rollback()
    return str(caught.value)


def test_the_right_password_is_refused_once_locked_until_an_admin_unlocks(
        world: World, audit_log: Callable[[], list[AuditEntry]]) -> None:
    world.add_user("ana", "analyst")
    world.add_user("bob", "analyst")
    world.session.commit()
    _fail(world, "ana", THRESHOLD)
    assert "too many failed sign-ins" in _locked(world, "ana")
    assert audit_log()[-1].action == "access.sign_in_failed"
    assert '"locked out"' in audit_log()[-1].details
    _sign_in(world, "bob")  # other accounts are not affected

    analyst = world.add_user("eve", "analyst")
    with pytest.raises(Forbidden):
        service.unlock_sign_in(session=world.session, principal=analyst, username="ana")
    world.session.rollback()
    assert service.unlock_sign_in(session=world.session, principal=world.root, username="ana")
    world.session.commit()
    assert audit_log()[-1].action == "access.sign_in_unlocked"
    _sign_in(world, "ana")
    assert not service.unlock_sign_in(session=world.session, principal=world.root,
                                      username="ana")


def test_a_successful_sign_in_starts_the_count_again(world: World) -> None:
    world.add_user("ana", "analyst")
    world.session.commit()
    _fail(world, "ana", THRESHOLD - 1)
    _sign_in(world, "ana")
    _fail(world, "ana", THRESHOLD - 1)
    _sign_in(world, "ana")


def test_failures_older_than_the_window_no_longer_count(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.add_user("ana", "analyst")
    world.session.commit()
    _fail(world, "ana", THRESHOLD)
    _locked(world, "ana")
    later = utcnow() + timedelta(minutes=16)
    monkeypatch.setattr(authentication, "utcnow", lambda: later)
    _sign_in(world, "ana")


def test_unknown_names_lock_the_same_way(world: World) -> None:
    world.add_user("ana", "analyst")
    world.session.commit()
    _fail(world, "ana", THRESHOLD)
    _fail(world, "ghost", THRESHOLD)
    assert _locked(world, "ana") == _locked(world, "ghost", "anything")


def test_a_threshold_of_zero_turns_lockout_off(world: World,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMORI_SIGN_IN_LOCKOUT_THRESHOLD", "0")
    reset_settings_cache()
    world.add_user("ana", "analyst")
    world.session.commit()
    _fail(world, "ana", THRESHOLD + 2)
    _sign_in(world, "ana")
