"""People and store objects for the products tests.

Principals are real value objects, so every call goes through the real Cedar policies
(the communications gate included); store objects are imported through the intel
service exactly as any other domain would.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from mamori.access.principal import Principal
from mamori.intel import service as intel
from mamori.intel.ingest.bundle import import_objects
from mamori.intel.labels import build_labels

T0 = "2026-04-01T00:00:00.000Z"
NS = uuid.UUID("9c1e2f4a-7b3d-5e6f-8a9b-0c1d2e3f4a5b")


def person(name: str, role: str, **extra: Any) -> Principal:
    return Principal(username=f"t-{name}", roles=frozenset({role}), user_id=None,
                     organisation_id=1, organisation_kind="cabinet_office", via="cli", **extra)


ANALYST = person("analyst", "analyst", purpose="specified_damage_prevention")
HANDLER = person("handler", "comms_handler", designated_handler=True, mfa=True,
                 purpose="specified_damage_prevention")
ADMIN = person("admin", "admin", mfa=True, purpose="system_administration")
INSPECTOR = person("inspector", "committee_inspector", mfa=True,
                   purpose="oversight_inspection")
OPERATOR = Principal(username="t-operator", roles=frozenset({"operator"}), organisation_id=7,
                     organisation_kind="operator", via="cli")


@pytest.fixture
def people() -> dict[str, Principal]:
    return {"analyst": ANALYST, "handler": HANDLER, "admin": ADMIN, "inspector": INSPECTOR,
            "operator": OPERATOR}


def sid(kind: str, *parts: object) -> str:
    return f"{kind}--{uuid.uuid5(NS, '/'.join(str(p) for p in (kind, *parts)))}"


def indicator(key: str, value: str, *, name: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"type": "indicator", "spec_version": "2.1", "id": sid("indicator", key),
            "created": T0, "modified": T0, "name": name or f"Indicator {key}",
            "pattern": f"[ipv4-addr:value = '{value}']", "pattern_type": "stix",
            "valid_from": T0, **extra}


def identity(key: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"type": "identity", "spec_version": "2.1", "id": sid("identity", key),
            "created": T0, "modified": T0, "name": name, "identity_class": "organization",
            **extra}


def attack_pattern(key: str, technique: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"type": "attack-pattern", "spec_version": "2.1", "id": sid("attack-pattern", key),
            "created": T0, "modified": T0, "name": name,
            "external_references": [{"source_name": "mitre-attack", "external_id": technique}],
            **extra}


def vulnerability(key: str, cve: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"type": "vulnerability", "spec_version": "2.1", "id": sid("vulnerability", key),
            "created": T0, "modified": T0, "name": name,
            "external_references": [{"source_name": "cve", "external_id": cve}], **extra}


def relationship(key: str, source: str, target: str, kind: str = "indicates") -> dict[str, Any]:
    return {"type": "relationship", "spec_version": "2.1", "id": sid("relationship", key),
            "created": T0, "modified": T0, "relationship_type": kind, "source_ref": source,
            "target_ref": target}


def store(session: Any, principal: Principal, objects: Iterable[dict[str, Any]], *,
          labels: Iterable[str], source: str = "test", attributed_to: str | None = None,
          consent: Iterable[str] | None = None,
          derived_from: Mapping[str, tuple[str, ...]] | None = None) -> None:
    """Import ``objects`` under ``labels`` through the intel store's import.

    Lineage (``derived_from``) goes through the store's ingest function, which its
    bundle import calls without lineage.
    """
    objs = list(objects)
    if derived_from:
        result = import_objects(
            session=session, principal=principal, objects=objs, source=source,
            labels=build_labels(list(labels), source=attributed_to, consent=consent),
            kind="bundle", derived_from=derived_from)
    else:
        result = intel.import_bundle(
            session=session, principal=principal,
            bundle={"type": "bundle", "id": sid("bundle", *(o["id"] for o in objs)),
                    "objects": objs},
            source=source, labels=list(labels), attributed_to=attributed_to, consent=consent)
    assert not result.rejected, result.rejected
