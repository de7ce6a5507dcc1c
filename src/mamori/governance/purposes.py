"""How governance reads purpose-of-use codes (``mamori.access.purposes``): which exist,
which need no consent, which may be a consent's specific purpose (ウ), and the one that
is never allowed (犯罪捜査, criminal investigation)."""

from __future__ import annotations

from mamori.access.purposes import PURPOSES
from mamori.errors import InvalidInput
from mamori.governance import constants as c

# Purposes for which SCI may be used without an other-purpose consent.
DEFAULT_PURPOSES = frozenset({c.PURPOSE_SPECIFIED_DAMAGE_PREVENTION, c.PURPOSE_AGREEMENT_PARTY})
# Purposes of platform work that are not a use of SCI at all.
NOT_SCI_USES = frozenset({"oversight_inspection", "system_administration"})


def known_purpose(code: str) -> bool:
    """Known to the platform, forbidden ones included (so that they can be refused)."""
    return code in PURPOSES


def consent_purposes() -> list[str]:
    """Codes that a consent may name as its purpose category."""
    return sorted(
        code for code, p in PURPOSES.items()
        if not p.forbidden and code not in DEFAULT_PURPOSES and code not in NOT_SCI_USES
    )


def check_other_purpose(code: str) -> None:
    """Raise unless ``code`` can be the purpose category of an other-purpose consent."""
    if code == c.PURPOSE_CRIMINAL_INVESTIGATION or (code in PURPOSES and PURPOSES[code].forbidden):
        raise InvalidInput("(ウ) purpose: criminal investigation can never be an other-purpose use")
    if code in DEFAULT_PURPOSES:
        raise InvalidInput(f"(ウ) purpose: {code} is not another purpose and needs no consent")
    if code not in consent_purposes():
        raise InvalidInput(f"(ウ) purpose: {code} is not a use of selected information")
