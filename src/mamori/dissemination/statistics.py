"""Provisions counted for the annual report (Art 61(2), R-3.3-22, R-7.1-1): how many
product tiers went to each recipient category in a period. Counts only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.dissemination import guard
from mamori.dissemination.categories import CATEGORIES
from mamori.dissemination.models import ProvisionRecord


def provision_counts(*, session: Session, start: datetime, end: datetime
                     ) -> list[tuple[str, int]]:
    """``("<category> tier <n>", count)`` for every category and tier, in ``[start, end)``."""
    found = {(c, t): n for c, t, n in session.execute(
        select(ProvisionRecord.category, ProvisionRecord.tier, func.count())
        .where(ProvisionRecord.provided_at >= start, ProvisionRecord.provided_at < end)
        .group_by(ProvisionRecord.category, ProvisionRecord.tier)).all()}
    return [(f"{code} tier {tier}", int(found.get((code, tier), 0)))
            for code in CATEGORIES for tier in (1, 2, 3)]


def provision_statistics(*, session: Session, principal: Principal, start: datetime,
                         end: datetime) -> list[tuple[str, int]]:
    """The same counts for a person (analysts and the oversight committee)."""
    guard.authorize(session=session, principal=principal, action="provision.view",
                    resource=guard.resource(guard.PROVISION, "statistics"))
    return provision_counts(session=session, start=start, end=end)
