"""Provisions counted for the annual report (Art 61(2), R-3.3-22, R-7.1-1): how many
product tiers went to each recipient category in a period, and how the usage
attestations after provisions of selected information went (R-2.3-12). Counts only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, outerjoin

from mamori.access.principal import Principal
from mamori.dissemination import guard, usage
from mamori.dissemination.categories import CATEGORIES
from mamori.dissemination.models import (
    ProvisionRecord,
    UsageAttestationRecord,
    UsageRequestRecord,
)


def provision_counts(*, session: Session, start: datetime, end: datetime
                     ) -> list[tuple[str, int]]:
    """``("<category> tier <n>", count)`` for every category and tier, in ``[start, end)``."""
    found = {(c, t): n for c, t, n in session.execute(
        select(ProvisionRecord.category, ProvisionRecord.tier, func.count())
        .where(ProvisionRecord.provided_at >= start, ProvisionRecord.provided_at < end)
        .group_by(ProvisionRecord.category, ProvisionRecord.tier)).all()}
    return [(f"{code} tier {tier}", int(found.get((code, tier), 0)))
            for code in CATEGORIES for tier in (1, 2, 3)]


def attestation_counts(*, session: Session, start: datetime, end: datetime
                       ) -> list[tuple[str, int]]:
    """Usage attestations in ``[start, end)``: requests made, attested, overdue (fell due
    in the period, up to now, without an attestation by then — a late one still counts)
    and reviewed per outcome."""
    request, statement = UsageRequestRecord, UsageAttestationRecord
    until = min(end, usage.utcnow())
    made = _count(session, request, request.requested_at >= start, request.requested_at < end)
    attested = _count(session, statement, statement.attested_at >= start,
                      statement.attested_at < end)
    overdue = _count(session, outerjoin(request, statement, statement.request_id == request.id),
        request.due_at >= start, request.due_at < until,
        or_(statement.id.is_(None), statement.attested_at > request.due_at))
    reviewed = dict(session.execute(
        select(request.outcome, func.count()).where(
            request.reviewed_at >= start, request.reviewed_at < end)
        .group_by(request.outcome)).all())
    return [("usage attestations requested", made),
            ("usage attestations attested", attested),
            ("usage attestations overdue", overdue),
            *((f"usage attestations reviewed {o}", int(reviewed.get(o, 0)))
              for o in usage.OUTCOMES)]


def _count(session: Session, table: Any, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def provision_statistics(*, session: Session, principal: Principal, start: datetime,
                         end: datetime) -> list[tuple[str, int]]:
    """The same counts for a person (analysts and the oversight committee)."""
    guard.authorize(session=session, principal=principal, action="provision.view",
                    resource=guard.resource(guard.PROVISION, "statistics"))
    return [*provision_counts(session=session, start=start, end=end),
            *attestation_counts(session=session, start=start, end=end)]
