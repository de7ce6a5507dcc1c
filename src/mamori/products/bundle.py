"""The STIX 2.1 frame around a sanitised product: the Cabinet Office as publisher, the
tier's markings, the product as a ``report`` with its Japanese text as
``language-content``, and the recommended actions as a ``course-of-action``.

Everything here is derived from the product version and the tier, so building the same
output twice gives the same bundle and the same digest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from mamori.products.sanitiser import ATTACK_EPOCH, stix_id
from mamori.products.vocabulary import TIERS

PUBLISHER: dict[str, Any] = {
    "type": "identity",
    "spec_version": "2.1",
    "id": stix_id("identity", "publisher", "cabinet_office"),
    "created": ATTACK_EPOCH,
    "modified": ATTACK_EPOCH,
    "name": "内閣府 / Cabinet Office, Government of Japan",
    "identity_class": "organization",
    "sectors": ["government-national"],
}
PUBLISHER_ID: str = PUBLISHER["id"]

# The TLP 1.0 marking definitions predefined by STIX 2.1 (§7.2.1.4), one per tier.
_TLP = {
    "red": ("5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "TLP:RED"),
    "amber": ("f88d31f6-486f-44da-b317-01333bde0b82", "TLP:AMBER"),
    "white": ("613f2e26-407d-48c7-9eca-b8e91df99dc9", "TLP:WHITE"),
}
TIER_TLP = {1: "red", 2: "amber", 3: "white"}
_STATEMENTS = {
    1: "総合整理分析情報 (integrated analysis information, tier 1): may contain selected "
       "communications information; provide only within what is truly necessary "
       "(Act No. 42 of 2025).",
    2: "提供用総合整理分析情報 (shareable analysis information, tier 2): contains no selected "
       "communications information; may contain confidential information, handle under the "
       "confidentiality and safety-management measures of Act No. 42 of 2025, Art 44.",
    3: "周知等用総合整理分析情報 (public analysis information, tier 3): contains no "
       "communications information and no secrets.",
}


def tlp_marking(tier: int) -> dict[str, Any]:
    uuid_part, name = _TLP[TIER_TLP[tier]]
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{uuid_part}",
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "name": name,
        "definition": {"tlp": TIER_TLP[tier]},
    }


def statement_marking(tier: int) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": stix_id("marking-definition", "tier", tier),
        "created": ATTACK_EPOCH,
        "created_by_ref": PUBLISHER_ID,
        "name": f"mamori tier {tier}: {TIERS[tier]['ja']}",
        "definition_type": "statement",
        "definition": {"statement": _STATEMENTS[tier]},
    }


def tier_markings(tier: int) -> list[str]:
    """The ids every object of a tier output carries in ``object_marking_refs``."""
    return [tlp_marking(tier)["id"], statement_marking(tier)["id"]]


def stix_time(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def frame(
    *,
    product_id: str,
    version: int,
    tier: int,
    audience_key: str,
    first_created: datetime,
    version_created: datetime,
    use: str,
    texts: Mapping[str, str],
    objects: list[dict[str, Any]],
) -> tuple[dict[str, Any], dict[str, str]]:
    """The bundle of a tier output and the kind of each framing object by id
    (``publisher``, ``marking``, ``report``, ``translation``, ``actions``)."""
    markings = tier_markings(tier)
    own: dict[str, str] = {PUBLISHER_ID: "publisher"}
    created, modified = stix_time(first_created), stix_time(version_created)
    if modified < created:
        modified = created
    content = [dict(obj, object_marking_refs=markings) for obj in objects]
    refs = [obj["id"] for obj in content] or [PUBLISHER_ID]
    report_id = stix_id("report", product_id, tier)
    extra: list[dict[str, Any]] = []
    if texts.get("actions_en") or texts.get("actions_ja"):
        action: dict[str, Any] = {
            "type": "course-of-action", "spec_version": "2.1",
            "id": stix_id("course-of-action", product_id, tier),
            "created": created, "modified": modified, "created_by_ref": PUBLISHER_ID,
            "name": "Recommended actions", "description": texts.get("actions_en") or "-",
            "object_marking_refs": markings,
        }
        own[action["id"]] = "actions"
        refs.append(action["id"])
        extra.append(action)
        if texts.get("actions_ja"):
            extra.append(_translation(action, {"name": "推奨される対応",
                                               "description": texts["actions_ja"]}, markings))
    report: dict[str, Any] = {
        "type": "report", "spec_version": "2.1", "id": report_id,
        "created": created, "modified": modified, "created_by_ref": PUBLISHER_ID,
        "name": texts.get("title_en") or texts.get("title_ja") or product_id,
        "report_types": ["threat-report"],
        "published": modified,
        "object_refs": refs,
        "labels": [f"tier-{tier}", f"use-{use}"],
        "lang": "en",
        "external_references": [{"source_name": "mamori", "external_id":
                                 f"{product_id} v{version} tier {tier}"}],
        "object_marking_refs": markings,
    }
    if texts.get("narrative_en"):
        report["description"] = texts["narrative_en"]
    own[report_id] = "report"
    japanese = {k: v for k, v in (("name", texts.get("title_ja", "")),
                                  ("description", texts.get("narrative_ja", ""))) if v}
    if japanese:
        extra.append(_translation(report, japanese, markings))
    for obj in extra:
        own.setdefault(obj["id"], "translation")
    marking_objects = [tlp_marking(tier), statement_marking(tier)]
    for marking in marking_objects:
        own[marking["id"]] = "marking"
    publisher = dict(PUBLISHER, object_marking_refs=markings)
    bundle = {
        "type": "bundle",
        "id": stix_id("bundle", product_id, version, tier, audience_key),
        "objects": [*marking_objects, publisher, report, *extra, *content],
    }
    return bundle, own


def _translation(target: Mapping[str, Any], contents: dict[str, str],
                 markings: list[str]) -> dict[str, Any]:
    return {
        "type": "language-content", "spec_version": "2.1",
        "id": stix_id("language-content", target["id"], "ja"),
        "created": target["created"], "modified": target["modified"],
        "created_by_ref": PUBLISHER_ID,
        "object_ref": target["id"], "object_modified": target["modified"],
        "contents": {"ja": contents},
        "object_marking_refs": markings,
    }


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()
