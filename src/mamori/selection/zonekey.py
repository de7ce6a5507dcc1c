"""The zone master secret from which each epoch's pseudonymisation key is derived.

The secret is 32 random bytes in ``<keys_dir>/selection-zone.secret`` (mode 0600),
created on first use and read only by the selection zone. Per rotation epoch the
Crypto-PAn key is HKDF-derived from it (:class:`~.pseudonymise.KeyEpoch`), so a key
is never stored, and destroying the secret makes every pseudonym unlinkable to
addresses for good.

The rotation period comes from the ``MAMORI_SELECTION_KEY_ROTATION`` setting
(daily, weekly, monthly, quarterly or yearly; monthly by default).
"""

from __future__ import annotations

import os
import secrets
import stat
from datetime import datetime
from pathlib import Path

from mamori.config import get_settings
from mamori.errors import InvalidInput

from .pseudonymise import KeyEpoch, RotationPeriod

SECRET_FILE = "selection-zone.secret"  # noqa: S105  (a file name, not a secret)
SECRET_BYTES = 32
ROTATION_ENV = "MAMORI_SELECTION_KEY_ROTATION"


def secret_path() -> Path:
    return get_settings().keys_dir / SECRET_FILE


def _create(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as out:
        out.write(secrets.token_bytes(SECRET_BYTES))
        out.flush()
        os.fsync(out.fileno())


def master_secret() -> bytes:
    """The zone master secret, created on first use; refuses a file others can read."""
    path = secret_path()
    if not path.exists():
        _create(path)
    mode = path.stat().st_mode
    if stat.S_IMODE(mode) & 0o077:
        raise InvalidInput(
            f"the selection zone secret {path.name} is accessible to other users: "
            "restrict it with chmod 600"
        )
    data = path.read_bytes()
    if len(data) < SECRET_BYTES:
        raise InvalidInput(f"the selection zone secret {path.name} is shorter than 32 bytes")
    return data


def rotation_period() -> RotationPeriod:
    configured = get_settings().selection_key_rotation
    try:
        return RotationPeriod(str(configured).strip().lower())
    except ValueError:
        raise InvalidInput(
            f"{ROTATION_ENV}: one of {', '.join(p.value for p in RotationPeriod)}"
        ) from None


def key_epoch(moment: datetime) -> KeyEpoch:
    """The pseudonymisation key epoch covering ``moment``."""
    return KeyEpoch.for_moment(
        master_secret=master_secret(), moment=moment, period=rotation_period()
    )
