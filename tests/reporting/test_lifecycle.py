"""Filing: versions, routing to both recipients, who sees what, and errors that change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from mamori.errors import Conflict, Forbidden, InvalidInput, NotFound
from mamori.reporting import service
from mamori.reporting.models import Incident, ReportVersion

from .conftest import NOW, audit_count, example


def _preliminary(world, **changes):
    return example("preliminary", **{"computers": [world.computers["plc"]], **changes})


def file(session, world, who="sakura", doc=None, **kwargs):
    incident = service.file_report(
        session=session, principal=world[who], document=doc or _preliminary(world),
        operator_id=kwargs.pop("operator_id", world.operators["sakura"]), now=NOW, **kwargs)
    session.commit()
    return incident


def test_preliminary_update_final(session, world) -> None:
    first = file(session, world)
    assert (first.current_version, first.status) == (1, "preliminary")
    assert first.scope_decision == "reportable"  # detected inside the critical zone
    update = example("update", incident=first.id, computers=[world.computers["plc"]])
    second = file(session, world, doc=update)
    assert (second.id, second.current_version, second.status) == (first.id, 2, "update")
    final = example("final", incident=first.id)
    third = file(session, world, doc=final)
    assert third.status == "final"
    shown = service.get_incident(session=session, principal=world["sakura"],
                                 incident_id=first.id, now=NOW)
    assert [v.kind for v in shown.versions] == ["preliminary", "update", "final"]
    assert shown.versions[0].document["fields"]["summary"]["uncertain"] is True
    assert audit_count(session, "report.submitted") == 3
    with pytest.raises(Conflict, match="closed"):
        file(session, world, doc=example("update", incident=first.id))


def test_versions_are_immutable_in_the_database(session, world) -> None:
    incident = file(session, world)
    with pytest.raises(DBAPIError):
        session.execute(text("UPDATE rep_version SET kind = 'final' WHERE incident_id = :i"),
                        {"i": incident.id})
        session.flush()
    session.rollback()
    with pytest.raises(DBAPIError):
        session.execute(text("DELETE FROM rep_version WHERE incident_id = :i"),
                        {"i": incident.id})
        session.flush()
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ReportVersion)) == 1


def test_routed_to_ministry_and_cabinet_office_at_once(session, world) -> None:
    incident = file(session, world)
    recipients = {(r.recipient, r.code, r.organisation_id) for r in incident.routings}
    assert recipients == {("cabinet_office", "cabinet_office", None),
                          ("supervising_ministry", "meti", world.orgs["meti"])}
    for who in ("analyst", "meti"):
        seen = service.get_incident(session=session, principal=world[who],
                                    incident_id=incident.id)
        assert seen.id == incident.id
        assert [i.id for i in service.list_incidents(session=session,
                                                     principal=world[who])] == [incident.id]
    with pytest.raises(Forbidden):
        service.get_incident(session=session, principal=world["mlit"], incident_id=incident.id)
    assert service.list_incidents(session=session, principal=world["mlit"]) == []


def test_an_operator_sees_only_its_own_records(session, world) -> None:
    mine = file(session, world)
    rail = example("preliminary", computers=[world.computers["rail"]])
    theirs = file(session, world, who="hikari", doc=rail, operator_id=world.operators["hikari"])
    assert [i.id for i in service.list_incidents(session=session,
                                                 principal=world["sakura"])] == [mine.id]
    assert [i.id for i in service.list_incidents(session=session,
                                                 principal=world["hikari"])] == [theirs.id]
    for action in (
        lambda: service.get_incident(session=session, principal=world["sakura"],
                                     incident_id=theirs.id),
        lambda: service.export_incident(session=session, principal=world["sakura"],
                                        incident_id=theirs.id),
        lambda: file(session, world, doc=example("update", incident=theirs.id)),
    ):
        with pytest.raises(Forbidden):
            action()
        session.rollback()
    # nor file for another operator, nor name another operator's computer
    with pytest.raises(Forbidden):
        file(session, world, operator_id=world.operators["hikari"], doc=rail)
    session.rollback()
    with pytest.raises(InvalidInput, match="not registered"):
        file(session, world, doc=example("preliminary", computers=[world.computers["rail"]]))
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Incident)) == 2


def test_errors_change_nothing(session, world) -> None:
    before = session.scalar(select(func.count()).select_from(Incident))
    bad = [
        _preliminary(world, fields={}),  # summary missing
        _preliminary(world, detected_at=(NOW + timedelta(days=1)).isoformat(),
                     aware_at=(NOW + timedelta(days=1)).isoformat()),
        _preliminary(world, regulation="art99"),
        _preliminary(world, computers=[10**6]),
        _preliminary(world, kind="update", incident=10**6),
    ]
    for doc in bad:
        with pytest.raises((InvalidInput, NotFound)):
            file(session, world, doc=doc)
        session.rollback()
    assert session.scalar(select(func.count()).select_from(Incident)) == before
    assert audit_count(session, "report.submitted") == 0


def test_not_obtainable_only_for_computers_not_managed_directly(session, world) -> None:
    ok = _preliminary(world, computers=[
        {"id": world.computers["vendor"], "not_obtainable": "保守委託先の管理"}])
    assert file(session, world, doc=ok).current_version == 1
    bad = _preliminary(world, computers=[
        {"id": world.computers["plc"], "not_obtainable": "unknown"}])
    with pytest.raises(InvalidInput, match=r"R-4\.2-22"):
        file(session, world, doc=bad)


def test_no_going_back_to_a_preliminary_report(session, world) -> None:
    incident = file(session, world)
    file(session, world, doc=example("update", incident=incident.id))
    with pytest.raises(Conflict):
        file(session, world, doc=example("preliminary", incident=incident.id))


def test_indicators_and_computers_are_available_to_analysis(session, world) -> None:
    incident = file(session, world)
    found = service.reported_indicators(session=session, principal=world["analyst"],
                                        value="203.0.113.45")
    assert [(f["incident_id"], f["type"]) for f in found] == [(incident.id, "ipv4-addr")]
    linked = service.incidents_for_computers(session=session, principal=world["analyst"],
                                             computer_ids=[world.computers["plc"],
                                                           world.computers["fw"]])
    assert linked == {world.computers["plc"]: [incident.id], world.computers["fw"]: []}
    with pytest.raises(Forbidden):
        service.reported_indicators(session=session, principal=world["sakura"])


def test_scope_check(session, world) -> None:
    decision = service.check_scope(session=session, principal=world["sakura"],
                                   stage="attempt_blocked", operator_id=world.operators["sakura"],
                                   computer_ids=[world.computers["fw"]], techniques=["T1190"])
    assert decision.decision == "not_reportable"
    decision = service.check_scope(session=session, principal=world["sakura"],
                                   stage="detected_inside", zone="critical_equipment",
                                   category="plc")
    assert decision.decision == "reportable"
