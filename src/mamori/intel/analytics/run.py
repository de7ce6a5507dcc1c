"""Running the analytics: cross-sector campaigns, the infrastructure graph, LOTL hints
and exposure of the register, each finding saved with its evidence and labels.

The analytics read through the ``intel.analyze`` scope of whoever runs them: an analyst
without the comms gate analyses only what it may see, so nothing it gets back was
derived from COMMS; the platform's job (or a designated handler) also analyses the
flows, and those findings are COMMS.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.errors import InvalidInput
from mamori.intel import exclusions, guard
from mamori.intel.analytics import campaigns, exposure, findings, infrastructure, lotl
from mamori.intel.analytics.profiles import incident_profiles
from mamori.intel.settings import intel_settings
from mamori.intel.visibility import forget, scope

ANALYTICS = ("campaigns", "infrastructure", "lotl", "exposure")
ANALYZE = "intel.analyze"


class AnalysisSummary(BaseModel):
    """How many findings each analytic produced (within the runner's scope)."""

    counts: dict[str, int]
    finding_ids: list[int]


def analyze(*, session: Session, principal: Principal,
            analytics: tuple[str, ...] | list[str] | None = None) -> AnalysisSummary:
    """Run the chosen analytics (all by default) and save their findings."""
    chosen = tuple(analytics or ANALYTICS)
    unknown = sorted(set(chosen) - set(ANALYTICS))
    if unknown:
        raise InvalidInput(f"analytics are: {', '.join(ANALYTICS)}", field="analytics")
    guard.authorize(session=session, principal=principal, action=ANALYZE)
    excluded = exclusions.current()
    reader = scope(session=session, principal=principal, action=ANALYZE)
    drafts: list[findings.Draft] = []
    if "campaigns" in chosen or "lotl" in chosen:
        profiles = incident_profiles(session, reader, excluded)
        if "campaigns" in chosen:
            drafts += campaigns.campaigns(profiles)
        if "lotl" in chosen:
            drafts += lotl.hints(profiles)
    if "infrastructure" in chosen:
        graph = infrastructure.flow_graph(session, reader)
        drafts += infrastructure.drafts(graph, infrastructure.analyse(graph))
    saved = [_save(session, principal, reader, d) for d in drafts]
    if "exposure" in chosen:
        forget(session)
        reader = scope(session=session, principal=principal, action=ANALYZE)
        exposures = exposure.drafts(session, reader, excluded, intel_settings().fanout_cap)
        saved += [_save(session, principal, reader, d) for d in exposures]
        drafts += exposures
    counts = {name: 0 for name in findings.KINDS}
    for draft in drafts:
        counts[draft.kind] += 1
    guard.audit(session=session, principal=principal, action="intel.analyzed",
                object_type="intel.finding", details={"analytics": list(chosen),
                                                      "findings": len(saved)})
    return AnalysisSummary(counts=counts, finding_ids=[row.id for row in saved])


def _save(session: Session, principal: Principal, reader: object,
          draft: findings.Draft) -> findings.FindingRow:
    draft.labels = findings.evidence_labels(session, draft.evidence_ids, reader)
    return findings.save(session, principal, draft)
