"""Who may do each reporting action (role x action matrix, see tests/access).

The standard resource of the per-report actions is a report owned by the standard
principal's organisation (1) and routed to it, so the row shows every role that could
ever be allowed; ``test_lifecycle.py`` checks the boundaries (another organisation,
a ministry the report was not routed to).
"""

from mamori.access.principal import Resource

FILERS = {"operator", "council_member"}
RECEIVERS = {"analyst", "ministry_liaison"}
OWN_ROUTED_REPORT = Resource(
    type="report", id="1", labels=frozenset({"SECRET"}), organisation_id=1,
    attrs={"routed_to_requester": "true", "regulation": "art5"},
)
ORDER_TO_SUPERVISED_OPERATOR = Resource(
    type="report", labels=frozenset({"SECRET"}),
    attrs={"regulation": "art9_order", "supervised_by_requester": "true"},
)

EXPECTED: dict[str, set[str]] = {
    "report.file": FILERS,
    "report.draft": FILERS,
    "report.view": FILERS | RECEIVERS,
    "report.list": FILERS | RECEIVERS,
    "report.export": FILERS | RECEIVERS,
    "report.notifications": FILERS,
    "report.check": FILERS | RECEIVERS,
    "report.request": RECEIVERS,
    "report.remind": {"admin", "system"},
    "report.precursor_submit": {"operator"},
    "report.precursor_view": {"analyst"},
    "report.analysis": {"analyst"},
}

RESOURCES: dict[str, Resource] = {
    "report.view": OWN_ROUTED_REPORT,
    "report.export": OWN_ROUTED_REPORT,
    "report.file": OWN_ROUTED_REPORT,
    "report.draft": OWN_ROUTED_REPORT,
    "report.request": ORDER_TO_SUPERVISED_OPERATOR,
}
