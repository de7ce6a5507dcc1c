"""The rules of access.cedar that hold for every domain, checked one condition at a time."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mamori.access import policy
from mamori.access.principal import Principal, Resource
from mamori.access.purposes import PURPOSES

from .probe import extended_bundle

COMMS_PURPOSES = {
    "specified_damage_prevention",
    "agreement_party_damage_prevention",
    "other_purpose_consented",
}
# An action of the probe domain below, permitted to communications handlers on any
# resource, so that only the cross-domain rules decide.
ACTION = "probe.read"

HANDLER = Principal(
    username="handler",
    roles=frozenset({"comms_handler"}),
    user_id=7,
    organisation_id=1,
    organisation_kind="cabinet_office",
    designated_handler=True,
    mfa=True,
    purpose="specified_damage_prevention",
)
COMMS = Resource(type="probe", id="42", labels=frozenset({"COMMS"}))


EXTENDED = extended_bundle()


def test_the_extended_policies_validate() -> None:
    assert policy.validate(EXTENDED) == []


def decide(
    principal: Principal, resource: Resource = COMMS, action: str = ACTION
) -> policy.Decision:
    return policy.decide(principal, action, resource, using=EXTENDED)


def allowed(principal: Principal, resource: Resource = COMMS, action: str = ACTION) -> bool:
    return decide(principal, resource, action).allowed


def test_a_designated_handler_with_mfa_and_purpose_reaches_comms_data() -> None:
    assert allowed(HANDLER)


@pytest.mark.parametrize(
    "change",
    [
        {"designated_handler": False},
        {"mfa": False},
        {"purpose": None},
        {"roles": frozenset({"analyst"})},
        {"roles": frozenset({"admin"}), "purpose": "system_administration"},
    ],
    ids=["not-on-roster", "no-second-factor", "no-purpose", "analyst", "admin"],
)
def test_each_condition_of_the_comms_gate_is_necessary(change: dict[str, object]) -> None:
    principal = replace(HANDLER, **change)  # type: ignore[arg-type]
    decision = decide(principal)
    assert not decision.allowed
    if "roles" not in change:
        assert decision.policies == ("access.comms-gate",)
    # the same principal may still act on data that is not communications-derived
    if "roles" not in change:
        assert allowed(principal, Resource(type="probe", id="42"))


@pytest.mark.parametrize("purpose", sorted(PURPOSES))
def test_only_the_damage_prevention_and_consented_purposes_open_comms_data(purpose: str) -> None:
    assert allowed(HANDLER.with_purpose(purpose)) == (purpose in COMMS_PURPOSES)


def test_unknown_purpose_does_not_open_comms_data() -> None:
    assert not allowed(HANDLER.with_purpose("curiosity"))


def test_criminal_investigation_is_refused_everywhere() -> None:
    admin = Principal(username="root", roles=frozenset({"admin"}), organisation_id=1, mfa=True,
                      purpose="criminal_investigation")
    decision = decide(admin, Resource(type="user"), "user.list")
    assert not decision.allowed
    assert "access.no-criminal-investigation" in decision.policies
    assert allowed(replace(admin, purpose=None), Resource(type="user"), "user.list")


def test_provision_derived_is_gated_only_inside_selection() -> None:
    inside = Resource(type="selection.record", id="1", labels=frozenset({"PROVISION_DERIVED"}))
    outside = Resource(type="product", id="1", labels=frozenset({"PROVISION_DERIVED"}))
    assert policy.comms_derived(inside) and not policy.comms_derived(outside)
    nobody = replace(HANDLER, designated_handler=False)
    assert allowed(HANDLER, inside) and not allowed(nobody, inside)
    assert allowed(nobody, outside)


def test_python_and_cedar_agree_on_what_is_comms_derived() -> None:
    outsider = replace(HANDLER, designated_handler=False)
    for labels in ({"COMMS"}, {"PROVISION_DERIVED"}, {"SECRET"}, {"PUBLIC"}, set()):
        for kind in ("probe", "selection.record", "product"):
            resource = Resource(type=kind, id="1", labels=frozenset(labels))
            assert allowed(outsider, resource) != policy.comms_derived(resource), resource


def test_organisation_boundary() -> None:
    operator = Principal(username="op", roles=frozenset({"operator"}), organisation_id=5,
                         organisation_kind="operator")
    own = Resource(type="organisation", organisation_id=5)
    other = Resource(type="organisation", organisation_id=6)
    # the organisation directory is open to operators, but not another's records in it
    assert allowed(operator, own, "organisation.list")
    decision = decide(operator, other, "organisation.list")
    assert not decision.allowed and decision.policies == ("access.organisation-boundary",)
    for role in ("analyst", "ministry_liaison", "committee_inspector", "admin"):
        crossing = replace(operator, roles=frozenset({role}))
        assert allowed(crossing, other, "organisation.list"), role
    stateless = replace(operator, organisation_id=None)
    assert not allowed(stateless, own, "organisation.list")


def test_self_service_is_limited_to_ones_own_account() -> None:
    operator = Principal(username="op", roles=frozenset({"operator"}), organisation_id=5)
    mine = Resource(type="user", id="op", organisation_id=5)
    theirs = Resource(type="user", id="someone", organisation_id=5)
    for action in ("user.show", "user.token", "user.totp", "user.language"):
        assert allowed(operator, mine, action) and not allowed(operator, theirs, action)
    assert not allowed(operator, mine, "user.designate")


def test_system_jobs_touch_comms_data_only_through_the_maintenance_group() -> None:
    job = Principal.system("retention")
    assert allowed(job, COMMS, "probe.purge")
    assert not allowed(job, COMMS, "probe.read")
    assert allowed(job, Resource(type="probe"), "probe.read")
    operator = Principal(username="op", roles=frozenset({"operator"}), organisation_id=5)
    assert not allowed(operator, COMMS, "probe.purge")
    assert allowed(operator, Resource(type="probe"), "probe.purge")


def test_bootstrap_is_only_the_bootstrap_job() -> None:
    assert allowed(Principal.system("bootstrap"), Resource(type="user", id="root"), "user.add")
    assert not allowed(Principal.system("retention"), Resource(type="user", id="x"), "user.add")


def test_a_resource_attribute_of_an_unknown_type_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        decide(HANDLER, Resource(type="x", attrs={"nested": {"a": 1}}))


def test_decisions_name_the_deciding_policies() -> None:
    decision = decide(HANDLER)
    assert decision.allowed and decision.policies == ("probe.permit",)
    assert "no policy permits it" in policy.decide(
        Principal.anonymous(), "user.add", Resource(type="user")
    ).reason
