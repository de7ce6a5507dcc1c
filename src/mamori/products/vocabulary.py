"""The fixed vocabulary of products: uses, readers, tiers, handling labels and the reason
codes of the sanitisation report, each with its Japanese and English name.

Pure constants, so that the sanitiser, the lint, the renderers and the pages agree.
"""

from __future__ import annotations

from typing import Final, Literal

Use = Literal["tactical", "operational", "strategic"]
Format = Literal["stix", "csaf", "html", "pdf", "navigator"]

# Uses of a product (Basic Policy Ch. 4 §3(1), R-4.3-3).
USES: Final[dict[str, dict[str, str]]] = {
    "tactical": {"ja": "戦術（検知・防御）", "en": "Tactical (detection and prevention)"},
    "operational": {"ja": "作戦（インシデント対応）", "en": "Operational (incident response)"},
    "strategic": {"ja": "戦略（意思決定）", "en": "Strategic (decision-making)"},
}

# Readers (閲読者, R-4.3-3): the recipient categories, and the functions that the printable
# report adapts its order and wording to.
READERS: Final[dict[str, dict[str, str]]] = {
    "administrative_body": {"ja": "行政機関等", "en": "Administrative bodies"},
    "foreign_government": {"ja": "外国の政府等", "en": "Foreign governments"},
    "council_member": {"ja": "協議会の構成員", "en": "Council members"},
    "special_infrastructure_operator": {"ja": "特別社会基盤事業者",
                                        "en": "Special infrastructure operators"},
    "computer_user_public": {"ja": "電子計算機を使用する者等・一般",
                             "en": "Computer users and the public"},
    "supplier": {"ja": "電子計算機等供給者", "en": "Suppliers"},
    "executive": {"ja": "経営層", "en": "Executives"},
    "security_team": {"ja": "セキュリティ担当者", "en": "Security teams"},
    "policy_maker": {"ja": "政策担当者", "en": "Policy makers"},
}

# Tiers (ARCHITECTURE.md "Handling labels and tiers").
TIERS: Final[dict[int, dict[str, str]]] = {
    1: {"ja": "総合整理分析情報", "en": "Integrated analysis information (tier 1)"},
    2: {"ja": "提供用総合整理分析情報", "en": "Shareable analysis information (tier 2)"},
    3: {"ja": "周知等用総合整理分析情報", "en": "Public analysis information (tier 3)"},
}

COMMS: Final = "COMMS"
PROVISION_DERIVED: Final = "PROVISION_DERIVED"
SECRET: Final = "SECRET"  # noqa: S105 (a label, not a password)
ATTRIBUTED: Final = "ATTRIBUTED"
PUBLIC: Final = "PUBLIC"
LABELS: Final = (COMMS, PROVISION_DERIVED, SECRET, ATTRIBUTED, PUBLIC)

# Labels whose content a tier may not carry. PROVISION_DERIVED content is allowed in
# tier 2 only when its determination stands (see ``criteria``).
FORBIDDEN: Final[dict[int, frozenset[str]]] = {
    1: frozenset(),
    2: frozenset({COMMS}),
    3: frozenset({COMMS, PROVISION_DERIVED, SECRET}),
}

# Reason codes of the sanitisation report and of the lint.
REASONS: Final[dict[str, dict[str, str]]] = {
    "comms": {"ja": "選別後通信情報（COMMS）", "en": "communications-derived (COMMS)"},
    "comms_lineage": {"ja": "選別後通信情報から派生", "en": "derived from COMMS content"},
    "provision_derived_undetermined": {
        "ja": "提供用選別後情報の該当性判断が有効でない",
        "en": "no standing determination as releasable selected information"},
    "provision_derived_tier3": {"ja": "提供用選別後情報は周知等用に含めない",
                                "en": "releasable selected information is not for tier 3"},
    "secret": {"ja": "秘密（SECRET）", "en": "confidential (SECRET)"},
    "secret_lineage": {"ja": "秘密情報から派生", "en": "derived from confidential content"},
    "secret_generalised": {"ja": "秘密部分を一般化", "en": "confidential detail generalised"},
    "attribution": {"ja": "報告事業者の同意がないため匿名化",
                    "en": "reporting operator not consented to be named"},
    "attribution_text": {"ja": "本文中の報告事業者名を匿名化",
                         "en": "reporting operator's name replaced in text"},
    "dangling_reference": {"ja": "参照先が除かれた", "en": "refers to removed content"},
    "not_available": {"ja": "ストアから読めない", "en": "not readable from the store"},
    "custom_properties": {"ja": "独自プロパティを除去", "en": "custom properties removed"},
    "source_markings": {"ja": "元の取扱区分表示を置換", "en": "source markings replaced"},
    "narrative_comms": {"ja": "本文の COMMS 区画を除去", "en": "COMMS passage of the narrative"},
    "narrative_secret": {"ja": "本文の SECRET 区画を除去",
                         "en": "SECRET passage of the narrative"},
}
