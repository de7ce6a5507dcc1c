"""Demo step "critical computer notifications": two operators in different sectors
notify their specified critical computers.

Sakura Electric (electricity, METI) uploads CycloneDX SBOMs made with
cyclonedx-python-lib (one JSON, one XML) and a CSV, notifies everything, changes one
component (a change notification) and asks a consultation that the Cabinet Office
answers. Hikari Railway (railway, MLIT) has only drafts and one notification, so the
transition overview shows it overdue. The commencement date is set seven months ago.
Safe to run again: an operator that exists already is left as it is.
"""

from __future__ import annotations

from cyclonedx.output.xml import XmlV1Dot5
from rich.console import Console
from sqlalchemy.orm import Session

from mamori.access import service as access_service
from mamori.access.principal import Principal
from mamori.registry import configuration, sbom, service
from mamori.registry.computers import today
from mamori.registry.entries import ComputerEntry
from mamori.registry.transition import add_months

SAKURA = "さくら電力株式会社"
HIKARI = "ひかり鉄道株式会社"

EMS_COMPONENTS = [
    {"name": "Windows Server", "version": "2019", "supplier": "Microsoft",
     "component_type": "operating-system",
     "cpe": "cpe:2.3:o:microsoft:windows_server_2019:-:*:*:*:*:*:*:*"},
    {"name": "openssl", "version": "3.0.13", "supplier": "OpenSSL",
     "component_type": "library", "cpe": "cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*",
     "purl": "pkg:generic/openssl@3.0.13"},
    {"name": "log4j-core", "version": "2.17.1", "supplier": "Apache Software Foundation",
     "component_type": "library",
     "cpe": "cpe:2.3:a:apache:log4j:2.17.1:*:*:*:*:*:*:*",
     "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1"},
]
RTU_COMPONENTS = [
    {"name": "RTU firmware", "version": "4.2.1", "supplier": "Example Controls",
     "component_type": "firmware",
     "cpe": "cpe:2.3:o:example_controls:rtu-500_firmware:4.2.1:*:*:*:*:*:*:*"},
    {"name": "busybox", "version": "1.36.1", "component_type": "application",
     "cpe": "cpe:2.3:a:busybox:busybox:1.36.1:*:*:*:*:*:*:*",
     "purl": "pkg:generic/busybox@1.36.1"},
]
SAKURA_CSV = """computer,device_category,site,facility,zone,directly_managed,product_vendor,\
product_name,existing,component_name,component_version,cpe,purl
hq-firewall-01,firewall,本店,中央給電指令所,internet_boundary,true,Example Networks,EX-FW 7000,\
true,EX-FW OS,9.1.4,cpe:2.3:o:example_networks:ex-fw_os:9.1.4:*:*:*:*:*:*:*,
ops-jump-01,jump_host,中央給電指令所,中央給電指令所,internal,true,Example Systems,JH-10,true,\
OpenSSH,9.6p1,cpe:2.3:a:openbsd:openssh:9.6p1:*:*:*:*:*:*:*,pkg:generic/openssh@9.6p1
"""
HIKARI_CSV = """computer,device_category,site,facility,zone,directly_managed,manager_name,\
cloud_form,cloud_provider,product_vendor,product_name,existing,component_name,\
component_version,cpe
signal-plc-01,plc,東駅,信号保安設備,critical_equipment,true,,,,Example Rail Systems,IL-PLC,\
true,IL-PLC firmware,3.4,cpe:2.3:o:example_rail:il-plc_firmware:3.4:*:*:*:*:*:*:*
traffic-server-01,control_server,運行管理センター,運行管理システム,internal,true,,,,\
Example Rail Systems,TMS,true,,,
crew-roster-saas,cloud_application,,,internet_boundary,false,Example Cloud KK,saas,\
Example Cloud KK,Example Cloud KK,CrewPlan,true,,,
"""


def _as(session: Session, username: str) -> Principal:
    return access_service.principal_for_user(session=session, username=username, via="system")


def _operator_id(session: Session, principal: Principal, name: str) -> int | None:
    found = [o.id for o in service.list_operators(session=session, principal=principal)
             if o.name == name]
    return found[0] if found else None


def _sakura(session: Session, admin: Principal, console: Console) -> None:
    operator = service.add_operator(
        session=session, principal=admin, name=SAKURA, name_en="Sakura Electric Power Co., Inc.",
        sector="electricity", organisation="sakura_electric",
    )
    staff = _as(session, "demo-operator")
    ems = sbom.to_bom(computer="ems-control-01", device_category="control_server",
                      product_vendor="Example Systems", product_name="EMS", product_version="8.2",
                      components=EMS_COMPONENTS)
    rtu = sbom.to_bom(computer="substation-a-rtu-01", device_category="rtu",
                      product_vendor="Example Controls", product_name="RTU-500",
                      product_version="4.2", components=RTU_COMPONENTS)
    service.import_file(session=session, principal=staff, operator_id=operator.id,
                        data=sbom.bom_json(ems).encode())
    service.import_file(session=session, principal=staff, operator_id=operator.id,
                        data=XmlV1Dot5(rtu).output_as_string().encode())
    service.import_file(session=session, principal=staff, operator_id=operator.id,
                        data=SAKURA_CSV.encode(), notify=True)
    details = {
        "ems-control-01": ComputerEntry(
            name="ems-control-01", site="中央給電指令所", facility="中央給電指令所",
            zone="critical_equipment", existing=True),
        "substation-a-rtu-01": ComputerEntry(
            name="substation-a-rtu-01", site="A変電所", facility="A変電所 保護制御装置",
            zone="critical_equipment", existing=True),
    }
    for computer in service.find_computers(session=session, principal=staff,
                                           operator_id=operator.id):
        entry = details.get(computer.name)
        if entry is None:
            continue
        data = computer.model_dump(exclude={"id", "operator_id", "site_id", "linked_to_id",
                                            "taxonomy_version", "status", "version",
                                            "notified_at", "changed_at", "changed_by",
                                            "components"})
        data.update(entry.said())
        service.update_computer(session=session, principal=staff, computer_id=computer.id,
                                entry=ComputerEntry(**data), notify=True)
    # Equipment renewal: the EMS gets a newer openssl, a change notification.
    ems_id = next(c.id for c in service.find_computers(
        session=session, principal=staff, operator_id=operator.id) if c.name == "ems-control-01")
    renewed = [dict(c, version="3.0.15", cpe="cpe:2.3:a:openssl:openssl:3.0.15:*:*:*:*:*:*:*",
                    purl="pkg:generic/openssl@3.0.15") if c["name"] == "openssl" else c
               for c in EMS_COMPONENTS]
    updated = sbom.to_bom(computer="ems-control-01", device_category="control_server",
                          product_vendor="Example Systems", product_name="EMS",
                          product_version="8.2", components=renewed)
    service.import_file(session=session, principal=staff, operator_id=operator.id,
                        data=sbom.bom_json(updated).encode())
    question = service.ask(
        session=session, principal=staff, operator_id=operator.id, computer_id=ems_id,
        subject="保守用ノートPCの届出要否 / Maintenance laptop",
        question="EMS の保守業者が持ち込むノートPCは届出の対象になりますか。 / Is the "
        "maintenance contractor's laptop within the scope of notification?",
    )
    service.answer(
        session=session, principal=_as(session, "demo-analyst"), consultation_id=question.id,
        conclusion="not_required",
        answer="常時接続されない一時的な保守端末は対象外です。接続手順は管理してください。 / A "
        "temporary maintenance device that is not permanently connected is out of scope; "
        "keep its connection procedure under control.",
    )
    console.print(f"registry: {SAKURA} notified 4 computers (SBOM JSON/XML and CSV)")


def _hikari(session: Session, admin: Principal, console: Console) -> None:
    operator = service.add_operator(
        session=session, principal=admin, name=HIKARI, name_en="Hikari Railway Co., Ltd.",
        sector="railway", organisation="hikari_railway",
    )
    staff = _as(session, "demo-operator-railway")
    service.import_file(session=session, principal=staff, operator_id=operator.id,
                        data=HIKARI_CSV.encode())
    plc = next(c for c in service.find_computers(session=session, principal=staff,
                                                 operator_id=operator.id)
               if c.name == "signal-plc-01")
    service.notify_computer(session=session, principal=staff, computer_id=plc.id)
    console.print(f"registry: {HIKARI} has 1 notified computer and 2 overdue drafts")


def seed(*, session: Session, console: Console) -> None:
    """Seed the two operators' registers (skipped for an operator that exists)."""
    admin = _as(session, "demo-admin")
    if configuration.version_of(session, "commencement_date") == 0:
        year, month = add_months(today(), -7)
        start = today().replace(year=year, month=month, day=1)
        service.configure(session=session, principal=admin, key="commencement_date",
                          value=start.isoformat(), reason="demo: commencement seven months ago")
    if _operator_id(session, admin, SAKURA) is None:
        _sakura(session, admin, console)
    if _operator_id(session, admin, HIKARI) is None:
        _hikari(session, admin, console)
