"""CSAF 2.0 security advisories generated from a published coordination case or a
catalogue entry — the machine-readable public product of both (tier 3, TLP:WHITE).

Each generation is kept as issued; generating again makes the next version with the
revision history carried forward. Documents are built to pass the CSAF 2.0 schema and
its mandatory tests (§6.1); the test suite checks every one with the ``csaf``
package's offline validator. File names follow CSAF §5.1.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import mamori
from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.errors import Conflict, InvalidInput, NotFound
from mamori.vulns import guard
from mamori.vulns.coordination import load_case
from mamori.vulns.matching.cpe import Cpe
from mamori.vulns.models import (
    Advisory,
    AdvisoryOut,
    Applicability,
    CatalogueEntry,
    Vulnerability,
    VulnFact,
)
from mamori.vulns.suppliers import load_supplier

PUBLISHER = {
    "category": "coordinator",
    "name": "Cabinet Office, Government of Japan (mamori)",
    "namespace": "https://mamori.example",
    "contact_details": "https://mamori.example/vulns/catalogue",
}
DISTRIBUTION = {
    "tlp": {"label": "WHITE", "url": "https://www.first.org/tlp/"},
    "text": "Public information (周知等用総合整理分析情報).",
}
_UNSAFE = re.compile(r"[^+\-a-z0-9]+")


def file_name(tracking_id: str) -> str:
    """CSAF §5.1: lower case, every run of other characters as ``_``, then ``.json``."""
    return _UNSAFE.sub("_", tracking_id.lower()) + ".json"


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _tracking(session: Session, tracking_id: str, now: datetime, summary: str) -> dict[str, Any]:
    previous = list(session.scalars(select(Advisory).where(Advisory.tracking_id == tracking_id)
                                    .order_by(Advisory.version)))
    history = [{"date": _time(a.created_at), "number": str(a.version),
                "summary": "Initial version." if a.version == 1 else "Updated."}
               for a in previous]
    version = len(previous) + 1
    history.append({"date": _time(now), "number": str(version),
                    "summary": "Initial version." if version == 1 else summary})
    return {
        "id": tracking_id,
        "status": "final",
        "version": str(version),
        "initial_release_date": history[0]["date"],
        "current_release_date": _time(now),
        "revision_history": history,
        "generator": {"engine": {"name": "mamori", "version": mamori.__version__},
                      "date": _time(now)},
    }


def _cpe_of(
    session: Session, vulnerability_id: int, origin_prefix: str | None = None
) -> Cpe | None:
    query = select(Applicability).where(Applicability.vulnerability_id == vulnerability_id,
                                        Applicability.scheme == "cpe")
    if origin_prefix:
        query = query.join(VulnFact, VulnFact.id == Applicability.fact_id).where(
            VulnFact.origin.startswith(origin_prefix))
    row = session.scalars(query.order_by(Applicability.id)).first()
    if row is None:
        return None
    rest = [*row.rest, "*", "*", "*", "*", "*", "*", "*"][:7]
    return Cpe(row.part if row.part != "*" else "a", row.key_1, row.key_2, "*", *rest)


def _document(*, title: str, tracking: dict[str, Any], notes: list[dict[str, str]],
              references: list[dict[str, str]], tree: dict[str, Any],
              vulnerability: dict[str, Any]) -> dict[str, Any]:
    return {
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "distribution": DISTRIBUTION,
            "lang": "en",
            "notes": notes,
            "publisher": PUBLISHER,
            "references": references,
            "title": title,
            "tracking": tracking,
        },
        "product_tree": tree,
        "vulnerabilities": [vulnerability],
    }


def _store(session: Session, principal: Principal, document: dict[str, Any], kind: str,
           source_id: int) -> AdvisoryOut:
    tracking = document["document"]["tracking"]
    row = Advisory(tracking_id=tracking["id"], version=int(tracking["version"]),
                   source_kind=kind, source_id=source_id, document=document,
                   created_by=principal.username)
    session.add(row)
    session.flush()
    guard.audit(session=session, principal=principal, action="vulns.advisory.generated",
                object_type="vulns.advisory", object_id=row.id,
                details={"tracking_id": row.tracking_id, "version": row.version,
                         "source": kind, "source_id": source_id})
    return AdvisoryOut.model_validate(row)


def _self_reference(tracking_id: str) -> dict[str, str]:
    return {"category": "self", "summary": "This advisory (CSAF 2.0)",
            "url": f"https://mamori.example/vulns/advisories/{file_name(tracking_id)}"}


def from_case(*, session: Session, principal: Principal, case_id: int) -> AdvisoryOut:
    """The advisory of a published coordination case: affected and fixed versions, and
    the supplier's fix."""
    guard.authorize(session=session, principal=principal, action="vulns.advisory_generate",
                    resource=guard.domain())
    case = load_case(session, case_id)
    if case.published_at is None:
        raise Conflict("the case is not published yet; an advisory is a public product",
                       field="case")
    supplier = load_supplier(session, case.supplier_id)
    vuln = session.get(Vulnerability, case.vulnerability_id)
    assert vuln is not None
    fact = session.scalars(select(VulnFact).where(VulnFact.vulnerability_id == vuln.id,
                                                  VulnFact.origin == f"case:{case.reference}")
                           ).first()
    affected = str((fact.data if fact else {}).get("affected") or "")
    cpe = _cpe_of(session, vuln.id, f"case:{case.reference}")
    if cpe is None:
        raise Conflict("the case names no product", field="case")
    product = cpe.product
    affected_product: dict[str, Any] = {
        "product_id": "CSAFPID-0001", "name": f"{supplier.name_en or supplier.name} "
        f"{product} {affected or 'affected versions'}".strip(),
        "product_identification_helper": {"cpe": cpe.format()}}
    version_branches: list[dict[str, Any]] = [{
        "category": "product_version_range",
        "name": affected if affected.startswith("vers:") else "vers:generic/*",
        "product": affected_product}]
    status: dict[str, list[str]] = {"known_affected": ["CSAFPID-0001"]}
    remediations: list[dict[str, Any]] = []
    if case.fix_version:
        fixed = Cpe(cpe.part, cpe.vendor, cpe.product, case.fix_version.lower(), *cpe.rest())
        version_branches.append({"category": "product_version", "name": case.fix_version,
                                 "product": {"product_id": "CSAFPID-0002",
                                             "name": f"{product} {case.fix_version}",
                                             "product_identification_helper": {
                                                 "cpe": fixed.format()}}})
        status["fixed"] = ["CSAFPID-0002"]
        remediations.append({"category": "vendor_fix", "product_ids": ["CSAFPID-0001"],
                             "details": f"Update to version {case.fix_version} or later."})
    else:
        remediations.append({"category": "none_available", "product_ids": ["CSAFPID-0001"],
                             "details": "No fix is available yet; follow the supplier's "
                                        "guidance."})
    tracking_id = f"JP-MAMORI-{case.reference}"
    now = utcnow()
    ids = [{"system_name": "mamori coordination case", "text": case.reference}]
    vulnerability: dict[str, Any] = {
        "ids": ids,
        "title": case.title,
        "notes": [{"category": "description", "title": "Description",
                   "text": vuln.description or case.title}],
        "product_status": status,
        "remediations": remediations,
        "discovery_date": _time(case.created_at),
    }
    if vuln.cve_id:
        vulnerability["cve"] = vuln.cve_id
    document = _document(
        title=f"{case.title} ({case.reference})",
        tracking=_tracking(session, tracking_id, now, "Regenerated from the case."),
        notes=[{"category": "summary", "title": "Summary",
                "text": f"A vulnerability in {supplier.name_en or supplier.name} {product} was "
                        f"coordinated with the supplier before publication under Article 42 "
                        f"of Act No. 42 of 2025."}],
        references=[_self_reference(tracking_id)],
        tree={"branches": [{"category": "vendor", "name": supplier.name_en or supplier.name,
                            "branches": [{"category": "product_name", "name": product,
                                          "branches": version_branches}]}]},
        vulnerability=vulnerability)
    return _store(session, principal, document, "case", case.id)


def from_catalogue(*, session: Session, principal: Principal, cve_id: str) -> AdvisoryOut:
    """The advisory of a catalogue entry: exploited in Japan, what to do, in both languages."""
    guard.authorize(session=session, principal=principal, action="vulns.advisory_generate",
                    resource=guard.domain())
    entry = session.scalars(select(CatalogueEntry).where(
        CatalogueEntry.cve_id == cve_id.strip().upper(),
        CatalogueEntry.published.is_(True))).first()
    if entry is None:
        raise NotFound("no published catalogue entry with this CVE id", field="cve")
    cpe = _cpe_of(session, entry.vulnerability_id)
    product: dict[str, Any] = {"product_id": "CSAFPID-0001",
                               "name": f"{entry.vendor_project} {entry.product}"}
    if cpe is not None:
        product["product_identification_helper"] = {"cpe": cpe.format()}
    tracking_id = f"JP-MAMORI-{entry.cve_id}"
    now = utcnow()
    document = _document(
        title=f"{entry.name_en} (exploited in Japan)",
        tracking=_tracking(session, tracking_id, now, "Regenerated from the catalogue."),
        notes=[
            {"category": "summary", "title": "Summary",
             "text": f"Exploitation of {entry.cve_id} in Japan has been confirmed. "
                     f"{entry.description_en}"},
            {"category": "general", "title": "概要", "text": f"{entry.name_ja}。"
                                                            f"{entry.description_ja}"},
        ],
        references=[_self_reference(tracking_id),
                    {"category": "external", "summary": "Catalogue of Vulnerabilities "
                     "Exploited in Japan", "url": "https://mamori.example/vulns/catalogue"},
                    {"category": "external", "summary": f"{entry.cve_id} at cve.org",
                     "url": f"https://www.cve.org/CVERecord?id={entry.cve_id}"}],
        tree={"branches": [{"category": "vendor", "name": entry.vendor_project,
                            "branches": [{"category": "product_name", "name": entry.product,
                                          "product": product}]}]},
        vulnerability={
            "cve": entry.cve_id,
            "title": entry.name_en,
            "notes": [{"category": "description", "title": "Description",
                       "text": entry.description_en},
                      {"category": "general", "title": "対策", "text": entry.action_ja}],
            "product_status": {"known_affected": ["CSAFPID-0001"]},
            "remediations": [{"category": "mitigation", "details": entry.action_en,
                              "product_ids": ["CSAFPID-0001"]}],
            "threats": [{"category": "exploit_status",
                         "details": f"Exploited in Japan (confirmed {entry.date_added}); "
                                    f"remediate by {entry.due_date}.",
                         "date": _time(entry.updated_at)}],
        })
    return _store(session, principal, document, "catalogue", entry.id)


def latest(*, session: Session, principal: Principal) -> list[AdvisoryOut]:
    """The newest version of every advisory."""
    guard.authorize(session=session, principal=principal, action="vulns.advisory_read",
                    resource=guard.domain())
    newest = (select(Advisory.tracking_id, func.max(Advisory.version).label("version"))
              .group_by(Advisory.tracking_id).subquery())
    rows = session.scalars(select(Advisory).join(
        newest, (Advisory.tracking_id == newest.c.tracking_id)
        & (Advisory.version == newest.c.version)).order_by(Advisory.tracking_id))
    return [AdvisoryOut.model_validate(r) for r in rows]


def export(*, session: Session, principal: Principal, directory: Path) -> list[Path]:
    """One CSAF 2.0 JSON file per advisory (its newest version) in ``directory``."""
    if directory.exists() and not directory.is_dir():
        raise InvalidInput("the export target is a file, not a folder", field="directory")
    advisories = latest(session=session, principal=principal)
    written: list[Path] = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for advisory in advisories:
            path = directory / file_name(advisory.tracking_id)
            path.write_text(json.dumps(advisory.document, ensure_ascii=False, indent=2) + "\n",
                            encoding="utf-8")
            written.append(path)
    except OSError:
        raise InvalidInput("cannot write into the folder", field="directory") from None
    return written
