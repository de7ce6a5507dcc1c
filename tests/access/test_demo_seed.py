"""The demo step: organisations, one demo account per role, demo mode only."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy.orm import Session

from mamori.access import service
from mamori.access.demo import ACCOUNTS, ORGANISATIONS, demo_totp_code, seed
from mamori.access.principal import ROLES
from mamori.access.roles import TOTP_ROLES
from mamori.config import reset_settings_cache
from mamori.errors import InvalidInput, Unauthenticated


@pytest.fixture
def demo_mode(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMORI_DEMO", "1")
    reset_settings_cache()


def test_seed_refuses_outside_demo_mode(session: Session, env: Path) -> None:
    with pytest.raises(InvalidInput, match="demo mode"):
        seed(session=session, console=Console(quiet=True))


def test_seed_is_idempotent_and_covers_every_role(session: Session, demo_mode: None) -> None:
    seed(session=session, console=Console(quiet=True))
    session.commit()
    seed(session=session, console=Console(quiet=True))
    session.commit()
    admin = service.principal_for_user(session=session, username="demo-admin")
    users = {u.username: u for u in service.list_users(session=session, principal=admin)}
    assert set(users) == {a.username for a in ACCOUNTS}
    for role in ROLES:
        user = users[f"demo-{role}"]
        assert user.roles == [role] and user.demo
        assert user.totp_enrolled == (role in TOTP_ROLES)
    assert users["demo-comms_handler"].designated_handler
    codes = {o.code for o in service.list_organisations(session=session, principal=admin)}
    assert codes == {o.code for o in ORGANISATIONS}
    railway = users["demo-operator-railway"]
    assert users["demo-operator"].organisation_code != railway.organisation_code


def test_demo_sign_in_with_the_displayed_code(session: Session, demo_mode: None) -> None:
    seed(session=session, console=Console(quiet=True))
    session.commit()
    analyst = service.authenticate(session=session, username="demo-analyst",
                                   password="demo-analyst")
    assert analyst.roles == {"analyst"} and demo_totp_code("demo-analyst") is None
    with pytest.raises(Unauthenticated):
        service.authenticate(session=session, username="demo-comms_handler",
                             password="demo-comms_handler")
    code = demo_totp_code("demo-comms_handler")
    assert code is not None and len(code) == 6
    handler = service.authenticate(session=session, username="demo-comms_handler",
                                   password="demo-comms_handler", totp_code=code)
    assert handler.mfa and handler.designated_handler
    session.commit()
    # the demo page shows one code to everyone: it may be used again within its step
    service.authenticate(session=session, username="demo-comms_handler",
                         password="demo-comms_handler", totp_code=code)


def test_demo_accounts_die_with_demo_mode(
    session: Session, demo_mode: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(session=session, console=Console(quiet=True))
    session.commit()
    monkeypatch.delenv("MAMORI_DEMO")
    reset_settings_cache()
    assert demo_totp_code("demo-admin") is None
    with pytest.raises(Unauthenticated):
        service.authenticate(session=session, username="demo-analyst",
                             password="demo-analyst")
    with pytest.raises(Unauthenticated):
        service.principal_for_user(session=session, username="demo-admin")
    # outside demo mode the demo administrator does not count: a real one may be created
    assert service.needs_bootstrap(session=session)
