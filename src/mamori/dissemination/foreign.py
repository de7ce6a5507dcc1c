"""The two findings a provision to a foreign government needs (Art 28, 39; R-5.2-4):
① a case-by-case finding that the provision conforms to the purpose limits, and
② an explicit confirmation that the recipient takes measures equivalent to the Act's.

Each finding is recorded for one provision — recipient, product version and tier —
so that a later version or another tier needs findings of its own.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.dissemination import categories as cat
from mamori.dissemination import guard
from mamori.dissemination.models import NAME_MAX, TEXT_MAX, ForeignCheck, ForeignCheckRecord
from mamori.dissemination.recipients import load
from mamori.errors import Conflict, InvalidInput

PURPOSE_CONFORMITY = "purpose_conformity"
EQUIVALENT_SAFEGUARDS = "equivalent_safeguards"
KINDS: dict[str, tuple[str, str]] = {
    PURPOSE_CONFORMITY: ("目的適合性の個別確認", "Case-by-case purpose-conformity finding"),
    EQUIVALENT_SAFEGUARDS: ("同等の措置の明示的確認",
                            "Explicit confirmation of equivalent safeguards"),
}


def record_foreign_check(
    *,
    session: Session,
    principal: Principal,
    recipient: str,
    product_id: str,
    product_version: int,
    tier: int,
    kind: str,
    finding: str,
    reference: str | None = None,
) -> ForeignCheck:
    """Record one of the two findings for a provision to a foreign government."""
    row = load(session, principal, recipient, "provision.check")
    if row.category != cat.FOREIGN_GOVERNMENT:
        raise InvalidInput("these checks are recorded for foreign governments",
                           field="recipient")
    if kind not in KINDS:
        raise InvalidInput(f"unknown check; checks are: {', '.join(KINDS)}", field="kind")
    cat.check_tier(tier)
    if not product_id.strip() or len(product_id) > 64:
        raise InvalidInput("name the product", field="product_id")
    if product_version < 1:
        raise InvalidInput("a product version is a whole number from 1", field="product_version")
    finding = (finding or "").strip()
    if not finding or len(finding) > TEXT_MAX:
        raise InvalidInput(f"write the finding (1-{TEXT_MAX} characters)", field="finding")
    reference = (reference or "").strip() or None
    if reference is not None and len(reference) > NAME_MAX:
        raise InvalidInput(f"the reference has at most {NAME_MAX} characters", field="reference")
    record = ForeignCheckRecord(
        recipient_id=row.id, product_id=product_id.strip(), product_version=product_version,
        tier=tier, kind=kind, finding=finding, reference=reference,
        recorded_by=principal.username)
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        raise Conflict("this check is recorded for this provision already",
                       field="kind") from None
    guard.audit(session=session, principal=principal,
                action="dissemination.foreign_check.recorded", object_type="recipient",
                object_id=row.code, legal_basis="Art 28, Art 39",
                details={"check_id": record.id, "kind": kind, "product_id": record.product_id,
                         "product_version": product_version, "tier": tier,
                         "reference": reference})
    return ForeignCheck.model_validate(record)


def checks_for(
    session: Session, recipient_id: int, product_id: str, product_version: int, tier: int
) -> dict[str, ForeignCheckRecord]:
    """The findings recorded for this provision, by kind."""
    rows = session.scalars(select(ForeignCheckRecord).where(
        ForeignCheckRecord.recipient_id == recipient_id,
        ForeignCheckRecord.product_id == product_id,
        ForeignCheckRecord.product_version == product_version,
        ForeignCheckRecord.tier == tier))
    return {r.kind: r for r in rows}


def list_checks(
    *, session: Session, principal: Principal, recipient: str
) -> list[ForeignCheck]:
    row = load(session, principal, recipient, "recipient.view")
    rows = session.scalars(select(ForeignCheckRecord).where(
        ForeignCheckRecord.recipient_id == row.id).order_by(ForeignCheckRecord.id))
    return [ForeignCheck.model_validate(r) for r in rows]
