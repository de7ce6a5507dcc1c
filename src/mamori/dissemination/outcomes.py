"""The feedback loop to those who gave information (R-5.1-3, R-4.2-24, R-5.4-2): an
operator sees which products its reports went into and to which kinds of recipient
they were provided — categories and tiers, never who the recipients were.

At provision time the sources behind the output are traced through the intel store's
provenance (import sources, attributions and the incident references a report carries)
and kept with the provision; here they are matched with the principal's own reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.dissemination import guard
from mamori.dissemination.models import ProvisionRecord, RecipientRecord

_INCIDENT_REF = re.compile(r"^incident-(\d{1,12})(?:-v\d+)?$")
_SOURCE_REF = re.compile(r"^reporting:incident/(\d{1,12})(?:/|$)")


def contributors_of(session: Session, principal: Principal, output: Any) -> list[str]:
    """Who stands behind an output: provenance sources, attributions and the incident
    reports its store objects came from (only what the providing principal may see)."""
    from mamori.intel import service as intel

    ids = sorted({s for origin in output.origins.values() for s in origin.sources})
    found: set[str] = set()
    if not ids:
        return []
    for record in intel.get_objects(session=session, principal=principal, ids=ids):
        found.update(p.source for p in record.provenance)
        found.update(a.source for a in record.labels.attributed)
        found.update(_incident_tokens(record.object))
        for item in record.provenance:
            context = item.context or {}
            if isinstance(context.get("incident_id"), int):
                found.add(f"incident-{context['incident_id']}")
            if isinstance(context.get("organisation_id"), int):
                found.add(f"organisation:{context['organisation_id']}")
    return sorted(found)[:500]


def _incident_tokens(obj: dict[str, Any]) -> Iterable[str]:
    for ref in obj.get("external_references") or ():
        if isinstance(ref, dict) and ref.get("source_name") == "mamori":
            match = _INCIDENT_REF.match(str(ref.get("external_id", "")))
            if match:
                yield f"incident-{match.group(1)}"


def incident_of(source: str) -> int | None:
    for pattern in (_INCIDENT_REF, _SOURCE_REF):
        match = pattern.match(source)
        if match:
            return int(match.group(1))
    return None


@dataclass(frozen=True)
class ReportOutcome:
    """One product that used the organisation's information, and where it went."""

    product_id: str
    title_ja: str
    title_en: str
    incidents: list[int]
    first_provided_at: datetime
    provided_to: dict[str, list[int]] = field(default_factory=dict)
    public_advisory: int | None = None


def report_outcomes(*, session: Session, principal: Principal) -> list[ReportOutcome]:
    """What became of what the principal's organisation reported or contributed."""
    guard.authorize(session=session, principal=principal, action="provision.outcome",
                    resource=guard.resource(guard.DOMAIN, "outcomes",
                                            organisation_id=principal.organisation_id))
    own_sources = {f"organisation:{principal.organisation_id}", *_operator_names(session,
                                                                                principal)}
    own_sources.update(f"recipient:{code}" for code in session.scalars(
        select(RecipientRecord.code).where(
            RecipientRecord.organisation_id == principal.organisation_id)))
    incidents = _own_incidents(session, principal)
    outcomes: dict[str, dict[str, Any]] = {}
    for row in session.scalars(select(ProvisionRecord).order_by(ProvisionRecord.id)):
        sources = set(row.contributors or [])
        linked = sorted({n for s in sources if (n := incident_of(s)) in incidents})
        if not linked and not sources & own_sources:
            continue
        item = outcomes.setdefault(row.product_id, {
            "product_id": row.product_id, "title_ja": row.title_ja, "title_en": row.title_en,
            "incidents": set(), "first_provided_at": row.provided_at, "provided_to": {},
            "public_advisory": None})
        item["incidents"].update(linked)
        tiers = item["provided_to"].setdefault(row.category, [])
        if row.tier not in tiers:
            tiers.append(row.tier)
        if row.published:
            item["public_advisory"] = row.id
            item["title_ja"], item["title_en"] = row.title_ja, row.title_en
    return [ReportOutcome(product_id=i["product_id"], title_ja=i["title_ja"],
                          title_en=i["title_en"], incidents=sorted(i["incidents"]),
                          first_provided_at=i["first_provided_at"],
                          provided_to={k: sorted(v) for k, v in i["provided_to"].items()},
                          public_advisory=i["public_advisory"])
            for i in outcomes.values()]


def _operator_names(session: Session, principal: Principal) -> set[str]:
    """How the intel store names the principal's organisation as a reporting source."""
    from mamori.access import service as access_service

    if principal.organisation_id is None or not access_service.permitted(
            session=session, principal=principal, action="organisation.list",
            resource=guard.resource("organisation", str(principal.organisation_id))):
        return set()
    found = access_service.get_organisation(session=session, principal=principal,
                                            code=str(principal.organisation_id))
    return {f"operator:{found.code}"}


def _own_incidents(session: Session, principal: Principal) -> set[int]:
    from mamori.access import service as access_service
    from mamori.reporting import service as reporting

    if not access_service.permitted(session=session, principal=principal,
                                    action="report.list",
                                    resource=guard.resource(
                                        "report", labels=frozenset({"SECRET"}))):
        return set()
    return {i.id for i in reporting.list_incidents(session=session, principal=principal)
            if i.organisation_id == principal.organisation_id}
