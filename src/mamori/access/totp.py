"""Time-based one-time passwords (RFC 6238) as the second factor."""

from __future__ import annotations

import base64
import hashlib
import re
import time

import pyotp

ISSUER = "mamori"
STEP_SECONDS = 30
_CODE = re.compile(r"\d{6}")


def new_secret() -> str:
    return pyotp.random_base32()


def demo_secret(username: str) -> str:
    """The documented, deterministic secret of a demo account (demo mode only)."""
    raw = hashlib.sha256(f"mamori-demo-totp/{username}".encode()).digest()[:20]
    return base64.b32encode(raw).decode("ascii")


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def current_code(secret: str) -> str:
    return pyotp.TOTP(secret).now()


def matching_step(secret: str, code: str, *, at: float | None = None) -> int | None:
    """The time step ``code`` belongs to (one step of clock drift allowed), or None."""
    code = code.strip()
    if not _CODE.fullmatch(code):
        return None
    now = time.time() if at is None else at
    totp = pyotp.TOTP(secret)
    step = int(now // STEP_SECONDS)
    for candidate in (step, step - 1, step + 1):
        if totp.verify(code, for_time=candidate * STEP_SECONDS, valid_window=0):
            return candidate
    return None
