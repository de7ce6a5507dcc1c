"""What must be on record before some recipients may receive: an administrative body's
provision basis (Art 38 and its triggers) and a council member's prior consent and
information-management safeguards (Art 45(2)(4)).

Both are standing records with a validity; withdrawing one takes effect at once,
including for TAXII pages already being read.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.config import get_settings
from mamori.db import utcnow
from mamori.dissemination import categories as cat
from mamori.dissemination import guard
from mamori.dissemination.models import (
    NAME_MAX,
    CouncilSafeguard,
    CouncilSafeguardRecord,
    ProvisionBasis,
    ProvisionBasisRecord,
    RecipientRecord,
)
from mamori.dissemination.recipients import load
from mamori.errors import InvalidInput, NotFound

# The four situations in which the Cabinet Office provides to a body (Ch5 §2(1), R-5.2-1).
TRIGGERS: dict[str, tuple[str, str]] = {
    "a": ("行政機関等の重要電子計算機に被害が生ずるおそれ",
          "Possible damage to the body's critical computers"),
    "b": ("被害が連鎖的に拡大するおそれのある脆弱性", "A vulnerability that could spread damage"),
    "c": ("特別社会基盤事業者の役務に支障を及ぼす攻撃",
          "An attack threatening an operator's service"),
    "d": ("アクセス・無害化措置の実施に資する情報",
          "Information that helps access and neutralisation"),
    "liaison": ("相互の連絡・協力（法第71条第2項）", "Mutual liaison and cooperation (Art 71(2))"),
}


def local_date(moment: datetime) -> date:
    """The date of ``moment`` where the platform operates (Asia/Tokyo by default)."""
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(get_settings().timezone)).date()


def today() -> date:
    return local_date(utcnow())


def _text(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > NAME_MAX:
        raise InvalidInput(f"{field} must have 1-{NAME_MAX} characters", field=field)
    return value


def record_provision_basis(
    *,
    session: Session,
    principal: Principal,
    recipient: str,
    trigger: str,
    reference: str,
    article: str = "Art 38",
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> ProvisionBasis:
    """Record why an administrative body may receive tier 1 (R-5.2-1)."""
    row = load(session, principal, recipient, "recipient.manage")
    if row.category != cat.ADMINISTRATIVE_BODY:
        raise InvalidInput("a provision basis is recorded for administrative bodies",
                           field="recipient")
    if trigger not in TRIGGERS:
        raise InvalidInput(f"unknown trigger; triggers are: {', '.join(TRIGGERS)}",
                           field="trigger")
    valid_from = valid_from or today()
    if valid_until is not None and valid_until < valid_from:
        raise InvalidInput("the basis ends before it starts", field="valid_until")
    basis = ProvisionBasisRecord(
        recipient_id=row.id, article=_text(article, "article"), trigger=trigger,
        reference=_text(reference, "reference"), valid_from=valid_from,
        valid_until=valid_until, recorded_by=principal.username)
    session.add(basis)
    session.flush()
    guard.audit(session=session, principal=principal,
                action="dissemination.provision_basis.recorded", object_type="recipient",
                object_id=row.code, legal_basis=basis.article,
                details={"basis_id": basis.id, "trigger": trigger, "reference": basis.reference,
                         "valid_from": valid_from.isoformat(),
                         "valid_until": valid_until.isoformat() if valid_until else None})
    return ProvisionBasis.model_validate(basis)


def revoke_provision_basis(
    *, session: Session, principal: Principal, recipient: str, basis_id: int
) -> ProvisionBasis:
    row = load(session, principal, recipient, "recipient.manage")
    basis = session.get(ProvisionBasisRecord, basis_id)
    if basis is None or basis.recipient_id != row.id or basis.revoked_at is not None:
        raise NotFound(f"no current provision basis {basis_id} of {recipient}", field="basis")
    basis.revoked_at = utcnow()
    session.flush()
    guard.audit(session=session, principal=principal,
                action="dissemination.provision_basis.revoked", object_type="recipient",
                object_id=row.code, details={"basis_id": basis_id})
    return ProvisionBasis.model_validate(basis)


def current_basis(session: Session, recipient_id: int) -> ProvisionBasisRecord | None:
    day = today()
    for basis in session.scalars(select(ProvisionBasisRecord).where(
            ProvisionBasisRecord.recipient_id == recipient_id,
            ProvisionBasisRecord.revoked_at.is_(None)).order_by(ProvisionBasisRecord.id.desc())):
        if basis.valid_from <= day and (basis.valid_until is None or day <= basis.valid_until):
            return basis
    return None


def record_council_safeguards(
    *,
    session: Session,
    principal: Principal,
    recipient: str,
    consent_on: date,
    consent_reference: str,
    safeguards_reference: str,
    valid_until: date | None = None,
) -> CouncilSafeguard:
    """Record a council member's prior consent and its information-management measures."""
    row = load(session, principal, recipient, "recipient.manage")
    if row.category != cat.COUNCIL_MEMBER:
        raise InvalidInput("consent and safeguards are recorded for council members",
                           field="recipient")
    if consent_on > today():
        raise InvalidInput("the consent cannot be dated in the future", field="consent_on")
    if valid_until is not None and valid_until < consent_on:
        raise InvalidInput("the record ends before the consent", field="valid_until")
    record = CouncilSafeguardRecord(
        recipient_id=row.id, consent_on=consent_on,
        consent_reference=_text(consent_reference, "consent_reference"),
        safeguards_reference=_text(safeguards_reference, "safeguards_reference"),
        valid_until=valid_until, recorded_by=principal.username)
    session.add(record)
    session.flush()
    guard.audit(session=session, principal=principal,
                action="dissemination.council_safeguards.recorded", object_type="recipient",
                object_id=row.code, legal_basis="Art 45(2), Art 45(4)",
                details={"record_id": record.id, "consent_on": consent_on.isoformat(),
                         "consent_reference": record.consent_reference,
                         "safeguards_reference": record.safeguards_reference,
                         "valid_until": valid_until.isoformat() if valid_until else None})
    return CouncilSafeguard.model_validate(record)


def withdraw_council_safeguards(
    *, session: Session, principal: Principal, recipient: str
) -> int:
    """The member withdrew consent or its safeguards lapsed: nothing more is provided."""
    row = load(session, principal, recipient, "recipient.manage")
    records = session.scalars(select(CouncilSafeguardRecord).where(
        CouncilSafeguardRecord.recipient_id == row.id,
        CouncilSafeguardRecord.withdrawn_at.is_(None))).all()
    if not records:
        raise NotFound(f"{recipient} has no consent on record", field="recipient")
    now = utcnow()
    for record in records:
        record.withdrawn_at = now
    session.flush()
    guard.audit(session=session, principal=principal,
                action="dissemination.council_safeguards.withdrawn", object_type="recipient",
                object_id=row.code, legal_basis="Art 45(2)", details={"records": len(records)})
    return len(records)


def safeguards_on_record(session: Session, recipient_id: int) -> bool:
    day = today()
    return any(
        r.consent_on <= day and (r.valid_until is None or day <= r.valid_until)
        for r in session.scalars(select(CouncilSafeguardRecord).where(
            CouncilSafeguardRecord.recipient_id == recipient_id,
            CouncilSafeguardRecord.withdrawn_at.is_(None)))
    )


def council_member_with_safeguards(session: Session, organisation_id: int | None) -> bool:
    """Whether the organisation is also a council member whose safeguards are on record."""
    if organisation_id is None:
        return False
    member = session.scalars(select(RecipientRecord).where(
        RecipientRecord.organisation_id == organisation_id,
        RecipientRecord.category == cat.COUNCIL_MEMBER,
        RecipientRecord.active.is_(True))).first()
    return member is not None and safeguards_on_record(session, member.id)


def list_records(
    *, session: Session, principal: Principal, recipient: str
) -> tuple[list[ProvisionBasis], list[CouncilSafeguard]]:
    row = load(session, principal, recipient, "recipient.view")
    bases = session.scalars(select(ProvisionBasisRecord).where(
        ProvisionBasisRecord.recipient_id == row.id).order_by(ProvisionBasisRecord.id))
    records = session.scalars(select(CouncilSafeguardRecord).where(
        CouncilSafeguardRecord.recipient_id == row.id).order_by(CouncilSafeguardRecord.id))
    return ([ProvisionBasis.model_validate(b) for b in bases],
            [CouncilSafeguard.model_validate(r) for r in records])
