"""Who sees what: an operator only its own register, a ministry liaison only the
operators its ministry supervises, the Cabinet Office everything; consultations and
the component index for the vulnerability matcher."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.errors import Forbidden, NotFound
from mamori.registry import service
from mamori.registry.entries import ComponentEntry

from .conftest import World, audit_count, complete_plc


@pytest.fixture
def computers(session: Session, world: World) -> dict[str, int]:
    made = {}
    for key in ("sakura", "hikari"):
        computer = service.create_computer(
            session=session, principal=world[key], operator_id=world.operators[key],
            notify=True, entry=complete_plc(f"{key}-plc", components=[
                ComponentEntry(name="openssl", version="3.0.13",
                               cpe="cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*",
                               purl="pkg:generic/openssl@3.0.13")]),
        )
        made[key] = computer.id
    session.commit()
    return made


def test_an_operator_sees_only_its_own_records(
    session: Session, world: World, computers: dict[str, int]
) -> None:
    sakura = world["sakura"]
    assert [o.id for o in service.list_operators(session=session, principal=sakura)] == [
        world.operators["sakura"]]
    assert [c.id for c in service.find_computers(session=session, principal=sakura)] == [
        computers["sakura"]]
    assert [c.id for c in service.find_computers(
        session=session, principal=sakura, ids=list(computers.values()))] == [computers["sakura"]]
    denials = audit_count(session, "access.denied")
    calls = [
        lambda: service.get_operator(session=session, principal=sakura,
                                     operator_id=world.operators["hikari"]),
        lambda: service.get_computer(session=session, principal=sakura,
                                     computer_id=computers["hikari"]),
        lambda: service.find_computers(session=session, principal=sakura,
                                       operator_id=world.operators["hikari"]),
        lambda: service.computer_history(session=session, principal=sakura,
                                         computer_id=computers["hikari"]),
        lambda: service.import_file(session=session, principal=sakura,
                                    operator_id=world.operators["hikari"],
                                    data=b"computer\nx\n"),
        lambda: service.update_computer(session=session, principal=sakura,
                                        computer_id=computers["hikari"],
                                        entry=complete_plc("stolen")),
        lambda: service.ask(session=session, principal=sakura,
                            operator_id=world.operators["hikari"], subject="s", question="q"),
        lambda: service.list_components(session=session, principal=sakura),
        lambda: service.export_sbom(session=session, principal=sakura,
                                    computer_id=computers["hikari"]),
        lambda: service.add_operator(session=session, principal=sakura, name="x",
                                     sector="gas"),
    ]
    for call in calls:
        with pytest.raises(Forbidden):
            call()
    assert audit_count(session, "access.denied") == denials + len(calls)
    hikari = service.get_computer(session=session, principal=world["hikari"],
                                  computer_id=computers["hikari"])
    assert hikari.name == "hikari-plc"


def test_ministry_liaisons_see_the_operators_they_supervise(
    session: Session, world: World, computers: dict[str, int]
) -> None:
    meti, mlit = world["meti"], world["mlit"]
    assert [o.id for o in service.list_operators(session=session, principal=meti)] == [
        world.operators["sakura"]]
    assert [c.id for c in service.find_computers(session=session, principal=mlit)] == [
        computers["hikari"]]
    with pytest.raises(Forbidden):
        service.get_computer(session=session, principal=meti, computer_id=computers["hikari"])
    with pytest.raises(Forbidden):
        service.import_file(session=session, principal=mlit,
                            operator_id=world.operators["hikari"], data=b"computer\nx\n")
    ministry = service.operator_supervising_ministry(
        session=session, principal=meti, operator_id=world.operators["sakura"])
    assert (ministry.code, ministry.name_ja, ministry.organisation_id) == (
        "meti", "経済産業省", world.orgs["meti"])


def test_the_agency_and_the_matcher_read_everything(
    session: Session, world: World, computers: dict[str, int]
) -> None:
    analyst = world["analyst"]
    assert len(service.find_computers(session=session, principal=analyst)) == 2
    matcher = Principal.system("vulnerability-matcher")
    found = service.list_components(session=session, principal=matcher, cpe_vendor="OpenSSL",
                                    cpe_product="openssl")
    assert sorted(c.computer_id for c in found) == sorted(computers.values())
    resolved = service.find_computers(session=session, principal=matcher,
                                      ids=[c.computer_id for c in found])
    assert {c.operator_id for c in resolved} == set(world.operators.values())
    by_purl = service.list_components(session=session, principal=analyst, purl_type="generic",
                                      purl_name="openssl",
                                      operator_id=world.operators["hikari"])
    assert [c.computer_id for c in by_purl] == [computers["hikari"]]
    assert service.list_components(session=session, principal=analyst, purl_name="nope") == []
    with pytest.raises(NotFound):
        service.get_computer(session=session, principal=analyst, computer_id=9999)


def test_consultations_are_kept_with_the_record(
    session: Session, world: World, computers: dict[str, int]
) -> None:
    sakura, op = world["sakura"], world.operators["sakura"]
    question = service.ask(session=session, principal=sakura, operator_id=op,
                           computer_id=computers["sakura"], subject="Laptop",
                           question="Is the maintenance laptop notifiable?")
    assert question.status == "open"
    assert [c.id for c in service.open_consultations(session=session,
                                                     principal=world["meti"])] == [question.id]
    assert service.open_consultations(session=session, principal=world["mlit"]) == []
    with pytest.raises(Forbidden):
        service.answer(session=session, principal=world["mlit"], consultation_id=question.id,
                       answer="no", conclusion="not_required")
    with pytest.raises(Forbidden):
        service.answer(session=session, principal=sakura, consultation_id=question.id,
                       answer="no", conclusion="not_required")
    answered = service.answer(session=session, principal=world["meti"],
                              consultation_id=question.id, answer="Not if it stays offline.",
                              conclusion="not_required")
    assert (answered.status, answered.answered_by) == ("answered", "reg-meti")
    kept = service.list_consultations(session=session, principal=sakura, operator_id=op,
                                      computer_id=computers["sakura"])
    assert [(c.answer, c.conclusion) for c in kept] == [
        ("Not if it stays offline.", "not_required")]
    from mamori.errors import Conflict

    with pytest.raises(Conflict):
        service.answer(session=session, principal=world["analyst"],
                       consultation_id=question.id, answer="again", conclusion="see_answer")
    assert audit_count(session, "registry.consultation.answered") == 1
