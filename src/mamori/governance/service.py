"""The governance domain's public API for other domains, the CLI and the web.

Keyword-only functions taking ``session=`` (and ``principal=`` where protected data is
read or changed). The sealed selection zone uses ``mamori.governance.gate`` instead.
"""

from __future__ import annotations

from mamori.governance.agreements import (
    add_consultation_note,
    agreement_template,
    conclude_agreement,
    create_agreement,
    end_agreement,
    get_agreement,
    list_agreements,
    update_draft,
    withdraw_draft,
)
from mamori.governance.consents import (
    activate_consent,
    amend_consent,
    examine_consent,
    get_consent,
    list_arrangements,
    list_consents,
    record_arrangement,
    record_consent,
    withdraw_consent,
)
from mamori.governance.cooperation import (
    evaluate_refusal,
    get_request,
    list_requests,
    record_explanation,
    record_response,
    request_cooperation,
    send_request,
    withdraw_request,
)
from mamori.governance.gate import GateDecision, measure_in_force, retention_expiry
from mamori.governance.measures import (
    approve_measure,
    end_measure,
    get_measure,
    list_measures,
    refuse_measure,
    renew_measure,
    request_measure,
)
from mamori.governance.notifications import list_notifications, sweep
from mamori.governance.parameters import (
    get_parameter,
    history,
    set_parameter,
    set_retention_days,
)
from mamori.governance.retention import (
    DataClass,
    PurgeOutcome,
    list_certificates,
    purge_expired,
    register,
)
from mamori.governance.statistics import annual_report, to_csv, year_period
from mamori.governance.use import SelectedInfoRef, UseDecision, decide_use

__all__ = [
    "DataClass",
    "GateDecision",
    "PurgeOutcome",
    "SelectedInfoRef",
    "UseDecision",
    "activate_consent",
    "add_consultation_note",
    "agreement_template",
    "amend_consent",
    "annual_report",
    "approve_measure",
    "conclude_agreement",
    "create_agreement",
    "decide_use",
    "end_agreement",
    "end_measure",
    "evaluate_refusal",
    "examine_consent",
    "get_agreement",
    "get_consent",
    "get_measure",
    "get_parameter",
    "get_request",
    "history",
    "list_agreements",
    "list_arrangements",
    "list_certificates",
    "list_consents",
    "list_measures",
    "list_notifications",
    "list_requests",
    "measure_in_force",
    "purge_expired",
    "record_arrangement",
    "record_consent",
    "record_explanation",
    "record_response",
    "refuse_measure",
    "register",
    "renew_measure",
    "request_cooperation",
    "request_measure",
    "retention_expiry",
    "send_request",
    "set_parameter",
    "set_retention_days",
    "sweep",
    "to_csv",
    "update_draft",
    "withdraw_consent",
    "withdraw_draft",
    "withdraw_request",
    "year_period",
]
