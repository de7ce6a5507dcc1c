"""Secrets at rest: a column type that stores values sealed with AES-256-GCM.

A database dump or backup then holds ciphertext only; the key lives in
``<keys_dir>/secrets-at-rest.key`` (0600), not in the database. Each column seals
under its own label (the associated data), so a sealed value copied into another
column does not open. Stored form: ``v1:`` + base64url(nonce ‖ ciphertext ‖ tag).
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from mamori.db.keyfiles import read_secret
from mamori.errors import MamoriError

KEY_FILE = "secrets-at-rest.key"
PREFIX = "v1:"


class SealedValueError(MamoriError):
    """A stored secret cannot be opened (another key file, or it was altered)."""


def _cipher() -> AESGCM:
    return AESGCM(read_secret(KEY_FILE, what="key for secrets at rest")[:32])


def seal(value: str, *, label: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = _cipher().encrypt(nonce, value.encode("utf-8"), label.encode("utf-8"))
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_sealed(stored: str, *, label: str) -> str:
    if not stored.startswith(PREFIX):
        raise SealedValueError(f"a {label} value is stored unsealed")
    try:
        raw = base64.urlsafe_b64decode(stored[len(PREFIX):].encode("ascii"))
        return _cipher().decrypt(raw[:12], raw[12:], label.encode("utf-8")).decode("utf-8")
    except (InvalidTag, ValueError) as exc:
        raise SealedValueError(
            f"a {label} value does not open with this key file ({type(exc).__name__})"
        ) from None


def sealed_length(plain: int) -> int:
    """Column length for plaintexts of up to ``plain`` bytes."""
    return len(PREFIX) + (12 + plain + 16 + 2) // 3 * 4


class SealedText(TypeDecorator[str]):
    """A string column whose values are sealed on write and opened on read."""

    impl = String
    cache_ok = True

    def __init__(self, plain_length: int, *, label: str) -> None:
        super().__init__(sealed_length(plain_length))
        self.label = label

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return seal(str(value), label=self.label)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return open_sealed(str(value), label=self.label)
