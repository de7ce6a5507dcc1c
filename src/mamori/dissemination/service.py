"""The dissemination domain's public API (keyword-only functions, ``session=`` first).

Recipients and what must be on record for them, provision, delivery notices, feedback,
usage attestations after provisions of selected information and the counts for the
annual report. Other domains call these and never read the
domain's tables.
"""

from __future__ import annotations

from mamori.dissemination import retention  # noqa: F401  (registers the data class)
from mamori.dissemination.deliveries import deliver_pending, list_deliveries
from mamori.dissemination.entitlements import Matrix, load_matrix
from mamori.dissemination.feedback import (
    ProductFeedback,
    acknowledge,
    give_feedback,
    product_feedback,
)
from mamori.dissemination.foreign import list_checks, record_foreign_check
from mamori.dissemination.models import (
    CouncilSafeguard,
    Delivery,
    Feedback,
    ForeignCheck,
    Provision,
    ProvisionBasis,
    Recipient,
    UsageRequest,
)
from mamori.dissemination.outcomes import ReportOutcome, report_outcomes
from mamori.dissemination.provisions import (
    ProvisionRefused,
    get_provision,
    list_provisions,
    provide,
    provision_objects,
    received,
    refusals_recorded,
)
from mamori.dissemination.recipients import (
    create_recipient,
    get_recipient,
    list_recipients,
    update_recipient,
    webhook_secret,
)
from mamori.dissemination.safeguards import (
    list_records,
    record_council_safeguards,
    record_provision_basis,
    revoke_provision_basis,
    withdraw_council_safeguards,
)
from mamori.dissemination.statistics import attestation_counts, provision_counts
from mamori.dissemination.taxii.server import collection_id
from mamori.dissemination.usage import attest, list_attestations, pending_for, review

__all__ = [
    "CouncilSafeguard",
    "Delivery",
    "Feedback",
    "ForeignCheck",
    "Matrix",
    "ProductFeedback",
    "Provision",
    "ProvisionBasis",
    "ProvisionRefused",
    "Recipient",
    "ReportOutcome",
    "UsageRequest",
    "acknowledge",
    "attest",
    "attestation_counts",
    "collection_id",
    "create_recipient",
    "deliver_pending",
    "get_provision",
    "get_recipient",
    "give_feedback",
    "list_attestations",
    "list_checks",
    "list_deliveries",
    "list_provisions",
    "list_recipients",
    "list_records",
    "load_matrix",
    "pending_for",
    "product_feedback",
    "provide",
    "provision_counts",
    "provision_objects",
    "received",
    "record_council_safeguards",
    "record_foreign_check",
    "record_provision_basis",
    "refusals_recorded",
    "report_outcomes",
    "review",
    "revoke_provision_basis",
    "update_recipient",
    "webhook_secret",
    "withdraw_council_safeguards",
]
