"""The Ed25519 key that signs tree heads: one PEM file under ``settings.keys_dir``.

Created once, readable only by its owner (0600). Its public half is published so
that the oversight committee can pin it; its id is the SHA-256 of the raw public key.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from mamori.audit.verify import key_id as _key_id
from mamori.config import Settings
from mamori.db.keyfiles import create_whole
from mamori.errors import Conflict

KEY_FILE = "audit-ed25519.pem"


def key_path(*, settings: Settings) -> Path:
    return settings.keys_dir / KEY_FILE


def ensure_signing_key(*, settings: Settings) -> Path:
    """The private key file, created (0600, in a 0700 folder) if it does not exist yet."""
    path = key_path(settings=settings)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        create_whole(path, pem)  # another process may have created it first: keep theirs
    _load(path)
    return path


def _load(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as exc:
        raise Conflict(f"the audit signing key at {path} is not a readable PEM key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise Conflict(f"the audit signing key at {path} is not an Ed25519 key")
    return key


def signing_key(*, settings: Settings) -> Ed25519PrivateKey:
    return _load(ensure_signing_key(settings=settings))


def public_key(*, settings: Settings) -> Ed25519PublicKey | None:
    """The public key, or None while no signing key has been created."""
    path = key_path(settings=settings)
    return _load(path).public_key() if path.exists() else None


def public_key_raw(*, settings: Settings) -> bytes | None:
    key = public_key(settings=settings)
    if key is None:
        return None
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_pem(*, settings: Settings) -> str | None:
    key = public_key(settings=settings)
    if key is None:
        return None
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def key_id(*, settings: Settings) -> str | None:
    """SHA-256 of the raw public key (hex), the id printed on every tree head."""
    raw = public_key_raw(settings=settings)
    return _key_id(raw) if raw is not None else None
