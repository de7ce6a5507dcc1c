"""Art 9 orders, reminders (recorded once), exports (STIX and other laws' forms), drafts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mamori.errors import Forbidden, InvalidInput
from mamori.reporting import service
from mamori.reporting.models import Notification

from .conftest import NOW, audit_count, example
from .test_stix_export import assert_valid_stix

SYSTEM = __import__("mamori.access.principal", fromlist=["Principal"]).Principal.system(
    "report-reminders")


def _file(session, world, doc, **kw):
    result = service.file_report(session=session, principal=world["sakura"], document=doc,
                                 operator_id=world.operators["sakura"], **kw)
    session.commit()
    return result


def test_art9_order_is_answered_and_overdue_when_late(session, world) -> None:
    order = service.request_report(
        session=session, principal=world["meti"], regulation="art9_order",
        title="制御系への不正アクセスについて", operator_id=world.operators["sakura"], now=NOW)
    session.commit()
    assert order.status == "requested"
    assert order.deadlines[0].due_at == NOW + timedelta(hours=240)
    late = service.get_incident(session=session, principal=world["sakura"],
                                incident_id=order.id, now=NOW + timedelta(hours=241))
    assert late.status == "overdue"
    answer = example("final", incident=order.id, regulation="art9_order")
    done = _file(session, world, answer, now=NOW + timedelta(hours=1))
    assert done.status == "final" and done.deadlines[0].met_at is not None
    # a ministry that does not supervise the operator cannot order; nor can an operator
    for who in ("mlit", "sakura"):
        with pytest.raises(Forbidden):
            service.request_report(session=session, principal=world[who],
                                   regulation="art9_order", title="x",
                                   operator_id=world.operators["sakura"], now=NOW)
        session.rollback()
    with pytest.raises(InvalidInput, match="answer a request"):
        _file(session, world, example("final", regulation="art9_order", incident=None), now=NOW)


def test_reminders_are_recorded_once_and_overdue_noticed(session, world) -> None:
    incident = _file(session, world, example("preliminary"), now=NOW)
    update_due = next(d.due_at for d in incident.deadlines if d.kind == "update")
    first = service.send_due_reminders(session=session, principal=SYSTEM,
                                       now=update_due - timedelta(hours=20))
    session.commit()
    assert [(n.kind, n.report_kind, n.lead_hours) for n in first] == [
        ("reminder", "update", 24.0)]
    again = service.send_due_reminders(session=session, principal=SYSTEM,
                                       now=update_due - timedelta(hours=19))
    assert again == []
    late = service.send_due_reminders(session=session, principal=SYSTEM,
                                      now=update_due + timedelta(minutes=1))
    session.commit()
    assert [(n.kind, n.report_kind) for n in late] == [("overdue", "update")]
    notices = service.list_notifications(session=session, principal=world["sakura"])
    assert len(notices) == 2
    assert service.list_notifications(session=session, principal=world["hikari"]) == []
    read = service.mark_notification_read(session=session, principal=world["sakura"],
                                          notification_id=notices[0].id)
    assert read.read_at is not None
    with pytest.raises(Forbidden):
        service.mark_notification_read(session=session, principal=world["hikari"],
                                       notification_id=notices[0].id)
    with pytest.raises(Forbidden):
        service.send_due_reminders(session=session, principal=world["sakura"])
    assert session.query(Notification).count() == 2
    assert audit_count(session, "report.reminders_sent") == 2


def test_stix_export_through_the_service_is_valid(session, world) -> None:
    incident = _file(session, world, example("preliminary",
                                             computers=[world.computers["plc"]]), now=NOW)
    for who in ("sakura", "analyst", "meti"):
        bundle = service.export_incident(session=session, principal=world[who],
                                         incident_id=incident.id, format="stix")
        assert_valid_stix(bundle)
        identity = next(o for o in bundle["objects"] if o["type"] == "identity")
        assert identity["name"] == "さくら電力株式会社"
    assert audit_count(session, "report.exported") == 3


def test_form_exports(session, world) -> None:
    doc = example("final", fields={
        "summary": "顧客情報を含むサーバへの不正アクセス", "impact": "影響あり",
        "cause": {"value": "VPN 装置の脆弱性", "uncertain": True},
        "measures_taken": "パッチ適用", "personal_data_affected": True,
        "records_affected": {"value": 1200, "uncertain": True},
        "data_items": ["氏名", "住所"], "secondary_damage": {"not_obtainable": "調査中"},
    })
    incident = _file(session, world, doc, now=NOW)
    assert service.export_formats() == ["stix", "generic", "personal_information_leak"]
    leak = service.export_incident(session=session, principal=world["sakura"],
                                   incident_id=incident.id, format="personal_information_leak")
    fields = {f["key"]: f for f in leak["fields"]}
    assert fields["number_of_persons"]["value"] == 1200
    assert fields["number_of_persons"]["uncertain"] is True
    assert fields["data_items"]["value"] == ["氏名", "住所"]
    assert fields["secondary_damage"]["not_obtainable"] == "調査中"
    assert fields["reporter"]["value"] == "さくら電力株式会社"
    generic = service.export_incident(session=session, principal=world["analyst"],
                                      incident_id=incident.id, format="generic")
    fields = {f["key"]: f for f in generic["fields"]}
    assert fields["supervising_ministry"]["value"] == "経済産業省"
    assert fields["techniques"]["value"][0].startswith("T0869 ")
    with pytest.raises(InvalidInput, match="unknown form"):
        service.export_incident(session=session, principal=world["sakura"],
                                incident_id=incident.id, format="fax")


def test_drafts_are_kept_per_organisation(session, world) -> None:
    draft = service.save_draft(session=session, principal=world["sakura"],
                               document={"title": "途中"}, operator_id=world.operators["sakura"])
    session.commit()
    service.save_draft(session=session, principal=world["sakura"], draft_id=draft.id,
                       document={"title": "途中2"})
    assert [d.document["title"] for d in service.list_drafts(
        session=session, principal=world["sakura"])] == ["途中2"]
    assert service.list_drafts(session=session, principal=world["hikari"]) == []
    with pytest.raises(Forbidden):
        service.get_draft(session=session, principal=world["hikari"], draft_id=draft.id)
    _file(session, world, example("preliminary"), now=NOW, draft_id=draft.id)
    assert service.list_drafts(session=session, principal=world["sakura"]) == []


def test_member_reports_follow_the_feature_flag(session, world, env) -> None:
    from mamori.reporting.configuration import PACKAGED

    text = (PACKAGED / "workflows.toml").read_text(encoding="utf-8")
    doc = example("preliminary", regulation="art45_5_trading_partner")
    with pytest.raises(InvalidInput, match="disabled"):
        service.request_report(session=session, principal=world["analyst"],
                               regulation="art45_5_trading_partner", title="x",
                               organisation_id=world.orgs["aoba"], now=NOW)
    folder = env / "reporting"
    folder.mkdir()
    (folder / "workflows.toml").write_text(
        text.replace("[workflows.art45_5_trading_partner]\nenabled = false",
                     "[workflows.art45_5_trading_partner]\nenabled = true"), encoding="utf-8")
    asked = service.request_report(session=session, principal=world["analyst"],
                                   regulation="art45_5_trading_partner", title="取引先の事案",
                                   organisation_id=world.orgs["aoba"], now=NOW)
    session.commit()
    doc["incident"] = asked.id
    answered = service.file_report(session=session, principal=world["aoba"], document=doc,
                                   now=NOW + timedelta(hours=1))
    assert answered.status == "preliminary"
    assert answered.organisation_id == world.orgs["aoba"]
    with pytest.raises(Forbidden):
        service.get_incident(session=session, principal=world["sakura"], incident_id=asked.id)
