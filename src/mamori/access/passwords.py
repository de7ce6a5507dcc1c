"""Password hashing with argon2id; unknown users cost as much time as known ones."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from mamori.errors import InvalidInput

MIN_LENGTH = 8
MAX_LENGTH = 1024

_hasher = PasswordHasher()


def check_policy(password: str) -> None:
    """Refuse passwords that are too short or absurdly long (never echoing them)."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            f"the password must have at least {MIN_LENGTH} characters", field="password"
        )
    if len(password) > MAX_LENGTH:
        raise InvalidInput(
            f"the password must have at most {MAX_LENGTH} characters", field="password"
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("mamori-no-such-user")


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; with no hash, spend the same time and say no."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
