"""Coordinating undisclosed vulnerabilities with their suppliers (Art 42, R-5.2-14/-15).

The Cabinet Office opens a case for a vulnerability that is not yet public, sends it
to the supplier ahead of publication, and the supplier's business ministry (or the
Cabinet Office) requests measures with a due date; the request names the notified
computers the vulnerability affects. The supplier acknowledges, reports the fix and
answers requests; then the case is published and the vulnerability becomes public
information, announced to the operators it affects. The states and who moves between
them are configuration (``data/coordination.json``, R-5.2-19). A supplier sees only its
own cases.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.config import get_settings
from mamori.db import utcnow
from mamori.errors import Conflict, InvalidInput, NotFound
from mamori.vulns import guard, matcher, notices
from mamori.vulns.ingest.records import CVE_ID, GroupSpec
from mamori.vulns.ingest.store import add_groups, find_vulnerability, spec_key
from mamori.vulns.matching import aliases
from mamori.vulns.matching import cpe as cpe_mod
from mamori.vulns.matching.applicability import AFFECTED, UNAFFECTED, VENDOR, Range
from mamori.vulns.matching.csaf_status import VersSyntaxError, vers_ranges
from mamori.vulns.models import (
    Applicability,
    CaseEvent,
    CaseEventOut,
    CaseOut,
    CoordinationCase,
    MeasureRequest,
    MeasureRequestOut,
    Supplier,
    Vulnerability,
    VulnFact,
    VulnMatch,
    VulnSource,
)
from mamori.vulns.suppliers import load_supplier

WORKFLOW_FILE = Path(__file__).resolve().parent / "data" / "coordination.json"
URGENCIES = ("normal", "high", "critical")
TEXT_LIMIT = 8000
ART42 = "Act No. 42 of 2025, Art 42"


@lru_cache(maxsize=1)
def workflow() -> dict[str, Any]:
    return dict(json.loads(WORKFLOW_FILE.read_text(encoding="utf-8")))


def _today() -> date:
    return datetime.now(ZoneInfo(get_settings().timezone)).date()


def _text(value: str | None, field: str, limit: int = TEXT_LIMIT) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"{field} must not be empty", field=field)
    if len(text) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field=field)
    return text


def load_case(session: Session, case_id: int) -> CoordinationCase:
    row = session.get(CoordinationCase, case_id)
    if row is None:
        raise NotFound(f"no case {case_id}", field="case")
    return row


def _resource(session: Session, principal: Principal, row: CoordinationCase,
              supplier: Supplier) -> Any:
    return guard.case(session, principal, reference=row.reference,
                      organisation_id=supplier.organisation_id,
                      business_ministry=supplier.business_ministry,
                      published=row.published_at is not None,
                      sent=row.sent_at is not None)


def _authorized(session: Session, principal: Principal, case_id: int,
                action: str) -> tuple[CoordinationCase, Supplier]:
    row = load_case(session, case_id)
    supplier = load_supplier(session, row.supplier_id)
    guard.authorize(session=session, principal=principal, action=action,
                    resource=_resource(session, principal, row, supplier))
    return row, supplier


def _event(session: Session, row: CoordinationCase, principal: Principal, kind: str,
           note: str | None = None) -> None:
    session.add(CaseEvent(case_id=row.id, kind=kind, actor=principal.username, note=note))
    row.updated_at = utcnow()
    session.flush()


def _move(row: CoordinationCase, step: str) -> None:
    rule = workflow()["transitions"][step]
    if row.status not in rule["from"]:
        raise Conflict(f"a case that is {row.status} cannot be moved by {step!r}; allowed "
                       f"from: {', '.join(rule['from'])}", field="status")
    row.status = rule["to"]


def _audit(session: Session, principal: Principal, row: CoordinationCase, action: str,
           **details: Any) -> None:
    guard.audit(session=session, principal=principal, action=f"vulns.case.{action}",
                object_type="vulns.case", object_id=row.id, legal_basis=ART42,
                details={"reference": row.reference, "status": row.status, **details})


def _reference(session: Session) -> str:
    year = _today().year
    count = session.scalar(select(func.count()).select_from(CoordinationCase)) or 0
    return f"MAMORI-CASE-{year}-{int(count) + 1:04d}"


def _applicability(product_cpe: str, affected: str | None) -> GroupSpec:
    try:
        name = cpe_mod.parse(product_cpe)
    except cpe_mod.CpeSyntaxError as exc:
        raise InvalidInput(f"product CPE: {exc}", field="product_cpe") from exc
    if not name.literal_identity:
        raise InvalidInput("the product CPE must name a vendor and a product (no wildcards)",
                           field="product_cpe")
    scheme = "dotted"
    if affected:
        try:
            scheme, ranges = vers_ranges(affected, AFFECTED)
        except VersSyntaxError as exc:
            raise InvalidInput(str(exc), field="affected") from exc
    elif name.version not in (cpe_mod.ANY, cpe_mod.NA):
        ranges = (Range(status=AFFECTED, exact=name.version),)
    else:
        raise InvalidInput("say which versions are affected (a vers: range or a versioned CPE)",
                           field="affected")
    return GroupSpec(scheme="cpe", key=aliases.canonical(name.key), ranges=ranges,
                     default_status=UNAFFECTED, version_scheme=scheme, part=name.part,
                     rest=name.rest(), authority=VENDOR)


def open_case(
    *,
    session: Session,
    principal: Principal,
    supplier_id: int,
    title: str,
    summary: str,
    product_cpe: str,
    affected: str | None = None,
    urgency: str = "high",
    cve_id: str | None = None,
    embargo_until: date | None = None,
) -> CaseOut:
    """Open a case for an undisclosed vulnerability in a supplier's product."""
    guard.authorize(session=session, principal=principal, action="vulns.case_manage",
                    resource=guard.domain())
    supplier = load_supplier(session, supplier_id)
    if urgency not in URGENCIES:
        raise InvalidInput(f"urgency is one of {', '.join(URGENCIES)}", field="urgency")
    spec = _applicability(product_cpe, affected)
    clean_title = _text(title, "title", 300)
    clean_summary = _text(summary, "summary")
    reference = _reference(session)
    key = reference
    if cve_id:
        key = cve_id.strip().upper()
        if not CVE_ID.fullmatch(key):
            raise InvalidInput("not a CVE id", field="cve")
        if find_vulnerability(session, key) is not None:
            raise Conflict("a vulnerability with this CVE id is on record already; it is not "
                           "undisclosed", field="cve")
    embargo = embargo_until or _today() + timedelta(days=int(workflow()["default_embargo_days"]))
    vuln = Vulnerability(key=key, cve_id=key if cve_id else None, title=clean_title,
                         confidentiality="undisclosed", urgency=urgency, cwes=[])
    session.add(vuln)
    session.flush()
    digest = hashlib.sha256(json.dumps([reference, product_cpe, affected]).encode()).hexdigest()
    source = VulnSource(kind="case", name=reference, digest=digest, size=0, records=1,
                        imported_by=principal.username)
    session.add(source)
    session.flush()
    fact = VulnFact(vulnerability_id=vuln.id, origin=f"case:{reference}", source_id=source.id,
                    locator=reference, data={"title": clean_title, "product_cpe": product_cpe,
                                             "affected": affected})
    session.add(fact)
    session.flush()
    add_groups(session, fact, [spec])
    row = CoordinationCase(
        reference=reference, supplier_id=supplier.id, vulnerability_id=vuln.id,
        title=clean_title, summary=clean_summary, status="draft", urgency=urgency,
        embargo_until=embargo, created_by=principal.username)
    session.add(row)
    session.flush()
    _event(session, row, principal, "opened")
    _audit(session, principal, row, "opened", supplier_id=supplier.id, urgency=urgency)
    matcher.refresh(session, principal=principal, keys={spec_key(spec)})
    return case_view(session, row)


def send_case(*, session: Session, principal: Principal, case_id: int) -> CaseOut:
    """Give the undisclosed vulnerability to its supplier ahead of publication."""
    row, supplier = _authorized(session, principal, case_id, "vulns.case_manage")
    _move(row, "send")
    row.sent_at = utcnow()
    _event(session, row, principal, "sent")
    notices.send(session, organisation_id=supplier.organisation_id, kind="case_sent",
                 subject=row.reference, key=row.reference, case_id=row.id)
    _audit(session, principal, row, "sent", supplier_id=supplier.id)
    return case_view(session, row)


def acknowledge_case(*, session: Session, principal: Principal, case_id: int,
                     note: str | None = None) -> CaseOut:
    row, _ = _authorized(session, principal, case_id, "vulns.case_respond")
    _move(row, "acknowledge")
    row.acknowledged_at = utcnow()
    _event(session, row, principal, "acknowledged", (note or "").strip()[:2000] or None)
    _audit(session, principal, row, "acknowledged")
    return case_view(session, row)


def report_fix(*, session: Session, principal: Principal, case_id: int, fix_version: str,
               note: str | None = None) -> CaseOut:
    """The supplier's fix: versions from ``fix_version`` on are no longer affected."""
    row, _ = _authorized(session, principal, case_id, "vulns.case_respond")
    version = _text(fix_version, "fix_version", 200)
    _move(row, "fix")
    row.fixed_at = utcnow()
    row.fix_version = version
    keys: set[tuple[str, ...]] = set()
    for group in session.scalars(select(Applicability).join(
            VulnFact, VulnFact.id == Applicability.fact_id).where(
            VulnFact.origin == f"case:{row.reference}")):
        group.ranges = [*group.ranges, Range(status=UNAFFECTED, start=version).as_json()]
        keys.add(("cpe", group.key_1, group.key_2))
    _event(session, row, principal, "fixed", (note or "").strip()[:2000] or None)
    _audit(session, principal, row, "fixed", fix_version=version)
    session.flush()
    # The supplier cannot read the register: the platform's matcher re-checks the
    # operators whose computers the case matched.
    operators = sorted(set(session.scalars(select(VulnMatch.operator_id).where(
        VulnMatch.vulnerability_id == row.vulnerability_id, VulnMatch.active.is_(True)))))
    for operator_id in operators:
        matcher.refresh(session, principal=guard.MATCHER, operator_id=operator_id, keys=keys)
    return case_view(session, row)


def request_measures(
    *, session: Session, principal: Principal, case_id: int, measures: str,
    due_date: date | None = None,
) -> MeasureRequestOut:
    """Request the supplier to take measures (Art 42(1)) by ``due_date``; the request
    names the notified computers the vulnerability affects (R-5.2-15)."""
    row, supplier = _authorized(session, principal, case_id, "vulns.measure_request")
    if row.status not in workflow()["measure_requests_in"]:
        raise Conflict(f"measures are requested of a case that is sent, acknowledged or "
                       f"fixed; this one is {row.status}", field="status")
    due = due_date or _today() + timedelta(days=int(workflow()["default_measure_due_days"]))
    if due <= _today():
        raise InvalidInput("the due date must lie in the future", field="due_date")
    computers = sorted(set(session.scalars(select(VulnMatch.computer_id).where(
        VulnMatch.vulnerability_id == row.vulnerability_id, VulnMatch.active.is_(True)))))
    request = MeasureRequest(
        case_id=row.id, requested_by=principal.username,
        requesting_organisation_id=principal.organisation_id,
        measures=_text(measures, "measures"), due_date=due, computer_ids=computers,
        status="open")
    session.add(request)
    session.flush()
    _event(session, row, principal, "measures_requested", f"due {due.isoformat()}")
    notices.send(session, organisation_id=supplier.organisation_id, kind="measure_request",
                 subject=row.reference, key=f"{row.reference}:{request.id}", case_id=row.id)
    _audit(session, principal, row, "measures_requested", request_id=request.id,
           due_date=due.isoformat(), computers=len(computers))
    return _request_out(request)


def respond_measures(*, session: Session, principal: Principal, request_id: int,
                     response: str) -> MeasureRequestOut:
    request = session.get(MeasureRequest, request_id)
    if request is None:
        raise NotFound(f"no request {request_id}", field="request")
    row, _ = _authorized(session, principal, request.case_id, "vulns.case_respond")
    if request.status != "open":
        raise Conflict("this request is answered already", field="request")
    request.response = _text(response, "response")
    request.responded_by = principal.username
    request.responded_at = utcnow()
    request.status = "answered"
    _event(session, row, principal, "measures_answered")
    _audit(session, principal, row, "measures_answered", request_id=request.id)
    return _request_out(request)


def publish_case(*, session: Session, principal: Principal, case_id: int) -> CaseOut:
    """Publication: the vulnerability becomes public and the operators it affects are told."""
    row, _ = _authorized(session, principal, case_id, "vulns.case_manage")
    _move(row, "publish")
    row.published_at = utcnow()
    vuln = session.get(Vulnerability, row.vulnerability_id)
    assert vuln is not None
    vuln.confidentiality = "public"
    vuln.updated_at = utcnow()
    _event(session, row, principal, "published")
    operators = sorted(set(session.scalars(select(VulnMatch.operator_id).where(
        VulnMatch.vulnerability_id == vuln.id, VulnMatch.active.is_(True)))))
    sent = sum(notices.to_operator(session=session, principal=principal, operator_id=o,
                                   kind="new_match", vulnerability=vuln) for o in operators)
    _audit(session, principal, row, "published", operators=len(operators), notices=sent)
    return case_view(session, row)


def close_case(*, session: Session, principal: Principal, case_id: int) -> CaseOut:
    row, _ = _authorized(session, principal, case_id, "vulns.case_manage")
    _move(row, "close")
    row.closed_at = utcnow()
    _event(session, row, principal, "closed")
    _audit(session, principal, row, "closed")
    return case_view(session, row)


def _request_out(request: MeasureRequest) -> MeasureRequestOut:
    status = request.status
    if status == "open" and request.due_date < _today():
        status = "overdue"
    return MeasureRequestOut(
        id=request.id, case_id=request.case_id, requested_by=request.requested_by,
        measures=request.measures, due_date=request.due_date,
        computer_ids=list(request.computer_ids), status=status, response=request.response,
        responded_at=request.responded_at)


def case_view(session: Session, row: CoordinationCase) -> CaseOut:
    supplier = load_supplier(session, row.supplier_id)
    vuln = session.get(Vulnerability, row.vulnerability_id)
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == row.id)
                             .order_by(CaseEvent.at, CaseEvent.id))
    requests = session.scalars(select(MeasureRequest).where(MeasureRequest.case_id == row.id)
                               .order_by(MeasureRequest.id))
    return CaseOut(
        id=row.id, reference=row.reference, supplier_id=supplier.id, supplier=supplier.name,
        vulnerability_key=vuln.key if vuln else "", title=row.title, summary=row.summary,
        status=row.status, urgency=row.urgency, embargo_until=row.embargo_until,
        fix_version=row.fix_version, sent_at=row.sent_at, acknowledged_at=row.acknowledged_at,
        fixed_at=row.fixed_at, published_at=row.published_at,
        events=[CaseEventOut.model_validate(e) for e in events],
        requests=[_request_out(r) for r in requests])


def get_case(*, session: Session, principal: Principal, case_id: int) -> CaseOut:
    row, _ = _authorized(session, principal, case_id, "vulns.case_view")
    return case_view(session, row)


def list_cases(*, session: Session, principal: Principal) -> list[CaseOut]:
    """The cases ``principal`` may see: all for the Cabinet Office, a supplier its own, a
    ministry its suppliers'."""
    shown: list[CaseOut] = []
    for row in session.scalars(select(CoordinationCase).order_by(CoordinationCase.id.desc())):
        supplier = load_supplier(session, row.supplier_id)
        if guard.permitted(session=session, principal=principal, action="vulns.case_view",
                           resource=_resource(session, principal, row, supplier)):
            shown.append(case_view(session, row))
    return shown
