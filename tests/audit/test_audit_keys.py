"""The tree-head signing key: created once, owner-only, with a stable key id."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from mamori.audit import keys
from mamori.config import get_settings
from mamori.errors import Conflict


def test_the_key_is_created_once_and_private(audit_home: Path) -> None:
    settings = get_settings()
    assert keys.public_key_raw(settings=settings) is None
    assert keys.key_id(settings=settings) is None
    path = keys.ensure_signing_key(settings=settings)
    assert path == audit_home / "keys" / "audit-ed25519.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_bytes()
    assert keys.ensure_signing_key(settings=settings) == path
    assert path.read_bytes() == first
    raw = keys.public_key_raw(settings=settings)
    assert raw is not None and len(raw) == 32
    assert keys.key_id(settings=settings) == hashlib.sha256(raw).hexdigest()
    assert (keys.public_key_pem(settings=settings) or "").startswith("-----BEGIN PUBLIC KEY")


def test_a_damaged_key_file_is_reported(audit_home: Path) -> None:
    settings = get_settings()
    path = keys.key_path(settings=settings)
    path.parent.mkdir(parents=True)
    path.write_text("not a key")
    with pytest.raises(Conflict, match="not a readable PEM key"):
        keys.ensure_signing_key(settings=settings)
