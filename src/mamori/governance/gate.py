"""The read-only acquisition check that the sealed selection zone imports.

``measure_in_force`` answers whether selection may run for an acquisition basis at a
moment: a transmission measure (Art 17, 32, 33) only inside a term the committee
approved, and not after it was ended; a party agreement (Art 13) only while it is in
force and inside its effective period. Basis ids share one namespace: ``M-YYYY-NNNN``
for measures, ``A-YYYY-NNNN`` for agreements.

This module writes nothing and imports nothing from other domains except config,
errors and db, so that the sealed zone's dependencies stay auditable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from mamori.errors import Forbidden, InvalidInput, NotFound
from mamori.governance import constants as c
from mamori.governance.models import Agreement, Measure
from mamori.governance.parameter_values import retention_days

BASIS_ID = re.compile(r"^(?P<prefix>[AM])-(?P<year>\d{4})-(?P<seq>\d{4,6})$")

# Reason codes a decision may carry.
IN_FORCE = "in_force"
IN_FORCE_RENEWED = "in_force_renewed"
UNKNOWN_BASIS = "unknown_basis"
APPROVAL_PENDING = "approval_pending"
APPROVAL_REFUSED = "approval_refused"
NOT_YET_IN_FORCE = "not_yet_in_force"
EXPIRED = "expired"
BETWEEN_TERMS = "between_terms"
TERMINATED = "terminated"
AGREEMENT_NOT_CONCLUDED = "agreement_not_concluded"
AGREEMENT_ENDED = "agreement_ended"

REASON_TEXT = {
    IN_FORCE: "in force",
    IN_FORCE_RENEWED: "in force under an approved renewal",
    UNKNOWN_BASIS: "no measure or agreement has this id",
    APPROVAL_PENDING: "the committee has not yet approved this period",
    APPROVAL_REFUSED: "the committee refused this period",
    NOT_YET_IN_FORCE: "the approved period has not started",
    EXPIRED: "the approved period has ended",
    BETWEEN_TERMS: "no approved period covers this moment",
    TERMINATED: "the measure was ended",
    AGREEMENT_NOT_CONCLUDED: "the agreement is not in force",
    AGREEMENT_ENDED: "the agreement has ended",
}


@dataclass(frozen=True)
class GateDecision:
    """Whether selection may run for ``basis_id`` at ``at``, and within which bounds."""

    basis_id: str
    at: datetime
    allowed: bool
    reason: str
    kind: str | None = None
    article: int | None = None
    directions: tuple[str, ...] = ()
    party_identifiers: tuple[str, ...] = ()
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    @property
    def explanation(self) -> str:
        return REASON_TEXT.get(self.reason, self.reason)


class GateClosed(Forbidden):
    title = "Acquisition basis not in force"


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("the moment to check must carry a timezone (UTC is stored)")
    return at


def basis_kind(basis_id: str) -> str | None:
    """``"measure"``, ``"agreement"`` or None when the id is not a basis id."""
    match = BASIS_ID.match(basis_id or "")
    if match is None:
        return None
    return "measure" if match["prefix"] == c.MEASURE_PREFIX else "agreement"


def measure_in_force(*, session: Session, measure_id: str, at: datetime) -> GateDecision:
    """The gate: may selection run for this measure or agreement at ``at``?"""
    at = _aware(at)
    kind = basis_kind(measure_id)
    if kind == "measure":
        measure = session.get(Measure, measure_id)
        if measure is not None:
            return _measure_decision(measure, at)
    elif kind == "agreement":
        agreement = session.get(Agreement, measure_id)
        if agreement is not None and agreement.status != c.AGREEMENT_DRAFT:
            return _agreement_decision(agreement, at)
        if agreement is not None:
            return GateDecision(measure_id, at, False, AGREEMENT_NOT_CONCLUDED,
                                c.AGREEMENT_KIND, c.AGREEMENT_ARTICLE)
    return GateDecision(measure_id, at, False, UNKNOWN_BASIS)


def require_in_force(*, session: Session, measure_id: str, at: datetime) -> GateDecision:
    """Like ``measure_in_force`` but raises a clear error when selection may not run."""
    decision = measure_in_force(session=session, measure_id=measure_id, at=at)
    if decision.reason == UNKNOWN_BASIS:
        raise NotFound(f"acquisition basis {measure_id!r} does not exist")
    if not decision.allowed:
        raise GateClosed(f"acquisition basis {measure_id}: {decision.explanation}")
    return decision


def _measure_decision(measure: Measure, at: datetime) -> GateDecision:
    kind, directions = c.MEASURE_ARTICLES[measure.article]

    def decide(allowed: bool, reason: str, start: datetime | None = None,
               end: datetime | None = None) -> GateDecision:
        return GateDecision(
            measure.id, at, allowed, reason, kind, measure.article,
            directions if allowed else (), (), start, end,
        )

    if measure.ended_at is not None and at >= measure.ended_at:
        return decide(False, TERMINATED)
    covering = [t for t in measure.terms if t.starts_at <= at < t.ends_at]
    for term in covering:
        if term.status == c.TERM_APPROVED:
            end = term.ends_at
            if measure.ended_at is not None:
                end = min(end, measure.ended_at)
            return decide(True, IN_FORCE if term.seq == 1 else IN_FORCE_RENEWED,
                          term.starts_at, end)
    if any(t.status == c.TERM_REQUESTED for t in covering):
        return decide(False, APPROVAL_PENDING)
    if covering:
        return decide(False, APPROVAL_REFUSED)
    approved = [t for t in measure.terms if t.status == c.TERM_APPROVED]
    if not approved:
        pending = any(t.status == c.TERM_REQUESTED for t in measure.terms)
        return decide(False, APPROVAL_PENDING if pending else APPROVAL_REFUSED)
    if at < min(t.starts_at for t in approved):
        return decide(False, NOT_YET_IN_FORCE)
    if at >= max(t.ends_at for t in approved):
        return decide(False, EXPIRED)
    return decide(False, BETWEEN_TERMS)


def _agreement_decision(agreement: Agreement, at: datetime) -> GateDecision:
    identifiers = tuple(agreement.party_identifiers or ())

    def decide(allowed: bool, reason: str) -> GateDecision:
        return GateDecision(
            agreement.id, at, allowed, reason, c.AGREEMENT_KIND, c.AGREEMENT_ARTICLE,
            c.AGREEMENT_DIRECTIONS if allowed else (), identifiers if allowed else (),
            agreement.effective_from if allowed else None,
            _agreement_until(agreement) if allowed else None,
        )

    if agreement.ended_at is not None and at >= agreement.ended_at:
        return decide(False, AGREEMENT_ENDED)
    if agreement.effective_from is not None and at < agreement.effective_from:
        return decide(False, NOT_YET_IN_FORCE)
    if agreement.effective_until is not None and at >= agreement.effective_until:
        return decide(False, EXPIRED)
    if agreement.status != c.AGREEMENT_IN_FORCE:
        return decide(False, AGREEMENT_ENDED)
    return decide(True, IN_FORCE)


def _agreement_until(agreement: Agreement) -> datetime | None:
    ends = [t for t in (agreement.effective_until, agreement.ended_at) if t is not None]
    return min(ends) if ends else None


def retention_expiry(*, session: Session, data_class: str, at: datetime) -> datetime:
    """When a record of ``data_class`` created at ``at`` must be deleted."""
    at = _aware(at)
    days = retention_days(session, data_class)
    if days is None:
        raise NotFound(f"no retention period is configured for data class {data_class!r}")
    return at + timedelta(days=days)
