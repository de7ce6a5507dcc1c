"""The domestic exploited-vulnerability catalogue, supplier coordination (Art 42) and
the CSAF 2.0 advisories made from both — every advisory checked with the ``csaf``
package's offline validator (CSAF 2.0, mandatory tests)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from sqlalchemy.orm import Session

from mamori.errors import Conflict, Forbidden, InvalidInput, NotFound
from mamori.registry import service as registry
from mamori.registry.entries import ComputerEntry
from mamori.reporting import service as reporting
from mamori.vulns import coordination, service
from mamori.vulns.catalogue import _today
from mamori.vulns.ingest.kev import SCHEMA as KEV_SCHEMA

from .conftest import CVE_DIR, RTU, World, kev_subset

RTU_CPE = "cpe:2.3:o:example_controls:rtu-500_firmware:*:*:*:*:*:*:*:*"
INTERNAL = "INTERNAL-EVIDENCE-NOTE"


def csaf_validate(path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "csaf", "validate", "--spec-version", "v20", "--preset",
         "mandatory", "--no-network", "-q", str(path)],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def incident(session: Session, world: World) -> int:
    document: dict[str, Any] = json.loads(
        (Path(reporting.__file__).parent / "examples" / "preliminary.json").read_text("utf-8"))
    document["computers"] = [world.computers["ems-01"]]
    filed = reporting.file_report(session=session, principal=world["sakura"],
                                  operator_id=world.operators["sakura"], document=document)
    return filed.id


def confirm(session: Session, world: World, incident_id: int | None = None,
            **changes: Any) -> service.EntryOut:
    values: dict[str, Any] = {
        "cve_id": "CVE-2024-6387", "incident_id": incident_id,
        "evidence_note": INTERNAL,
        "name_ja": "OpenSSH の競合状態の脆弱性（regreSSHion）",
        "description_ja": "OpenSSH のサーバに競合状態があり、"
                          "認証前の遠隔コード実行のおそれがあります。",
        "action_ja": "9.8p1 以降に更新してください。",
        "vendor_project": "OpenBSD", "product": "OpenSSH",
        "action_en": "Update to OpenSSH 9.8p1 or later.",
    }
    values.update(changes)
    return service.confirm_exploitation(session=session, principal=world["analyst"], **values)


@pytest.fixture
def imported(session: Session, world: World, tmp_path: Path, shared_data: Path) -> World:
    service.import_path(session=session, principal=world["analyst"], path=CVE_DIR)
    service.import_path(session=session, principal=world["analyst"],
                        path=kev_subset(tmp_path, shared_data, ("CVE-2021-44228",)))
    session.commit()
    return world


def test_catalogue_entry_from_a_linked_incident_report(
    session: Session, imported: World, tmp_path: Path
) -> None:
    world = imported
    report = incident(session, world)
    with pytest.raises(InvalidInput, match="incident report or the analysis"):
        confirm(session, world)
    with pytest.raises(Forbidden):
        service.confirm_exploitation(session=session, principal=world["sakura"],
                                     cve_id="CVE-2024-6387", incident_id=report,
                                     name_ja="x", description_ja="x", action_ja="x")
    with pytest.raises(NotFound):
        confirm(session, world, report, cve_id="CVE-2099-0001")
    entry = confirm(session, world, report)
    assert entry.due_date == _today() + timedelta(days=14)
    assert entry.name_en.startswith("Openssh: regresshion")
    with pytest.raises(Conflict):
        confirm(session, world, report)

    exposure = service.operator_exposure(session=session, principal=world["sakura"],
                                         operator_id=world.operators["sakura"])
    assert exposure.items[0].vulnerability.key == "CVE-2024-6387"
    assert exposure.items[0].vulnerability.exploited_in_japan
    kinds = {(n.kind, n.subject) for n in service.list_notifications(
        session=session, principal=world["meti"])}
    assert ("exploited_in_japan", "CVE-2024-6387") in kinds

    document = service.catalogue_document(session=session)
    assert document["count"] == 1 and document["titleJa"]
    assert service.validate_catalogue(document) == []
    kev_schema = json.loads(KEV_SCHEMA.read_text("utf-8"))
    assert list(Draft7Validator(kev_schema).iter_errors(document)) == []
    item = document["vulnerabilities"][0]
    assert (item["cveID"], item["vendorProject"], item["exploitedInJapan"]) == (
        "CVE-2024-6387", "OpenBSD", True)
    assert item["cwes"] == ["CWE-364"] and item["vulnerabilityNameJa"].startswith("OpenSSH")
    text = json.dumps(document, ensure_ascii=False) + service.catalogue_csv(session=session)
    assert INTERNAL not in text and "incident" not in text.lower()

    broken = json.loads(json.dumps(document))
    del broken["vulnerabilities"][0]["requiredActionJa"]
    assert service.validate_catalogue(broken)

    rows = list(csv.DictReader(io.StringIO(service.catalogue_csv(session=session))))
    assert rows[0]["cveID"] == "CVE-2024-6387" and rows[0]["cwes"] == "CWE-364"
    assert list(rows[0])[:11] == ["cveID", "vendorProject", "product", "vulnerabilityName",
                                  "dateAdded", "shortDescription", "requiredAction", "dueDate",
                                  "knownRansomwareCampaignUse", "notes", "cwes"]

    path = tmp_path / "catalogue.json"
    assert service.export_catalogue(session=session, fmt="json", path=path) == 1
    assert service.validate_catalogue(json.loads(path.read_text("utf-8"))) == []

    advisory = service.advisory_from_catalogue(session=session, principal=world["analyst"],
                                               cve_id="CVE-2024-6387")
    written = service.export_advisories(session=session, principal=world["sakura"],
                                        directory=tmp_path / "csaf")
    assert [p.name for p in written] == ["jp-mamori-cve-2024-6387.json"]
    assert advisory.document["document"]["tracking"]["id"] == "JP-MAMORI-CVE-2024-6387"
    csaf_validate(written[0])

    service.withdraw_catalogue_entry(session=session, principal=world["analyst"],
                                     cve_id="CVE-2024-6387", reason="duplicate of another entry")
    assert service.public_entries(session=session) == []


def test_coordinating_an_undisclosed_vulnerability(
    session: Session, world: World, tmp_path: Path
) -> None:
    analyst, tsubasa, kaede = world["analyst"], world["tsubasa"], world["kaede"]
    supplier = service.add_supplier(session=session, principal=analyst,
                                    name="つばさシステムズ株式会社", name_en="Tsubasa Systems",
                                    business_ministry="meti", organisation="tsubasa",
                                    cpe_vendors=["example_controls"])
    service.add_supplier(session=session, principal=analyst, name="かえで工業",
                         business_ministry="mlit", organisation="kaede")
    with pytest.raises(InvalidInput):
        service.add_supplier(session=session, principal=analyst, name="x",
                             business_ministry="nowhere")
    case = service.open_case(session=session, principal=analyst, supplier_id=supplier.id,
                             title="RTU-500 maintenance interface authentication bypass",
                             summary="A session is accepted without checking the credential.",
                             product_cpe=RTU_CPE, affected="vers:generic/<4.2.2",
                             urgency="critical")
    assert case.status == "draft" and case.vulnerability_key.startswith("MAMORI-CASE-")
    assert service.list_cases(session=session, principal=tsubasa) == [], "not sent yet"
    with pytest.raises(Forbidden):
        service.acknowledge_case(session=session, principal=tsubasa, case_id=case.id)

    service.send_case(session=session, principal=analyst, case_id=case.id)
    assert [c.reference for c in service.list_cases(session=session, principal=tsubasa)] == [
        case.reference]
    assert service.list_cases(session=session, principal=kaede) == []
    with pytest.raises(Forbidden):
        service.get_case(session=session, principal=kaede, case_id=case.id)
    notices = service.list_notifications(session=session, principal=tsubasa)
    assert [(n.kind, n.subject) for n in notices] == [("case_sent", case.reference)]

    with pytest.raises(Forbidden):
        service.request_measures(session=session, principal=world["mlit"], case_id=case.id,
                                 measures="x")
    request = service.request_measures(session=session, principal=world["meti"],
                                       case_id=case.id, measures="Provide a fixed firmware "
                                       "and tell the affected operators how to apply it.",
                                       due_date=_today() + timedelta(days=30))
    assert request.computer_ids == [world.computers["rtu-01"]]
    with pytest.raises(InvalidInput):
        service.request_measures(session=session, principal=analyst, case_id=case.id,
                                 measures="x", due_date=_today())

    service.acknowledge_case(session=session, principal=tsubasa, case_id=case.id)
    with pytest.raises(Conflict):
        service.acknowledge_case(session=session, principal=tsubasa, case_id=case.id)
    service.respond_measures(session=session, principal=tsubasa, request_id=request.id,
                             response="Firmware 4.2.2 is released to operators.")
    fixed = service.report_fix(session=session, principal=tsubasa, case_id=case.id,
                               fix_version="4.2.2")
    assert fixed.status == "fixed" and fixed.requests[0].status == "answered"
    with pytest.raises(Conflict, match="not published"):
        service.advisory_from_case(session=session, principal=analyst, case_id=case.id)

    as_operator = service.operator_exposure(session=session, principal=world["sakura"],
                                            operator_id=world.operators["sakura"])
    assert case.vulnerability_key not in [i.vulnerability.key for i in as_operator.items]
    published = service.publish_case(session=session, principal=analyst, case_id=case.id)
    assert published.status == "published"
    as_operator = service.operator_exposure(session=session, principal=world["sakura"],
                                            operator_id=world.operators["sakura"])
    assert case.vulnerability_key in [i.vulnerability.key for i in as_operator.items]
    assert (("new_match", case.vulnerability_key) in
            {(n.kind, n.subject) for n in service.list_notifications(
                session=session, principal=world["sakura"])})

    # The operator installs the fix: the match ends.
    renewed = list(RTU)
    renewed[0] = type(RTU[0])(name="RTU-500 firmware", version="4.2.2",
                              cpe="cpe:2.3:o:example_controls:rtu-500_firmware:4.2.2:*:*:*:*:*:*:*")
    registry.update_computer(session=session, principal=world["sakura"],
                             computer_id=world.computers["rtu-01"],
                             entry=ComputerEntry(name="rtu-01", components=renewed))
    after = service.operator_exposure(session=session, principal=world["sakura"],
                                      operator_id=world.operators["sakura"])
    assert case.vulnerability_key not in [i.vulnerability.key for i in after.items]

    advisory = service.advisory_from_case(session=session, principal=analyst, case_id=case.id)
    again = service.advisory_from_case(session=session, principal=analyst, case_id=case.id)
    assert (advisory.version, again.version) == (1, 2)
    history = again.document["document"]["tracking"]["revision_history"]
    assert [h["number"] for h in history] == ["1", "2"]
    written = service.export_advisories(session=session, principal=tsubasa,
                                        directory=tmp_path / "out")
    assert len(written) == 1
    exported = json.loads(written[0].read_text("utf-8"))
    assert exported["product_tree"]["branches"][0]["name"] == "Tsubasa Systems"
    assert exported["vulnerabilities"][0]["product_status"] == {
        "known_affected": ["CSAFPID-0001"], "fixed": ["CSAFPID-0002"]}
    csaf_validate(written[0])
    closed = coordination.close_case(session=session, principal=analyst, case_id=case.id)
    assert closed.status == "closed"
