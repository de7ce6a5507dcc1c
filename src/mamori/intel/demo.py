"""Demo step "intel": every source in one store, cross-matched.

ひかり鉄道 reports a second intrusion naming the address that さくら電力 reported, with
the same living-off-the-land techniques; a partner's bundle says that address belongs
to malware exploiting regreSSHion (CVE-2024-6387). The reports, the register, the
vulnerability data and the selected records of the demo botnet are ingested, and the
analytics find the cross-sector campaign, the LOTL hint, the botnet's C2 structure and
the registered computers exposed to the campaign. Safe to run again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rich.console import Console
from sqlalchemy.orm import Session

from mamori.access import service as access_service
from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.errors import MamoriError
from mamori.intel import service, stix
from mamori.reporting import registry_link
from mamori.reporting import service as reporting

SHARED_ADDRESS = "203.0.113.45"
RAILWAY_TITLE = "制御ネットワークからの不審な通信 / Suspicious traffic from the control network"
LOTL = ["T1059.001", "T1047", "T1003.003"]
PARTNER = "partner:jpcert-demo"


def _as(session: Session, username: str) -> Principal:
    return access_service.principal_for_user(session=session, username=username, via="system")


def _railway_report(session: Session, console: Console) -> None:
    try:
        staff = _as(session, "demo-operator-railway")
    except MamoriError:
        return
    if any(i.title == RAILWAY_TITLE for i in reporting.list_incidents(session=session,
                                                                      principal=staff)):
        return
    operators = registry_link.visible_operators(session=session, principal=staff)
    if not operators:
        console.print("intel: the railway operator is not registered; its report is skipped")
        return
    aware = utcnow() - timedelta(hours=20)
    reporting.file_report(session=session, principal=staff, operator_id=operators[0][0],
                          document={
        "format": "mamori.incident-report/1", "regulation": "art5", "kind": "preliminary",
        "title": RAILWAY_TITLE, "detected_at": (aware - timedelta(hours=2)).isoformat(),
        "aware_at": aware.isoformat(), "stage": {"value": "detected_inside"},
        "fields": {"summary": {"value": "保守端末から PowerShell と WMI による探索を確認。"}},
        "techniques": [*LOTL, "T1021.001"], "computers": [],
        "indicators": [{"type": "ipv4-addr", "value": SHARED_ADDRESS}],
    })


def partner_bundle() -> dict[str, Any]:
    when = "2026-11-01T00:00:00.000Z"
    common = {"spec_version": "2.1", "created": when, "modified": when}
    indicator = stix.mamori_id("indicator", "demo", PARTNER, SHARED_ADDRESS)
    malware = stix.mamori_id("malware", "demo", PARTNER, "sshworm")
    vulnerability = stix.mamori_id("vulnerability", "demo", PARTNER, "CVE-2024-6387")
    return {"type": "bundle", "id": stix.mamori_id("bundle", "demo", PARTNER), "objects": [
        {"type": "indicator", "id": indicator, **common, "name": "SSH worm C2",
         "pattern": f"[ipv4-addr:value = '{SHARED_ADDRESS}']", "pattern_type": "stix",
         "valid_from": when, "indicator_types": ["malicious-activity"]},
        {"type": "malware", "id": malware, **common, "name": "SSH worm", "is_family": True},
        {"type": "vulnerability", "id": vulnerability, **common, "name": "CVE-2024-6387",
         "external_references": [{"source_name": "cve", "external_id": "CVE-2024-6387"}]},
        {"type": "relationship", "id": stix.mamori_id("relationship", indicator, malware),
         **common, "relationship_type": "indicates", "source_ref": indicator,
         "target_ref": malware},
        {"type": "relationship", "id": stix.mamori_id("relationship", malware, vulnerability),
         **common, "relationship_type": "exploits", "source_ref": malware,
         "target_ref": vulnerability},
    ]}


def seed(*, session: Session, console: Console) -> None:
    analyst = _as(session, "demo-analyst")
    _railway_report(session, console)
    imported = service.import_bundle(session=session, principal=analyst,
                                     bundle=partner_bundle(), source=PARTNER,
                                     attributed_to=PARTNER, consent=["administrative_body"])
    console.print(f"intel: partner bundle: stored {imported.stored}, merged {imported.merged}")
    for summary in service.ingest(session=session, principal=analyst,
                                  sources=["reporting", "registry", "vulns"]):
        console.print(f"intel: {summary.line()}")
    job = Principal.system("intel")
    for summary in service.ingest(session=session, principal=job, sources=["selection"]):
        console.print(f"intel: {summary.line()}")
    result = service.analyze(session=session, principal=job)
    counts = ", ".join(f"{kind} {count}" for kind, count in result.counts.items() if count)
    console.print(f"intel: findings: {counts or 'none'} → /intel/findings")
