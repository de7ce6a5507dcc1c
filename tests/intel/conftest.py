"""Principals and STIX helpers for the intel tests.

Principals are the real value objects the access domain hands out, so every call goes
through the real Cedar policies; objects are plain STIX 2.1 dicts.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from mamori.access.principal import Principal
from mamori.intel import settings as intel_settings

CAO = 1
ANALYST = Principal(username="i-analyst", roles=frozenset({"analyst"}), organisation_id=CAO,
                    organisation_kind="cabinet_office", purpose="specified_damage_prevention")
HANDLER = Principal(username="i-handler", roles=frozenset({"comms_handler"}),
                    organisation_id=CAO, organisation_kind="cabinet_office",
                    designated_handler=True, mfa=True, purpose="specified_damage_prevention")
# A communications handler who has not declared a purpose: the comms gate stays shut.
HANDLER_NO_PURPOSE = Principal(username="i-handler2", roles=frozenset({"comms_handler"}),
                               organisation_id=CAO, organisation_kind="cabinet_office",
                               designated_handler=True, mfa=True)
SYSTEM = Principal.system("intel-test")
OPERATOR = Principal(username="i-operator", roles=frozenset({"operator"}), organisation_id=5,
                     organisation_kind="operator")

T0 = "2026-11-01T00:00:00.000Z"


def sid(kind: str, n: int | str) -> str:
    return f"{kind}--{uuid.uuid5(uuid.NAMESPACE_URL, f'mamori-test/{kind}/{n}')}"


def sdo(kind: str, n: int | str, modified: str = T0, **properties: Any) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": sid(kind, n), "created": T0,
            "modified": modified, **properties}


def indicator(n: int | str, pattern: str, modified: str = T0, **properties: Any
              ) -> dict[str, Any]:
    return sdo("indicator", n, modified, pattern=pattern, pattern_type="stix",
               valid_from=T0, indicator_types=["malicious-activity"], **properties)


def relationship(n: int | str, source: str, kind: str, target: str) -> dict[str, Any]:
    return sdo("relationship", n, relationship_type=kind, source_ref=source, target_ref=target)


def bundle(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)}


@pytest.fixture(autouse=True)
def _intel_settings(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Default intel settings for each test (tests may set MAMORI_INTEL_* first)."""
    intel_settings.reset()
    yield
    intel_settings.reset()
