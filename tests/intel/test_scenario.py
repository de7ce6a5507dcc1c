"""Every source into one store, cross-matched: the correlations and findings that the
scenario of ``scenario.py`` implies, and who may see which of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from mamori.errors import NotFound
from mamori.intel import service, stix

from .conftest import ANALYST, HANDLER, SYSTEM
from .scenario import (
    KEV_CVE,
    LOTL,
    OTHER_C2,
    TIER1,
    TIER2,
    World,
    build_registry_and_reports,
    import_vulnerabilities,
    partner_bundle,
    select_traffic,
)


@pytest.fixture
def world(session: Session, tmp_path: Path, shared_data: Path) -> World:
    built = build_registry_and_reports(session)
    import_vulnerabilities(session, built, tmp_path, shared_data)
    session.commit()
    select_traffic(session, built, tmp_path)
    service.import_bundle(session=session, principal=ANALYST, bundle=partner_bundle(),
                          source="partner:jpcert-demo", attributed_to="partner:jpcert-demo",
                          consent=["administrative_body"])
    for summary in service.ingest(session=session, principal=ANALYST,
                                  sources=["reporting", "registry", "vulns"]):
        assert summary.rejected == 0, summary.line()
    selected = service.ingest(session=session, principal=SYSTEM, sources=["selection"])
    assert selected[0].stored > 0
    service.analyze(session=session, principal=SYSTEM)
    session.commit()
    return built


def _findings(session: Session, principal, kind: str) -> list[service.FindingOut]:  # type: ignore[no-untyped-def]
    return service.list_findings(session=session, principal=principal, kind=kind)


def _sources_land_once_with_cursors(session: Session, world: World) -> None:
    again = service.ingest(session=session, principal=ANALYST,
                           sources=["reporting", "registry", "vulns"])
    assert [s.stored for s in again] == [0, 0, 0]
    assert service.ingest(session=session, principal=SYSTEM,
                          sources=["selection"])[0].stored == 0
    incident = [r for r in service.search(session=session, principal=ANALYST,
                                          query="Intrusion at hikari") if r.type == "incident"]
    assert incident and incident[0].labels.names == {"SECRET", "ATTRIBUTED"}
    assert incident[0].labels.attributed[0].source == "operator:hikari"
    context = incident[0].provenance[0].context or {}
    assert context["sector"] == "railway" and context["incident_id"] == world.incidents["hikari"]


def _cross_sector_campaign(session: Session, world: World) -> None:
    (campaign,) = _findings(session, ANALYST, "cross_sector_campaign")
    assert campaign.params["sectors"] == ["electricity", "railway"]
    assert campaign.params["shared_indicators"] == [f"ipv4:{TIER2}"]
    assert set(LOTL) <= set(campaign.params["shared_techniques"])
    assert {i["incident_id"] for i in campaign.evidence["incidents"]} == set(
        world.incidents.values())
    assert campaign.confidence >= 60 and not campaign.labels.comms
    assert {a.source for a in campaign.labels.attributed} == {"operator:sakura",
                                                             "operator:hikari"}
    stored = service.get_object(session=session, principal=ANALYST,
                                stix_id=campaign.evidence["campaign"])
    assert stored.type == "campaign" and set(stored.derived_from) == set(
        campaign.evidence["objects"])


def _lotl_hint_across_operators(session: Session, world: World) -> None:
    (hint,) = _findings(session, ANALYST, "lotl")
    assert hint.params["techniques"] == sorted(LOTL)
    assert hint.params["operators"] == 2


def _two_tier_c2_structure_is_comms(session: Session, world: World) -> None:
    assert _findings(session, ANALYST, "c2_structure") == []
    structures = sorted(_findings(session, HANDLER, "c2_structure"),
                        key=lambda f: -f.params["tiers"])
    assert len(structures) == 2
    chain, other = structures
    assert chain.labels.comms
    assert chain.params["tiers"] == 2
    assert chain.params["c2_per_tier"] == {"1": 2, "2": 1}
    assert chain.params["bots"] == 6
    assert sorted(chain.evidence["c2"]["1"]) == sorted(TIER1)
    assert chain.evidence["c2"]["2"] == [TIER2]
    assert sorted(chain.params["relays"]) == sorted(TIER1)
    assert other.params["tiers"] == 1 and other.evidence["c2"]["1"] == [OTHER_C2]
    (shared,) = _findings(session, HANDLER, "shared_bots")
    # bots are not selectors: the zone pseudonymised them, and they stay pseudonyms
    assert len(shared.evidence["bots"]) == 1 and shared.evidence["bots"][0].startswith(
        "pseudonym ")
    botnet = service.get_object(session=session, principal=HANDLER,
                                stix_id=chain.evidence["botnet"])
    assert botnet.object["infrastructure_types"] == ["botnet"] and botnet.labels.comms
    graph = service.related(session=session, principal=HANDLER,
                            value_or_id=chain.evidence["botnet"], hops=2)
    controls = [e for e in graph.edges if e.via == "relationship" and e.detail == "controls"]
    assert len(controls) >= 3  # tier 2 controls both tier-1 servers, which control the botnet


def _exposure_of_the_register_to_the_campaign(session: Session, world: World) -> None:
    exposures = _findings(session, ANALYST, "exposure")
    routers = [f for f in exposures if f.params["computer_id"] == world.computers["router"]]
    assert routers, [f.params for f in exposures]
    assert routers[0].params["vulnerability"] == KEV_CVE and routers[0].params["kev"]
    assert routers[0].confidence >= 75
    assert not routers[0].labels.comms


def _correlation_by_reader(session: Session, world: World) -> None:
    analyst = service.related(session=session, principal=ANALYST, value_or_id=TIER2, hops=2)
    kinds = {(n.type, n.hop) for n in analyst.nodes}
    assert ("indicator", 1) in kinds and not any(n.labels.comms for n in analyst.nodes)
    names = {n.name for n in analyst.nodes}
    assert "C2 of Demo RAT" in names and "Demo RAT" in names
    handler = service.related(session=session, principal=HANDLER, value_or_id=TIER2, hops=2)
    comms = [n for n in handler.nodes if n.labels.comms]
    assert {n.type for n in comms} >= {"ipv4-addr", "observed-data"}
    c2 = stix.make_sco("ipv4-addr", value=TIER2)["id"]
    assert c2 in {n.stix_id for n in handler.nodes}


def _review_and_notes(session: Session, world: World) -> None:
    (campaign,) = _findings(session, ANALYST, "cross_sector_campaign")
    reviewed = service.review_finding(session=session, principal=ANALYST,
                                      finding_id=campaign.id, decision="confirmed",
                                      note="same C2 as the partner's Demo RAT")
    assert reviewed.status == "confirmed" and reviewed.reviewed_by == ANALYST.username
    service.analyze(session=session, principal=SYSTEM, analytics=["campaigns"])
    assert _findings(session, ANALYST, "cross_sector_campaign")[0].status == "confirmed"
    (structure, _) = _findings(session, HANDLER, "c2_structure")
    with pytest.raises(NotFound):
        service.review_finding(session=session, principal=ANALYST, finding_id=structure.id,
                               decision="rejected")


def test_every_source_cross_matched(session: Session, world: World) -> None:
    """Cursors, the cross-sector campaign, the LOTL hint, the register's exposure and
    correlation as each reader sees it."""
    _sources_land_once_with_cursors(session, world)
    _cross_sector_campaign(session, world)
    _lotl_hint_across_operators(session, world)
    _exposure_of_the_register_to_the_campaign(session, world)
    _correlation_by_reader(session, world)


def test_comms_structures_and_reviews(session: Session, world: World) -> None:
    """The two-tier C2 structure and shared bots (COMMS), then reviews and notes."""
    _two_tier_c2_structure_is_comms(session, world)
    _review_and_notes(session, world)
