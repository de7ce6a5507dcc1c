"""Accounts, organisations, the first start, the roster and self-service.

Every refused request is a clear 4xx and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from mamori.access import service
from mamori.access.roster import today
from mamori.errors import Conflict, Forbidden, InvalidInput, MamoriError, NotFound

from .world import PASSWORD, World

GOOD: dict[str, Any] = {
    "username": "ana", "display_name": "Ana", "roles": ["analyst"], "password": PASSWORD,
}


def test_create_user_and_read_it_back(world: World) -> None:
    created = service.create_user(session=world.session, principal=world.root,
                                  organisation_id=world.cao, language="en", **GOOD)
    world.session.commit()
    shown = service.get_user(session=world.session, principal=world.root, username="ana")
    assert created == shown
    assert shown.roles == ["analyst"] and shown.organisation_code == "cao"
    assert shown.language == "en" and not shown.demo and not shown.totp_enrolled
    names = [u.username for u in service.list_users(session=world.session, principal=world.root)]
    assert names == ["ana", "root"]
    only_electric = service.list_users(session=world.session, principal=world.root,
                                       organisation_id=world.electric)
    assert only_electric == []


@pytest.mark.parametrize(
    ("change", "error", "status"),
    [
        ({"username": "Bad Name"}, InvalidInput, 422),
        ({"username": "x"}, InvalidInput, 422),
        ({"username": "system:bootstrap"}, InvalidInput, 422),
        ({"display_name": "  "}, InvalidInput, 422),
        ({"roles": []}, InvalidInput, 422),
        ({"roles": ["wizard"]}, InvalidInput, 422),
        ({"password": "short"}, InvalidInput, 422),
        ({"language": "fr"}, InvalidInput, 422),
        ({"organisation_id": 999_999}, NotFound, 404),
        ({"username": "root"}, Conflict, 409),
    ],
    ids=["username-charset", "username-short", "username-colon", "display-name", "no-role",
         "unknown-role", "short-password", "language", "unknown-organisation", "duplicate"],
)
def test_bad_input_is_a_clear_4xx_and_changes_nothing(
    world: World,
    snapshot: Callable[[], dict[str, int]],
    change: dict[str, Any],
    error: type[MamoriError],
    status: int,
) -> None:
    before = snapshot()
    arguments = {**GOOD, "organisation_id": world.cao, **change}
    with pytest.raises(error) as caught:
        service.create_user(session=world.session, principal=world.root, **arguments)
    world.session.rollback()
    assert caught.value.status_code == status
    assert caught.value.detail and "correct horse" not in caught.value.detail
    assert snapshot() == before


def test_only_administrators_add_users(
    world: World, snapshot: Callable[[], dict[str, int]]
) -> None:
    analyst = world.add_user("ana", "analyst")
    world.session.commit()
    before = snapshot()
    with pytest.raises(Forbidden):
        service.create_user(session=world.session, principal=analyst, username="eve",
                            display_name="Eve", roles=["admin"], organisation_id=world.cao,
                            password=PASSWORD)
    world.session.rollback()
    after = snapshot()
    assert after.pop("audit_entries") == before.pop("audit_entries") + 1  # the denial
    assert after == before


def test_bootstrap_ends_when_an_administrator_exists(world: World) -> None:
    assert not service.needs_bootstrap(session=world.session)
    with pytest.raises(Forbidden):
        service.bootstrap_principal(session=world.session)


def test_bootstrap_creates_only_the_first_administrator(session: Any, env: Any) -> None:
    boot = service.bootstrap_principal(session=session)
    org = service.create_organisation(session=session, principal=boot, code="cao",
                                      name_ja="内閣府", name_en="Cabinet Office",
                                      kind="cabinet_office")
    with pytest.raises(Forbidden):
        service.create_user(session=session, principal=boot, username="ana",
                            display_name="Ana", roles=["analyst"], organisation_id=org.id,
                            password=PASSWORD)
    with pytest.raises(Forbidden):
        service.issue_api_token(session=session, principal=boot, username="ana", name="x")
    service.create_user(session=session, principal=boot, username="root", display_name="Root",
                        roles=["admin"], organisation_id=org.id, password=PASSWORD)
    with pytest.raises(Forbidden):
        service.create_user(session=session, principal=boot, username="root2",
                            display_name="Root", roles=["admin"], organisation_id=org.id,
                            password=PASSWORD)
    with pytest.raises(Forbidden):
        service.create_organisation(session=session, principal=boot, code="other",
                                    name_ja="他", name_en="Other", kind="operator")


def test_organisations(world: World) -> None:
    operator = world.add_user("opal", "operator", org=world.electric)
    codes = [o.code for o in service.list_organisations(session=world.session,
                                                         principal=operator)]
    assert codes == ["cao", "electric", "railway"]
    found = service.get_organisation(session=world.session, principal=operator, code="railway")
    assert found.id == world.railway and found.name("ja") == "railway 組織"
    assert service.get_organisation(session=world.session, principal=operator,
                                    code=str(world.cao)).code == "cao"
    with pytest.raises(NotFound):
        service.get_organisation(session=world.session, principal=operator, code="nowhere")
    with pytest.raises(Conflict):
        service.create_organisation(session=world.session, principal=world.root, code="cao",
                                    name_ja="x", name_en="x", kind="cabinet_office")
    for bad in ({"code": "A B"}, {"kind": "guild"}, {"name_en": ""}, {"sector": "Power Grid"}):
        arguments = {"code": "newco", "name_ja": "新", "name_en": "New", "kind": "operator",
                     **bad}
        with pytest.raises(InvalidInput):
            service.create_organisation(session=world.session, principal=world.root,
                                        **arguments)
    with pytest.raises(Forbidden):
        service.create_organisation(session=world.session, principal=operator, code="mine",
                                    name_ja="私", name_en="Mine", kind="operator")


def test_who_may_see_accounts(world: World) -> None:
    operator = world.add_user("opal", "operator", org=world.electric)
    inspector = world.add_user("ines", "committee_inspector")
    assert service.get_user(session=world.session, principal=operator,
                            username="opal").username == "opal"
    with pytest.raises(Forbidden):
        service.get_user(session=world.session, principal=operator, username="ines")
    # no enumeration: a missing account is Forbidden, not NotFound, for those without the right
    with pytest.raises(Forbidden):
        service.get_user(session=world.session, principal=operator, username="ghost")
    with pytest.raises(NotFound):
        service.get_user(session=world.session, principal=world.root, username="ghost")
    with pytest.raises(Forbidden):
        service.list_users(session=world.session, principal=operator)
    assert len(service.list_users(session=world.session, principal=inspector)) == 3


def test_language_is_self_service(world: World) -> None:
    operator = world.add_user("opal", "operator", org=world.electric)
    world.add_user("rail", "operator", org=world.railway)
    assert service.set_language(session=world.session, principal=operator, username="opal",
                                language="en").language == "en"
    with pytest.raises(InvalidInput):
        service.set_language(session=world.session, principal=operator, username="opal",
                             language="xx")
    with pytest.raises(Forbidden):
        service.set_language(session=world.session, principal=operator, username="rail",
                             language="en")


def test_replacing_ones_own_second_factor_needs_it(world: World) -> None:
    inspector = world.add_user("ines", "committee_inspector")
    service.enroll_totp(session=world.session, principal=inspector, username="ines")
    with pytest.raises(Forbidden, match="second factor"):
        service.enroll_totp(session=world.session, principal=inspector, username="ines")
    fresh = world.principal("ines", mfa=True)
    service.enroll_totp(session=world.session, principal=fresh, username="ines")
    service.enroll_totp(session=world.session, principal=world.root, username="ines")


def test_tokens_are_named_and_self_service(world: World) -> None:
    operator = world.add_user("opal", "operator", org=world.electric)
    world.add_user("rail", "operator", org=world.railway)
    service.issue_api_token(session=world.session, principal=operator, username="opal",
                            name="laptop")
    with pytest.raises(Conflict):
        service.issue_api_token(session=world.session, principal=operator, username="opal",
                                name="laptop")
    with pytest.raises(InvalidInput):
        service.issue_api_token(session=world.session, principal=operator, username="opal",
                                name="has space")
    with pytest.raises(Forbidden):
        service.issue_api_token(session=world.session, principal=operator, username="rail",
                                name="x")
    with pytest.raises(NotFound):
        service.revoke_api_token(session=world.session, principal=operator, username="opal",
                                 name="desktop")
    service.revoke_api_token(session=world.session, principal=operator, username="opal",
                             name="laptop")
    service.issue_api_token(session=world.session, principal=operator, username="opal",
                            name="laptop")


def test_roster_of_designated_handlers(
    world: World, audit_log: Callable[[], list[Any]]
) -> None:
    world.add_user("hana", "comms_handler")
    world.add_user("ana", "analyst")
    inspector = world.add_user("ines", "committee_inspector")
    day = today()
    with pytest.raises(InvalidInput, match="comms_handler"):
        service.designate_handler(session=world.session, principal=world.root,
                                  username="ana", training_completed_on=day)
    with pytest.raises(InvalidInput, match="future"):
        service.designate_handler(session=world.session, principal=world.root,
                                  username="hana",
                                  training_completed_on=day + timedelta(days=1))
    with pytest.raises(InvalidInput, match="precede"):
        service.designate_handler(session=world.session, principal=world.root,
                                  username="hana", training_completed_on=day,
                                  valid_from=day - timedelta(days=1))
    with pytest.raises(InvalidInput, match="ends before"):
        service.designate_handler(session=world.session, principal=world.root,
                                  username="hana", training_completed_on=day,
                                  valid_until=day - timedelta(days=1))
    with pytest.raises(Forbidden):
        service.designate_handler(session=world.session, principal=inspector,
                                  username="hana", training_completed_on=day)
    assert not world.principal("hana").designated_handler
    entry = service.designate_handler(session=world.session, principal=world.root,
                                      username="hana",
                                      training_completed_on=day - timedelta(days=3))
    world.session.commit()
    assert entry.current and entry.valid_from == day
    assert entry.valid_until == day + timedelta(days=365)
    assert entry.acknowledged_on == day - timedelta(days=3)
    assert audit_log()[-1].action == "user.designated"
    assert world.principal("hana").designated_handler
    roster = service.list_roster(session=world.session, principal=inspector)
    assert [e.username for e in roster] == ["hana"]
    with pytest.raises(Forbidden):
        service.list_roster(session=world.session, principal=world.principal("ana"))
    service.revoke_designation(session=world.session, principal=world.root, username="hana")
    assert not world.principal("hana").designated_handler
    assert service.list_roster(session=world.session, principal=inspector) == []
    history = service.list_roster(session=world.session, principal=inspector,
                                  include_past=True)
    assert len(history) == 1 and history[0].revoked_at is not None
    with pytest.raises(NotFound):
        service.revoke_designation(session=world.session, principal=world.root,
                                   username="hana")


def test_an_expired_designation_no_longer_counts(world: World) -> None:
    world.add_user("hana", "comms_handler")
    day = today()
    service.designate_handler(
        session=world.session, principal=world.root, username="hana",
        training_completed_on=day - timedelta(days=400), valid_from=day - timedelta(days=400),
        valid_until=day - timedelta(days=35),
    )
    assert not world.principal("hana").designated_handler
