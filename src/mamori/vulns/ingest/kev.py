"""CISA's Known Exploited Vulnerabilities catalogue (the vendored file in ``data/`` or any
newer one), checked against CISA's own JSON schema before anything is kept.

KEV names products in words only, so each entry becomes a name hint (a "possibly
affected, needs review" match through the alias table) that gives way as soon as a
CVE record, JVN entry or CSAF advisory states versions for the same vulnerability.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

from mamori.vulns.ingest.records import (
    FeedError,
    GroupSpec,
    ParsedFeed,
    VulnRecord,
    day,
    text,
    timestamp,
)
from mamori.vulns.matching import aliases
from mamori.vulns.matching.applicability import AFFECTED, HINT

DATA = Path(__file__).resolve().parents[1] / "data"
VENDORED = DATA / "known_exploited_vulnerabilities.json"
SCHEMA = DATA / "known_exploited_vulnerabilities_schema.json"
ORIGIN = "kev"


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return dict(json.loads(SCHEMA.read_text(encoding="utf-8")))


def looks_like(document: Any) -> bool:
    return (isinstance(document, dict) and "catalogVersion" in document
            and isinstance(document.get("vulnerabilities"), list))


def _path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def parse(document: Any, name: str) -> ParsedFeed:
    """A KEV catalogue document → records (one per entry)."""
    errors = sorted(Draft7Validator(schema()).iter_errors(document), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        raise FeedError(name, f"{_path(first.absolute_path)} does not follow the KEV schema "
                              f"({first.validator})")
    entries = document["vulnerabilities"]
    if document["count"] != len(entries):
        raise FeedError(name, f"count says {document['count']} entries, the file has "
                              f"{len(entries)}")
    records: list[VulnRecord] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"{name} vulnerabilities[{index}]"
        cve = entry["cveID"]
        if cve in seen:
            raise FeedError(where, "cveID appears twice in the catalogue")
        seen.add(cve)
        kev = {field: entry.get(field) for field in (
            "vendorProject", "product", "vulnerabilityName", "dateAdded", "shortDescription",
            "requiredAction", "dueDate", "knownRansomwareCampaignUse", "notes")}
        kev["cwes"] = list(entry.get("cwes") or [])
        day(entry["dateAdded"], where, "dateAdded")
        day(entry["dueDate"], where, "dueDate")
        vendor_key = aliases.canonical(aliases.name_key(entry["vendorProject"], entry["product"]))
        records.append(VulnRecord(
            key=cve, origin=ORIGIN, locator=f"vulnerabilities[{index}]", cve_id=cve,
            title=text(entry["vulnerabilityName"], where, "vulnerabilityName", limit=300),
            description=text(entry["shortDescription"], where, "shortDescription"),
            cwes=kev["cwes"], kev=kev,
            groups=[GroupSpec(scheme="name", key=vendor_key, ranges=(),
                              default_status=AFFECTED, authority=HINT)],
        ))
    return ParsedFeed(kind="kev", records=records, catalog_version=document["catalogVersion"],
                      released=timestamp(document["dateReleased"], name, "dateReleased"))
