"""Secret files beside the database: random bytes under ``settings.keys_dir``.

One way to make and read them for every secret the platform keeps on disk (the
selection zone secret, the transport key, the key that seals secrets at rest): created
on first use with mode 0600 by whichever process gets there first, and refused when
other users could read them or when they are too short.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from mamori.config import get_settings
from mamori.errors import InvalidInput


def key_path(name: str) -> Path:
    return get_settings().keys_dir / name


def _create(path: Path, size: int) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it first: use theirs
    with os.fdopen(fd, "wb") as out:
        out.write(secrets.token_bytes(size))
        out.flush()
        os.fsync(out.fileno())


def read_secret(name: str, *, size: int = 32, what: str, create: bool = True) -> bytes:
    """The secret file ``name`` (created on first use unless ``create`` is false)."""
    path = key_path(name)
    if not path.exists():
        if not create:
            raise InvalidInput(f"no {what} {name} in the keys folder")
        _create(path, size)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise InvalidInput(
            f"the {what} {name} is accessible to other users: restrict it with chmod 600"
        )
    data = path.read_bytes()
    if len(data) < size:
        raise InvalidInput(f"the {what} {name} is shorter than {size} bytes")
    return data
