"""A tier output: what one audience may receive of one product version, with the
sanitisation report, the lint's verdict and a content digest.

The output also remembers, in memory only, what must never appear in it (the names of
sources not named to the audience, and keyed digests of the distinctive tokens of what
was removed), so that the lint and every renderer can check the serialised form.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mamori.products import bundle as frame
from mamori.products.audience import Audience
from mamori.products.sanitisation_report import SanitisationReport
from mamori.products.sanitiser import TEXT_FIELDS, Origin


@dataclass(frozen=True)
class LintFinding:
    """A reason the output may not be sent: a code, where (object id or text field) and a
    detail that names fields or labels, never content."""

    code: str
    subject: str
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "subject": self.subject, "detail": self.detail}


@dataclass(frozen=True)
class LintResult:
    passed: bool
    findings: tuple[LintFinding, ...] = ()
    checked: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "checked": self.checked,
                "findings": [f.as_dict() for f in self.findings]}


NOT_LINTED = LintResult(passed=False, findings=(LintFinding("not_linted", ""),))


@dataclass(frozen=True)
class Withheld:
    """What the output must not contain. Names are plain (source names and ids are not
    communications content); tokens are kept only as keyed digests."""

    names: frozenset[str] = frozenset()
    token_digests: frozenset[str] = frozenset()
    key: bytes = field(default_factory=lambda: secrets.token_bytes(16))

    @classmethod
    def of(cls, names: Iterable[str], tokens: Iterable[str]) -> Withheld:
        key = secrets.token_bytes(16)
        return cls(names=frozenset(names), key=key,
                   token_digests=frozenset(token_digest(key, t) for t in tokens))


def token_digest(key: bytes, token: str) -> str:
    return hashlib.blake2b(token.lower().encode(), key=key, digest_size=16).hexdigest()


@dataclass(frozen=True)
class TierOutput:
    """One product version for one tier and one audience."""

    product_id: str
    version: int
    tier: int
    audience: Audience
    use: str
    readers: tuple[str, ...]
    title_ja: str
    title_en: str
    narrative_ja: str
    narrative_en: str
    actions_ja: str
    actions_en: str
    bundle: dict[str, Any]
    report: SanitisationReport
    digest: str
    built_at: datetime
    lint: LintResult = NOT_LINTED
    origins: Mapping[str, Origin] = field(default_factory=dict, repr=False)
    framing: Mapping[str, str] = field(default_factory=dict, repr=False)
    withheld: Withheld = field(default_factory=Withheld, repr=False)

    @property
    def texts(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in TEXT_FIELDS}

    @property
    def objects(self) -> list[dict[str, Any]]:
        return list(self.bundle.get("objects", ()))

    def summary(self) -> dict[str, Any]:
        """Metadata only: for the audit log, the API and the CLI."""
        return {"product_id": self.product_id, "version": self.version, "tier": self.tier,
                "audience": self.audience.as_dict(), "digest": self.digest,
                "objects": len(self.objects), "lint": self.lint.as_dict(),
                "sanitisation": self.report.as_dict()}


def content_digest(*, product_id: str, version: int, tier: int, audience: Audience,
                   bundle: Mapping[str, Any], texts: Mapping[str, str]) -> str:
    """SHA-256 over everything a recipient receives, in canonical JSON."""
    return frame.digest({"product_id": product_id, "version": version, "tier": tier,
                         "audience": audience.as_dict(), "bundle": bundle,
                         "texts": dict(texts)})
