"""The store objects a product is built from, as the sanitiser sees them: the STIX
object, its handling labels, who reported it and with what consent to be named, and
what it was derived from. ``mamori.products.store`` fills these from the intel store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mamori.products.audience import Audience


@dataclass(frozen=True)
class Attribution:
    """ATTRIBUTED(source, consent): ``consent`` holds the audience keys the source agreed
    to be named to (a category, ``organisation:<id>`` or ``*`` for everyone)."""

    source: str
    consent: frozenset[str] = field(default_factory=frozenset)

    def named_to(self, audience: Audience) -> bool:
        return bool(self.consent & audience.consent_keys()) or (
            self.source in audience.attribution_consents)


@dataclass(frozen=True)
class SourceObject:
    """One store object. ``independent`` is true when some provenance of the object is
    not communications-derived (e.g. the same address also came in an operator's report),
    so that it is not "derived only from" selected communications."""

    stix: Mapping[str, Any]
    labels: frozenset[str] = field(default_factory=frozenset)
    attributions: tuple[Attribution, ...] = ()
    derived_from: tuple[str, ...] = ()
    independent: bool = False

    @property
    def id(self) -> str:
        return str(self.stix["id"])

    @property
    def type(self) -> str:
        return str(self.stix["type"])
