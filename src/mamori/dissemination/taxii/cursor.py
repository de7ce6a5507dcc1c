"""The ``next`` cursor: a signed, stateless token for the position after the last item
of a page — its ``date_added`` and row id — bound to the collection and the filters.

Any server process that shares the key continues the page; no process keeps state. A
token that was altered, made for another collection or other filters, or is simply
garbage is refused with 400.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from mamori.dissemination.taxii.params import TaxiiInputError, format_timestamp, parse_timestamp

VERSION = 1
MAX_TOKEN = 512
_MAC_BYTES = 16


@dataclass(frozen=True)
class Position:
    """The last item served: everything strictly after it comes next."""

    added: datetime
    row_id: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def encode(key: bytes, *, scope: str, filters: str, position: Position) -> str:
    """A token for ``position`` within ``scope`` (collection and endpoint) and ``filters``."""
    payload = json.dumps(
        {"v": VERSION, "s": scope, "f": filters, "a": format_timestamp(position.added),
         "i": position.row_id},
        separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(payload)}.{_b64(_mac(key, payload))}"


def _bad() -> TaxiiInputError:
    return TaxiiInputError("next: not a cursor this server issued for this request",
                           field="next")


def decode(key: bytes, token: str, *, scope: str, filters: str) -> Position:
    """The position in ``token``; raises ``TaxiiInputError`` for anything else."""
    if not token or len(token) > MAX_TOKEN or token.count(".") != 1 or not token.isascii():
        raise _bad()
    body, mac = token.split(".")
    try:
        payload = _unb64(body)
        signature = _unb64(mac)
    except (binascii.Error, ValueError):
        raise _bad() from None
    if not hmac.compare_digest(signature, _mac(key, payload)):
        raise _bad()
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, ValueError):
        raise _bad() from None
    if not isinstance(data, dict) or data.get("v") != VERSION or data.get("s") != scope \
            or data.get("f") != filters:
        raise _bad()
    row_id = data.get("i")
    added = data.get("a")
    if not isinstance(row_id, int) or isinstance(row_id, bool) or row_id < 0 \
            or not isinstance(added, str):
        raise _bad()
    return Position(added=parse_timestamp(added, "next"), row_id=row_id)
