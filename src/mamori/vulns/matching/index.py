"""The matching index: groups keyed by CPE ``(vendor, product)``, purl ``(type, namespace,
name)`` and name hints, so that a component is compared only with the statements about
its own product — never every component with every vulnerability.

Keys are exact after normalisation (lower case; aliases only from the reviewed table).
A component whose CPE vendor or product is ANY, NA or wildcarded cannot be matched
honestly and is reported as a coverage gap instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mamori.vulns.matching import aliases
from mamori.vulns.matching import cpe as cpe_mod
from mamori.vulns.matching import purl as purl_mod
from mamori.vulns.matching.applicability import (
    DATABASE,
    HINT,
    Group,
    Subject,
    Verdict,
    combine,
    evaluate,
)

CPE = "cpe"
PURL = "purl"
NAME = "name"


@dataclass(frozen=True, slots=True)
class ComponentView:
    """A registered component reduced to what matching reads."""

    component_id: int
    computer_id: int
    cpe: cpe_mod.Cpe | None = None
    purl_key: purl_mod.PurlKey | None = None
    purl_version: str | None = None
    version: str | None = None

    @classmethod
    def build(
        cls, *, component_id: int, computer_id: int, cpe: str | None, purl: str | None,
        version: str | None,
    ) -> ComponentView:
        parsed_cpe: cpe_mod.Cpe | None = None
        if cpe:
            try:
                parsed_cpe = cpe_mod.parse(cpe)
            except cpe_mod.CpeSyntaxError:
                parsed_cpe = None
        key: purl_mod.PurlKey | None = None
        purl_version: str | None = None
        if purl:
            try:
                key, purl_version = purl_mod.parse(purl)
            except ValueError:
                key = None
        return cls(component_id, computer_id, parsed_cpe, key, purl_version, version)

    @property
    def matchable(self) -> bool:
        return (self.cpe is not None and self.cpe.literal_identity) or self.purl_key is not None

    def cpe_version(self) -> str | None:
        """The CPE's version; the component's version field only when the CPE leaves it
        open (ANY). NA means the product names no version (``windows_server_2019:-``):
        a "version" field beside it is part of the name, not a version to compare."""
        if self.cpe is not None and self.cpe.version == cpe_mod.NA:
            return None
        if self.cpe is not None and self.cpe.version != cpe_mod.ANY:
            return self.cpe.version
        return self.version or None


def cpe_key(vendor: str, product: str) -> tuple[str, ...]:
    return (CPE, *aliases.canonical((vendor, product)))


def purl_key(key: purl_mod.PurlKey) -> tuple[str, ...]:
    return (PURL, *key)


def name_key(vendor: str, product: str) -> tuple[str, ...]:
    """Name hints live in the CPE key space: a hint "matches" a CPE identity."""
    return (CPE, *aliases.canonical(aliases.name_key(vendor, product)))


def keys_of(component: ComponentView) -> list[tuple[str, ...]]:
    keys: list[tuple[str, ...]] = []
    if component.cpe is not None and component.cpe.literal_identity:
        keys.append(cpe_key(component.cpe.vendor, component.cpe.product))
    if component.purl_key is not None:
        keys.append(purl_key(component.purl_key))
    return keys


class Index:
    """Groups by key, plus which vulnerabilities have structured (non-hint) data."""

    def __init__(self, groups: Iterable[Group] = ()) -> None:
        self._by_key: dict[tuple[str, ...], list[Group]] = defaultdict(list)
        self._structured: set[int] = set()
        self.size = 0
        for group in groups:
            self.add(group)

    def add(self, group: Group) -> None:
        key = group.key if group.key[0] in (CPE, PURL) else (CPE, *group.key[1:])
        self._by_key[key].append(group)
        if group.authority != HINT:
            self._structured.add(group.vulnerability)
        self.size += 1

    def mark_structured(self, vulnerabilities: Iterable[int]) -> None:
        """Vulnerabilities with structured statements outside this (partial) index."""
        self._structured.update(vulnerabilities)

    def keys(self) -> set[tuple[str, ...]]:
        return set(self._by_key)

    def candidates(self, component: ComponentView) -> list[Group]:
        found: list[Group] = []
        for key in keys_of(component):
            found.extend(self._by_key.get(key, ()))
        return found

    def match(
        self, component: ComponentView, platform: Sequence[cpe_mod.Cpe] = ()
    ) -> dict[int, Verdict]:
        """Vulnerability id → verdict for one component (only affected/possible/vendor
        not-affected verdicts appear)."""
        per_vuln: dict[int, list[Verdict]] = defaultdict(list)
        subjects: dict[bool, Subject] = {}
        for group in self.candidates(component):
            if group.authority == HINT and group.vulnerability in self._structured:
                continue  # a structured statement exists: the name hint is not needed
            is_purl = group.key[0] == PURL
            subject = subjects.get(is_purl)
            if subject is None:
                subject = subjects[is_purl] = self._subject(component, group, platform)
            verdict = evaluate(group, subject)
            if verdict is not None:
                per_vuln[group.vulnerability].append(verdict)
        result: dict[int, Verdict] = {}
        for vulnerability, verdicts in per_vuln.items():
            final = combine(verdicts)
            if final is not None:
                result[vulnerability] = final
        return result

    @staticmethod
    def _subject(
        component: ComponentView, group: Group, platform: Sequence[cpe_mod.Cpe]
    ) -> Subject:
        if group.key[0] == PURL:
            version = component.purl_version or component.version
            return Subject(component.component_id, component.computer_id, version,
                           platform=platform)
        cpe = component.cpe
        assert cpe is not None
        return Subject(component.component_id, component.computer_id, component.cpe_version(),
                       part=cpe.part, rest=cpe.rest(), platform=platform)


def pairwise_match(
    groups: Sequence[Group], component: ComponentView, platform: Sequence[cpe_mod.Cpe] = ()
) -> dict[int, Verdict]:
    """The baseline without an index: every group is checked against the component.

    Same semantics as :meth:`Index.match` (used by the benchmark and the tests that
    show the index loses nothing)."""
    keys = set(keys_of(component))
    structured = {g.vulnerability for g in groups if g.authority != HINT}
    per_vuln: dict[int, list[Verdict]] = defaultdict(list)
    for group in groups:
        key = group.key if group.key[0] in (CPE, PURL) else (CPE, *group.key[1:])
        if key not in keys:
            continue
        if group.authority == HINT and group.vulnerability in structured:
            continue
        verdict = evaluate(group, Index._subject(component, group, platform))
        if verdict is not None:
            per_vuln[group.vulnerability].append(verdict)
    return {v: final for v, vs in per_vuln.items() if (final := combine(vs)) is not None}


__all__ = [
    "CPE", "DATABASE", "NAME", "PURL", "ComponentView", "Index", "cpe_key", "keys_of",
    "name_key", "pairwise_match", "purl_key",
]
