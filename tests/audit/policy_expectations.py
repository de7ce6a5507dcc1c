"""Who may do each audit action (role x action matrix, see tests/access)."""

from mamori.access.principal import Resource

INSPECTORS = {"committee_inspector", "admin"}

EXPECTED: dict[str, set[str]] = {
    "audit.read": INSPECTORS,
    "audit.verify": INSPECTORS,
    "audit.export": INSPECTORS,
    "audit.sth": INSPECTORS,
}

RESOURCES: dict[str, Resource] = {action: Resource(type="AuditLog") for action in EXPECTED}
