"""Fixed vocabulary of the governance domain: statuses, articles, direction classes,
event names and the default regulatory parameters.

Pure constants with no imports from the rest of mamori, so that the read-only gate
can use them too. The defaults apply until an admin records a parameter version.
"""

from __future__ import annotations

from typing import Final

# Acquisition bases share one id namespace: "A-<year>-<nnnn>" for party agreements,
# "M-<year>-<nnnn>" for transmission measures. Selection's ``--measure ID`` takes either.
AGREEMENT_PREFIX: Final = "A"
MEASURE_PREFIX: Final = "M"
CONSENT_PREFIX: Final = "C"
ARRANGEMENT_PREFIX: Final = "W"
COOPERATION_PREFIX: Final = "K"

# Agreement lifecycle (draft → in force → ended). A draft that is not concluded is
# withdrawn, which deletes it: no status records that a party declined (R-2.3-3).
AGREEMENT_DRAFT: Final = "draft"
AGREEMENT_IN_FORCE: Final = "in_force"
AGREEMENT_ENDED: Final = "ended"
AGREEMENT_STATUSES: Final = (AGREEMENT_DRAFT, AGREEMENT_IN_FORCE, AGREEMENT_ENDED)

CONSENT_DRAFT: Final = "draft"
CONSENT_ACTIVE: Final = "active"
CONSENT_WITHDRAWN: Final = "withdrawn"

TERM_REQUESTED: Final = "requested"
TERM_APPROVED: Final = "approved"
TERM_REFUSED: Final = "refused"

# Cooperation requests to telecom carriers (Art 20): draft → sent → cooperating,
# refused or withdrawn (withdrawn from draft or sent only).
COOP_DRAFT: Final = "draft"
COOP_SENT: Final = "sent"
COOP_COOPERATING: Final = "cooperating"
COOP_REFUSED: Final = "refused"
COOP_WITHDRAWN: Final = "withdrawn"
COOP_STATUSES: Final = (COOP_DRAFT, COOP_SENT, COOP_COOPERATING, COOP_REFUSED, COOP_WITHDRAWN)
# What is asked of the carrier; "other" needs a description.
COOP_ITEM_OTHER: Final = "other"
COOP_ITEMS: Final = ("foreign_facility_info", "equipment_connection", "transmission",
                     COOP_ITEM_OTHER)
EXPLANATION_METHODS: Final = ("meeting", "document", "call")
# The Cabinet Office's view of a refusal's reason.
EVALUATION_UNDER_REVIEW: Final = "under_review"
REFUSAL_EVALUATIONS: Final = ("legitimate", "not_legitimate", EVALUATION_UNDER_REVIEW)

# Direction classes that selection's domestic/foreign classifier assigns.
FOREIGN_FOREIGN: Final = "foreign_foreign"
FOREIGN_DOMESTIC: Final = "foreign_domestic"
DOMESTIC_FOREIGN: Final = "domestic_foreign"
DOMESTIC_DOMESTIC: Final = "domestic_domestic"

# Article of the Act → (kind identifier, direction classes the measure may select from).
MEASURE_ARTICLES: Final[dict[int, tuple[str, tuple[str, ...]]]] = {
    17: ("foreign_foreign_transmission_measure", (FOREIGN_FOREIGN,)),
    32: ("foreign_domestic_transmission_measure", (FOREIGN_DOMESTIC,)),
    33: ("domestic_foreign_transmission_measure", (DOMESTIC_FOREIGN,)),
}
AGREEMENT_ARTICLE: Final = 13
AGREEMENT_KIND: Final = "party_agreement"
# Agreement communications are the party's own, in any direction; the party's recorded
# identifiers narrow them.
AGREEMENT_DIRECTIONS: Final = (
    FOREIGN_FOREIGN, FOREIGN_DOMESTIC, DOMESTIC_FOREIGN, DOMESTIC_DOMESTIC,
)

# Purpose codes (mamori.access.purposes uses the same strings).
PURPOSE_SPECIFIED_DAMAGE_PREVENTION: Final = "specified_damage_prevention"
PURPOSE_AGREEMENT_PARTY: Final = "agreement_party_damage_prevention"
PURPOSE_OTHER_CONSENTED: Final = "other_purpose_consented"
PURPOSE_CRIMINAL_INVESTIGATION: Final = "criminal_investigation"

# Events that may trigger a notification to the committee (Art 30).
EVENT_MEASURE_STARTED: Final = "measure_started"
EVENT_MEASURE_ENDED: Final = "measure_ended"
EVENT_MEASURE_RENEWED: Final = "measure_renewed"
EVENT_MEASURE_REFUSED: Final = "measure_refused"
EVENT_SCI_PROVIDED: Final = "selected_info_provided"
EVENT_CONSENT_ACTIVATED: Final = "consent_activated"
EVENT_AGREEMENT_CONCLUDED: Final = "agreement_concluded"
EVENTS: Final = (
    EVENT_MEASURE_STARTED,
    EVENT_MEASURE_ENDED,
    EVENT_MEASURE_RENEWED,
    EVENT_MEASURE_REFUSED,
    EVENT_SCI_PROVIDED,
    EVENT_CONSENT_ACTIVATED,
    EVENT_AGREEMENT_CONCLUDED,
)

# Data classes known to governance itself; other domains register theirs.
SELECTED_COMM_INFO: Final = "selected_comm_info"
COMMITTEE_NOTIFICATION: Final = "committee_notification"
USE_DECISION: Final = "use_decision"

# Regulatory parameter keys (versioned records, R-7.1-2) and their defaults.
PARAM_RETENTION: Final = "retention_days"
PARAM_NOTIFICATION_TRIGGERS: Final = "notification_triggers"
PARAM_AGREEMENT_TEMPLATE: Final = "agreement_template"
PARAM_MEASURE_TERM_DAYS: Final = "measure_term_days"

DEFAULT_RETENTION_DAYS: Final[dict[str, int]] = {
    SELECTED_COMM_INFO: 730,
    COMMITTEE_NOTIFICATION: 3653,
    USE_DECISION: 3653,
}
# Classes whose period may grow beyond the default only with a recorded decision.
DECISION_BOUND_CLASSES: Final = frozenset({SELECTED_COMM_INFO})

DEFAULT_NOTIFICATION_TRIGGERS: Final = (
    EVENT_MEASURE_STARTED,
    EVENT_MEASURE_ENDED,
    EVENT_MEASURE_RENEWED,
    EVENT_SCI_PROVIDED,
)
DEFAULT_MEASURE_TERM_DAYS: Final = 180

# The standard items of a party agreement (R-2.2-6, R-2.3-1): key, Japanese, English.
DEFAULT_AGREEMENT_TEMPLATE: Final[tuple[tuple[str, str, str], ...]] = (
    ("purpose", "協定の目的", "Purpose of the agreement"),
    ("communications_scope", "提供する通信情報の範囲",
     "Scope of communications information provided"),
    ("transmission_method", "通信情報の送信方法",
     "How communications information is transmitted"),
    ("use_limits", "通信情報の利用の範囲", "Limits on the use of communications information"),
    ("individual_analysis_delivery", "個別分析情報の提供方法",
     "How individual analysis information is delivered"),
    ("cost_sharing", "費用の負担", "Sharing of costs"),
    ("confidentiality", "秘密の保持", "Confidentiality"),
    ("effective_period", "有効期間", "Effective period"),
    ("termination", "協定の終了", "Termination"),
)
