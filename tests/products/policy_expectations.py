"""Who may do each products action (role x action matrix, see tests/access).

The standard resource of ``product.determine`` is labelled COMMS, as every
determination is: only a designated handler with a second factor and a purpose passes.
"""

from mamori.access.principal import Resource

MAKERS = {"analyst", "comms_handler"}

EXPECTED: dict[str, set[str]] = {
    "product.compose": MAKERS,
    "product.build": MAKERS | {"system"},
    "product.view": MAKERS | {"ministry_liaison", "committee_inspector", "system"},
    "product.list": MAKERS | {"ministry_liaison", "committee_inspector", "system"},
    "product.build_records": MAKERS | {"committee_inspector"},
    "product.criteria_manage": {"admin"},
    "product.criteria_view": MAKERS | {"admin", "committee_inspector"},
    "product.determine": {"comms_handler"},
}

RESOURCES: dict[str, Resource] = {
    "product.determine": Resource(type="product.determination", labels=frozenset({"COMMS"})),
}
