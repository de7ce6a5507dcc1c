"""Reporting workflows: which kinds of report a regulation has and when each is due.

Read from ``workflows.toml`` (see ``configuration``); the numbers are regulatory
parameters that later orders fix, so nothing here hard-codes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mamori.errors import InvalidInput
from mamori.reporting.configuration import config_path, read_toml

KINDS: tuple[str, ...] = ("preliminary", "update", "final")
TRIGGERS: tuple[str, ...] = ("detection", "awareness", "previous_submission", "request")
FIELD_KEYS: tuple[str, ...] = (
    "summary", "impact", "cause", "measures_taken", "started_at", "service_disruption",
    "personal_data_affected", "records_affected", "data_items", "secondary_damage",
    "publication", "contact",
)


@dataclass(frozen=True)
class Step:
    """One report that is due: ``offset_hours`` after ``trigger``."""

    kind: str
    trigger: str
    offset_hours: float


@dataclass(frozen=True)
class Workflow:
    key: str
    name_ja: str
    name_en: str
    legal_basis: str
    filer_roles: frozenset[str]
    kinds: tuple[str, ...]
    steps: tuple[Step, ...]
    required_fields: dict[str, tuple[str, ...]]
    requires_operator: bool = True
    requested_only: bool = False
    light: bool = False
    enabled: bool = True
    member_type: str | None = None

    def name(self, language: str) -> str:
        return self.name_ja if language == "ja" else self.name_en


@dataclass(frozen=True)
class WorkflowSet:
    workflows: dict[str, Workflow]
    reminder_hours: tuple[float, ...]
    features: dict[str, bool]
    digest: str

    def get(self, key: str) -> Workflow:
        workflow = self.workflows.get(key)
        if workflow is None or not workflow.enabled:
            known = ", ".join(k for k, w in self.workflows.items() if w.enabled)
            raise InvalidInput(
                f"unknown or disabled regulation {key!r}; in force: {known}", field="regulation"
            )
        return workflow

    def enabled(self) -> list[Workflow]:
        return [w for w in self.workflows.values() if w.enabled]

    def feature(self, name: str) -> bool:
        return bool(self.features.get(name, False))


def _problem(key: str, message: str) -> InvalidInput:
    return InvalidInput(f"workflows.toml, workflow {key}: {message}", field="workflows")


def _parse_workflow(key: str, raw: dict[str, Any]) -> Workflow:
    kinds = tuple(raw.get("kinds", KINDS))
    if not kinds or any(k not in KINDS for k in kinds):
        raise _problem(key, f"kinds must be some of {', '.join(KINDS)}")
    steps = []
    for item in raw.get("steps", []):
        step = Step(str(item.get("kind")), str(item.get("trigger")),
                    float(item.get("offset_hours", -1)))
        if step.kind not in kinds:
            raise _problem(key, f"step kind {step.kind!r} is not among its kinds")
        if step.trigger not in TRIGGERS:
            raise _problem(key, f"trigger must be one of {', '.join(TRIGGERS)}")
        if step.offset_hours < 0:
            raise _problem(key, "offset_hours must be zero or more")
        steps.append(step)
    required = {k: tuple(v) for k, v in dict(raw.get("required_fields", {})).items()}
    for kind, fields in required.items():
        if kind not in kinds or any(f not in FIELD_KEYS for f in fields):
            raise _problem(key, f"required_fields.{kind} names an unknown kind or field")
    for name in ("name_ja", "name_en", "legal_basis"):
        if not str(raw.get(name, "")).strip():
            raise _problem(key, f"{name} is missing")
    return Workflow(
        key=key, name_ja=raw["name_ja"], name_en=raw["name_en"], legal_basis=raw["legal_basis"],
        filer_roles=frozenset(raw.get("filer_roles", ["operator"])), kinds=kinds,
        steps=tuple(steps), required_fields=required,
        requires_operator=bool(raw.get("requires_operator", True)),
        requested_only=bool(raw.get("requested_only", False)),
        light=bool(raw.get("light", False)), enabled=bool(raw.get("enabled", True)),
        member_type=raw.get("member_type"),
    )


def parse_workflows(data: dict[str, Any], digest: str = "") -> WorkflowSet:
    """Validate a parsed ``workflows.toml``; a clear error names the broken entry."""
    raw_workflows = data.get("workflows")
    if not isinstance(raw_workflows, dict) or not raw_workflows:
        raise InvalidInput("workflows.toml defines no [workflows.*] table", field="workflows")
    hours = tuple(float(h) for h in data.get("reminders", {}).get("before_hours", []))
    if any(h <= 0 for h in hours):
        raise InvalidInput("workflows.toml: reminder hours must be positive", field="reminders")
    return WorkflowSet(
        workflows={k: _parse_workflow(k, v) for k, v in raw_workflows.items()},
        reminder_hours=tuple(sorted(hours, reverse=True)),
        features={k: bool(v) for k, v in data.get("features", {}).items()},
        digest=digest,
    )


@lru_cache(maxsize=4)
def _cached(path: str, mtime: float) -> WorkflowSet:
    from pathlib import Path

    data, digest = read_toml(Path(path))
    return parse_workflows(data, digest)


def load_workflows() -> WorkflowSet:
    """The workflows in force (re-read when the file changes)."""
    path = config_path("workflows.toml")
    return _cached(str(path), path.stat().st_mtime)
