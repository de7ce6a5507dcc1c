"""CSAF 2.0 for vulnerability products: one security advisory per tier output, built
only from what the output holds (its vulnerability objects, the software related to
them, the narrative and the recommended actions).

The publisher and the file naming are those of the vulnerability domain's advisories,
so that every CSAF document mamori issues reads the same; the TLP follows the tier.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import mamori
from mamori.errors import InvalidInput
from mamori.products.bundle import TIER_TLP
from mamori.products.output import TierOutput
from mamori.vulns import service as vulns_service

_TIER_TEXT = {1: "Integrated analysis information (総合整理分析情報), tier 1.",
              2: "Shareable analysis information (提供用総合整理分析情報), tier 2.",
              3: "Public analysis information (周知等用総合整理分析情報), tier 3."}


def tracking_id(output: TierOutput) -> str:
    return f"JP-MAMORI-{output.product_id}-T{output.tier}"


def file_name(output: TierOutput) -> str:
    return vulns_service.advisory_file_name(tracking_id(output))


def _time(value: str) -> str:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _cve(obj: Mapping[str, Any]) -> str | None:
    for ref in obj.get("external_references", ()):
        if isinstance(ref, Mapping) and str(ref.get("source_name", "")).lower() == "cve":
            value = str(ref.get("external_id", "")).upper()
            if value.startswith("CVE-"):
                return value
    name = str(obj.get("name", "")).upper()
    return name if name.startswith("CVE-") else None


def _software_name(obj: Mapping[str, Any]) -> str:
    parts = [str(obj.get(k, "")).strip() for k in ("vendor", "name", "version")]
    return " ".join(p for p in parts if p) or "unnamed software"


def _linked(objects: list[dict[str, Any]], vuln_id: str, software: dict[str, dict[str, Any]]
            ) -> list[str]:
    linked = []
    for obj in objects:
        if obj.get("type") != "relationship":
            continue
        ends = {obj.get("source_ref"), obj.get("target_ref")}
        if vuln_id in ends:
            linked += [e for e in ends if isinstance(e, str) and e in software]
    return sorted(set(linked))


def document(output: TierOutput) -> dict[str, Any]:
    objects = output.objects
    vulns = [o for o in objects if o.get("type") == "vulnerability"]
    if not vulns:
        raise InvalidInput("CSAF is for vulnerability products: this output holds no "
                           "vulnerability", field="format")
    software = {o["id"]: o for o in objects if o.get("type") == "software"}
    product_ids: dict[str, str] = {}
    full_names: list[dict[str, Any]] = []
    for number, (sid, obj) in enumerate(sorted(software.items()), start=1):
        pid = f"CSAFPID-{number:04d}"
        product_ids[sid] = pid
        entry: dict[str, Any] = {"product_id": pid, "name": _software_name(obj)}
        if obj.get("cpe"):
            entry["product_identification_helper"] = {"cpe": str(obj["cpe"])}
        full_names.append(entry)
    unnamed = f"CSAFPID-{len(full_names) + 1:04d}"
    report = next(o for o in objects if o.get("type") == "report")
    released = _time(str(report["modified"]))
    first = _time(str(report["created"]))
    vulnerabilities: list[dict[str, Any]] = []
    for vuln in sorted(vulns, key=lambda o: str(o.get("name", ""))):
        affected = [product_ids[s] for s in _linked(objects, vuln["id"], software)] \
            or list(product_ids.values()) or [unnamed]
        entry = {
            "title": str(vuln.get("name", "vulnerability"))[:500],
            "notes": [{"category": "description", "title": "Description",
                       "text": str(vuln.get("description") or vuln.get("name", ""))}],
            "product_status": {"known_affected": affected},
            "remediations": [{"category": "mitigation", "product_ids": affected,
                              "details": output.actions_en or output.actions_ja
                              or "Follow the recommended actions of this advisory."}],
        }
        cve = _cve(vuln)
        if cve:
            entry["cve"] = cve
        else:
            entry["ids"] = [{"system_name": "STIX", "text": str(vuln["id"])}]
        vulnerabilities.append(entry)
    if unnamed in {p for v in vulnerabilities for p in v["product_status"]["known_affected"]}:
        full_names.append({"product_id": unnamed,
                           "name": "Products named in this advisory"})
    notes = [{"category": "summary", "title": "Summary",
              "text": output.narrative_en or output.title_en},
             {"category": "legal_disclaimer", "title": "Handling",
              "text": _TIER_TEXT[output.tier]}]
    if output.narrative_ja or output.title_ja:
        notes.append({"category": "general", "title": "概要",
                      "text": output.narrative_ja or output.title_ja})
    history = [{"date": first if n == 1 else released, "number": str(n),
                "summary": "Initial version." if n == 1 else "Superseding version."}
               for n in range(1, output.version + 1)]
    return {
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "distribution": {"tlp": {"label": TIER_TLP[output.tier].upper(),
                                     "url": "https://www.first.org/tlp/"},
                             "text": _TIER_TEXT[output.tier]},
            "lang": "en",
            "notes": notes,
            "publisher": dict(vulns_service.CSAF_PUBLISHER),
            "references": [{"category": "self", "summary": "This advisory (CSAF 2.0)",
                            "url": "https://mamori.example/products/"
                                   + file_name(output)}],
            "title": output.title_en,
            "tracking": {
                "id": tracking_id(output), "status": "final", "version": str(output.version),
                "initial_release_date": first, "current_release_date": released,
                "revision_history": history,
                "generator": {"engine": {"name": "mamori", "version": mamori.__version__},
                              "date": released},
            },
        },
        "product_tree": {"full_product_names": full_names},
        "vulnerabilities": vulnerabilities,
    }


def render(output: TierOutput) -> str:
    return json.dumps(document(output), ensure_ascii=False, indent=2) + "\n"
