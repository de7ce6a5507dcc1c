"""Names of governance codes for people, marked for translation (shown via ``_()``)."""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    """Mark ``message`` for the catalogues; it is translated where it is shown."""
    return message


MEASURE_STATUS = {
    "requested": N_("Awaiting the committee"),
    "approved": N_("Approved (not yet started)"),
    "in_force": N_("In force"),
    "renewal_requested": N_("Renewal awaiting the committee"),
    "expired": N_("Period over"),
    "refused": N_("Refused"),
    "ended": N_("Ended"),
}
TERM_STATUS = {
    "requested": N_("Approval requested"),
    "approved": N_("Approved"),
    "refused": N_("Refused"),
}
AGREEMENT_STATUS = {
    "draft": N_("Draft agreement"),
    "in_force": N_("In force"),
    "ended": N_("Ended"),
}
CONSENT_STATUS = {
    "draft": N_("Draft consent"),
    "active": N_("Active"),
    "withdrawn": N_("Consent withdrawn"),
}
COOPERATION_STATUS = {
    "draft": N_("Draft request"),
    "sent": N_("Sent to the carrier"),
    "cooperating": N_("Cooperating"),
    "refused": N_("Refused by the carrier"),
    "withdrawn": N_("Request withdrawn"),
}
COOPERATION_ITEMS = {
    "foreign_facility_info": N_("Information on foreign-related telecom facilities"),
    "equipment_connection": N_("Connection of the receiving equipment"),
    "transmission": N_("Sending communications information under the measure"),
    "other": N_("Other cooperation"),
}
EXPLANATION_METHODS = {
    "meeting": N_("Meeting"),
    "document": N_("Document"),
    "call": N_("Call"),
}
REFUSAL_EVALUATIONS = {
    "legitimate": N_("Legitimate reason"),
    "not_legitimate": N_("Not a legitimate reason"),
    "under_review": N_("Under review"),
}
# Counts of cooperation requests by the status they reached in the period.
COOPERATION_COUNTS = {
    "recorded": N_("Requests recorded"),
    **{k: v for k, v in COOPERATION_STATUS.items() if k != "draft"},
}
ARTICLES = {
    17: N_("Art 17 foreign–foreign transmission measure"),
    32: N_("Art 32 foreign–domestic transmission measure"),
    33: N_("Art 33 domestic–foreign transmission measure"),
}
EVENTS = {
    "measure_started": N_("Measure started"),
    "measure_ended": N_("Measure ended"),
    "measure_renewed": N_("Measure renewed"),
    "measure_refused": N_("Measure refused"),
    "selected_info_provided": N_("Selected information provided to another body"),
    "consent_activated": N_("Other-purpose consent activated"),
    "agreement_concluded": N_("Agreement concluded"),
}
SECTIONS = {
    "approval_requests": N_("Approval requests"),
    "renewal_requests": N_("Renewal requests"),
    "approvals": N_("Approvals"),
    "refusals": N_("Refusals"),
    "notifications": N_("Notifications to the committee"),
    "provisions_by_recipient": N_("Provisions of selected information by recipient"),
    "provisions_by_category": N_("Provisions of products by recipient category and tier"),
    "other_purpose_decisions": N_("Other-purpose use decisions"),
    "agreements": N_("Party agreements"),
    "consents": N_("Other-purpose consents"),
    "deletions_records": N_("Records deleted on expiry"),
    "deletions_certificates": N_("Deletion certificates"),
    "cooperation_requests": N_("Cooperation requests to telecom carriers"),
    "cooperation_refusals": N_("Carrier refusals by evaluation of the reason"),
    "usage_attestations": N_("Usage attestations of provided selected information"),
}
# Items of dissemination's attestation counts (R-2.3-12), as that domain names them.
USAGE_ATTESTATIONS = {
    "usage attestations requested": N_("Attestations requested"),
    "usage attestations attested": N_("Attestations received"),
    "usage attestations overdue": N_("Attestations overdue"),
    "usage attestations reviewed within_consent": N_("Reviewed: used within consent"),
    "usage attestations reviewed outside_consent": N_("Reviewed: used outside consent"),
    "usage attestations reviewed unclear": N_("Reviewed: unclear"),
}
# Sections whose items are codes with a name for people.
REPORT_ITEMS: dict[str, dict[str, str]] = {
    "notifications": EVENTS,
    "cooperation_requests": COOPERATION_COUNTS,
    "cooperation_refusals": REFUSAL_EVALUATIONS,
    "usage_attestations": USAGE_ATTESTATIONS,
}


def label_context() -> dict[str, Any]:
    """The label tables every governance page may use."""
    return {
        "measure_status": MEASURE_STATUS,
        "term_status": TERM_STATUS,
        "agreement_status": AGREEMENT_STATUS,
        "consent_status": CONSENT_STATUS,
        "article_names": ARTICLES,
        "event_names": EVENTS,
        "section_names": SECTIONS,
        "report_items": REPORT_ITEMS,
        "cooperation_status": COOPERATION_STATUS,
        "cooperation_items": COOPERATION_ITEMS,
        "explanation_methods": EXPLANATION_METHODS,
        "refusal_evaluations": REFUSAL_EVALUATIONS,
    }
