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
from dataclasses import dataclass

from mamori.db.keyfiles import read_secret
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


def transport_key(*, create: bool = True) -> TransportKey:
    """The zone transport key, created on first use; refuses a file others can read."""
    return TransportKey.from_bytes(
        read_secret(KEY_FILE, size=KEY_BYTES, what="transport key", create=create))
