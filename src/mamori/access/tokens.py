"""Bearer tokens: API tokens for machine clients and web login-session tokens.

An API token names its own record (``mamori_<key id>_<secret>``) so that a client
needs to send nothing else; only the SHA-256 of a token is stored, which is enough
because tokens carry 256 bits of randomness.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from mamori.errors import Unauthenticated

API_PREFIX = "mamori"
_KEY_ID = re.compile(r"[0-9a-f]{16}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")
_MAX_LENGTH = 128

BAD_TOKEN = "invalid, expired or revoked token"  # noqa: S105 (a message, not a secret)


@dataclass(frozen=True)
class ApiToken:
    key_id: str
    secret: str

    def __str__(self) -> str:
        return f"{API_PREFIX}_{self.key_id}_{self.secret}"


def new_api_token() -> ApiToken:
    return ApiToken(key_id=secrets.token_hex(8), secret=secrets.token_urlsafe(32))


def parse_api_token(text: str) -> ApiToken:
    """Split a presented token; anything malformed is one generic authentication error."""
    if len(text) > _MAX_LENGTH:
        raise Unauthenticated(BAD_TOKEN)
    parts = text.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != API_PREFIX:
        raise Unauthenticated(BAD_TOKEN)
    _, key_id, secret = parts
    if not _KEY_ID.fullmatch(key_id) or not _SECRET.fullmatch(secret):
        raise Unauthenticated(BAD_TOKEN)
    return ApiToken(key_id=key_id, secret=secret)


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


def check_login_token(text: str) -> str:
    if len(text) > _MAX_LENGTH or not _SECRET.fullmatch(text):
        raise Unauthenticated("invalid or expired login session")
    return text


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_digest(token: str, expected_digest: str) -> bool:
    return hmac.compare_digest(digest(token), expected_digest)
