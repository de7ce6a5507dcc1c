"""Who may do each selection action (role x action matrix, see tests/access)."""

from mamori.access.principal import Resource

EXPECTED: dict[str, set[str]] = {
    "selection.run": {"comms_handler", "admin", "system"},
    "selection.view": {"analyst", "admin", "comms_handler", "committee_inspector"},
    "selection.configure": {"admin"},
    "selection.prefixes": {"admin"},
    "selectors.import": {"analyst", "admin"},
    "selectors.list": {"analyst", "admin", "comms_handler", "committee_inspector", "system"},
    "selection.export": {"comms_handler"},
    "selection.handover": {"comms_handler", "system"},
}

RESOURCES: dict[str, Resource] = {
    "selection.export": Resource(type="selection.record", labels=frozenset({"COMMS"})),
    "selection.handover": Resource(type="selection.record", labels=frozenset({"COMMS"})),
}
