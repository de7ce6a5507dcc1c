"""Handling labels of stored intelligence (see ARCHITECTURE.md, "Handling labels").

Every stored object version carries one label set: COMMS (derived from selected
communications information, 選別後通信情報), PROVISION_DERIVED (releasable selected
information, 提供用選別後情報), SECRET, ATTRIBUTED(source, consent) and PUBLIC. A label set
is a value: its ``key`` names it in the database, and the visibility filter decides per
label set, never per object, so that a count can never reveal a hidden object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from mamori.access.principal import Resource
from mamori.errors import InvalidInput

COMMS = "COMMS"
PROVISION_DERIVED = "PROVISION_DERIVED"
SECRET = "SECRET"  # noqa: S105 (a label name)
ATTRIBUTED = "ATTRIBUTED"
PUBLIC = "PUBLIC"
LABEL_NAMES: tuple[str, ...] = (COMMS, PROVISION_DERIVED, SECRET, ATTRIBUTED, PUBLIC)
RESOURCE_TYPE = "intel.object"

_SOURCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/@+-]{0,127}$")
_CONSENT = re.compile(r"^(\*|[a-z_]{1,64}|organisation:\d{1,12})$")


class Attribution(BaseModel):
    """Who provided a fact, and to whom they consented to be named beyond the platform.

    ``consent`` holds audience keys (a recipient category such as ``council_member``,
    ``organisation:<id>`` or ``*``); empty means named to no one outside the platform.
    """

    model_config = ConfigDict(frozen=True)

    source: str
    consent: tuple[str, ...] = ()

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        value = value.strip()
        if not _SOURCE.match(value):
            raise ValueError("attribution source: letters, digits and _.:/@+- (at most 128)")
        return value

    @field_validator("consent")
    @classmethod
    def _consent(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = sorted({v.strip() for v in value if v.strip()})
        for item in cleaned:
            if not _CONSENT.match(item):
                raise ValueError(
                    "consent: a recipient category, organisation:<id> or * per entry")
        return tuple(cleaned)


class Labels(BaseModel):
    """One label set. PUBLIC never combines with COMMS, PROVISION_DERIVED or SECRET."""

    model_config = ConfigDict(frozen=True)

    comms: bool = False
    provision_derived: bool = False
    secret: bool = False
    public: bool = False
    attributed: tuple[Attribution, ...] = ()

    @field_validator("attributed")
    @classmethod
    def _sorted(cls, value: tuple[Attribution, ...]) -> tuple[Attribution, ...]:
        merged: dict[str, set[str]] = {}
        for item in value:
            merged.setdefault(item.source, set()).update(item.consent)
        return tuple(Attribution(source=s, consent=tuple(sorted(c)))
                     for s, c in sorted(merged.items()))

    def model_post_init(self, __context: Any) -> None:
        if self.public and (self.comms or self.provision_derived or self.secret):
            raise ValueError("PUBLIC cannot be combined with COMMS, PROVISION_DERIVED or SECRET")

    @property
    def names(self) -> frozenset[str]:
        """The label names, as the authorization policies read them."""
        found = {name for name, on in ((COMMS, self.comms),
                                       (PROVISION_DERIVED, self.provision_derived),
                                       (SECRET, self.secret), (PUBLIC, self.public),
                                       (ATTRIBUTED, bool(self.attributed))) if on}
        return frozenset(found)

    @property
    def key(self) -> str:
        """A canonical text naming this label set (unique per set)."""
        flags = "".join("1" if f else "0" for f in (self.comms, self.provision_derived,
                                                     self.secret, self.public))
        if not self.attributed:
            return flags
        return flags + ";" + json.dumps([[a.source, list(a.consent)] for a in self.attributed],
                                        separators=(",", ":"), ensure_ascii=False)

    def resource(self, *, key: str = "") -> Resource:
        """The authorization resource of an object carrying these labels."""
        return Resource(type=RESOURCE_TYPE, id=key, labels=self.names, attrs={
            "attributed_sources": ",".join(a.source for a in self.attributed)})

    def union(self, other: Labels) -> Labels:
        """The labels of something derived from both: the stricter of each."""
        restricted = (self.comms or other.comms or self.secret or other.secret
                      or self.provision_derived or other.provision_derived)
        return Labels(
            comms=self.comms or other.comms,
            provision_derived=self.provision_derived or other.provision_derived,
            secret=self.secret or other.secret,
            public=self.public and other.public and not restricted,
            attributed=(*self.attributed, *other.attributed),
        )

    def as_json(self) -> dict[str, Any]:
        return {"labels": sorted(self.names),
                "attributed": [{"source": a.source, "consent": list(a.consent)}
                               for a in self.attributed]}

    @classmethod
    def from_key(cls, key: str) -> Labels:
        flags, _, rest = key.partition(";")
        attributed = tuple(Attribution(source=s, consent=tuple(c))
                           for s, c in (json.loads(rest) if rest else []))
        return cls(comms=flags[0] == "1", provision_derived=flags[1] == "1",
                   secret=flags[2] == "1", public=flags[3] == "1", attributed=attributed)


def union_all(items: Iterable[Labels]) -> Labels:
    """The labels of something derived from all of ``items`` (PUBLIC when empty)."""
    result: Labels | None = None
    for item in items:
        result = item if result is None else result.union(item)
    return result or Labels(public=True)


def build_labels(
    names: Iterable[str] = (),
    *,
    source: str | None = None,
    consent: Iterable[str] | None = None,
) -> Labels:
    """Labels from names (``COMMS``, ``SECRET``, ...) and an optional attribution.

    ``ATTRIBUTED`` among the names needs ``source``; a ``source`` alone implies it.
    Unknown names and contradictions are the caller's error.
    """
    chosen = {n.strip().upper() for n in names if n.strip()}
    unknown = sorted(chosen - set(LABEL_NAMES))
    if unknown:
        raise InvalidInput(f"unknown label {unknown[0]!r}; labels are: {', '.join(LABEL_NAMES)}",
                           field="labels")
    if ATTRIBUTED in chosen and not source:
        raise InvalidInput("ATTRIBUTED needs the source it is attributed to", field="source")
    if consent is not None and not source:
        raise InvalidInput("a consent belongs to an attributed source; name the source",
                           field="consent")
    try:
        attributed = (Attribution(source=source, consent=tuple(consent or ())),) if source \
            else ()
        return Labels(comms=COMMS in chosen, provision_derived=PROVISION_DERIVED in chosen,
                      secret=SECRET in chosen, public=PUBLIC in chosen, attributed=attributed)
    except ValueError as exc:
        message = str(exc).splitlines()
        reason = next((m.strip() for m in message if "PUBLIC" in m or ":" in m), "invalid labels")
        raise InvalidInput(f"labels: {reason}", field="labels") from None


def carried_labels(obj: dict[str, Any]) -> Labels | None:
    """Labels that a mamori export wrote into ``x_mamori_handling`` (None when absent)."""
    handling = obj.get(HANDLING_PROPERTY)
    if not isinstance(handling, dict):
        return None
    names = handling.get("labels")
    attributed = handling.get("attributed") or []
    if not isinstance(names, list) or not isinstance(attributed, list):
        return None
    parts = [build_labels([n for n in names if isinstance(n, str) and n != ATTRIBUTED])]
    for item in attributed:
        if isinstance(item, dict) and isinstance(item.get("source"), str):
            consent = item.get("consent") or []
            parts.append(build_labels(source=item["source"],
                                      consent=[c for c in consent if isinstance(c, str)]))
    return union_all(parts)


HANDLING_PROPERTY = "x_mamori_handling"
