"""authorize(): denials are audited and survive the caller's rollback; permitted access
to communications-derived data is audited with the caller's change; permitted() is
silent."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from mamori.access import auditing, policy, service
from mamori.access.models import ApiTokenRecord
from mamori.access.principal import Resource
from mamori.access.roster import today
from mamori.audit.models import AuditEntry
from mamori.errors import Forbidden

from .probe import extended_bundle
from .world import World

COMMS = Resource(type="probe", id="rec-1", labels=frozenset({"COMMS"}))
PROBE = extended_bundle()


@pytest.fixture(autouse=True)
def _probe_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(policy, "bundle", lambda: PROBE)


def test_denial_is_audited_even_though_the_request_is_rolled_back(
    world: World, audit_log: Callable[[], list[AuditEntry]]
) -> None:
    operator = world.add_user("opal", "operator", org=world.electric)
    world.session.commit()
    before = len(audit_log())
    with pytest.raises(Forbidden) as caught:
        service.authorize(
            session=world.session, principal=operator, action="user.add",
            resource=Resource(type="user", id="mallory"),
        )
    assert caught.value.status_code == 403
    world.session.rollback()
    entries = audit_log()[before:]
    assert [e.action for e in entries] == ["access.denied"]
    assert entries[0].actor == "opal"
    assert entries[0].details_dict["requested_action"] == "user.add"
    assert "deny by default" in entries[0].details_dict["reason"]


@pytest.mark.parametrize(("commit", "kept"), [
    (True, ["test.write", "access.denied"]), (False, ["access.denied"])],
    ids=["caller-commits", "caller-rolls-back"])
def test_denial_after_the_caller_wrote_to_the_log(
    world: World, audit_log: Callable[[], list[AuditEntry]], commit: bool, kept: list[str]
) -> None:
    """The caller holds the append lock: no self-deadlock, the entry joins its
    transaction; when that rolls back, the entry is written again on its own."""
    operator = world.add_user("opal", "operator", org=world.electric)
    world.session.commit()
    before = len(audit_log())
    auditing.record(world.session, actor="opal", action="test.write", object_type="t",
                    object_id="1")
    with pytest.raises(Forbidden):
        service.authorize(session=world.session, principal=operator, action="user.add",
                          resource=Resource(type="user", id="x"))
    if commit:
        world.session.commit()
    else:
        world.session.rollback()
    assert [e.action for e in audit_log()[before:]] == kept


def test_unknown_action_is_denied_and_audited(
    world: World, audit_log: Callable[[], list[AuditEntry]]
) -> None:
    with pytest.raises(Forbidden, match="unknown action"):
        service.authorize(session=world.session, principal=world.root,
                          action="user.obliterate", resource=Resource(type="user"))
    assert audit_log()[-1].action == "access.denied"


def test_permitted_comms_access_is_audited_with_purpose(
    world: World, audit_log: Callable[[], list[AuditEntry]]
) -> None:
    world.add_user("hana", "comms_handler")
    service.designate_handler(session=world.session, principal=world.root, username="hana",
                              training_completed_on=today())
    handler = world.principal("hana", mfa=True, purpose="specified_damage_prevention")
    assert handler.designated_handler
    world.session.commit()
    before = len(audit_log())
    service.authorize(session=world.session, principal=handler, action="probe.read",
                      resource=COMMS)
    world.session.commit()
    entries = audit_log()[before:]
    assert [e.action for e in entries] == ["access.comms_data"]
    assert entries[0].purpose == "specified_damage_prevention"
    assert (entries[0].object_type, entries[0].object_id) == ("probe", "rec-1")
    assert entries[0].details_dict["labels"] == ["COMMS"]


def test_comms_gate_denial_explains_itself(world: World) -> None:
    world.add_user("hana", "comms_handler")
    handler = world.principal("hana", mfa=True, purpose="specified_damage_prevention")
    assert not handler.designated_handler
    with pytest.raises(Forbidden, match="designated communications handler"):
        service.authorize(session=world.session, principal=handler,
                          action="probe.read", resource=COMMS)


def test_permitted_is_the_same_decision_without_audit(
    world: World, audit_log: Callable[[], list[AuditEntry]]
) -> None:
    operator = world.add_user("opal", "operator", org=world.electric)
    world.session.commit()
    before = len(audit_log())
    assert service.permitted(session=world.session, principal=world.root, action="user.add",
                             resource=Resource(type="user"))
    assert not service.permitted(session=world.session, principal=operator,
                                 action="user.add", resource=Resource(type="user"))
    assert not service.permitted(session=world.session, principal=operator,
                                 action="probe.read", resource=COMMS)
    world.session.commit()
    assert len(audit_log()) == before




def test_a_token_request_that_is_denied_keeps_its_audit_entry(
    world: World, audit_log: Callable[[], list[AuditEntry]]
) -> None:
    """Signing in with a token leaves the caller's transaction clean, so the denial that
    follows is written on its own and survives the request's rollback."""
    world.add_user("opal", "operator", org=world.electric)
    token = service.issue_api_token(session=world.session, principal=world.root,
                                    username="opal", name="cli")
    world.session.commit()
    before = len(audit_log())
    operator = service.principal_for_token(session=world.session, username="opal", token=token)
    with pytest.raises(Forbidden):
        service.authorize(session=world.session, principal=operator, action="user.list",
                          resource=Resource(type="user"))
    world.session.rollback()
    assert [e.action for e in audit_log()[before:]] == ["access.denied"]
    world.session.expire_all()
    row = world.session.scalars(select(ApiTokenRecord)).one()
    assert row.last_used_at is not None
