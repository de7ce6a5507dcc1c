"""The domestic exploited-vulnerability catalogue (国内で悪用されている脆弱性情報, R-5.2-18):
one public, easy-to-read list of vulnerabilities exploited in Japan.

A vulnerability enters when an analyst confirms exploitation in Japan from a linked
incident report or analysis. That evidence stays internal (its own table, never
exported); the entry holds only what may be published. The catalogue is published in
CISA's KEV schema — so every KEV consumer reads it — with Japanese fields added
(``data/catalogue.schema.json`` = the KEV schema plus our extension).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jsonschema import Draft7Validator
from pydantic import BaseModel
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.config import get_settings
from mamori.db import utcnow
from mamori.errors import Conflict, InvalidInput, NotFound
from mamori.reporting import service as reporting
from mamori.vulns import guard, notices
from mamori.vulns.ingest.kev import SCHEMA as KEV_SCHEMA
from mamori.vulns.ingest.store import find_vulnerability
from mamori.vulns.models import (
    Applicability,
    CatalogueEntry,
    CatalogueEvidence,
    Vulnerability,
    VulnFact,
    VulnMatch,
)

DATA = Path(__file__).resolve().parent / "data"
SCHEMA = DATA / "catalogue.schema.json"
KEV_SCHEMA_ID = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities_schema.json"
TITLE = "Catalogue of Vulnerabilities Exploited in Japan"
TITLE_JA = "国内で悪用されている脆弱性カタログ"
DEFAULT_DUE_DAYS = 14
DEFAULT_ACTION = ("Apply mitigations per vendor instructions or discontinue use of the product "
                  "if mitigations are unavailable.")
TEXT_LIMIT = 2000
CSV_COLUMNS = (
    "cveID", "vendorProject", "product", "vulnerabilityName", "dateAdded", "shortDescription",
    "requiredAction", "dueDate", "knownRansomwareCampaignUse", "notes", "cwes",
    "vulnerabilityNameJa", "shortDescriptionJa", "requiredActionJa", "knownExploitedByCisa",
)
RANSOMWARE = ("Known", "Unknown")


class EntryOut(BaseModel):
    cve_id: str
    vendor_project: str
    product: str
    name_en: str
    name_ja: str
    description_en: str
    description_ja: str
    action_en: str
    action_ja: str
    notes: str
    ransomware: str
    cwes: list[str]
    date_added: date
    due_date: date
    kev: bool
    published: bool


def _today() -> date:
    return datetime.now(ZoneInfo(get_settings().timezone)).date()


def _clean(value: str | None, field: str, *, required: bool = True) -> str:
    text = " ".join((value or "").split()) if field.startswith("name") else (value or "").strip()
    if required and not text:
        raise InvalidInput(f"{field} is required for a public catalogue entry", field=field)
    if len(text) > TEXT_LIMIT:
        raise InvalidInput(f"{field} is longer than {TEXT_LIMIT} characters", field=field)
    return text


def _kev_fields(session: Session, vuln: Vulnerability) -> dict[str, Any]:
    fact = session.scalars(select(VulnFact).where(VulnFact.vulnerability_id == vuln.id,
                                                  VulnFact.origin == "kev")).first()
    return dict(fact.data.get("kev") or {}) if fact else {}


def _cpe_fields(session: Session, vuln: Vulnerability) -> dict[str, Any]:
    """Without a KEV entry: vendor and product from the first CPE statement, and the
    standard remediation wording of KEV."""
    row = session.scalars(select(Applicability).where(
        Applicability.vulnerability_id == vuln.id, Applicability.scheme == "cpe")
        .order_by(Applicability.id)).first()
    if row is None:
        return {}
    return {"vendorProject": row.key_1, "product": row.key_2, "requiredAction": DEFAULT_ACTION}


def _out(entry: CatalogueEntry, kev: bool) -> EntryOut:
    return EntryOut(
        cve_id=entry.cve_id, vendor_project=entry.vendor_project, product=entry.product,
        name_en=entry.name_en, name_ja=entry.name_ja, description_en=entry.description_en,
        description_ja=entry.description_ja, action_en=entry.action_en,
        action_ja=entry.action_ja, notes=entry.notes, ransomware=entry.ransomware,
        cwes=list(entry.cwes), date_added=entry.date_added, due_date=entry.due_date, kev=kev,
        published=entry.published)


def confirm_exploitation(
    *,
    session: Session,
    principal: Principal,
    cve_id: str,
    name_ja: str,
    description_ja: str,
    action_ja: str,
    incident_id: int | None = None,
    analysis_ref: str | None = None,
    evidence_note: str | None = None,
    name_en: str | None = None,
    description_en: str | None = None,
    action_en: str | None = None,
    vendor_project: str | None = None,
    product: str | None = None,
    ransomware: str = "Unknown",
    notes: str = "",
    due_days: int = DEFAULT_DUE_DAYS,
) -> EntryOut:
    """Enter a vulnerability in the catalogue on confirmed exploitation in Japan.

    The evidence — an incident report the analyst may read, or an analysis reference —
    is kept internally; the public fields default from KEV or the CVE record."""
    guard.authorize(session=session, principal=principal, action="vulns.catalogue_manage",
                    resource=guard.domain())
    if incident_id is None and not (analysis_ref or "").strip():
        raise InvalidInput("link the incident report or the analysis that confirms "
                           "exploitation in Japan", field="incident")
    if ransomware not in RANSOMWARE:
        raise InvalidInput("knownRansomwareCampaignUse is Known or Unknown", field="ransomware")
    if not 1 <= due_days <= 365:
        raise InvalidInput("the due period is 1-365 days", field="due_days")
    vuln = find_vulnerability(session, cve_id.strip().upper())
    if vuln is None or not vuln.cve_id:
        raise NotFound("no imported vulnerability with this CVE id; import its CVE record or "
                       "KEV entry first", field="cve")
    if vuln.confidentiality != "public":
        raise Conflict("the vulnerability is undisclosed; publish its coordination case first",
                       field="cve")
    if incident_id is not None:
        reporting.get_incident(session=session, principal=principal, incident_id=incident_id)
    kev = _kev_fields(session, vuln) or _cpe_fields(session, vuln)
    entry = session.scalars(select(CatalogueEntry).where(
        CatalogueEntry.vulnerability_id == vuln.id)).first()
    if entry is not None and entry.published:
        raise Conflict("the vulnerability is in the catalogue already", field="cve")
    today = _today()
    values = {
        "vendor_project": _clean(vendor_project or kev.get("vendorProject"), "vendor_project"),
        "product": _clean(product or kev.get("product"), "product"),
        "name_en": _clean(name_en or kev.get("vulnerabilityName") or vuln.title, "name_en"),
        "name_ja": _clean(name_ja, "name_ja"),
        "description_en": _clean(description_en or kev.get("shortDescription")
                                 or vuln.description, "description_en"),
        "description_ja": _clean(description_ja, "description_ja"),
        "action_en": _clean(action_en or kev.get("requiredAction"), "action_en"),
        "action_ja": _clean(action_ja, "action_ja"),
        "notes": _clean(notes, "notes", required=False),
        "ransomware": ransomware if ransomware != "Unknown" else (
            kev.get("knownRansomwareCampaignUse") or "Unknown"),
        "cwes": list(vuln.cwes or kev.get("cwes") or []),
        "date_added": today,
        "due_date": today + timedelta(days=due_days),
        "published": True,
        "withdrawn_at": None,
        "updated_at": utcnow(),
    }
    if values["ransomware"] not in RANSOMWARE:
        values["ransomware"] = "Unknown"
    if entry is None:
        entry = CatalogueEntry(vulnerability_id=vuln.id, cve_id=vuln.cve_id,
                               created_by=principal.username, **values)
        session.add(entry)
    else:
        for name, value in values.items():
            setattr(entry, name, value)
    session.flush()
    session.add(CatalogueEvidence(
        entry_id=entry.id, incident_id=incident_id, analysis_ref=(analysis_ref or None),
        note=_clean(evidence_note, "evidence_note", required=False) or None,
        recorded_by=principal.username))
    vuln.exploited_in_japan = True
    vuln.updated_at = utcnow()
    session.flush()
    guard.audit(session=session, principal=principal, action="vulns.catalogue.confirmed",
                object_type="vulns.catalogue_entry", object_id=entry.id,
                details={"cve": entry.cve_id, "incident_id": incident_id,
                         "analysis": bool(analysis_ref)})
    _announce(session, principal, vuln)
    return _out(entry, vuln.kev)


def _announce(session: Session, principal: Principal, vuln: Vulnerability) -> None:
    """Operators already matched learn that the vulnerability is exploited in Japan."""
    operators = sorted(set(session.scalars(select(VulnMatch.operator_id).where(
        VulnMatch.vulnerability_id == vuln.id, VulnMatch.active.is_(True)))))
    for operator_id in operators:
        notices.to_operator(session=session, principal=principal, operator_id=operator_id,
                            kind="exploited_in_japan", vulnerability=vuln)


def withdraw(*, session: Session, principal: Principal, cve_id: str, reason: str) -> EntryOut:
    """Take an entry off the public catalogue (it stays on record, with the reason)."""
    guard.authorize(session=session, principal=principal, action="vulns.catalogue_manage",
                    resource=guard.domain())
    entry = session.scalars(select(CatalogueEntry).where(
        CatalogueEntry.cve_id == cve_id.strip().upper())).first()
    if entry is None or not entry.published:
        raise NotFound("no published catalogue entry with this CVE id", field="cve")
    entry.published = False
    entry.withdrawn_at = entry.updated_at = utcnow()
    vuln = session.get(Vulnerability, entry.vulnerability_id)
    assert vuln is not None
    vuln.exploited_in_japan = False
    session.add(CatalogueEvidence(entry_id=entry.id, note=_clean(reason, "reason"),
                                  analysis_ref="withdrawn", recorded_by=principal.username))
    session.flush()
    guard.audit(session=session, principal=principal, action="vulns.catalogue.withdrawn",
                object_type="vulns.catalogue_entry", object_id=entry.id,
                details={"cve": entry.cve_id})
    return _out(entry, vuln.kev)


# --- the public catalogue (PUBLIC tier: no account needed) ----------------------------


def public_entries(*, session: Session) -> list[EntryOut]:
    """The published entries, newest first. Public information: no principal."""
    rows = session.execute(
        select(CatalogueEntry, Vulnerability.kev)
        .join(Vulnerability, Vulnerability.id == CatalogueEntry.vulnerability_id)
        .where(CatalogueEntry.published.is_(True))
        .order_by(CatalogueEntry.date_added.desc(), CatalogueEntry.cve_id)
    ).all()
    return [_out(entry, bool(kev)) for entry, kev in rows]


def _released(session: Session) -> datetime:
    latest = session.scalar(select(CatalogueEntry.updated_at)
                            .order_by(CatalogueEntry.updated_at.desc()).limit(1))
    return latest or utcnow()


def document(*, session: Session) -> dict[str, Any]:
    """The catalogue as JSON in the KEV schema with the Japanese extension."""
    entries = public_entries(session=session)
    released = _released(session)
    local = released.astimezone(ZoneInfo(get_settings().timezone))
    return {
        "title": TITLE,
        "titleJa": TITLE_JA,
        "catalogVersion": local.strftime("%Y.%m.%d"),
        "dateReleased": released.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{released.microsecond // 1000:03d}Z",
        "count": len(entries),
        "vulnerabilities": [
            {
                "cveID": e.cve_id,
                "vendorProject": e.vendor_project,
                "product": e.product,
                "vulnerabilityName": e.name_en,
                "dateAdded": e.date_added.isoformat(),
                "shortDescription": e.description_en,
                "requiredAction": e.action_en,
                "dueDate": e.due_date.isoformat(),
                "knownRansomwareCampaignUse": e.ransomware,
                "notes": e.notes,
                "cwes": e.cwes,
                "vulnerabilityNameJa": e.name_ja,
                "shortDescriptionJa": e.description_ja,
                "requiredActionJa": e.action_ja,
                "exploitedInJapan": True,
                "knownExploitedByCisa": e.kev,
            }
            for e in entries
        ],
    }


def csv_text(*, session: Session) -> str:
    """The catalogue as CSV: KEV's columns in KEV's order, then the Japanese columns."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in document(session=session)["vulnerabilities"]:
        row = dict(item, cwes=", ".join(item["cwes"]),
                   knownExploitedByCisa="true" if item["knownExploitedByCisa"] else "false")
        writer.writerow([row[c] for c in CSV_COLUMNS])
    return buffer.getvalue()


@lru_cache(maxsize=1)
def _validator() -> Draft7Validator:
    kev_schema = json.loads(KEV_SCHEMA.read_text(encoding="utf-8"))
    ours = json.loads(SCHEMA.read_text(encoding="utf-8"))
    registry: Registry = Registry().with_resource(
        KEV_SCHEMA_ID, Resource.from_contents(kev_schema, default_specification=DRAFT7))
    return Draft7Validator(ours, registry=registry)


def validate_document(data: dict[str, Any]) -> list[str]:
    """Where ``data`` breaks the KEV schema or our extension (empty when valid)."""
    return [f"{'/'.join(map(str, e.absolute_path)) or '(document)'}: {e.validator}"
            for e in _validator().iter_errors(data)]


def export(*, session: Session, fmt: str, path: Path) -> int:
    """Write the public catalogue as ``json`` or ``csv``; returns the number of entries."""
    if fmt not in ("json", "csv"):
        raise InvalidInput("the format is json or csv", field="format")
    data = document(session=session)
    if fmt == "json":
        errors = validate_document(data)
        if errors:  # a programming error, never a user's: refuse to publish
            raise RuntimeError(f"catalogue does not validate: {errors[:3]}")
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    else:
        text = csv_text(session=session)
    try:
        path.write_text(text, encoding="utf-8", newline="")
    except OSError:
        raise InvalidInput("cannot write the file there", field="file") from None
    return int(data["count"])
