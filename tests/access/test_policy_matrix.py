"""Every role against every action in the merged schema, checked against the tables
each domain keeps in ``tests/<domain>/policy_expectations.py`` (deny by default).

The standard principal of a role belongs to organisation 1, is on the roster when it is
a comms_handler, has a second factor when its role requires one and has declared its
role's usual purpose. The standard resource of an action ``d.v`` has kind ``d``, no id,
no labels and no owner, unless the domain's ``RESOURCES`` gives another. The column
"system" is the platform's own job principal.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from mamori.access import policy
from mamori.access.principal import ROLES, Principal, Resource
from mamori.access.roles import TOTP_ROLES

TESTS = Path(__file__).resolve().parents[1]
COLUMNS = (*ROLES, "system")
USUAL_PURPOSE = {
    "comms_handler": "specified_damage_prevention",
    "analyst": "specified_damage_prevention",
    "committee_inspector": "oversight_inspection",
    "admin": "system_administration",
}


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"expectations_{path.parent.name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _collect() -> tuple[dict[str, set[str]], dict[str, Resource], dict[str, str]]:
    expected: dict[str, set[str]] = {}
    resources: dict[str, Resource] = {}
    owner: dict[str, str] = {}
    for path in sorted(TESTS.glob("*/policy_expectations.py")):
        module = _load(path)
        for action, roles in module.EXPECTED.items():
            assert action not in expected, f"{action} expected by {owner[action]} and {path}"
            expected[action] = set(roles)
            owner[action] = str(path.relative_to(TESTS))
        resources.update(getattr(module, "RESOURCES", {}))
    return expected, resources, owner


EXPECTED, RESOURCES, OWNER = _collect()
ACTIONS = policy.declared_actions()
DECLARED_IN = policy.declaring_files()


def standard_principal(column: str) -> Principal:
    if column == "system":
        return Principal.system("matrix")
    return Principal(
        username=f"matrix-{column}",
        roles=frozenset({column}),
        user_id=1,
        organisation_id=1,
        organisation_kind="cabinet_office",
        designated_handler=column == "comms_handler",
        mfa=column in TOTP_ROLES,
        purpose=USUAL_PURPOSE.get(column),
        via="web",
    )


def standard_resource(action: str) -> Resource:
    return RESOURCES.get(action) or Resource(type=action.split(".", 1)[0])


def test_the_merged_policies_validate_against_the_merged_schema() -> None:
    assert policy.validate() == []


@pytest.mark.parametrize("action", ACTIONS)
def test_role_matrix(action: str) -> None:
    domain = DECLARED_IN.get(action, "<domain>")
    assert action in EXPECTED, (
        f"{action} is declared in policies/{domain}.cedarschema but has no row in "
        f"tests/{domain}/policy_expectations.py (EXPECTED: action -> allowed roles)"
    )
    resource = standard_resource(action)
    allowed = {
        column for column in COLUMNS
        if policy.decide(standard_principal(column), action, resource).allowed
    }
    assert allowed == EXPECTED[action], f"{action} (table in {OWNER[action]})"


def test_every_expected_action_is_declared() -> None:
    stale = sorted(set(EXPECTED) - set(ACTIONS))
    assert stale == [], f"expected rows for actions the schema does not declare: {stale}"


@pytest.mark.parametrize("column", COLUMNS)
def test_deny_by_default(column: str) -> None:
    """Unknown actions, strangers and undeclared principals get nothing."""
    principal = standard_principal(column)
    assert not policy.decide(principal, "no_such.action", Resource(type="no_such")).allowed
    anonymous = Principal.anonymous()
    for action in ACTIONS:
        assert not policy.decide(anonymous, action, standard_resource(action)).allowed
    roleless = Principal(username="nobody", organisation_id=1, mfa=True)
    for action in ACTIONS:
        assert not policy.decide(roleless, action, standard_resource(action)).allowed
