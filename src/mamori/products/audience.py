"""Who a tier output is built for: one of the six recipient categories of the Act, the
receiving organisation when known, and the reporting sources known to have consented
to be named to this audience.

Dissemination decides which tiers a category may receive; products only needs the
audience to decide attribution (R-5.4-3, R-6.3-4) and to bind an output to it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Final

from mamori.errors import InvalidInput

# The six recipient categories (Ch. 1 §2 (ア)–(カ)) and their names.
CATEGORIES: Final[dict[str, dict[str, str]]] = {
    "administrative_body": {"ja": "行政機関等", "en": "Administrative body"},
    "foreign_government": {"ja": "外国の政府等", "en": "Foreign government"},
    "council_member": {"ja": "協議会の構成員", "en": "Council member"},
    "special_infrastructure_operator": {"ja": "特別社会基盤事業者",
                                        "en": "Special infrastructure operator"},
    "computer_user_public": {"ja": "電子計算機を使用する者等",
                             "en": "Computer users and the public"},
    "supplier": {"ja": "電子計算機等供給者", "en": "Computer supplier"},
}


@dataclass(frozen=True)
class Audience:
    """A recipient audience.

    ``attribution_consents`` names reporting sources (as the intel store names them, e.g.
    ``operator:sakura_electric``) that consented to be named to this audience, on top
    of what each stored object's own attribution consent says.
    """

    category: str
    organisation_id: int | None = None
    attribution_consents: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise InvalidInput(
                f"unknown audience category; categories are: {', '.join(CATEGORIES)}",
                field="audience")
        if self.organisation_id is not None and (
                isinstance(self.organisation_id, bool) or not isinstance(self.organisation_id, int)
                or self.organisation_id < 1):
            raise InvalidInput("audience organisation: expected a positive id",
                               field="audience")
        object.__setattr__(self, "attribution_consents", frozenset(self.attribution_consents))

    def consent_keys(self) -> frozenset[str]:
        """The keys an attribution consent may name to cover this audience."""
        keys = {self.category, "*"}
        if self.organisation_id is not None:
            keys.add(f"organisation:{self.organisation_id}")
        return frozenset(keys)

    def key(self) -> str:
        """A short stable key: category, organisation and a digest of the consents."""
        digest = hashlib.sha256("\n".join(sorted(self.attribution_consents)).encode()).hexdigest()
        org = "" if self.organisation_id is None else str(self.organisation_id)
        return f"{self.category}/{org}/{digest[:16]}"

    def as_dict(self) -> dict[str, object]:
        return {"category": self.category, "organisation_id": self.organisation_id,
                "attribution_consents": sorted(self.attribution_consents)}


def parse_audience(text: str, *, organisation_id: int | None = None) -> Audience:
    """``category`` or ``category:organisation_id`` (CLI and forms)."""
    name, _, org = text.strip().partition(":")
    if org:
        if not org.isdigit():
            raise InvalidInput("audience: expected CATEGORY or CATEGORY:ORGANISATION_ID",
                               field="audience")
        organisation_id = int(org)
    return Audience(category=name, organisation_id=organisation_id)
