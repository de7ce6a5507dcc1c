"""Public ATT&CK techniques, for generalising secret attack detail (tier 3) and for the
Navigator layer. Reads the compact ATT&CK catalogue that reporting vendors (MITRE
ATT&CK v18.1, with MITRE's licence beside it)."""

from __future__ import annotations

from mamori.products.sanitiser import Technique
from mamori.reporting import attack

ATTACK_VERSION = attack.VERSION
DOMAINS = attack.DOMAINS


def technique(technique_id: str) -> Technique | None:
    """The public technique of an ATT&CK id (Enterprise or ICS), or None."""
    found = attack.catalogue().technique(technique_id.strip().upper())
    if found is None:
        return None
    tactics = tuple(sorted(attack.catalogue().tactics_of(found.id)))
    return Technique(id=found.id, name=found.name, url=found.url, tactics=tactics)


def domain_of(technique_id: str) -> str | None:
    """``enterprise-attack`` or ``ics-attack`` for a known technique."""
    found = attack.catalogue().technique(technique_id.strip().upper())
    return DOMAINS[found.domain] if found is not None else None
