"""Who may do each dissemination action (role x action matrix, see tests/access)."""

from mamori.access.principal import Resource

ALL_ROLES = {"analyst", "comms_handler", "operator", "council_member", "supplier",
             "committee_inspector", "ministry_liaison", "admin", "recipient"}

EXPECTED: dict[str, set[str]] = {
    "recipient.view": {"analyst", "admin", "committee_inspector"},
    "recipient.manage": {"analyst", "admin"},
    "provision.check": {"analyst"},
    "provision.provide": {"analyst", "comms_handler"},
    "provision.view": {"analyst", "comms_handler", "committee_inspector"},
    "provision.deliver": {"analyst", "admin", "system"},
    "feedback.view": {"analyst", "committee_inspector"},
    "provision.review": {"analyst"},
    # A recipient organisation's own people, whatever their role; never the platform.
    "provision.receive": ALL_ROLES,
    "provision.feedback": ALL_ROLES,
    "provision.contribute": ALL_ROLES,
    "provision.outcome": {"operator", "council_member", "supplier", "recipient"},
}

_OWN = {"active_recipient": True, "entitled": True, "contribute": True}

RESOURCES: dict[str, Resource] = {
    "provision.receive": Resource(type="dissemination.recipient", id="r",
                                  organisation_id=1, attrs=_OWN),
    "provision.feedback": Resource(type="dissemination.provision", id="1",
                                   organisation_id=1, attrs=_OWN),
    "provision.contribute": Resource(type="dissemination.recipient", id="r",
                                     organisation_id=1, attrs=_OWN),
    "provision.outcome": Resource(type="dissemination", id="outcomes", organisation_id=1),
}
