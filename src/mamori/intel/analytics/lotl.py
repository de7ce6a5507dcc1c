"""Living-off-the-land hints (R-4.2-19): the built-in-tool techniques that one operator
can hardly tell from administration, seen as the same set across reports.

An incident whose reported techniques include at least ``MIN_TECHNIQUES`` of the LOTL
list (``data/lotl-techniques.json``) is a trace; traces from different operators
sharing ``MIN_SHARED`` LOTL techniques or more are grouped into one hint. A single
operator's trace is a hint of low confidence; each further operator raises it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from mamori.intel import stix
from mamori.intel.analytics.findings import Draft
from mamori.intel.analytics.profiles import Profile
from mamori.intel.labels import Labels

DATA = Path(__file__).resolve().parents[1] / "data" / "lotl-techniques.json"
MIN_TECHNIQUES = 2
MIN_SHARED = 2


@lru_cache(maxsize=1)
def lotl_techniques() -> dict[str, str]:
    """Technique id -> name of the living-off-the-land list."""
    data = json.loads(DATA.read_text(encoding="utf-8"))
    return dict(data["techniques"])


def lotl_of(profile: Profile) -> set[str]:
    known = lotl_techniques()
    return {t for t in profile.techniques if t in known}


def hints(profiles: dict[int, Profile]) -> list[Draft]:
    traces = {i: lotl_of(p) for i, p in profiles.items()}
    traces = {i: t for i, t in traces.items() if len(t) >= MIN_TECHNIQUES}
    groups: list[set[int]] = []
    for incident in sorted(traces):
        joined = [g for g in groups if any(len(traces[incident] & traces[o]) >= MIN_SHARED
                                           for o in g)]
        merged = {incident}.union(*joined) if joined else {incident}
        groups = [g for g in groups if g not in joined] + [merged]
    drafts = []
    for group in groups:
        members = [profiles[i] for i in sorted(group)]
        techniques = sorted(set.intersection(*(traces[i] for i in group))) if len(group) > 1 \
            else sorted(traces[next(iter(group))])
        operators = sorted({str(p.operator_id) for p in members if p.operator_id is not None})
        sectors = sorted({p.sector for p in members if p.sector})
        score = min(90, 25 + 8 * len(techniques) + 15 * max(0, len(operators) - 1))
        evidence = sorted({p.technique_ids[t] for p in members for t in techniques
                           if t in p.technique_ids} |
                          {p.incident_stix_id for p in members if p.incident_stix_id})
        names = lotl_techniques()
        drafts.append(Draft(
            kind="lotl", key_parts=sorted(group), confidence=score,
            params={"incidents": len(members), "operators": len(operators),
                    "sectors": sectors, "techniques": techniques},
            evidence={"incidents": [{"incident_id": p.incident_id, "operator_id": p.operator_id,
                                     "sector": p.sector, "lotl": sorted(traces[p.incident_id])}
                                    for p in members],
                      "techniques": {t: names[t] for t in techniques}, "objects": evidence},
            evidence_ids=evidence, labels=Labels(),
            title=(f"Living-off-the-land techniques {', '.join(techniques)} in "
                   f"{len(members)} incidents of {len(operators)} operators"),
            objects=[{
                "type": "note", "spec_version": "2.1",
                "id": stix.mamori_id("note", "lotl", *sorted(group)),
                "abstract": "Living-off-the-land hint",
                "content": "Built-in tool techniques reported together: "
                           + "; ".join(f"{t} {names[t]}" for t in techniques),
                "object_refs": evidence or [members[0].incident_stix_id or ""],
            }] if evidence else []))
    return drafts
