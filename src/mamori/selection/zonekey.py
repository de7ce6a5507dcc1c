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

from datetime import datetime
from pathlib import Path

from mamori.config import get_settings
from mamori.db.keyfiles import key_path, read_secret
from mamori.errors import InvalidInput

from .pseudonymise import KeyEpoch, RotationPeriod

SECRET_FILE = "selection-zone.secret"  # noqa: S105  (a file name, not a secret)
SECRET_BYTES = 32
ROTATION_ENV = "MAMORI_SELECTION_KEY_ROTATION"


def secret_path() -> Path:
    return key_path(SECRET_FILE)


def master_secret() -> bytes:
    """The zone master secret, created on first use; refuses a file others can read."""
    return read_secret(SECRET_FILE, size=SECRET_BYTES, what="selection zone secret")


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
