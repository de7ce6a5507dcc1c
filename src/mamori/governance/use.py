"""The one decision on using or providing selected communications information (SCI).

By default SCI serves only the specified damage-prevention purpose (特定被害防止目的);
agreement-derived SCI also serves the party's own damage prevention. Any other purpose
needs an active consent whose (ア)(イ)(ウ) all cover the use, and is open only to SCI
selected from an agreement's communications (R-2.3-6); provision to another body needs
a prior written arrangement with it (R-2.3-11). Criminal investigation is always
refused (R-2.3-10). Every decision, granted or refused, is stored and audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.errors import InvalidInput, NotFound
from mamori.governance import constants as c
from mamori.governance import notifications
from mamori.governance.gate import basis_kind, measure_in_force
from mamori.governance.guard import audit, authorize
from mamori.governance.models import Agreement, Arrangement, Consent, Measure
from mamori.governance.models import UseDecision as UseDecisionRow
from mamori.governance.parsing import normalise_purpose
from mamori.governance.purposes import known_purpose

# Reason codes.
GRANTED_SPECIFIED_PURPOSE = "specified_damage_prevention"
GRANTED_PARTY_PURPOSE = "agreement_party_damage_prevention"
GRANTED_CONSENT = "within_consent"
REFUSED_CRIMINAL_INVESTIGATION = "criminal_investigation_forbidden"
REFUSED_AGREEMENT_NOT_IN_FORCE = "agreement_not_in_force"
REFUSED_PARTY_PURPOSE_NEEDS_AGREEMENT = "party_purpose_needs_agreement"
REFUSED_MEASURE_DERIVED = "measure_derived_not_eligible"
REFUSED_NO_CONSENT = "no_consent"
REFUSED_OUTSIDE_DATA = "outside_consent_data_scope"
REFUSED_OUTSIDE_BODY = "outside_consent_user_body"
REFUSED_OUTSIDE_PURPOSE = "outside_consent_purpose"
REFUSED_NO_ARRANGEMENT = "no_prior_arrangement"

REASON_TEXT = {
    GRANTED_SPECIFIED_PURPOSE: "within the specified damage-prevention purpose",
    GRANTED_PARTY_PURPOSE: "within the agreement party's damage-prevention purpose",
    GRANTED_CONSENT: "within an active other-purpose consent",
    REFUSED_CRIMINAL_INVESTIGATION: "criminal investigation is never a permitted use",
    REFUSED_AGREEMENT_NOT_IN_FORCE: "the agreement the information came from is not in force",
    REFUSED_PARTY_PURPOSE_NEEDS_AGREEMENT: "the party's purpose applies only to agreement data",
    REFUSED_MEASURE_DERIVED: "information from a transmission measure cannot be used for "
    "another purpose",
    REFUSED_NO_CONSENT: "no active consent covers another purpose for this agreement",
    REFUSED_OUTSIDE_DATA: "the information is outside the consent's scope (ア)",
    REFUSED_OUTSIDE_BODY: "the using body is not the one the consent names (イ)",
    REFUSED_OUTSIDE_PURPOSE: "the purpose is not the consent's specific purpose (ウ)",
    REFUSED_NO_ARRANGEMENT: "no prior written arrangement with the receiving body covers it",
}


@dataclass(frozen=True)
class SelectedInfoRef:
    """Which SCI a use concerns: its acquisition basis, the selection batches or records,
    the mechanical-information categories used and, optionally, when it was selected."""

    basis_id: str
    batch_ids: tuple[str, ...] = ()
    record_ids: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    selected_from: datetime | None = None
    selected_until: datetime | None = None


@dataclass(frozen=True)
class UseDecision:
    """The answer: granted or refused, the reason code, and what it rested on."""

    granted: bool
    reason: str
    provision: bool
    decision_id: int
    consent_id: str | None = None
    arrangement_id: str | None = None

    @property
    def explanation(self) -> str:
        return REASON_TEXT.get(self.reason, self.reason)


def _validate(ref: SelectedInfoRef, purpose_code: str, purpose_text: str) -> None:
    if basis_kind(ref.basis_id) is None:
        raise InvalidInput("data reference: basis id must look like A-YYYY-NNNN or M-YYYY-NNNN")
    if not ref.categories:
        raise InvalidInput("data reference: name the mechanical-information categories used")
    if not ref.batch_ids and not ref.record_ids and ref.selected_from is None:
        raise InvalidInput("data reference: name selection batches, records or a period")
    if ref.selected_from is not None and ref.selected_until is not None \
            and ref.selected_until <= ref.selected_from:
        raise InvalidInput("data reference: the selection period is reversed or empty")
    if not known_purpose(purpose_code):
        raise InvalidInput(f"purpose: unknown purpose code {purpose_code!r}")
    if len(purpose_text) > 2000:
        raise InvalidInput("purpose text: longer than 2000 characters")


def _within_data_scope(consent: Consent, ref: SelectedInfoRef) -> bool:
    if ref.basis_id != consent.agreement_id:
        return False
    if not set(ref.categories) <= set(consent.scope_categories or ()):
        return False
    if consent.scope_batches and (
        not ref.batch_ids or not set(ref.batch_ids) <= set(consent.scope_batches)
    ):
        return False
    if consent.scope_from is not None:
        if ref.selected_from is None or ref.selected_until is None:
            if not consent.scope_batches or not ref.batch_ids:
                return False
        elif ref.selected_from < consent.scope_from or (
            consent.scope_until is not None and ref.selected_until > consent.scope_until
        ):
            return False
    return True


def _consent_failure(
    consent: Consent, ref: SelectedInfoRef, user_body_id: int | None, purpose_code: str,
    purpose_text: str,
) -> str | None:
    """The first element (ア, イ, ウ) a consent fails for this use, or None if it covers it."""
    if not _within_data_scope(consent, ref):
        return REFUSED_OUTSIDE_DATA
    if user_body_id is None or consent.user_body_id != user_body_id:
        return REFUSED_OUTSIDE_BODY
    if consent.purpose_code != purpose_code or normalise_purpose(consent.purpose_text) \
            != normalise_purpose(purpose_text):
        return REFUSED_OUTSIDE_PURPOSE
    return None


_FAILURE_RANK = {REFUSED_OUTSIDE_DATA: 0, REFUSED_OUTSIDE_BODY: 1, REFUSED_OUTSIDE_PURPOSE: 2}


def _arrangement_for(
    session: Session, body_id: int, purpose_code: str, at: datetime
) -> Arrangement | None:
    rows = session.scalars(
        select(Arrangement).where(Arrangement.body_organisation_id == body_id)
        .order_by(Arrangement.id)
    ).all()
    for row in rows:
        if purpose_code in (row.purposes or ()) and row.effective_from <= at and (
            row.effective_until is None or at < row.effective_until
        ):
            return row
    return None


def _decide(
    session: Session, ref: SelectedInfoRef, kind: str, user_body_id: int | None,
    purpose_code: str, purpose_text: str, provision: bool, now: datetime,
) -> tuple[bool, str, str | None, str | None]:
    if purpose_code == c.PURPOSE_CRIMINAL_INVESTIGATION:
        return False, REFUSED_CRIMINAL_INVESTIGATION, None, None
    if kind == "agreement":
        gate = measure_in_force(session=session, measure_id=ref.basis_id, at=now)
        if not gate.allowed:
            return False, REFUSED_AGREEMENT_NOT_IN_FORCE, None, None
    if purpose_code == c.PURPOSE_SPECIFIED_DAMAGE_PREVENTION:
        return True, GRANTED_SPECIFIED_PURPOSE, None, None
    if purpose_code == c.PURPOSE_AGREEMENT_PARTY:
        if kind != "agreement":
            return False, REFUSED_PARTY_PURPOSE_NEEDS_AGREEMENT, None, None
        return True, GRANTED_PARTY_PURPOSE, None, None
    if kind != "agreement":
        return False, REFUSED_MEASURE_DERIVED, None, None
    consents = session.scalars(
        select(Consent).where(Consent.agreement_id == ref.basis_id,
                              Consent.status == c.CONSENT_ACTIVE).order_by(Consent.id)
    ).all()
    if not consents:
        return False, REFUSED_NO_CONSENT, None, None
    best: str | None = None
    for consent in consents:
        failure = _consent_failure(consent, ref, user_body_id, purpose_code, purpose_text)
        if failure is None:
            if provision:
                assert user_body_id is not None
                arrangement = _arrangement_for(session, user_body_id, purpose_code, now)
                if arrangement is None:
                    return False, REFUSED_NO_ARRANGEMENT, consent.id, None
                return True, GRANTED_CONSENT, consent.id, arrangement.id
            return True, GRANTED_CONSENT, consent.id, None
        if best is None or _FAILURE_RANK[failure] > _FAILURE_RANK[best]:
            best = failure
    assert best is not None
    return False, best, None, None


def decide_use(
    *,
    session: Session,
    principal: Principal,
    data_ref: SelectedInfoRef,
    user_body_id: int | None,
    purpose_code: str,
    purpose_text: str = "",
) -> UseDecision:
    """Decide whether ``user_body_id`` may use the referenced SCI for the declared purpose.

    A use by a body other than the principal's own organisation is a provision. The
    decision is returned (refusals included) and written to the audit log; only bad
    input or a missing permission raises.
    """
    authorize(session=session, principal=principal, action="selected_info.use",
              resource_type="selected_info", resource_id=data_ref.basis_id,
              labels=frozenset({"COMMS"}), purpose=purpose_code)
    purpose_text = (purpose_text or "").strip()
    _validate(data_ref, purpose_code, purpose_text)
    kind = basis_kind(data_ref.basis_id)
    assert kind is not None
    model = Agreement if kind == "agreement" else Measure
    if session.get(model, data_ref.basis_id) is None:
        raise NotFound(f"acquisition basis {data_ref.basis_id!r} does not exist")
    provision = user_body_id is not None and user_body_id != principal.organisation_id
    now = utcnow()
    granted, reason, consent_id, arrangement_id = _decide(
        session, data_ref, kind, user_body_id, purpose_code, purpose_text, provision, now
    )
    row = UseDecisionRow(
        decided_at=now, actor=principal.username, basis_id=data_ref.basis_id,
        user_body_id=user_body_id, purpose_code=purpose_code, granted=granted, reason=reason,
        provision=provision, consent_id=consent_id if granted else None,
        arrangement_id=arrangement_id, batch_count=len(data_ref.batch_ids),
        record_count=len(data_ref.record_ids),
    )
    session.add(row)
    session.flush()
    audit(session=session, principal=principal,
          action="governance.use.granted" if granted else "governance.use.refused",
          object_type="selected_info", object_id=data_ref.basis_id,
          legal_basis="Art 23", purpose=purpose_code,
          details={"decision_id": row.id, "reason": reason, "provision": provision,
                   "user_body_id": user_body_id, "consent": consent_id,
                   "arrangement": arrangement_id, "batches": list(data_ref.batch_ids),
                   "record_count": len(data_ref.record_ids),
                   "categories": list(data_ref.categories), "labels": ["COMMS"]})
    if granted and provision:
        notifications.emit(
            session=session, principal=principal, event=c.EVENT_SCI_PROVIDED,
            object_type="use_decision", object_id=str(row.id), occurred_at=now,
            details={"basis": data_ref.basis_id, "recipient_body_id": user_body_id,
                     "purpose": purpose_code},
        )
    return UseDecision(granted=granted, reason=reason, provision=provision,
                       decision_id=row.id, consent_id=consent_id if granted else None,
                       arrangement_id=arrangement_id)
