"""Exposure: which computers are affected by what — per operator, per sector and per
device category — ordered so that users fix first what is exploited in Japan, then
what KEV lists, then by severity (R-5.2-18).

Reading an operator's exposure first matches again whatever changed in its register
since the last match (incremental, per component), so the answer is never stale.
Undisclosed vulnerabilities appear only to those who may see them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.registry import service as registry
from mamori.vulns import guard, matcher
from mamori.vulns.models import Suppression, Vulnerability, VulnMatch

SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "none": 0}


class ExposedComponent(BaseModel):
    id: int
    name: str
    version: str | None = None
    cpe: str | None = None
    purl: str | None = None
    status: str
    review_reason: str | None = None
    suppressed: str | None = None


class ExposedComputer(BaseModel):
    id: int
    name: str
    device_category: str | None = None
    components: list[ExposedComponent]


class ExposedVulnerability(BaseModel):
    key: str
    cve_id: str | None = None
    title: str | None = None
    title_ja: str | None = None
    cvss_score: float | None = None
    severity: str | None = None
    exploited_in_japan: bool
    kev: bool
    kev_due_date: date | None = None
    undisclosed: bool
    status: str  # "affected" when any component is, else "possible"


class ExposureItem(BaseModel):
    vulnerability: ExposedVulnerability
    computers: list[ExposedComputer]
    suppressed: bool


class OperatorExposure(BaseModel):
    operator_id: int
    operator: str
    sector: str
    supervising_ministry: str
    generated_at: datetime
    summary: dict[str, int]
    items: list[ExposureItem]


class OverviewItem(BaseModel):
    vulnerability: ExposedVulnerability
    operators: int
    computers: int


class Overview(BaseModel):
    scope: str
    value: str
    generated_at: datetime
    operators: int
    items: list[OverviewItem]


def priority(v: ExposedVulnerability) -> tuple[int, int, int, float, str]:
    """Exploited in Japan first, then KEV, then definite before possible, then severity."""
    return (
        0 if v.exploited_in_japan else 1,
        0 if v.kev else 1,
        0 if v.status == "affected" else 1,
        -(v.cvss_score if v.cvss_score is not None else SEVERITY_RANK.get(v.severity or "", -1)),
        v.key,
    )


def _exposed(vuln: Vulnerability, status: str) -> ExposedVulnerability:
    return ExposedVulnerability(
        key=vuln.key, cve_id=vuln.cve_id, title=vuln.title, title_ja=vuln.title_ja,
        cvss_score=vuln.cvss_score, severity=vuln.severity,
        exploited_in_japan=vuln.exploited_in_japan, kev=vuln.kev, kev_due_date=vuln.kev_due_date,
        undisclosed=vuln.confidentiality != "public", status=status)


def _may_see_undisclosed(session: Session, principal: Principal) -> bool:
    return guard.permitted(session=session, principal=principal, action="vulns.view",
                           resource=guard.vulnerability("", True))


def operator_exposure(
    *, session: Session, principal: Principal, operator_id: int
) -> OperatorExposure:
    """One operator's computers and what affects them, most urgent first."""
    operator = registry.get_operator(session=session, principal=principal,
                                     operator_id=operator_id)
    guard.authorize(session=session, principal=principal, action="vulns.exposure",
                    resource=guard.operator(session, principal, operator_id=operator.id,
                                            organisation_id=operator.organisation_id,
                                            supervising_ministry=operator.supervising_ministry))
    matcher.refresh(session, principal=principal, operator_id=operator.id, changed_only=True)
    computers = {c.id: c for c in registry.find_computers(session=session, principal=principal,
                                                          operator_id=operator.id)}
    secret_ok = _may_see_undisclosed(session, principal)
    rows = session.execute(
        select(VulnMatch, Vulnerability)
        .join(Vulnerability, Vulnerability.id == VulnMatch.vulnerability_id)
        .where(VulnMatch.operator_id == operator.id, VulnMatch.active.is_(True))
    ).all()
    suppressed = {(s.vulnerability_id, s.slot): s.reason for s in session.scalars(
        select(Suppression).where(Suppression.operator_id == operator.id,
                                  Suppression.active.is_(True)))}
    by_vuln: dict[int, tuple[Vulnerability, list[VulnMatch]]] = {}
    for match, vuln in rows:
        if vuln.confidentiality != "public" and not secret_ok:
            continue
        by_vuln.setdefault(vuln.id, (vuln, []))[1].append(match)
    items: list[ExposureItem] = []
    for vuln, matches in by_vuln.values():
        grouped: dict[int, list[ExposedComponent]] = defaultdict(list)
        for match in matches:
            computer = computers.get(match.computer_id)
            component = next((c for c in computer.components if c.id == match.component_id),
                             None) if computer else None
            if component is None:
                continue
            grouped[match.computer_id].append(ExposedComponent(
                id=component.id, name=component.name, version=component.version,
                cpe=component.cpe, purl=component.purl, status=match.status,
                review_reason=match.review_reason,
                suppressed=suppressed.get((vuln.id, match.slot))))
        if not grouped:
            continue
        open_ = [c for cs in grouped.values() for c in cs if c.suppressed is None]
        status = "affected" if any(c.status == "affected" for c in open_) else "possible"
        items.append(ExposureItem(
            vulnerability=_exposed(vuln, status), suppressed=not open_,
            computers=[ExposedComputer(id=cid, name=computers[cid].name,
                                       device_category=computers[cid].device_category,
                                       components=comps)
                       for cid, comps in sorted(grouped.items())]))
    items.sort(key=lambda i: (i.suppressed, priority(i.vulnerability)))
    active = [i for i in items if not i.suppressed]
    summary = {
        "vulnerabilities": len(active),
        "affected": sum(1 for i in active if i.vulnerability.status == "affected"),
        "possible": sum(1 for i in active if i.vulnerability.status == "possible"),
        "exploited_in_japan": sum(1 for i in active if i.vulnerability.exploited_in_japan),
        "kev": sum(1 for i in active if i.vulnerability.kev),
        "computers": len({c.id for i in active for c in i.computers}),
        "suppressed": len(items) - len(active),
    }
    return OperatorExposure(
        operator_id=operator.id, operator=operator.name, sector=operator.sector,
        supervising_ministry=operator.supervising_ministry, generated_at=utcnow(),
        summary=summary, items=items)


def overview(
    *, session: Session, principal: Principal, sector: str | None = None,
    device_category: str | None = None,
) -> Overview:
    """Exposure across the operators ``principal`` may see, for one sector or one device
    category (a ministry liaison: the operators its ministry supervises)."""
    guard.authorize(session=session, principal=principal, action="vulns.overview",
                    resource=guard.domain())
    operators = [o.id for o in registry.list_operators(session=session, principal=principal,
                                                        sector=sector)]
    query = (select(VulnMatch, Vulnerability)
             .join(Vulnerability, Vulnerability.id == VulnMatch.vulnerability_id)
             .where(VulnMatch.active.is_(True), VulnMatch.operator_id.in_(operators or [-1])))
    if device_category:
        query = query.where(VulnMatch.device_category == device_category)
    secret_ok = _may_see_undisclosed(session, principal)
    suppressed = {(s.vulnerability_id, s.slot) for s in session.scalars(
        select(Suppression).where(Suppression.active.is_(True)))}
    found: dict[int, tuple[Vulnerability, set[int], set[int], set[str]]] = {}
    for match, vuln in session.execute(query).all():
        if (vuln.confidentiality != "public" and not secret_ok) or (
                (vuln.id, match.slot) in suppressed):
            continue
        entry = found.setdefault(vuln.id, (vuln, set(), set(), set()))
        entry[1].add(match.operator_id)
        entry[2].add(match.computer_id)
        entry[3].add(match.status)
    items = [OverviewItem(vulnerability=_exposed(v, "affected" if "affected" in s else "possible"),
                          operators=len(ops), computers=len(comps))
             for v, ops, comps, s in found.values()]
    items.sort(key=lambda i: priority(i.vulnerability))
    scope, value = ("sector", sector or "") if sector else ("device_category",
                                                            device_category or "")
    return Overview(scope=scope if (sector or device_category) else "all", value=value,
                    generated_at=utcnow(), operators=len(operators), items=items)
