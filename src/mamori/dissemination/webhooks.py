"""Webhook notices: a provision, POSTed as JSON to the recipient's URL and signed.

The signature header is ``X-Mamori-Signature: t=<unix time>,v1=<hex>``, where ``v1`` is
HMAC-SHA256 over ``"<t>.<body>"`` with the recipient's webhook secret; a receiver
checks it and refuses stale times. The body is what the recipient was provided: the
notice and its tier output, nothing more.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import httpx

SIGNATURE_HEADER = "X-Mamori-Signature"
DELIVERY_HEADER = "X-Mamori-Delivery"
EVENT_HEADER = "X-Mamori-Event"
EVENT = "provision.delivered"
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, now: int,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver runs: the signature matches and is recent."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    stamp = parts.get("t", "")
    if not stamp.isdigit() or abs(now - int(stamp)) > tolerance or "v1" not in parts:
        return False
    expected = sign(secret, int(stamp), body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts["v1"])


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Result:
    outcome: str  # "delivered", "http_error", "network_error"
    status_code: int | None = None


def post(url: str, *, body: bytes, secret: str, delivery_id: int, timestamp: int,
         timeout: float) -> Result:
    """One attempt; never raises for what the network or the receiver does."""
    headers = {"Content-Type": "application/json", EVENT_HEADER: EVENT,
               DELIVERY_HEADER: str(delivery_id),
               SIGNATURE_HEADER: sign(secret, timestamp, body)}
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=timeout,
                              follow_redirects=False)
    except httpx.HTTPError:
        return Result("network_error")
    if 200 <= response.status_code < 300:
        return Result("delivered", response.status_code)
    return Result("http_error", response.status_code)
