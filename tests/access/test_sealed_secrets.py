"""TOTP secrets are sealed at rest: the database holds ciphertext only, a value opens
only with the deployment's key file and under its own column's label, and migration
0011 seals secrets stored before it (and the downgrade opens them again)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, text

from mamori.access import service
from mamori.access.principals import find_user
from mamori.db import sealed
from mamori.db.keyfiles import key_path
from mamori.db.session import alembic_config
from mamori.errors import InvalidInput

from .world import World


def _stored(engine: Engine, username: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT totp_secret FROM users WHERE username = :u"),
                                {"u": username}).scalar_one())


def test_the_database_holds_only_ciphertext(world: World, engine: Engine) -> None:
    world.add_user("hana", "comms_handler")
    uri = service.enroll_totp(session=world.session, principal=world.root, username="hana")
    world.session.commit()
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    stored = _stored(engine, "hana")
    assert stored.startswith("v1:") and secret not in stored
    world.session.expire_all()
    user = find_user(world.session, "hana")
    assert user is not None and user.totp_secret == secret
    if engine.dialect.name == "sqlite":
        path = Path(str(engine.url.database))
        for file in (path, Path(f"{path}-wal")):
            if file.exists():
                assert secret.encode() not in file.read_bytes()


def test_another_key_file_opens_nothing_and_says_so(world: World, env: Path) -> None:
    world.add_user("hana", "comms_handler")
    service.enroll_totp(session=world.session, principal=world.root, username="hana")
    world.session.commit()
    key = key_path(sealed.KEY_FILE)
    key.write_bytes(os.urandom(32))
    world.session.expire_all()
    with pytest.raises(sealed.SealedValueError, match="does not open with this key file"):
        find_user(world.session, "hana")


def test_a_value_opens_only_under_its_own_label(env: Path) -> None:
    stored = sealed.seal("JBSWY3DPEHPK3PXP", label="access.totp_secret")
    assert sealed.open_sealed(stored, label="access.totp_secret") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(sealed.SealedValueError):
        sealed.open_sealed(stored, label="another.column")
    with pytest.raises(sealed.SealedValueError, match="stored unsealed"):
        sealed.open_sealed("JBSWY3DPEHPK3PXP", label="access.totp_secret")


STORED = st.one_of(
    st.text(max_size=200),
    st.builds(lambda b: "v1:" + b, st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123456789-_=",
                                          max_size=120)),
)


@given(junk=STORED)
@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_stored_text_opens_or_fails_clearly(env: Path, junk: str) -> None:
    with pytest.raises(sealed.SealedValueError) as caught:
        sealed.open_sealed(junk, label="access.totp_secret")
    if len(junk) > 24:
        assert junk not in str(caught.value) and junk[3:] not in str(caught.value)


def test_a_key_file_others_can_read_is_refused(env: Path) -> None:
    sealed.seal("x", label="t")
    key_path(sealed.KEY_FILE).chmod(0o644)
    with pytest.raises(InvalidInput, match="restrict it with chmod 600"):
        sealed.seal("x", label="t")


def test_migration_seals_existing_secrets_and_downgrade_opens_them(env: Path,
                                                                   tmp_path: Path) -> None:
    from alembic import command

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0010_dissemination")
        connection.execute(text(
            "INSERT INTO organisations (id, code, name_ja, name_en, kind, created_at) "
            "VALUES (1, 'cao', '内閣府', 'Cabinet Office', 'cabinet_office', '2026-01-01')"))
        connection.execute(text(
            "INSERT INTO users (id, username, display_name, organisation_id, password_hash, "
            "language, demo, active, totp_secret, created_at) VALUES (1, 'old', 'Old', 1, "
            "'x', 'ja', 0, 1, 'JBSWY3DPEHPK3PXP', '2026-01-01')"))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    stored = _stored(engine, "old")
    assert stored.startswith("v1:") and "JBSWY3DPEHPK3PXP" not in stored
    assert sealed.open_sealed(stored, label="access.totp_secret") == "JBSWY3DPEHPK3PXP"
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0010_dissemination")
    assert _stored(engine, "old") == "JBSWY3DPEHPK3PXP"
    engine.dispose()
