"""Who may do each access-domain action, as the role x action matrix test checks it.

``EXPECTED`` maps an action to the roles (and "system") that are allowed it for the
standard principal and resource described in ``test_policy_matrix.py``; ``RESOURCES``
gives an action a more specific resource where the standard one says too little.
"""

from mamori.access.principal import Resource

EVERY_ROLE = {
    "analyst", "comms_handler", "operator", "council_member", "supplier",
    "committee_inspector", "ministry_liaison", "admin",
}

EXPECTED: dict[str, set[str]] = {
    "user.add": {"admin"},
    "user.list": {"admin", "committee_inspector"},
    "user.show": {"admin", "committee_inspector"},
    "user.token": {"admin"},
    "user.designate": {"admin"},
    "user.roster": {"admin", "committee_inspector"},
    "user.totp": {"admin"},
    "user.language": {"admin"},
    "user.unlock": {"admin"},
    "organisation.add": {"admin"},
    "organisation.list": EVERY_ROLE,
    "purpose.declare": {"analyst", "comms_handler"},
}

RESOURCES: dict[str, Resource] = {
    "purpose.declare": Resource(type="purpose", id="specified_damage_prevention"),
}
