"""The zone transport key: what keeps queued batches ciphertext inside the broker.

Every queued batch is encrypted under a fresh data key, and the data key is
wrapped under this key. It is 32 random bytes in
``<keys_dir>/selection-transport.key`` (mode 0600), created on first use like the
zone secret (:mod:`..zonekey`), and separate from it: submitting machines need the
transport key but must never hold the secret the pseudonyms are derived from.
Every submitter and worker of one deployment gets a copy of the same file; the
broker never sees it. Its id (a digest, safe to log) travels with each message so
that a worker holding another key says so instead of failing obscurely.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from mamori.config import get_settings
from mamori.errors import InvalidInput

KEY_FILE = "selection-transport.key"
KEY_BYTES = 32
_ID_LABEL = b"mamori selection transport key id v1"
_BATCH_LABEL = b"mamori selection batch id v1"


@dataclass(frozen=True, repr=False)
class TransportKey:
    """The key and its public id; ``repr`` shows only the id."""

    secret: bytes
    key_id: str

    def __repr__(self) -> str:
        return f"TransportKey(key_id={self.key_id!r})"

    @classmethod
    def from_bytes(cls, secret: bytes) -> TransportKey:
        if len(secret) != KEY_BYTES:
            raise InvalidInput(f"the transport key must be exactly {KEY_BYTES} bytes")
        key_id = hmac.new(secret, _ID_LABEL, hashlib.sha256).hexdigest()[:16]
        return cls(secret=secret, key_id=key_id)

    def batch_id(self, *, measure_id: str, selectors: str, data: bytes) -> str:
        """A batch id derived from what is selected, under what and with which criteria.

        Keyed, so that the id (which travels in clear) cannot confirm a guess of the
        content; deterministic, so that submitting the same capture again yields ids
        the broker and the engine recognise, and nothing is selected twice.
        """
        mac = hmac.new(hmac.new(self.secret, _BATCH_LABEL, hashlib.sha256).digest(),
                       digestmod=hashlib.sha256)  # fmt: skip
        mac.update(measure_id.encode("utf-8") + b"\0" + selectors.encode("utf-8") + b"\0")
        mac.update(data)
        return "q-" + mac.hexdigest()[:40]


def key_path() -> Path:
    return get_settings().keys_dir / KEY_FILE


def _create(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it first: use theirs
    with os.fdopen(fd, "wb") as out:
        out.write(secrets.token_bytes(KEY_BYTES))
        out.flush()
        os.fsync(out.fileno())


def transport_key(*, create: bool = True) -> TransportKey:
    """The zone transport key, created on first use; refuses a file others can read."""
    path = key_path()
    if not path.exists():
        if not create:
            raise InvalidInput(f"no transport key {path.name} in the keys folder")
        _create(path)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise InvalidInput(
            f"the transport key {path.name} is accessible to other users: "
            "restrict it with chmod 600"
        )
    return TransportKey.from_bytes(path.read_bytes())
