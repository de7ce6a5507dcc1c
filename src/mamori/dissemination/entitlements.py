"""The entitlement matrix: which tiers each recipient category may receive, on which
conditions, and for which purposes (R-1.2-5, R-5.1-1, R-7.1-2).

The matrix is versioned configuration (``config/entitlements.toml``, or a copy under
``$MAMORI_HOME/dissemination/``). The ceilings of the Act are code: a file may narrow
the tiers and add conditions, never lift a ceiling or drop a statutory condition.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from mamori.config import get_settings
from mamori.dissemination import categories as cat
from mamori.errors import InvalidInput

PACKAGED = Path(__file__).parent / "config" / "entitlements.toml"

PROVISION_BASIS = "provision_basis"
FOREIGN_CHECKS = "foreign_checks"
COUNCIL_SAFEGUARDS = "council_safeguards"
COUNCIL_MEMBERSHIP = "council_membership"
OWN_VULNERABILITIES = "own_vulnerabilities"
CONDITIONS = (PROVISION_BASIS, FOREIGN_CHECKS, COUNCIL_SAFEGUARDS, COUNCIL_MEMBERSHIP,
              OWN_VULNERABILITIES)

# What the Act allows at most, whatever the file says.
CEILINGS: dict[str, frozenset[int]] = {
    cat.ADMINISTRATIVE_BODY: frozenset({1, 2, 3}),
    cat.FOREIGN_GOVERNMENT: frozenset({1, 2, 3}),
    cat.COUNCIL_MEMBER: frozenset({2, 3}),
    cat.SPECIAL_INFRASTRUCTURE_OPERATOR: frozenset({2, 3}),
    cat.COMPUTER_USER_PUBLIC: frozenset({3}),
    cat.SUPPLIER: frozenset({2, 3}),
}
# Conditions the Act imposes on every tier of a category (R-5.2-4, Art 45(2)(4)).
STATUTORY: dict[str, tuple[str, ...]] = {
    cat.FOREIGN_GOVERNMENT: (FOREIGN_CHECKS,),
    cat.COUNCIL_MEMBER: (COUNCIL_SAFEGUARDS,),
}

CONDITION_TEXT: dict[str, str] = {
    PROVISION_BASIS: "no current provision basis (Art 38) is recorded for this body",
    FOREIGN_CHECKS: "the purpose-conformity check and the confirmation of equivalent "
    "safeguards are not both recorded for this provision (R-5.2-4)",
    COUNCIL_SAFEGUARDS: "the council member's prior consent and information-management "
    "safeguards (Art 45(2)(4)) are not on record",
    COUNCIL_MEMBERSHIP: "the operator is not also a council member with safeguards on record",
    OWN_VULNERABILITIES: "tier 2 goes to a supplier only for undisclosed vulnerabilities in "
    "its own products",
}


@dataclass(frozen=True)
class CategoryRule:
    category: str
    tiers: frozenset[int]
    legal_basis: str
    contribute: bool
    conditions: dict[int, tuple[str, ...]] = field(default_factory=dict)

    def conditions_for(self, tier: int) -> tuple[str, ...]:
        return self.conditions.get(tier, ())


@dataclass(frozen=True)
class Purpose:
    code: str
    ja: str
    en: str
    sci_purpose: str | None

    def label(self, language: str) -> str:
        return self.ja if language == "ja" else self.en


@dataclass(frozen=True)
class Matrix:
    version: int
    sha256: str
    source: str
    rules: dict[str, CategoryRule]
    purposes: dict[str, Purpose]
    content: dict[str, Any]

    def rule(self, category: str) -> CategoryRule:
        return self.rules[cat.category(category).code]

    def purpose(self, code: str) -> Purpose:
        found = self.purposes.get(code)
        if found is None:
            raise InvalidInput(
                f"unknown provision purpose; purposes are: {', '.join(self.purposes)}",
                field="purpose",
            )
        return found


@dataclass(frozen=True)
class Verdict:
    """Whether a tier may go to a category given the facts that hold, and why not."""

    allowed: bool
    legal_basis: str
    missing: tuple[str, ...] = ()
    beyond_tiers: bool = False

    @property
    def reason(self) -> str:
        if self.allowed:
            return "entitled"
        if self.beyond_tiers:
            return "this category is not entitled to this tier"
        return "; ".join(CONDITION_TEXT[m] for m in self.missing)


def matrix_path() -> Path:
    override = get_settings().home / "dissemination" / "entitlements.toml"
    return override if override.is_file() else PACKAGED


def _int_list(value: Any, where: str) -> list[int]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise InvalidInput(f"entitlements: {where} must be a list of whole numbers")
    return value


def _rule(code: str, raw: Any) -> CategoryRule:
    where = f"categories.{code}"
    if not isinstance(raw, dict):
        raise InvalidInput(f"entitlements: {where} must be a table")
    tiers = frozenset(_int_list(raw.get("tiers"), f"{where}.tiers"))
    if not tiers <= CEILINGS[code]:
        raise InvalidInput(f"entitlements: {where}.tiers exceed what the Act allows "
                           f"({sorted(CEILINGS[code])})")
    basis = raw.get("legal_basis")
    if not isinstance(basis, str) or not basis.strip():
        raise InvalidInput(f"entitlements: {where}.legal_basis is required")
    contribute = raw.get("contribute", False)
    if not isinstance(contribute, bool):
        raise InvalidInput(f"entitlements: {where}.contribute must be true or false")
    raw_conditions = raw.get("conditions", {})
    if not isinstance(raw_conditions, dict):
        raise InvalidInput(f"entitlements: {where}.conditions must be a table")
    conditions: dict[int, tuple[str, ...]] = {}
    for key, names in raw_conditions.items():
        if not str(key).isdigit() or int(key) not in tiers:
            raise InvalidInput(f"entitlements: {where}.conditions names tier {key!r}, "
                               "which the category does not receive")
        if not isinstance(names, list) or not all(n in CONDITIONS for n in names):
            raise InvalidInput(f"entitlements: {where}.conditions.{key}: conditions are "
                               f"{', '.join(CONDITIONS)}")
        conditions[int(key)] = tuple(names)
    for tier in tiers:
        required = STATUTORY.get(code, ())
        merged = tuple(dict.fromkeys((*conditions.get(tier, ()), *required)))
        if merged:
            conditions[tier] = merged
    return CategoryRule(category=code, tiers=tiers, legal_basis=basis.strip(),
                        contribute=contribute, conditions=conditions)


def _purposes(raw: Any) -> dict[str, Purpose]:
    if not isinstance(raw, dict) or not raw:
        raise InvalidInput("entitlements: [purposes] must name at least one purpose")
    found: dict[str, Purpose] = {}
    for code, item in raw.items():
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) and item.get(k) for k in ("ja", "en")
        ):
            raise InvalidInput(f"entitlements: purposes.{code} needs ja and en")
        sci = item.get("sci_purpose")
        if sci is not None and not isinstance(sci, str):
            raise InvalidInput(f"entitlements: purposes.{code}.sci_purpose must be text")
        found[str(code)] = Purpose(code=str(code), ja=item["ja"], en=item["en"], sci_purpose=sci)
    return found


def parse_matrix(raw: bytes, source: str = "entitlements.toml") -> Matrix:
    """The matrix in ``raw`` (TOML), validated against the Act's ceilings."""
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"{source} is not valid TOML: {exc}", file=source) from None
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InvalidInput("entitlements: version must be a whole number from 1")
    raw_rules = data.get("categories")
    if not isinstance(raw_rules, dict):
        raise InvalidInput("entitlements: [categories] is required")
    unknown = sorted(set(raw_rules) - set(cat.CATEGORIES))
    missing = sorted(set(cat.CATEGORIES) - set(raw_rules))
    if unknown or missing:
        raise InvalidInput(f"entitlements: categories must be exactly the six of the Act "
                           f"(unknown: {unknown}, missing: {missing})")
    rules = {code: _rule(code, raw_rules[code]) for code in cat.CATEGORIES}
    return Matrix(version=version, sha256=hashlib.sha256(raw).hexdigest(), source=source,
                  rules=rules, purposes=_purposes(data.get("purposes")), content=data)


def load_matrix() -> Matrix:
    """The matrix in force (parsed again whenever the file's content changes)."""
    path = matrix_path()
    return _parsed(path.read_bytes(), path.name)


@lru_cache(maxsize=8)
def _parsed(raw: bytes, name: str) -> Matrix:
    return parse_matrix(raw, name)


def evaluate(matrix: Matrix, category: str, tier: int, facts: Iterable[str]) -> Verdict:
    """The verdict for ``tier`` to ``category`` when the conditions in ``facts`` hold."""
    rule = matrix.rule(category)
    if tier not in rule.tiers:
        return Verdict(allowed=False, legal_basis=rule.legal_basis, beyond_tiers=True)
    held = set(facts)
    missing = tuple(c for c in rule.conditions_for(tier) if c not in held)
    return Verdict(allowed=not missing, legal_basis=rule.legal_basis, missing=missing)
