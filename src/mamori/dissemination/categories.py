"""The six recipient categories of the Act and the article each provision rests on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from mamori.errors import InvalidInput

ADMINISTRATIVE_BODY: Final = "administrative_body"
FOREIGN_GOVERNMENT: Final = "foreign_government"
COUNCIL_MEMBER: Final = "council_member"
SPECIAL_INFRASTRUCTURE_OPERATOR: Final = "special_infrastructure_operator"
COMPUTER_USER_PUBLIC: Final = "computer_user_public"
SUPPLIER: Final = "supplier"


@dataclass(frozen=True)
class Category:
    code: str
    name_ja: str
    name_en: str
    article: str

    def name(self, language: str) -> str:
        return self.name_ja if language == "ja" else self.name_en


CATEGORIES: Final[dict[str, Category]] = {
    c.code: c
    for c in (
        Category(ADMINISTRATIVE_BODY, "行政機関等", "Administrative bodies", "Art 38"),
        Category(FOREIGN_GOVERNMENT, "外国の政府等", "Foreign governments", "Art 28, Art 39"),
        Category(COUNCIL_MEMBER, "協議会の構成員", "Council members", "Art 45(3)"),
        Category(SPECIAL_INFRASTRUCTURE_OPERATOR, "特別社会基盤事業者",
                 "Special infrastructure operators", "Art 40"),
        Category(COMPUTER_USER_PUBLIC, "電子計算機を使用する者等",
                 "Computer users and the public", "Art 41"),
        Category(SUPPLIER, "電子計算機等供給者", "Computer suppliers", "Art 42"),
    )
}

TIER_NAMES: Final[dict[int, tuple[str, str]]] = {
    1: ("総合整理分析情報", "Integrated analysis information"),
    2: ("提供用総合整理分析情報", "Shareable analysis information"),
    3: ("周知等用総合整理分析情報", "Public analysis information"),
}


def category(code: str) -> Category:
    """The category ``code``; an unknown code is the caller's error."""
    found = CATEGORIES.get(code)
    if found is None:
        raise InvalidInput(
            f"unknown recipient category; categories are: {', '.join(CATEGORIES)}",
            field="category",
        )
    return found


def check_tier(tier: int) -> int:
    if tier not in TIER_NAMES:
        raise InvalidInput("a tier is 1, 2 or 3", field="tier")
    return tier
