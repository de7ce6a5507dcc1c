"""Keys that every server process shares: for TAXII page cursors and webhook signatures.

With ``MAMORI_SECRET_KEY`` set, each key is derived from it; otherwise a random key is
created once in the database, so that any process in front of the same database can
verify what another signed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mamori.config import get_settings
from mamori.dissemination.models import SigningKeyRecord

CURSOR = "taxii_cursor"
WEBHOOK = "webhook"


def _derive(secret: str, name: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), f"mamori-dissemination/{name}".encode(),
                    hashlib.sha256).digest()


def signing_key(session: Session, name: str) -> bytes:
    """The key ``name``: from the settings' secret, or the one stored in the database."""
    secret = get_settings().secret_key
    if secret:
        return _derive(secret, name)
    cache: dict[str, bytes] = session.info.setdefault("dissemination_keys", {})
    if name in cache:
        return cache[name]
    row = session.get(SigningKeyRecord, name)
    if row is None:
        fresh = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")
        try:
            with session.begin_nested():
                session.add(SigningKeyRecord(name=name, key=fresh))
        except IntegrityError:  # another process created it first: use theirs
            pass
        row = session.get(SigningKeyRecord, name)
        assert row is not None
    key = base64.urlsafe_b64decode(row.key.encode("ascii"))
    cache[name] = key
    return key


def webhook_secret(session: Session, recipient_code: str, generation: int) -> str:
    """The shared secret a recipient uses to verify our webhook signatures."""
    raw = hmac.new(signing_key(session, WEBHOOK), f"{recipient_code}/{generation}".encode(),
                   hashlib.sha256).digest()
    return "whsec_" + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
