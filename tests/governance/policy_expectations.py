"""Who may do each governance action (role x action matrix, see tests/access)."""

from mamori.access.principal import Resource

EXPECTED: dict[str, set[str]] = {
    "agreement.view": {"analyst", "admin", "committee_inspector"},
    "agreement.draft": {"analyst", "admin"},
    "agreement.conclude": {"admin"},
    "consent.view": {"analyst", "admin", "comms_handler", "committee_inspector"},
    "consent.manage": {"analyst", "admin"},
    "consent.activate": {"admin"},
    "selected_info.use": {"comms_handler"},
    "measure.view": {"analyst", "admin", "comms_handler", "committee_inspector"},
    "measure.request": {"analyst", "admin"},
    "measure.end": {"analyst", "admin"},
    "measure.approve": {"committee_inspector"},
    "measure.refuse": {"committee_inspector"},
    "cooperation.view": {"analyst", "admin", "committee_inspector"},
    "cooperation.manage": {"analyst", "admin"},
    "retention.view": {"admin", "committee_inspector"},
    "retention.purge": {"admin", "system"},
    "governance.parameters": {"analyst", "admin", "committee_inspector"},
    "governance.configure": {"admin"},
    "oversight.view": {"committee_inspector"},
}

RESOURCES: dict[str, Resource] = {
    "selected_info.use": Resource(type="selected_info", id="A-2026-0001",
                                  labels=frozenset({"COMMS"})),
    "measure.approve": Resource(type="governance.measure", id="M-2026-0001",
                                attrs={"requested_by": "someone-else"}),
    "measure.refuse": Resource(type="governance.measure", id="M-2026-0001",
                               attrs={"requested_by": "someone-else"}),
}
