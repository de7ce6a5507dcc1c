"""Scope rules: is an event reportable, not reportable, or a case to ask about?

The rules file (``scope_rules.toml``) decides from the computer's zone and device
category, the event's stage and its ATT&CK techniques; the first rule that matches
wins and its reason is shown in plain words (R-4.2-12 to R-4.2-15).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from mamori.errors import InvalidInput
from mamori.reporting.attack import catalogue
from mamori.reporting.configuration import config_path, read_toml
from mamori.reporting.report_format import STAGES

DECISIONS: tuple[str, ...] = ("reportable", "not_reportable", "ask")
# When several computers are named, the strictest answer counts.
_STRICTNESS = {"reportable": 2, "ask": 1, "not_reportable": 0}


@dataclass(frozen=True)
class Rule:
    id: str
    decision: str
    reason_ja: str
    reason_en: str
    zones: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    stages: frozenset[str] = frozenset()
    techniques: frozenset[str] = frozenset()
    tactics: frozenset[str] = frozenset()

    def matches(self, zone: str | None, category: str | None, stage: str,
                techniques: frozenset[str], tactics: frozenset[str]) -> bool:
        if self.zones and zone not in self.zones:
            return False
        if self.categories and category not in self.categories:
            return False
        if self.stages and stage not in self.stages:
            return False
        if self.techniques and not (self.techniques & techniques):
            return False
        return not (self.tactics and not (self.tactics & tactics))


@dataclass(frozen=True)
class Decision:
    decision: str
    rule_id: str
    reason_ja: str
    reason_en: str
    rules_version: str

    def reason(self, language: str) -> str:
        return self.reason_ja if language == "ja" else self.reason_en

    def to_json(self) -> dict[str, str]:
        return {"decision": self.decision, "rule": self.rule_id, "reason_ja": self.reason_ja,
                "reason_en": self.reason_en, "rules_version": self.rules_version}


@dataclass(frozen=True)
class RuleSet:
    version: str
    rules: tuple[Rule, ...]
    default: Rule
    vocabulary: dict[str, dict[str, dict[str, Any]]]
    digest: str = ""

    def labels(self, group: str, language: str) -> list[tuple[str, str]]:
        return [(key, str(v.get(language, key))) for key, v in self.vocabulary[group].items()]

    def evaluate(
        self, *, zone: str | None, category: str | None, stage: str,
        techniques: Iterable[str] = (),
    ) -> Decision:
        """The first matching rule's decision for one computer."""
        if stage not in STAGES:
            raise InvalidInput(f"stage must be one of {', '.join(STAGES)}", field="stage")
        attack = catalogue()
        ids: set[str] = set()
        tactics: set[str] = set()
        for technique in techniques:
            if attack.technique(technique) is None:
                raise InvalidInput("an ATT&CK technique id is not known (v18.1)",
                                   field="techniques")
            ids.update({technique, technique.split(".", 1)[0]})
            tactics.update(attack.tactics_of(technique))
        rule = next(
            (r for r in self.rules
             if r.matches(zone, category, stage, frozenset(ids), frozenset(tactics))),
            self.default,
        )
        return Decision(rule.decision, rule.id, rule.reason_ja, rule.reason_en, self.version)

    def evaluate_many(
        self, *, computers: Iterable[tuple[str | None, str | None]], stage: str,
        techniques: Iterable[str] = (),
    ) -> Decision:
        """The strictest decision over several computers (none named: no zone, no category)."""
        pairs = list(computers) or [(None, None)]
        found = [self.evaluate(zone=z, category=c, stage=stage, techniques=list(techniques))
                 for z, c in pairs]
        return max(found, key=lambda d: _STRICTNESS[d.decision])


def _rule(raw: dict[str, Any], index: int, vocabulary: dict[str, dict[str, Any]]) -> Rule:
    where = "scope_rules.toml [default]" if index < 0 else f"scope_rules.toml rule {index + 1}"
    decision = raw.get("decision")
    if decision not in DECISIONS:
        raise InvalidInput(f"{where}: decision must be one of {', '.join(DECISIONS)}")
    for name in ("reason_ja", "reason_en"):
        if not str(raw.get(name, "")).strip():
            raise InvalidInput(f"{where}: {name} is missing (a reason in plain words)")
    checks = {"zones": set(vocabulary["zones"]), "categories": set(vocabulary["categories"]),
              "stages": set(STAGES)}
    for key, allowed in checks.items():
        unknown = set(raw.get(key, [])) - allowed
        if unknown:
            raise InvalidInput(f"{where}: unknown {key}: {', '.join(sorted(unknown))}")
    attack = catalogue()
    if any(attack.technique(t) is None for t in raw.get("techniques", [])):
        raise InvalidInput(f"{where}: a technique id is not in ATT&CK v18.1")
    known_tactics = {t.shortname for t in attack.tactics.values()}
    if set(raw.get("tactics", [])) - known_tactics:
        raise InvalidInput(f"{where}: a tactic is not an ATT&CK v18.1 short name")
    return Rule(
        id=str(raw.get("id", f"rule-{index + 1}")), decision=decision,
        reason_ja=raw["reason_ja"], reason_en=raw["reason_en"],
        **{k: frozenset(raw.get(k, [])) for k in
           ("zones", "categories", "stages", "techniques", "tactics")},
    )


def parse_rules(data: dict[str, Any], digest: str = "") -> RuleSet:
    vocabulary = data.get("vocabulary", {})
    for group in ("zones", "categories", "stages"):
        vocabulary.setdefault(group, {})
    default_raw = data.get("default", {
        "decision": "ask",
        "reason_ja": "どの規則にも当てはまりません。所管省庁に相談してください。",
        "reason_en": "No rule covers this event. Please consult your supervising ministry.",
    })
    default = _rule({"id": "default", **default_raw}, -1, vocabulary)
    return RuleSet(
        version=str(data.get("version", "")),
        rules=tuple(_rule(r, i, vocabulary) for i, r in enumerate(data.get("rule", []))),
        default=default, vocabulary=vocabulary, digest=digest,
    )


@lru_cache(maxsize=4)
def _cached(path: str, mtime: float) -> RuleSet:
    data, digest = read_toml(Path(path))
    return parse_rules(data, digest)


def load_rules() -> RuleSet:
    """The scope rules in force (re-read when the file changes)."""
    path = config_path("scope_rules.toml")
    return _cached(str(path), path.stat().st_mtime)
