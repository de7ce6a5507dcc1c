"""Parsing the ``Authorization`` header: ``Bearer <token>`` or ``Basic base64(user:token)``.

A malformed header is an authentication failure, never a server error, and the
message names the scheme only (never the token).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from mamori.errors import Unauthenticated


@dataclass(frozen=True)
class BearerCredentials:
    token: str


@dataclass(frozen=True)
class BasicCredentials:
    username: str
    token: str


Credentials = BearerCredentials | BasicCredentials


def parse_authorization(header: str) -> Credentials:
    """The credentials in an ``Authorization`` header value; raises Unauthenticated."""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    scheme = scheme.lower()
    if scheme == "bearer":
        if not value or not value.isascii() or any(ch.isspace() for ch in value):
            raise Unauthenticated("the bearer token is missing or malformed")
        return BearerCredentials(token=value)
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value.encode("ascii"), validate=True).decode("utf-8")
        except (UnicodeError, binascii.Error, ValueError):
            raise Unauthenticated(
                "the basic credentials are not valid base64 of user:token"
            ) from None
        username, colon, token = decoded.partition(":")
        if not colon or not username or not token:
            raise Unauthenticated("the basic credentials must be user:token")
        return BasicCredentials(username=username, token=token)
    raise Unauthenticated("unsupported authorization scheme: use Bearer or Basic")
