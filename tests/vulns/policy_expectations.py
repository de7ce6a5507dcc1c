"""Who may do each vulnerability action (role x action matrix, see tests/access).

The standard resource of the per-operator actions is an operator's exposure owned by the
standard principal's organisation (1) and supervised by its ministry; of the per-case
actions, a case of a supplier that is the standard principal's organisation (1) with its
business ministry; of notices, notices addressed to organisation 1. So each row shows
every role that could ever be allowed; ``test_access.py`` checks the boundaries.
"""

from mamori.access.principal import Resource

AGENCY = {"analyst", "admin"}
EVERYONE = {"analyst", "admin", "ministry_liaison", "operator", "council_member", "supplier",
            "committee_inspector"}
OWN_EXPOSURE = Resource(type="vulns.operator", id="1", organisation_id=1,
                        attrs={"supervised_by_principal": True})
OWN_CASE = Resource(type="vulns.case", id="MAMORI-CASE-2026-0001", organisation_id=1,
                    labels=frozenset({"SECRET"}),
                    attrs={"business_ministry_is_principal": True, "sent": True})
PUBLIC_RECORD = Resource(type="vulns.vulnerability", id="CVE-2024-6387",
                         labels=frozenset({"PUBLIC"}))
OWN_NOTICES = Resource(type="vulns", organisation_id=1)

EXPECTED: dict[str, set[str]] = {
    "vulns.import": AGENCY | {"system"},
    "vulns.match": AGENCY | {"system"},
    "vulns.view": EVERYONE | {"system"},
    "vulns.exposure": AGENCY | {"system", "operator", "ministry_liaison"},
    "vulns.overview": AGENCY | {"ministry_liaison"},
    "vulns.suppress": {"analyst", "operator"},
    "vulns.notifications": {"analyst", "operator", "ministry_liaison", "supplier"},
    "vulns.catalogue_manage": {"analyst"},
    "vulns.supplier_manage": AGENCY,
    "vulns.case_manage": {"analyst"},
    "vulns.case_view": {"analyst", "supplier", "ministry_liaison"},
    "vulns.case_respond": {"supplier"},
    "vulns.measure_request": {"analyst", "ministry_liaison"},
    "vulns.advisory_generate": {"analyst"},
    "vulns.advisory_read": EVERYONE,
}

RESOURCES: dict[str, Resource] = {
    "vulns.view": PUBLIC_RECORD,
    "vulns.exposure": OWN_EXPOSURE,
    "vulns.suppress": OWN_EXPOSURE,
    "vulns.notifications": OWN_NOTICES,
    "vulns.case_view": OWN_CASE,
    "vulns.case_respond": OWN_CASE,
    "vulns.measure_request": OWN_CASE,
}
