"""Demo step "vulnerabilities": the Cabinet Office imports CISA's KEV catalogue and a few
CVE and JVN records, which are matched against the notified computers; exploitation of
regreSSHion (CVE-2024-6387) in Japan is confirmed from さくら電力's incident report and
enters the public catalogue; an undisclosed flaw in the RTU firmware that つばさシステムズ
supplies is coordinated with it (measures requested by METI, fix reported, published),
and CSAF advisories are issued for both. Safe to run again.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from sqlalchemy.orm import Session

from mamori.access import service as access_service
from mamori.access.principal import Principal
from mamori.errors import Conflict
from mamori.registry import service as registry
from mamori.reporting import service as reporting
from mamori.vulns import service
from mamori.vulns.ingest.kev import VENDORED
from mamori.vulns.suppliers import find_supplier

DEMO_FEEDS = Path(__file__).resolve().parent / "data" / "demo"
SUPPLIER = "つばさシステムズ株式会社"
RTU_FIRMWARE = "cpe:2.3:o:example_controls:rtu-500_firmware:*:*:*:*:*:*:*:*"


def _as(session: Session, username: str) -> Principal:
    return access_service.principal_for_user(session=session, username=username, via="system")


def _import(session: Session, analyst: Principal, console: Console) -> None:
    try:
        kev = service.import_path(session=session, principal=analyst, path=VENDORED)
        console.print(f"vulns: KEV catalogue, {kev.files[0].records} entries; "
                      f"{kev.new_matches} new match(es)")
    except Conflict:  # a newer KEV catalogue was imported on this database already
        console.print("vulns: a newer KEV catalogue is on record; the vendored one is skipped")
    feeds = service.import_path(session=session, principal=analyst, path=DEMO_FEEDS)
    console.print(f"vulns: {len(feeds.files)} CVE/JVN file(s); {feeds.new_matches} new "
                  "match(es)")


def _catalogue(session: Session, analyst: Principal, console: Console) -> None:
    if any(e.cve_id == "CVE-2024-6387" for e in service.public_entries(session=session)):
        return
    incidents = [i for i in reporting.list_incidents(session=session, principal=analyst)
                 if i.regulation == "art5"]
    if not incidents:
        console.print("vulns: no incident report to link; the catalogue stays empty")
        return
    service.confirm_exploitation(
        session=session, principal=analyst, cve_id="CVE-2024-6387", incident_id=incidents[-1].id,
        evidence_note="Exploitation attempt seen on a jump host named in the report.",
        vendor_project="OpenBSD", product="OpenSSH",
        name_en="OpenSSH Signal Handler Race Condition Vulnerability (regreSSHion)",
        action_en="Update OpenSSH to 9.8p1 or later; until then set LoginGraceTime 0 and "
                  "restrict access to sshd.",
        name_ja="OpenSSH のシグナルハンドラの競合状態の脆弱性（regreSSHion）",
        description_ja="OpenSSH のサーバ (sshd) に競合状態があり、認証を経ずに遠隔から任意の"
                       "コードを実行されるおそれがあります。",
        action_ja="OpenSSH を 9.8p1 以降に更新してください。更新までの間は LoginGraceTime を 0 "
                  "にし、sshd への接続元を制限してください。",
    )
    service.advisory_from_catalogue(session=session, principal=analyst, cve_id="CVE-2024-6387")
    console.print("vulns: CVE-2024-6387 confirmed exploited in Japan → /vulns/catalogue")


def _coordination(session: Session, analyst: Principal, console: Console) -> None:
    if find_supplier(session, SUPPLIER) is not None:
        return
    supplier = service.add_supplier(
        session=session, principal=analyst, name=SUPPLIER, name_en="Tsubasa Systems Co., Ltd.",
        business_ministry="meti", organisation="tsubasa_systems",
        cpe_vendors=["example_controls"])
    case = service.open_case(
        session=session, principal=analyst, supplier_id=supplier.id,
        title="RTU-500 maintenance interface authentication bypass",
        summary="The maintenance interface of RTU-500 firmware accepts a session without "
                "checking the credential; reported to the Cabinet Office by a council member.",
        product_cpe=RTU_FIRMWARE, affected="vers:generic/<4.2.2", urgency="critical")
    service.send_case(session=session, principal=analyst, case_id=case.id)
    supplier_staff = _as(session, "demo-supplier")
    request = service.request_measures(
        session=session, principal=_as(session, "demo-ministry_liaison"), case_id=case.id,
        measures="修正版ファームウェアを提供し、利用事業者に適用手順を周知してください。 / Provide "
                 "a fixed firmware and tell the operators using it how to apply it.")
    service.acknowledge_case(session=session, principal=supplier_staff, case_id=case.id)
    service.respond_measures(session=session, principal=supplier_staff, request_id=request.id,
                             response="修正版 4.2.2 を提供しました。 / Firmware 4.2.2 is released.")
    service.report_fix(session=session, principal=supplier_staff, case_id=case.id,
                       fix_version="4.2.2")
    service.publish_case(session=session, principal=analyst, case_id=case.id)
    service.advisory_from_case(session=session, principal=analyst, case_id=case.id)
    console.print(f"vulns: case {case.reference} coordinated with {SUPPLIER} "
                  f"(Art 42 request due {request.due_date}) and published with a CSAF advisory")


def _show_exposure(session: Session, console: Console) -> None:
    staff = _as(session, "demo-operator")
    for operator in registry.list_operators(session=session, principal=staff):
        exposure = service.operator_exposure(session=session, principal=staff,
                                             operator_id=operator.id)
        console.print(f"vulns: exposure of {operator.name} ({exposure.summary['computers']} "
                      f"computer(s)), most urgent first:")
        for item in exposure.items[:5]:
            flags = "".join(["[JP]" if item.vulnerability.exploited_in_japan else "",
                             "[KEV]" if item.vulnerability.kev else ""])
            where = ", ".join(c.name for c in item.computers)
            console.print(f"  {item.vulnerability.key} {flags} {item.vulnerability.status} "
                          f"— {where}", markup=False)


def seed(*, session: Session, console: Console) -> None:
    """Import, match, fill the catalogue, coordinate one case (skipped when done)."""
    analyst = _as(session, "demo-analyst")
    _import(session, analyst, console)
    _catalogue(session, analyst, console)
    _coordination(session, analyst, console)
    _show_exposure(session, console)
