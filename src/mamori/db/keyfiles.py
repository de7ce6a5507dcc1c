"""Secret files beside the database: random bytes under ``settings.keys_dir``.

One way to make and read them for every secret the platform keeps on disk (the
selection zone secret, the transport key, the key that seals secrets at rest): created
on first use with mode 0600 by whichever process or thread gets there first (whole, so
that nobody reads half a key), and refused when other users could read them or when
they are too short.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from mamori.config import get_settings
from mamori.errors import InvalidInput


def key_path(name: str) -> Path:
    return get_settings().keys_dir / name


def create_whole(path: Path, content: bytes) -> None:
    """Create ``path`` (0600) holding ``content`` unless it exists: written beside it and
    linked into place, so that a process or thread reading concurrently sees either no
    file or the whole content, never a part. The first creator wins."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        # Another process or thread may have created it first: then use theirs.
        with contextlib.suppress(FileExistsError):
            os.link(staging, path)
    finally:
        staging.unlink(missing_ok=True)


def read_secret(name: str, *, size: int = 32, what: str, create: bool = True) -> bytes:
    """The secret file ``name`` (created on first use unless ``create`` is false)."""
    path = key_path(name)
    if not path.exists():
        if not create:
            raise InvalidInput(f"no {what} {name} in the keys folder")
        create_whole(path, secrets.token_bytes(size))
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise InvalidInput(
            f"the {what} {name} is accessible to other users: restrict it with chmod 600"
        )
    data = path.read_bytes()
    if len(data) < size:
        raise InvalidInput(f"the {what} {name} is shorter than {size} bytes")
    return data
