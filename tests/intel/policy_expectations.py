"""Who may do each intel action (role x action matrix, see tests/access).

The standard resource is the intel domain with no labels; COMMS-labelled objects are
behind the comms gate of access.cedar, which ``test_visibility.py`` exercises.
"""

from mamori.access.principal import Resource

READERS = {"analyst", "comms_handler"}

EXPECTED: dict[str, set[str]] = {
    "intel.view": READERS,
    "intel.export": READERS,
    "intel.import": READERS | {"system"},
    "intel.annotate": READERS,
    "intel.review": READERS,
    "intel.ingest": READERS | {"system"},
    "intel.analyze": READERS | {"system"},
    "intel.sources": {"analyst", "admin", "system"},
}

RESOURCES: dict[str, Resource] = {
    "intel.sources": Resource(type="intel.source", id="partner"),
}
