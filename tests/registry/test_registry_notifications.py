"""Notifying computers: drafts, completeness per device category, the exemption for
custom-designed products, indirect management, and version history where every change
after notification is a change notification."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from mamori.errors import Conflict
from mamori.registry import service
from mamori.registry.entries import ComponentEntry, ComputerEntry
from mamori.registry.messages import RegistryInputError

from .conftest import World, audit_count, complete_plc


def test_drafts_history_and_change_notifications(session: Session, world: World) -> None:
    sakura, op = world["sakura"], world.operators["sakura"]
    draft = service.create_computer(session=session, principal=sakura, operator_id=op,
                                    entry=ComputerEntry(name="plc-1", device_category="plc"))
    assert (draft.status, draft.version) == ("draft", 1)
    with pytest.raises(RegistryInputError) as error:
        service.notify_computer(session=session, principal=sakura, computer_id=draft.id)
    assert error.value.field == "site"
    assert "site, facility, zone, product_vendor, product_name" in error.value.detail

    notified = service.update_computer(
        session=session, principal=sakura, computer_id=draft.id, notify=True,
        entry=complete_plc(components=[ComponentEntry(name="firmware", version="1.0")]),
    )
    assert (notified.status, notified.version) == ("notified", 2)
    assert notified.notified_at is not None

    renewed = service.update_computer(
        session=session, principal=sakura, computer_id=draft.id,
        entry=complete_plc(product_name="PLC-10", components=[
            ComponentEntry(name="firmware", version="2.0"), ComponentEntry(name="openssl")]),
    )
    assert (renewed.status, renewed.version) == ("notified", 3)
    history = service.computer_history(session=session, principal=sakura, computer_id=draft.id)
    assert [(v.version, v.notification) for v in history] == [
        (1, None), (2, "new"), (3, "change")]
    change = history[-1].changes
    assert change["fields"] == {"product_name": ["PLC-9", "PLC-10"]}
    assert change["components"]["added"] == ["firmware@2.0", "openssl"]
    assert change["components"]["removed"] == ["firmware@1.0"]
    assert history[-1].changed_by == "reg-sakura"

    same = service.update_computer(
        session=session, principal=sakura, computer_id=draft.id,
        entry=complete_plc(product_name="PLC-10", components=None),
    )
    assert same.version == 3, "saving without a change is not a new version"

    withdrawn = service.withdraw_computer(session=session, principal=sakura,
                                          computer_id=draft.id, reason="replaced")
    assert (withdrawn.status, withdrawn.version) == ("withdrawn", 4)
    with pytest.raises(Conflict):
        service.update_computer(session=session, principal=sakura, computer_id=draft.id,
                                entry=complete_plc())
    assert audit_count(session, "registry.computer.change_notified") == 1
    assert audit_count(session, "registry.computer.withdrawn") == 1
    assert service.list_components(session=session, principal=world["analyst"],
                                   purl_type=None, cpe_vendor=None) == []


def test_requirements_follow_the_configured_category_fields(
    session: Session, world: World
) -> None:
    admin, sakura, op = world["admin"], world["sakura"], world.operators["sakura"]
    entry = ComputerEntry(name="crm", device_category="cloud_application", zone="internal")
    with pytest.raises(RegistryInputError) as error:
        service.create_computer(session=session, principal=sakura, operator_id=op,
                                entry=entry, notify=True)
    assert error.value.field == "cloud_form"
    service.configure(session=session, principal=admin, key="category_fields",
                      value={"*": [], "cloud_application": ["zone"]}, reason="test")
    found = service.create_computer(session=session, principal=sakura, operator_id=op,
                                    entry=entry, notify=True)
    assert found.status == "notified"


def test_indirect_management_needs_who_manages_it(session: Session, world: World) -> None:
    sakura, op = world["sakura"], world.operators["sakura"]
    with pytest.raises(RegistryInputError) as error:
        service.create_computer(session=session, principal=sakura, operator_id=op,
                                entry=complete_plc(directly_managed=False), notify=True)
    assert error.value.field == "manager_name"
    service.configure(session=session, principal=world["admin"], key="indirect_management",
                      value={"manager_required": True, "contact_required": True})
    with pytest.raises(RegistryInputError) as error:
        service.create_computer(session=session, principal=sakura, operator_id=op, notify=True,
                                entry=complete_plc(directly_managed=False, manager_name="Vendor"))
    assert error.value.field == "manager_contact"
    found = service.create_computer(
        session=session, principal=sakura, operator_id=op, notify=True,
        entry=complete_plc(directly_managed=False, manager_name="Vendor",
                           manager_contact="soc@vendor.example"))
    assert found.manager_name == "Vendor" and not found.directly_managed


def test_the_custom_design_exemption_follows_its_rule(session: Session, world: World) -> None:
    admin, sakura, op = world["admin"], world["sakura"], world.operators["sakura"]
    with pytest.raises(RegistryInputError) as error:
        service.create_computer(session=session, principal=sakura, operator_id=op, notify=True,
                                entry=complete_plc(custom_designed=True))
    assert error.value.field == "exemption_reason"
    exempt = service.create_computer(
        session=session, principal=sakura, operator_id=op, notify=True,
        entry=complete_plc(custom_designed=True, exemption_reason="built for our plant only"))
    assert exempt.status == "exempt"
    assert service.computer_history(session=session, principal=sakura,
                                    computer_id=exempt.id)[-1].notification == "exemption"
    service.configure(session=session, principal=admin, key="custom_design_exemption",
                      value={"allowed": True, "reason_required": False, "categories": ["rtu"]})
    with pytest.raises(RegistryInputError, match="cannot claim"):
        service.create_computer(session=session, principal=sakura, operator_id=op,
                                entry=complete_plc("plc-2", custom_designed=True))
    service.configure(session=session, principal=admin, key="custom_design_exemption",
                      value={"allowed": False, "reason_required": False, "categories": ["*"]})
    with pytest.raises(RegistryInputError, match="not available"):
        service.create_computer(session=session, principal=sakura, operator_id=op,
                                entry=complete_plc("plc-3", custom_designed=True))


@pytest.mark.parametrize(
    ("field", "value"),
    [("device_category", "toaster"), ("zone", "outer_space"), ("cloud_form", "faas")],
)
def test_unknown_codes_are_refused_even_for_drafts(
    session: Session, world: World, field: str, value: str
) -> None:
    entry = ComputerEntry(name="x", **{field: value})
    with pytest.raises(RegistryInputError) as error:
        service.create_computer(session=session, principal=world["sakura"],
                                operator_id=world.operators["sakura"], entry=entry)
    assert error.value.field == field
    assert value not in error.value.detail


def test_settings_are_versioned_and_validated(session: Session, world: World) -> None:
    admin = world["admin"]
    assert service.configure(session=session, principal=admin, key="transition_months",
                             value=9) == 1
    assert service.configure(session=session, principal=admin, key="transition_months",
                             value=6, reason="back to the law") == 2
    shown = service.registry_settings(session=session, principal=world["sakura"])
    assert shown["transition_months"] == {"value": 6, "version": 2}
    for key, value in [("transition_months", 0), ("commencement_date", "someday"),
                       ("sectors", {"x": {"ja": "x"}}), ("colour", "red"),
                       ("taxonomy_version", 99)]:
        with pytest.raises(RegistryInputError):
            service.configure(session=session, principal=admin, key=key, value=value)
    assert audit_count(session, "registry.configured") == 2
