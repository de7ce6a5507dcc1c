"""The Cedar policy engine behind ``authorize()``: loading, merging and deciding.

Policies and schema live in ``policies/`` as files the oversight committee can read.
Every domain keeps its own ``<domain>.cedar`` (rules) and ``<domain>.cedarschema``
(its actions); they are merged at load so that no domain edits another's file.
``decide`` is pure: it neither reads the database nor writes the audit log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cedarpy

from mamori.access.principal import Principal, Resource

POLICY_DIR = Path(__file__).parent / "policies"

# Labels that make a resource communications-derived; see "access.comms-gate".
COMMS_LABEL = "COMMS"
PROVISION_DERIVED_LABEL = "PROVISION_DERIVED"

_ACTION_DECL = re.compile(r'^action "((?:[^"\\]|\\.)*)"([^;{]*)(\{)?', re.MULTILINE)


@dataclass(frozen=True)
class Decision:
    """The engine's answer and why: the ids of the policies that decided it."""

    allowed: bool
    policies: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        if self.allowed:
            return "permitted by " + ", ".join(self.policies)
        if self.errors:
            return "the policy engine cannot evaluate it (unknown action or malformed request)"
        if self.policies:
            return "forbidden by " + ", ".join(self.policies)
        return "no policy permits it (deny by default)"


@dataclass(frozen=True)
class PolicyBundle:
    """The merged policy set and schema, parsed once."""

    policy_text: str
    schema_text: str
    policies: cedarpy.PolicySet
    schema: cedarpy.Schema


def _read(paths: Iterable[Path]) -> str:
    return "\n".join(f"// --- {p.name}\n{p.read_text(encoding='utf-8')}" for p in paths)


def load_bundle(directory: Path = POLICY_DIR) -> PolicyBundle:
    """Merge every ``*.cedar`` and ``*.cedarschema`` file of ``directory``."""
    policy_text = _read(sorted(directory.glob("*.cedar")))
    schema_text = _read(sorted(directory.glob("*.cedarschema")))
    return PolicyBundle(
        policy_text=policy_text,
        schema_text=schema_text,
        policies=cedarpy.PolicySet.from_str(policy_text),
        schema=cedarpy.Schema.from_str(schema_text),
    )


@lru_cache(maxsize=1)
def bundle() -> PolicyBundle:
    return load_bundle()


def validate(b: PolicyBundle | None = None) -> list[str]:
    """Schema-validation errors of the merged policy set (empty when valid)."""
    b = b or bundle()
    result = cedarpy.validate_policies(b.policy_text, b.schema)
    return [str(e) for e in result.errors]


def declared_actions(b: PolicyBundle | None = None) -> list[str]:
    """Every action the merged schema lets a request name (action groups excluded)."""
    b = b or bundle()
    rendered = str(b.schema)  # cedarpy renders one normalised declaration per action
    actions = [m.group(1) for m in _ACTION_DECL.finditer(rendered) if "appliesTo" in m.group(2)]
    return sorted(actions)


_RAW_DECL = re.compile(r'\baction\s+((?:"[^"]*"\s*,\s*)*"[^"]*")([^;{]*)', re.MULTILINE)
_COMMENT = re.compile(r"//[^\n]*")


def declaring_files(directory: Path = POLICY_DIR) -> dict[str, str]:
    """Which ``<domain>.cedarschema`` declares each action: action -> domain file stem."""
    found: dict[str, str] = {}
    for path in sorted(directory.glob("*.cedarschema")):
        text = _COMMENT.sub("", path.read_text(encoding="utf-8"))
        for match in _RAW_DECL.finditer(text):
            if "appliesTo" in match.group(2):
                for name in re.findall(r'"([^"]*)"', match.group(1)):
                    found[name] = path.stem
    return found


def comms_derived(resource: Resource) -> bool:
    """Whether ``resource`` is communications-derived, as "access.comms-gate" reads it."""
    return COMMS_LABEL in resource.labels or (
        PROVISION_DERIVED_LABEL in resource.labels and resource.type.startswith("selection")
    )


def _tag(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise TypeError(f"resource attribute of type {type(value).__name__} cannot be a policy tag")


def _org(org_id: int, kind: str) -> dict[str, Any]:
    return {"uid": {"type": "Organisation", "id": str(org_id)}, "attrs": {"kind": kind},
            "parents": []}


def _ref(kind: str, ident: str) -> dict[str, Any]:
    return {"__entity": {"type": kind, "id": ident}}


def entities(principal: Principal, resource: Resource) -> list[dict[str, Any]]:
    """The Cedar entities of one request: the principal, its roles and organisations."""
    user_attrs: dict[str, Any] = {
        "name": principal.username,
        "organisation_kind": principal.organisation_kind or "",
        "designated_handler": principal.designated_handler,
        "mfa": principal.mfa,
        "purpose": principal.purpose or "",
        "via": principal.via,
    }
    orgs: dict[int, dict[str, Any]] = {}
    if principal.organisation_id is not None:
        user_attrs["organisation"] = _ref("Organisation", str(principal.organisation_id))
        orgs[principal.organisation_id] = _org(
            principal.organisation_id, principal.organisation_kind or ""
        )
    resource_attrs: dict[str, Any] = {
        "kind": resource.type,
        "key": resource.id,
        "labels": sorted(resource.labels),
    }
    if resource.organisation_id is not None:
        resource_attrs["organisation"] = _ref("Organisation", str(resource.organisation_id))
        orgs.setdefault(resource.organisation_id, _org(resource.organisation_id, ""))
    result: list[dict[str, Any]] = [
        {
            "uid": {"type": "User", "id": principal.username},
            "attrs": user_attrs,
            "parents": [{"type": "Role", "id": r} for r in sorted(principal.roles)],
        },
        {
            "uid": {"type": "Resource", "id": resource_uid(resource)},
            "attrs": resource_attrs,
            "parents": [],
            "tags": {str(k): _tag(v) for k, v in resource.attrs.items()},
        },
    ]
    result += [{"uid": {"type": "Role", "id": r}, "attrs": {}, "parents": []}
               for r in sorted(principal.roles)]
    result += list(orgs.values())
    return result


def resource_uid(resource: Resource) -> str:
    return f"{resource.type}:{resource.id}"


def decide(
    principal: Principal, action: str, resource: Resource, *, using: PolicyBundle | None = None
) -> Decision:
    """Cedar's decision for one request; anything the engine cannot evaluate is a denial."""
    b = using or bundle()
    request = {
        "principal": {"type": "User", "id": principal.username},
        "action": {"type": "Action", "id": action},
        "resource": {"type": "Resource", "id": resource_uid(resource)},
        "context": {},
    }
    result = cedarpy.is_authorized(
        request, b.policies, json.dumps(entities(principal, resource)), schema=b.schema
    )
    annotations = result.diagnostics.id_annotations_by_reason
    ids = tuple(sorted(annotations.get(r, r) for r in result.diagnostics.reasons))
    errors = tuple(result.diagnostics.errors)
    return Decision(allowed=result.allowed and not errors, policies=ids, errors=errors)
