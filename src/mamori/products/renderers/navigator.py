"""An ATT&CK Navigator layer (layer format 4.5) of the techniques in a tier output.

Each attack-pattern with an ATT&CK id becomes a technique entry scored by how many
objects of the output refer to it (at least 1). A product with Enterprise and ICS
techniques gives a list of two layers, as the format allows.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

from mamori.errors import InvalidInput
from mamori.products import techniques
from mamori.products.output import TierOutput
from mamori.products.sanitiser import references

NAVIGATOR_VERSION = "5.1.0"
LAYER_VERSION = "4.5"
_TIER_COLOURS = {1: "#d62728", 2: "#ff7f0e", 3: "#2ca02c"}


def technique_id(obj: Mapping[str, Any]) -> str | None:
    for ref in obj.get("external_references", ()):
        if isinstance(ref, Mapping) and ref.get("source_name") in ("mitre-attack",
                                                                   "mitre-ics-attack"):
            value = str(ref.get("external_id", ""))
            if value.startswith("T"):
                return value
    return None


def layers(output: TierOutput) -> list[dict[str, Any]]:
    objects = output.objects
    patterns = {o["id"]: tid for o in objects if o.get("type") == "attack-pattern"
                and (tid := technique_id(o)) is not None}
    if not patterns:
        raise InvalidInput("this output holds no ATT&CK technique to draw a layer of",
                           field="format")
    uses: Counter[str] = Counter()
    for obj in objects:
        if obj["id"] in output.framing:
            continue
        for _, target in references(obj):
            if target in patterns and obj["id"] != target:
                uses[patterns[target]] += 1
    names = {tid: str(o.get("name", "")) for o in objects
             if (tid := patterns.get(o.get("id", ""))) is not None}
    by_domain: dict[str, list[str]] = {}
    for tid in sorted(set(patterns.values())):
        by_domain.setdefault(techniques.domain_of(tid) or "enterprise-attack", []).append(tid)
    version = techniques.ATTACK_VERSION.split(".", 1)[0]
    result = []
    for domain, ids in sorted(by_domain.items()):
        top = max(max((uses[t] for t in ids), default=1), 1)
        result.append({
            "name": f"{output.product_id} v{output.version} tier {output.tier}: "
                    f"{output.title_en}"[:200],
            "versions": {"attack": version, "navigator": NAVIGATOR_VERSION,
                         "layer": LAYER_VERSION},
            "domain": domain,
            "description": output.title_ja,
            "sorting": 3,
            "hideDisabled": False,
            "techniques": [{"techniqueID": t, "score": max(uses[t], 1),
                            "color": _TIER_COLOURS[output.tier], "comment": names.get(t, ""),
                            "enabled": True, "showSubtechniques": "." in t}
                           for t in ids],
            "gradient": {"colors": ["#ffffff", _TIER_COLOURS[output.tier]], "minValue": 0,
                         "maxValue": top},
            "legendItems": [{"label": f"tier {output.tier}", "color":
                             _TIER_COLOURS[output.tier]}],
            "metadata": [{"name": "product", "value": output.product_id},
                         {"name": "version", "value": str(output.version)},
                         {"name": "tier", "value": str(output.tier)},
                         {"name": "digest", "value": output.digest}],
            "showTacticRowBackground": False,
            "selectTechniquesAcrossTactics": True,
            "selectSubtechniquesWithParent": False,
            "selectVisibleTechniques": False,
        })
    return result


def render(output: TierOutput) -> str:
    found = layers(output)
    return json.dumps(found[0] if len(found) == 1 else found, ensure_ascii=False, indent=2) \
        + "\n"
