"""What the sanitiser removed or changed, and why (issue 8 item 2, R-4.3-8, R-4.3-10).

Items name object ids, object types, field names and reason codes — never content, so
the report can be stored, audited and shown to the oversight committee.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from mamori.products.vocabulary import REASONS

Action = Literal["removed", "changed", "generalised", "replaced"]


@dataclass(frozen=True)
class SanitisationItem:
    """One decision: ``subject`` is a STIX id, or ``title``/``narrative``/``actions`` with
    the language (e.g. ``narrative_ja``); ``detail`` names fields or the new id."""

    subject: str
    subject_type: str
    action: Action
    reason: str
    detail: str = ""

    def explain(self, language: str) -> str:
        return REASONS.get(self.reason, {}).get(language, self.reason)

    def as_dict(self) -> dict[str, str]:
        return {"subject": self.subject, "subject_type": self.subject_type,
                "action": self.action, "reason": self.reason, "detail": self.detail}


@dataclass(frozen=True)
class SanitisationReport:
    """The sanitiser's record of one tier output."""

    product_id: str
    version: int
    tier: int
    audience_key: str
    items: tuple[SanitisationItem, ...] = ()
    kept: int = 0
    criteria_versions: tuple[int, ...] = field(default_factory=tuple)

    @property
    def removed(self) -> int:
        return sum(1 for i in self.items if i.action == "removed")

    def counts(self) -> dict[str, int]:
        """Items per reason code."""
        return dict(sorted(Counter(i.reason for i in self.items).items()))

    def as_dict(self) -> dict[str, Any]:
        return {"product_id": self.product_id, "version": self.version, "tier": self.tier,
                "audience": self.audience_key, "kept": self.kept,
                "criteria_versions": list(self.criteria_versions),
                "counts": self.counts(), "items": [i.as_dict() for i in self.items]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SanitisationReport:
        return cls(product_id=str(data["product_id"]), version=int(data["version"]),
                   tier=int(data["tier"]), audience_key=str(data["audience"]),
                   kept=int(data.get("kept", 0)),
                   criteria_versions=tuple(int(v) for v in data.get("criteria_versions", ())),
                   items=tuple(SanitisationItem(**item) for item in data.get("items", ())))
