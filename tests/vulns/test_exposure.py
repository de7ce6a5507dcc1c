"""Exposure per operator, sector and device category: ordering, notices to the operator
and its ministry, incremental re-matching of changed components, suppressions that
lapse when their reason stops holding, and who may see what."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.errors import Conflict, Forbidden, InvalidInput
from mamori.registry import service as registry
from mamori.registry.entries import ComponentEntry, ComputerEntry
from mamori.vulns import matcher, service
from mamori.vulns.models import Suppression

from .conftest import CVE_DIR, DATA, EMS, World, audit_count, kev_subset

KEV_CVES = ("CVE-2021-44228", "CVE-2025-29824", "CVE-2023-1389", "CVE-2014-0160")


@pytest.fixture
def loaded(session: Session, world: World, tmp_path: Path, shared_data: Path) -> World:
    analyst = world["analyst"]
    service.import_path(session=session, principal=analyst,
                        path=kev_subset(tmp_path, shared_data, KEV_CVES))
    service.import_path(session=session, principal=analyst, path=CVE_DIR)
    session.commit()
    return world


def keys(exposure: service.OperatorExposure) -> list[str]:
    return [item.vulnerability.key for item in exposure.items if not item.suppressed]


def test_exposure_is_ordered_exploited_in_japan_kev_then_severity(
    session: Session, loaded: World
) -> None:
    sakura = loaded["sakura"]
    exposure = service.operator_exposure(session=session, principal=sakura,
                                         operator_id=loaded.operators["sakura"])
    assert keys(exposure) == ["CVE-2021-44228", "CVE-2025-29824", "CVE-2014-0160",
                              "CVE-2024-6387"]
    first = exposure.items[0]
    assert first.vulnerability.kev and first.vulnerability.status == "affected"
    assert [c.name for c in first.computers] == ["ems-01"]
    assert [p.name for p in first.computers[0].components] == ["log4j-core"]
    assert exposure.summary["kev"] == 3 and exposure.summary["computers"] == 1

    from mamori.vulns.models import Vulnerability

    vuln = session.scalars(select(Vulnerability).where(
        Vulnerability.key == "CVE-2024-6387")).one()
    vuln.exploited_in_japan = True
    session.flush()
    again = service.operator_exposure(session=session, principal=sakura,
                                      operator_id=loaded.operators["sakura"])
    assert keys(again)[0] == "CVE-2024-6387"


def test_new_matches_notify_the_operator_and_its_ministry(
    session: Session, loaded: World
) -> None:
    sakura = service.list_notifications(session=session, principal=loaded["sakura"])
    assert {n.subject for n in sakura} == {"CVE-2021-44228", "CVE-2025-29824", "CVE-2014-0160",
                                           "CVE-2024-6387"}
    assert all(n.kind == "new_match" and n.computers == 1 for n in sakura)
    meti = service.list_notifications(session=session, principal=loaded["meti"])
    assert {n.subject for n in meti} == {n.subject for n in sakura}
    mlit = service.list_notifications(session=session, principal=loaded["mlit"])
    assert {n.subject for n in mlit} == {"CVE-2023-1389"}
    read = service.mark_notification_read(session=session, principal=loaded["sakura"],
                                          notification_id=sakura[0].id)
    assert read.read_at is not None
    with pytest.raises(Forbidden):
        service.mark_notification_read(session=session, principal=loaded["hikari"],
                                       notification_id=sakura[0].id)
    assert audit_count(session, "vulns.matched") >= 1


def test_a_changed_component_alone_is_matched_again(session: Session, loaded: World) -> None:
    sakura, ems, operator = loaded["sakura"], loaded.computers["ems-01"], loaded.operators["sakura"]
    first = matcher.refresh(session, principal=sakura, operator_id=operator, changed_only=True)
    assert first.components == 2, "the RTU's components, which no import touched"
    quiet = matcher.refresh(session, principal=sakura, operator_id=operator, changed_only=True)
    assert quiet.components == 0, "nothing changed, nothing is matched"
    renewed = [ComponentEntry(**{**c.__dict__}) for c in EMS]
    renewed[0] = ComponentEntry(name="OpenSSH", version="9.8p1",
                                cpe="cpe:2.3:a:openbsd:openssh:9.8p1:*:*:*:*:*:*:*")
    registry.update_computer(session=session, principal=sakura, computer_id=ems,
                             entry=ComputerEntry(name="ems-01", device_category="control_server",
                                                 components=renewed))
    changed = matcher.refresh(session, principal=sakura, operator_id=operator, changed_only=True)
    assert (changed.components, changed.ended, changed.new) == (1, 1, [])
    exposure = service.operator_exposure(session=session, principal=sakura, operator_id=operator)
    assert "CVE-2024-6387" not in keys(exposure)
    assert "CVE-2021-44228" in keys(exposure)


def test_suppressions_hold_until_their_reason_stops_holding(
    session: Session, loaded: World
) -> None:
    sakura, operator = loaded["sakura"], loaded.operators["sakura"]
    openssh = loaded.components["ems-01/OpenSSH"]
    service.suppress(session=session, principal=sakura, vulnerability_key="CVE-2024-6387",
                     component_id=openssh, reason="vulnerable_code_not_present",
                     note="built without the affected code")
    with pytest.raises(Conflict):
        service.suppress(session=session, principal=sakura, vulnerability_key="CVE-2024-6387",
                         component_id=openssh, reason="inline_mitigations_already_exist")
    with pytest.raises(InvalidInput):
        service.suppress(session=session, principal=sakura, vulnerability_key="CVE-2021-44228",
                         component_id=loaded.components["ems-01/log4j-core"],
                         reason="because")
    with pytest.raises(Forbidden):
        service.suppress(session=session, principal=loaded["hikari"],
                         vulnerability_key="CVE-2021-44228",
                         component_id=loaded.components["ems-01/log4j-core"],
                         reason="inline_mitigations_already_exist")
    service.suppress(session=session, principal=sakura, vulnerability_key="CVE-2021-44228",
                     component_id=loaded.components["ems-01/log4j-core"],
                     reason="inline_mitigations_already_exist")
    exposure = service.operator_exposure(session=session, principal=sakura, operator_id=operator)
    assert "CVE-2024-6387" not in keys(exposure) and "CVE-2021-44228" not in keys(exposure)
    assert exposure.summary["suppressed"] == 2

    # OpenSSH moves to 9.7p1 (still affected): the version-bound reason no longer holds;
    # log4j is unchanged and the mitigation stands.
    renewed = list(EMS)
    renewed[0] = ComponentEntry(name="OpenSSH", version="9.7p1",
                                cpe="cpe:2.3:a:openbsd:openssh:9.7p1:*:*:*:*:*:*:*")
    registry.update_computer(session=session, principal=sakura,
                             computer_id=loaded.computers["ems-01"],
                             entry=ComputerEntry(name="ems-01", components=renewed))
    exposure = service.operator_exposure(session=session, principal=sakura, operator_id=operator)
    assert "CVE-2024-6387" in keys(exposure) and "CVE-2021-44228" not in keys(exposure)
    rows = {s.reason: s for s in session.scalars(select(Suppression))}
    assert rows["vulnerable_code_not_present"].lapse_reason == "component_version_changed"
    assert rows["inline_mitigations_already_exist"].active
    assert audit_count(session, "vulns.suppression_lapsed") == 1


def test_who_sees_which_exposure(session: Session, loaded: World) -> None:
    operator = loaded.operators["sakura"]
    for name in ("hikari", "mlit", "tsubasa"):
        with pytest.raises(Forbidden):
            service.operator_exposure(session=session, principal=loaded[name],
                                      operator_id=operator)
    for name in ("sakura", "meti", "analyst"):
        assert service.operator_exposure(session=session, principal=loaded[name],
                                         operator_id=operator).items


def test_overview_by_sector_and_device_category(session: Session, loaded: World) -> None:
    analyst = loaded["analyst"]
    electricity = service.overview(session=session, principal=analyst, sector="electricity")
    assert next(i.vulnerability.key for i in electricity.items) == "CVE-2021-44228"
    assert all(i.operators == 1 for i in electricity.items)
    routers = service.overview(session=session, principal=analyst, device_category="router")
    assert [i.vulnerability.key for i in routers.items] == ["CVE-2023-1389"]
    mlit = service.overview(session=session, principal=loaded["mlit"])
    assert [i.vulnerability.key for i in mlit.items] == ["CVE-2023-1389"], (
        "a ministry sees only the operators it supervises")
    with pytest.raises(Forbidden):
        service.overview(session=session, principal=loaded["sakura"])


def test_undisclosed_vulnerabilities_stay_with_the_agency(
    session: Session, world: World
) -> None:
    from mamori.vulns import coordination, suppliers

    analyst = world["analyst"]
    supplier = suppliers.add_supplier(session=session, principal=analyst, name="Example Controls",
                                      business_ministry="meti", organisation="tsubasa")
    case = coordination.open_case(
        session=session, principal=analyst, supplier_id=supplier.id, title="RTU bypass",
        summary="details",
        product_cpe="cpe:2.3:o:example_controls:rtu-500_firmware:*:*:*:*:*:*:*:*",
        affected="vers:generic/<4.2.2")
    as_agency = service.operator_exposure(session=session, principal=analyst,
                                          operator_id=world.operators["sakura"])
    assert case.vulnerability_key in keys(as_agency)
    as_operator = service.operator_exposure(session=session, principal=world["sakura"],
                                            operator_id=world.operators["sakura"])
    assert case.vulnerability_key not in keys(as_operator)
    assert not service.list_notifications(session=session, principal=world["sakura"])
    with pytest.raises(Forbidden):
        service.get_vulnerability(session=session, principal=world["sakura"],
                                  key=case.vulnerability_key)
    assert DATA.is_dir()
