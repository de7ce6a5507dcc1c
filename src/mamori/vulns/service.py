"""The vulnerability domain's public API (keyword-only functions, ``session=`` first).

Other domains call these and never read the domain's tables. Every function that reads
or changes protected data takes ``principal=`` and asks
``mamori.access.service.authorize``; every change the law cares about writes one audit
entry in the caller's transaction. The published catalogue is public information and
needs no principal.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.errors import NotFound
from mamori.vulns import guard, matcher
from mamori.vulns.advisories import PUBLISHER as CSAF_PUBLISHER
from mamori.vulns.advisories import export as export_advisories
from mamori.vulns.advisories import file_name as advisory_file_name
from mamori.vulns.advisories import from_case as advisory_from_case
from mamori.vulns.advisories import from_catalogue as advisory_from_catalogue
from mamori.vulns.advisories import latest as list_advisories
from mamori.vulns.catalogue import EntryOut, confirm_exploitation, public_entries
from mamori.vulns.catalogue import csv_text as catalogue_csv
from mamori.vulns.catalogue import document as catalogue_document
from mamori.vulns.catalogue import export as export_catalogue
from mamori.vulns.catalogue import validate_document as validate_catalogue
from mamori.vulns.catalogue import withdraw as withdraw_catalogue_entry
from mamori.vulns.coordination import (
    acknowledge_case,
    close_case,
    get_case,
    list_cases,
    open_case,
    publish_case,
    report_fix,
    request_measures,
    respond_measures,
    send_case,
)
from mamori.vulns.exposure import OperatorExposure, Overview, operator_exposure, overview
from mamori.vulns.imports import import_path, import_vendored_kev
from mamori.vulns.ingest.store import find_vulnerability
from mamori.vulns.models import (
    AdvisoryOut,
    CaseOut,
    ImportResult,
    MeasureRequestOut,
    NotificationOut,
    SourceOut,
    SupplierOut,
    VulnAlias,
    VulnerabilityOut,
    VulnFact,
    VulnSource,
)
from mamori.vulns.notices import list_notifications
from mamori.vulns.notices import mark_read as mark_notification_read
from mamori.vulns.suppliers import add_supplier, list_suppliers
from mamori.vulns.suppressions import REASONS as SUPPRESSION_REASONS
from mamori.vulns.suppressions import suppress


def refresh_matches(
    *, session: Session, principal: Principal, operator_id: int | None = None,
    changed_only: bool = False,
) -> matcher.Refreshed:
    """Match the register (or one operator's part of it) against every statement again."""
    guard.authorize(session=session, principal=principal, action="vulns.match",
                    resource=guard.feed())
    return matcher.refresh(session, principal=principal, operator_id=operator_id,
                           changed_only=changed_only)


def get_vulnerability(*, session: Session, principal: Principal, key: str) -> VulnerabilityOut:
    """A vulnerability by CVE id, JVNDB id or case reference, with where its facts came from."""
    vuln = find_vulnerability(session, key.strip().upper())
    if vuln is None:
        raise NotFound("no such vulnerability", field="vulnerability")
    guard.authorize(session=session, principal=principal, action="vulns.view",
                    resource=guard.vulnerability(vuln.key, vuln.confidentiality != "public"))
    aliases = list(session.scalars(select(VulnAlias.alias).where(
        VulnAlias.vulnerability_id == vuln.id).order_by(VulnAlias.alias)))
    sources = list(session.scalars(select(VulnFact.origin).where(
        VulnFact.vulnerability_id == vuln.id).order_by(VulnFact.origin)))
    return VulnerabilityOut(
        id=vuln.id, key=vuln.key, cve_id=vuln.cve_id, title=vuln.title, title_ja=vuln.title_ja,
        description=vuln.description, cvss_score=vuln.cvss_score, severity=vuln.severity,
        kev=vuln.kev, kev_due_date=vuln.kev_due_date,
        exploited_in_japan=vuln.exploited_in_japan, confidentiality=vuln.confidentiality,
        urgency=vuln.urgency, aliases=aliases, sources=sources)


def list_sources(*, session: Session, principal: Principal, limit: int = 100) -> list[SourceOut]:
    """The imported files, newest first: the provenance of every fact."""
    guard.authorize(session=session, principal=principal, action="vulns.import",
                    resource=guard.feed())
    rows = session.scalars(select(VulnSource).order_by(VulnSource.id.desc())
                           .limit(max(1, min(limit, 1000))))
    return [SourceOut.model_validate(r) for r in rows]


__all__ = [
    "CSAF_PUBLISHER",
    "SUPPRESSION_REASONS",
    "AdvisoryOut",
    "CaseOut",
    "EntryOut",
    "ImportResult",
    "MeasureRequestOut",
    "NotificationOut",
    "OperatorExposure",
    "Overview",
    "SourceOut",
    "SupplierOut",
    "VulnerabilityOut",
    "acknowledge_case",
    "add_supplier",
    "advisory_file_name",
    "advisory_from_case",
    "advisory_from_catalogue",
    "catalogue_csv",
    "catalogue_document",
    "close_case",
    "confirm_exploitation",
    "export_advisories",
    "export_catalogue",
    "get_case",
    "get_vulnerability",
    "import_path",
    "import_vendored_kev",
    "list_advisories",
    "list_cases",
    "list_notifications",
    "list_sources",
    "list_suppliers",
    "mark_notification_read",
    "open_case",
    "operator_exposure",
    "overview",
    "public_entries",
    "publish_case",
    "refresh_matches",
    "report_fix",
    "request_measures",
    "respond_measures",
    "send_case",
    "suppress",
    "validate_catalogue",
    "withdraw_catalogue_entry",
]
