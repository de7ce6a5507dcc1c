"""Parsers for what people type: moments, periods, party identifiers, digests.

Every parser raises ``InvalidInput`` naming the field, never echoing long input.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from mamori.config import get_settings
from mamori.errors import InvalidInput

_ASN = re.compile(r"^AS(\d{1,10})$", re.IGNORECASE)
_DIGEST = re.compile(r"^(?:sha256:)?([0-9a-f]{64})$", re.IGNORECASE)
_WS = re.compile(r"\s+")
MAX_TEXT = 4000


def _local_zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def parse_when(value: str | datetime, *, field: str = "time") -> datetime:
    """ISO 8601 date or date-time → aware UTC. Dates and naive times are Asia/Tokyo."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = value.strip()
        if not text or len(text) > 40:
            raise InvalidInput(f"{field}: expected an ISO 8601 date or date-time")
        try:
            if len(text) == 10:
                moment = datetime.combine(date.fromisoformat(text), time())
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise InvalidInput(f"{field}: expected an ISO 8601 date or date-time") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=_local_zone())
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidInput(f"{field}: out of range") from None


def check_period(start: datetime, end: datetime | None, *, field: str = "period") -> None:
    """A period must end after it starts."""
    if end is not None and end <= start:
        raise InvalidInput(f"{field}: the end must be after the start (reversed or empty period)")


def parse_party_identifier(value: str) -> str:
    """An address prefix (``192.0.2.0/24``, ``2001:db8::/32``) or an AS number (``AS64500``)."""
    text = value.strip()
    asn = _ASN.match(text)
    if asn:
        number = int(asn.group(1))
        if number > 4294967295:
            raise InvalidInput("party identifier: AS number out of range")
        return f"AS{number}"
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        raise InvalidInput(
            "party identifier: expected an address prefix such as 192.0.2.0/24 or an AS number"
        ) from None


def parse_party_identifiers(values: Iterable[str]) -> list[str]:
    """Identifiers normalised, de-duplicated and sorted (a comma-separated list is accepted)."""
    found: set[str] = set()
    for value in values:
        for part in value.split(","):
            if part.strip():
                found.add(parse_party_identifier(part))
    return sorted(found)


def parse_digest(value: str, *, field: str = "document digest") -> str:
    """A SHA-256 digest as 64 hex digits (optionally ``sha256:``-prefixed) → lower-case hex."""
    match = _DIGEST.match(value.strip())
    if match is None:
        raise InvalidInput(f"{field}: expected a SHA-256 digest (64 hexadecimal digits)")
    return match.group(1).lower()


def digest_file(path: Path) -> str:
    """SHA-256 of a signed document; the document itself is not stored."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 16), b""):
                digest.update(block)
    except OSError:
        raise InvalidInput(f"document: cannot read file {path.name!r}") from None
    return digest.hexdigest()


def normalise_purpose(value: str) -> str:
    """Case and whitespace do not distinguish two statements of a specific purpose."""
    return _WS.sub(" ", value).strip().casefold()


def require_text(value: str | None, *, field: str, limit: int = MAX_TEXT) -> str:
    """Non-blank text of bounded length."""
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"{field}: must not be empty")
    if len(text) > limit:
        raise InvalidInput(f"{field}: longer than {limit} characters")
    return text


def parse_list(values: Iterable[str], *, field: str) -> list[str]:
    """Comma-separated or repeated values → sorted distinct non-empty items."""
    items: set[str] = set()
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part:
                if len(part) > 200:
                    raise InvalidInput(f"{field}: an item is longer than 200 characters")
                items.add(part)
    return sorted(items)


def _shown(text: str) -> str:
    """Typed text quoted for an error message, at most 40 characters."""
    quoted = repr(text)
    return quoted if len(quoted) <= 40 else quoted[:37] + "..."


def parse_choice(value: str | None, choices: Iterable[str], *, field: str) -> str:
    """One code from a fixed vocabulary (case and surrounding blanks ignored)."""
    allowed = tuple(choices)
    text = (value or "").strip()
    if text.lower() not in allowed:
        shown = _shown(text) if text else "nothing"
        raise InvalidInput(f"{field}: {shown} is not one of {', '.join(allowed)}")
    return text.lower()


def parse_choices(values: Iterable[str], choices: Iterable[str], *, field: str) -> list[str]:
    """Codes from a fixed vocabulary, comma-separated or repeated → distinct, in the
    vocabulary's order; at least one."""
    allowed = tuple(choices)
    found = {parse_choice(part, allowed, field=field)
             for value in values for part in value.split(",") if part.strip()}
    if not found:
        raise InvalidInput(f"{field}: name at least one of {', '.join(allowed)}")
    return [code for code in allowed if code in found]
