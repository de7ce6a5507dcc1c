"""Who may do each registry action (role x action matrix, see tests/access).

The standard resource of the per-operator actions is an operator's register owned by
the standard principal's organisation (1) and supervised by its ministry, so the row
shows every role that could ever be allowed; ``test_registry_access.py`` checks the
boundaries (another organisation, another ministry).
"""

from mamori.access.principal import Resource

AGENCY = {"analyst", "admin"}
OWN_REGISTER = Resource(
    type="registry.operator", id="1", organisation_id=1,
    attrs={"sector": "electricity", "supervising_ministry": "meti",
           "supervised_by_principal": True},
)

EXPECTED: dict[str, set[str]] = {
    "operator.add": AGENCY,
    "operator.edit": AGENCY,
    "operator.list": AGENCY | {"ministry_liaison", "operator", "system"},
    "registry.view": AGENCY | {"system", "operator", "ministry_liaison"},
    "registry.notify": AGENCY | {"operator"},
    "registry.consult": {"operator"},
    "registry.answer": AGENCY | {"ministry_liaison"},
    "registry.overview": AGENCY | {"ministry_liaison"},
    "registry.components": AGENCY | {"system"},
    "registry.settings": AGENCY | {"ministry_liaison", "operator", "committee_inspector"},
    "registry.configure": {"admin"},
}

RESOURCES: dict[str, Resource] = {
    "registry.view": OWN_REGISTER,
    "registry.notify": OWN_REGISTER,
    "registry.consult": OWN_REGISTER,
    "registry.answer": OWN_REGISTER,
    "operator.edit": OWN_REGISTER,
}
