"""Cross-sector campaigns: the same indicators, or the same set of techniques, in
reports from operators of different sectors within a time window (R-4.1-1).

Incidents are linked when they share an indicator value (not excluded) or when their
technique sets overlap strongly (Jaccard ≥ ``TECHNIQUE_OVERLAP`` with at least
``MIN_SHARED_TECHNIQUES`` in common), and both fall within ``window``. A group of linked
incidents spanning two sectors or more is a finding. Confidence rises with shared
indicators, agreeing techniques and the number of sectors; technique overlap alone
stays modest.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import combinations

from mamori.intel import stix
from mamori.intel import values as v
from mamori.intel.analytics.findings import Draft
from mamori.intel.analytics.profiles import Profile
from mamori.intel.labels import Labels

WINDOW = timedelta(days=30)
TECHNIQUE_OVERLAP = 0.6
MIN_SHARED_TECHNIQUES = 3


def _close(a: Profile, b: Profile, window: timedelta) -> bool:
    if a.when is None or b.when is None:
        return True
    return abs(a.when - b.when) <= window


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


class _Groups:
    def __init__(self, keys: list[int]) -> None:
        self.parent = {k: k for k in keys}

    def find(self, key: int) -> int:
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def join(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def confidence(shared_indicators: int, shared_techniques: int, sectors: int) -> int:
    score = 35 if shared_indicators == 0 else 45 + 12 * min(shared_indicators, 3)
    if shared_techniques >= MIN_SHARED_TECHNIQUES:
        score += 10
    score += 5 * (sectors - 2)
    return max(5, min(95, score))


def campaigns(profiles: dict[int, Profile], window: timedelta = WINDOW) -> list[Draft]:
    """Cross-sector campaign drafts from incident profiles (labels are set by the caller
    from the evidence)."""
    ids = sorted(profiles)
    groups = _Groups(ids)
    for a, b in combinations(ids, 2):
        first, second = profiles[a], profiles[b]
        if not _close(first, second, window):
            continue
        shared = len(first.techniques & second.techniques)
        similar = shared >= MIN_SHARED_TECHNIQUES and \
            _jaccard(first.techniques, second.techniques) >= TECHNIQUE_OVERLAP
        if first.indicators & second.indicators or similar:
            groups.join(a, b)
    members: dict[int, list[Profile]] = {}
    for key in ids:
        members.setdefault(groups.find(key), []).append(profiles[key])
    drafts = []
    for group in members.values():
        sectors = sorted({p.sector for p in group if p.sector})
        if len(group) < 2 or len(sectors) < 2:
            continue
        drafts.append(_draft(group, sectors))
    return drafts


def _shared(group: list[Profile]) -> tuple[list[v.Value], list[str]]:
    counts: dict[v.Value, set[int]] = {}
    for profile in group:
        for value in profile.indicators:
            counts.setdefault(value, set()).add(profile.incident_id)
    indicators = sorted(value for value, seen in counts.items() if len(seen) >= 2)
    technique_counts: dict[str, int] = {}
    for profile in group:
        for technique in profile.techniques:
            technique_counts[technique] = technique_counts.get(technique, 0) + 1
    techniques = sorted(t for t, n in technique_counts.items() if n >= 2)
    return indicators, techniques


def _draft(group: list[Profile], sectors: list[str]) -> Draft:
    group = sorted(group, key=lambda p: p.incident_id)
    indicators, techniques = _shared(group)
    evidence_ids = sorted({i for p in group for i in (
        [p.incident_stix_id] if p.incident_stix_id else [])} |
        {p.indicator_ids[value] for p in group for value in indicators
         if value in p.indicator_ids} |
        {p.technique_ids[t] for p in group for t in techniques if t in p.technique_ids})
    times = [p.when for p in group if p.when is not None]
    key = [p.incident_id for p in group]
    score = confidence(len(indicators), len(techniques), len(sectors))
    title = (f"Cross-sector campaign: {len(group)} incidents in {len(sectors)} sectors "
             f"({', '.join(sectors)})")
    campaign_id = stix.mamori_id("campaign", "finding", *key)
    campaign: dict[str, object] = {
        "type": "campaign", "spec_version": "2.1", "id": campaign_id, "name": title,
        "description": "Shared indicators: " + (", ".join(i.label for i in indicators) or
                                                "none") +
                       "; shared techniques: " + (", ".join(techniques) or "none"),
        "confidence": score,
    }
    if times:
        campaign["first_seen"] = stix.format_timestamp(min(times))
        campaign["last_seen"] = stix.format_timestamp(max(times))
    relationships = [{
        "type": "relationship", "spec_version": "2.1",
        "id": stix.mamori_id("relationship", ref, "indicates", campaign_id),
        "relationship_type": "indicates" if ref.startswith("indicator--") else "related-to",
        "source_ref": ref, "target_ref": campaign_id,
    } for ref in evidence_ids if ref.startswith(("indicator--", "incident--"))]
    relationships += [{
        "type": "relationship", "spec_version": "2.1",
        "id": stix.mamori_id("relationship", campaign_id, "uses", ref),
        "relationship_type": "uses", "source_ref": campaign_id, "target_ref": ref,
    } for ref in evidence_ids if ref.startswith("attack-pattern--")]
    return Draft(
        kind="cross_sector_campaign", key_parts=key, confidence=score,
        params={"incidents": len(group), "sectors": sectors,
                "shared_indicators": [i.label for i in indicators],
                "shared_techniques": techniques},
        evidence={
            "incidents": [{"incident_id": p.incident_id, "operator_id": p.operator_id,
                           "sector": p.sector, "source": p.source,
                           "when": p.when.isoformat() if p.when else None} for p in group],
            "shared_indicators": [i.label for i in indicators],
            "shared_techniques": techniques, "objects": evidence_ids,
            "campaign": campaign_id},
        evidence_ids=evidence_ids, labels=Labels(), title=title,
        objects=[campaign, *relationships])
