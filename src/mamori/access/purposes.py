"""Purposes of use (利用目的) that a principal declares for a session.

A communications handler must declare one before touching communications-derived
data; which purposes a role may declare, and which purposes open communications-derived
data, is written in ``policies/access.cedar``. Criminal investigation is listed so that
it can be named and refused: it is never permitted (R-2.3-10).
"""

from __future__ import annotations

from dataclasses import dataclass

from mamori.errors import InvalidInput


@dataclass(frozen=True)
class Purpose:
    code: str
    ja: str
    en: str
    forbidden: bool = False

    def label(self, language: str) -> str:
        return self.ja if language == "ja" else self.en


PURPOSES: dict[str, Purpose] = {
    p.code: p
    for p in (
        Purpose(
            "specified_damage_prevention",
            "特定被害防止目的",
            "Specified damage-prevention purpose",
        ),
        Purpose(
            "agreement_party_damage_prevention",
            "協定当事者の電子計算機に対する被害の防止（協定目的②）",
            "Preventing damage to the agreement party's own computers (agreement purpose ②)",
        ),
        Purpose(
            "other_purpose_consented",
            "同意に基づく他目的利用",
            "Other-purpose use under a recorded consent",
        ),
        Purpose("oversight_inspection", "監理委員会による検査", "Oversight-committee inspection"),
        Purpose("system_administration", "システム管理", "System administration"),
        Purpose("criminal_investigation", "犯罪捜査", "Criminal investigation", forbidden=True),
    )
}


def get_purpose(code: str) -> Purpose:
    """The purpose named ``code``; an unknown or forbidden purpose is the caller's error."""
    purpose = PURPOSES.get(code)
    if purpose is None:
        known = ", ".join(c for c, p in PURPOSES.items() if not p.forbidden)
        raise InvalidInput(f"unknown purpose of use {code!r}; known: {known}", field="purpose")
    if purpose.forbidden:
        raise InvalidInput(
            f"purpose {code!r} is never permitted (R-2.3-10)", field="purpose"
        )
    return purpose


def declarable() -> list[Purpose]:
    """Purposes that may be declared at all (a role's policy narrows them further)."""
    return [p for p in PURPOSES.values() if not p.forbidden]
