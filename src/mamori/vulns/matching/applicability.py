"""What a source says about which versions of one product a vulnerability affects, and
the verdict for one registered component.

A :class:`Group` is one source's statement about one product identity: version
ranges with a status each (CVE JSON 5 ``versions``, an NVD ``cpeMatch``, a CSAF
product status), a default for versions no range covers, and — for firmware that is
vulnerable only on certain hardware — the platform conditions the same computer must
also meet ("running on/with"). Evaluating it never guesses: an unknown component
version, an unreadable bound or a range with no bound at all gives
``possible`` with the reason, not a silent match or a silent miss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mamori.vulns.matching import cpe as cpe_mod
from mamori.vulns.matching.versions import version_key

AFFECTED = "affected"
UNAFFECTED = "unaffected"
UNKNOWN = "unknown"
NOT_AFFECTED = "not_affected"  # a vendor's statement (CSAF known_not_affected)
POSSIBLE = "possible"

# Why a match needs a person to look at it.
REVIEW_REASONS = (
    "unknown_component_version",
    "unreadable_version_bound",
    "no_version_bound",
    "status_unknown",
    "cpe_attribute_unknown",
    "platform_unknown",
    "name_only",
)

# Who is speaking: a vendor about its own product outranks a database, which outranks
# a name-only hint.
VENDOR = "vendor"
DATABASE = "database"
HINT = "hint"


@dataclass(frozen=True, slots=True)
class Range:
    """Versions with one status: an exact version, or a range with optional bounds."""

    status: str
    exact: str | None = None
    start: str | None = None
    start_inclusive: bool = True
    end: str | None = None
    end_inclusive: bool = False

    def as_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Range:
        return cls(**data)

    @property
    def unbounded(self) -> bool:
        return self.exact is None and self.start is None and self.end is None


@dataclass(frozen=True, slots=True)
class PlatformCpe:
    """One CPE a platform condition accepts, with optional version bounds."""

    vendor: str
    product: str
    part: str = cpe_mod.ANY
    ranges: tuple[Range, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"vendor": self.vendor, "product": self.product, "part": self.part,
                "ranges": [r.as_json() for r in self.ranges]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlatformCpe:
        return cls(data["vendor"], data["product"], data.get("part", cpe_mod.ANY),
                   tuple(Range.from_json(r) for r in data.get("ranges", [])))


@dataclass(frozen=True, slots=True)
class Platform:
    """An NVD configuration node the computer must (or, negated, must not) satisfy."""

    cpes: tuple[PlatformCpe, ...]
    negate: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"negate": self.negate, "cpes": [c.as_json() for c in self.cpes]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Platform:
        return cls(tuple(PlatformCpe.from_json(c) for c in data["cpes"]),
                   bool(data.get("negate", False)))


@dataclass(frozen=True, slots=True)
class Group:
    """One source's statement about one product identity."""

    vulnerability: int
    scheme: str  # "cpe", "purl" or "name"
    key: tuple[str, ...]
    ranges: tuple[Range, ...]
    default_status: str = UNAFFECTED
    version_scheme: str = "dotted"
    part: str = cpe_mod.ANY
    rest: tuple[str, ...] = ()
    platforms: tuple[Platform, ...] = ()
    authority: str = DATABASE
    group_id: int = 0
    origin: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    status: str  # AFFECTED, POSSIBLE or NOT_AFFECTED
    reason: str | None = None
    group_id: int = 0
    authority: str = DATABASE


@dataclass(slots=True)
class Subject:
    """What the matcher knows about one registered component."""

    component_id: int
    computer_id: int
    version: str | None
    part: str = cpe_mod.ANY
    rest: tuple[str, ...] = ()
    platform: Sequence[cpe_mod.Cpe] = field(default_factory=tuple)


def _in_range(item: Range, version: str, scheme: str, key: Any = None) -> bool | None:
    """Whether ``version`` (whose key may be given) lies in ``item``; None when a bound
    cannot be read."""
    key = key if key is not None else version_key(version, scheme)
    if key is None:
        return None
    if item.exact is not None:
        exact = version_key(item.exact, scheme)
        return None if exact is None else bool(key == exact)
    if item.start is not None:
        start = version_key(item.start, scheme)
        if start is None:
            return None
        if key < start or (key == start and not item.start_inclusive):
            return False
    if item.end is not None:
        end = version_key(item.end, scheme)
        if end is None:
            return None
        if key > end or (key == end and not item.end_inclusive):
            return False
    return True


def version_status(
    ranges: Sequence[Range], default: str, version: str | None, scheme: str
) -> tuple[str, str | None]:
    """The status of ``version`` under ``ranges`` → (AFFECTED/UNAFFECTED/NOT_AFFECTED/POSSIBLE,
    review reason). Exact versions outrank ranges; among ranges "unaffected" outranks
    "affected" (a fix inside an affected span)."""
    key = version_key(version, scheme) if version is not None else None
    if version is None or key is None:
        could = default == AFFECTED or any(r.status == AFFECTED for r in ranges)
        return (POSSIBLE, "unknown_component_version") if could else (UNAFFECTED, None)
    found: dict[str, bool] = {}
    unreadable = False
    for item in ranges:
        if item.exact is None:
            continue
        inside = _in_range(item, version, scheme, key)
        if inside is None:
            unreadable = unreadable or item.status == AFFECTED
        elif inside:
            return (item.status if item.status != UNKNOWN else POSSIBLE,
                    "status_unknown" if item.status == UNKNOWN else None)
    for item in ranges:
        if item.exact is not None:
            continue
        inside = _in_range(item, version, scheme, key)
        if inside is None:
            unreadable = unreadable or item.status == AFFECTED
        elif inside:
            found[item.status] = True
    for status in (NOT_AFFECTED, UNAFFECTED):
        if found.get(status):
            return status, None
    if found.get(AFFECTED):
        bounded = any(r.status == AFFECTED and not r.unbounded for r in ranges) or any(
            r.status != AFFECTED for r in ranges)
        return (AFFECTED, None) if bounded else (POSSIBLE, "no_version_bound")
    if found.get(UNKNOWN):
        return POSSIBLE, "status_unknown"
    if unreadable:
        return POSSIBLE, "unreadable_version_bound"
    if default == AFFECTED:
        return (AFFECTED, None) if ranges else (POSSIBLE, "no_version_bound")
    if default == UNKNOWN:
        return POSSIBLE, "status_unknown"
    return UNAFFECTED, None


def _platform_cpe_present(condition: PlatformCpe, platform: Sequence[cpe_mod.Cpe]) -> bool | None:
    verdict: bool | None = False
    for item in platform:
        if (item.vendor, item.product) != (condition.vendor, condition.product):
            continue
        if condition.part != cpe_mod.ANY and item.part not in (condition.part, cpe_mod.ANY):
            continue
        if not condition.ranges:
            return True
        version = None if item.version in (cpe_mod.ANY, cpe_mod.NA) else item.version
        status, _ = version_status(condition.ranges, UNAFFECTED, version, "dotted")
        if status == AFFECTED:
            return True
        if status == POSSIBLE:
            verdict = None
    return verdict


def platforms_hold(platforms: Sequence[Platform], platform: Sequence[cpe_mod.Cpe]) -> bool | None:
    """Every platform condition holds on the computer (True), one fails (False), or one
    cannot be told (None)."""
    result: bool | None = True
    for condition in platforms:
        answers = [_platform_cpe_present(c, platform) for c in condition.cpes]
        holds: bool | None = True if True in answers else (None if None in answers else False)
        if condition.negate and holds is not None:
            holds = not holds
        if holds is False:
            return False
        if holds is None:
            result = None
    return result


def evaluate(group: Group, subject: Subject) -> Verdict | None:
    """The verdict of one group for one component, or None when it does not apply."""
    uncertain: str | None = None
    if group.scheme == "cpe":
        if group.part != cpe_mod.ANY and subject.part not in (group.part, cpe_mod.ANY):
            return None
        for wanted, have in zip(group.rest, subject.rest or cpe_mod.ANY_REST, strict=False):
            same = cpe_mod.attribute_matches(wanted, have)
            if same is False:
                return None
            if same is None:
                uncertain = "cpe_attribute_unknown"
    status, reason = version_status(group.ranges, group.default_status, subject.version,
                                    group.version_scheme)
    if status == UNAFFECTED:
        return None
    if status == NOT_AFFECTED:
        return Verdict(NOT_AFFECTED, None, group.group_id, group.authority)
    if group.platforms:
        holds = platforms_hold(group.platforms, subject.platform)
        if holds is False:
            return None
        if holds is None:
            uncertain = uncertain or "platform_unknown"
    if group.scheme == "name":
        return Verdict(POSSIBLE, "name_only", group.group_id, group.authority)
    if status == AFFECTED and uncertain:
        return Verdict(POSSIBLE, uncertain, group.group_id, group.authority)
    return Verdict(status, reason, group.group_id, group.authority)


def combine(verdicts: Sequence[Verdict]) -> Verdict | None:
    """Several sources about one component and one vulnerability → one verdict.

    A vendor's "not affected" for this version wins; otherwise a definite "affected"
    wins over "possibly affected"."""
    if not verdicts:
        return None
    for verdict in verdicts:
        if verdict.status == NOT_AFFECTED and verdict.authority == VENDOR:
            return verdict
    definite = [v for v in verdicts if v.status == AFFECTED]
    if definite:
        return min(definite, key=lambda v: v.group_id)
    possible = [v for v in verdicts if v.status == POSSIBLE]
    return min(possible, key=lambda v: v.group_id) if possible else None
