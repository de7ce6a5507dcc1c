"""What a recipient is entitled to now: the facts on record and the tiers it may read.

A provision is checked in full when it is made. What it delivered stays readable only
while the standing conditions still hold — a council member's consent and safeguards, an
operator's council membership, an administrative body's provision basis — so the
TAXII server and the portal ask this module on every request.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.dissemination import entitlements as ent
from mamori.dissemination import guard
from mamori.dissemination.models import RecipientRecord
from mamori.dissemination.safeguards import (
    council_member_with_safeguards,
    current_basis,
    safeguards_on_record,
)

# Conditions checked once for the provision itself, not re-checked later.
PER_PROVISION = frozenset({ent.FOREIGN_CHECKS, ent.OWN_VULNERABILITIES})


def standing_facts(session: Session, recipient: RecipientRecord) -> set[str]:
    """The standing conditions that hold for ``recipient`` today."""
    facts: set[str] = set()
    if recipient.category == "administrative_body" and current_basis(session, recipient.id):
        facts.add(ent.PROVISION_BASIS)
    if recipient.category == "council_member" and safeguards_on_record(session, recipient.id):
        facts.add(ent.COUNCIL_SAFEGUARDS)
    if council_member_with_safeguards(session, recipient.organisation_id):
        facts.add(ent.COUNCIL_MEMBERSHIP)
    return facts


def readable_tiers(
    session: Session, recipient: RecipientRecord, matrix: ent.Matrix | None = None
) -> list[int]:
    """The tiers whose provisions ``recipient`` may read now (none when inactive)."""
    if not recipient.active:
        return []
    matrix = matrix or ent.load_matrix()
    facts = standing_facts(session, recipient) | PER_PROVISION
    return [tier for tier in sorted(matrix.rule(recipient.category).tiers)
            if ent.evaluate(matrix, recipient.category, tier, facts).allowed]


def receive_resource(
    session: Session, recipient: RecipientRecord | None, ident: str,
    matrix: ent.Matrix | None = None,
) -> guard.Resource:
    """The resource a recipient's reading is authorized on, with its standing in the tags."""
    tiers = readable_tiers(session, recipient, matrix) if recipient is not None else []
    return guard.resource(
        guard.RECIPIENT, ident,
        organisation_id=recipient.organisation_id if recipient is not None else None,
        active_recipient=bool(recipient is not None and recipient.active),
        entitled=bool(tiers),
        contribute=bool(recipient is not None and tiers and (matrix or ent.load_matrix())
                        .rule(recipient.category).contribute),
    )


def recipients_of(
    session: Session, principal: Principal, *, category: str | None = None
) -> list[RecipientRecord]:
    """The recipients ``principal`` acts for and may read now (its organisation's)."""
    if principal.organisation_id is None or principal.is_system:
        return []
    query = select(RecipientRecord).where(
        RecipientRecord.organisation_id == principal.organisation_id,
        RecipientRecord.active.is_(True)).order_by(RecipientRecord.category)
    if category is not None:
        query = query.where(RecipientRecord.category == category)
    matrix = ent.load_matrix()
    return [r for r in session.scalars(query) if guard.permitted(
        session=session, principal=principal, action="provision.receive",
        resource=receive_resource(session, r, r.code, matrix))]
