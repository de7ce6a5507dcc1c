"""Statistics for the committee's annual report to the Diet (Art 61(2), R-3.3-22, R-7.1-1).

For any period: approval requests, approvals and refusals per article, notifications
per event, provisions of selected information per recipient, other-purpose decisions,
agreements, deletions per data class, and cooperation requests to telecom carriers with
the evaluations of their refusals. Counts only; nothing identifies a
communication.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.config import get_settings
from mamori.errors import InvalidInput
from mamori.governance import constants as c
from mamori.governance.guard import audit, authorize
from mamori.governance.models import (
    Agreement,
    Arrangement,
    Consent,
    CooperationRequest,
    DeletionCertificate,
    Measure,
    MeasureTerm,
    Notification,
    UseDecision,
)
from mamori.governance.parsing import check_period


@dataclass(frozen=True)
class ReportRow:
    section: str
    item: str
    count: int


@dataclass(frozen=True)
class AnnualReport:
    start: datetime
    end: datetime
    label: str
    rows: list[ReportRow] = field(default_factory=list)

    def section(self, name: str) -> list[ReportRow]:
        return [r for r in self.rows if r.section == name]

    def count(self, section: str, item: str) -> int:
        return next((r.count for r in self.rows if r.section == section and r.item == item), 0)


SECTIONS = (
    "approval_requests",
    "renewal_requests",
    "approvals",
    "refusals",
    "notifications",
    "provisions_by_recipient",
    "provisions_by_category",
    "other_purpose_decisions",
    "agreements",
    "consents",
    "deletions_records",
    "deletions_certificates",
    "cooperation_requests",
    "cooperation_refusals",
)


def year_period(year: int, *, fiscal: bool = False) -> tuple[datetime, datetime, str]:
    """The calendar year (or the fiscal year April–March) in Japan time: [start, end)."""
    if not 2000 <= year <= 2200:
        raise InvalidInput("year: expected a year between 2000 and 2200")
    tz = ZoneInfo(get_settings().timezone)
    if fiscal:
        start = datetime(year, 4, 1, tzinfo=tz)
        end = datetime(year + 1, 4, 1, tzinfo=tz)
        return start, end, f"FY{year}"
    start = datetime.combine(datetime(year, 1, 1).date(), time(), tzinfo=tz)
    end = datetime.combine(datetime(year + 1, 1, 1).date(), time(), tzinfo=tz)
    return start, end, str(year)


def annual_report(
    *, session: Session, principal: Principal, start: datetime, end: datetime, label: str = ""
) -> AnnualReport:
    """Counts of what happened in ``[start, end)``; the production of the report is audited."""
    authorize(session=session, principal=principal, action="oversight.view",
              resource_type="governance.oversight", resource_id="annual_report")
    check_period(start, end, field="report period")
    rows: list[ReportRow] = []

    def add(section: str, pairs: Iterable[tuple[object, object]]) -> None:
        for item, number in pairs:
            rows.append(ReportRow(section, str(item), int(str(number))))

    articles = sorted(c.MEASURE_ARTICLES)
    for section, status_col, seq_filter, status in (
        ("approval_requests", MeasureTerm.requested_at, MeasureTerm.seq == 1, None),
        ("renewal_requests", MeasureTerm.requested_at, MeasureTerm.seq > 1, None),
        ("approvals", MeasureTerm.decided_at, None, c.TERM_APPROVED),
        ("refusals", MeasureTerm.decided_at, None, c.TERM_REFUSED),
    ):
        query = (
            select(Measure.article, func.count())
            .select_from(MeasureTerm).join(Measure, Measure.id == MeasureTerm.measure_id)
            .where(status_col >= start, status_col < end)
            .group_by(Measure.article)
        )
        if seq_filter is not None:
            query = query.where(seq_filter)
        if status is not None:
            query = query.where(MeasureTerm.status == status,
                                MeasureTerm.decided_by.is_not(None))
        found = {a: n for a, n in session.execute(query).all()}
        add(section, [(f"Art {a}", found.get(a, 0)) for a in articles])

    found_events = dict(session.execute(
        select(Notification.event, func.count())
        .where(Notification.occurred_at >= start, Notification.occurred_at < end)
        .group_by(Notification.event)
    ).all())
    add("notifications", [(e, found_events.get(e, 0)) for e in c.EVENTS])

    names: dict[int | None, str] = {a.body_organisation_id: a.body_name
                                    for a in session.scalars(select(Arrangement)).all()}
    for consent in session.scalars(select(Consent)).all():
        if consent.user_body_id is not None and consent.user_body_name:
            names.setdefault(consent.user_body_id, consent.user_body_name)
    provisions = session.execute(
        select(UseDecision.user_body_id, func.count())
        .where(UseDecision.provision.is_(True), UseDecision.granted.is_(True),
               UseDecision.decided_at >= start, UseDecision.decided_at < end)
        .group_by(UseDecision.user_body_id).order_by(UseDecision.user_body_id)
    ).all()
    add("provisions_by_recipient",
        [(f"{names.get(body, 'organisation')} (#{body})", n) for body, n in provisions])

    # Every provision of a product, by recipient category and tier (dissemination's count).
    from mamori.dissemination import service as dissemination_service

    add("provisions_by_category",
        dissemination_service.provision_counts(session=session, start=start, end=end))
    add("usage_attestations",
        dissemination_service.attestation_counts(session=session, start=start, end=end))

    decisions = dict(session.execute(
        select(UseDecision.granted, func.count())
        .where(UseDecision.purpose_code.not_in(
            [c.PURPOSE_SPECIFIED_DAMAGE_PREVENTION, c.PURPOSE_AGREEMENT_PARTY]),
            UseDecision.decided_at >= start, UseDecision.decided_at < end)
        .group_by(UseDecision.granted)
    ).all())
    add("other_purpose_decisions",
        [("granted", decisions.get(True, 0)), ("refused", decisions.get(False, 0))])

    concluded = session.scalar(select(func.count()).select_from(Agreement).where(
        Agreement.concluded_at >= start, Agreement.concluded_at < end)) or 0
    in_force = session.scalar(select(func.count()).select_from(Agreement).where(
        Agreement.concluded_at.is_not(None), Agreement.concluded_at < end,
        (Agreement.ended_at.is_(None)) | (Agreement.ended_at >= end))) or 0
    add("agreements", [("concluded", concluded), ("in_force_at_end", in_force)])
    activated = session.scalar(select(func.count()).select_from(Consent).where(
        Consent.activated_at >= start, Consent.activated_at < end)) or 0
    add("consents", [("activated", activated)])

    deletions = session.execute(
        select(DeletionCertificate.data_class, func.count(),
               func.coalesce(func.sum(DeletionCertificate.record_count), 0))
        .where(DeletionCertificate.created_at >= start, DeletionCertificate.created_at < end)
        .group_by(DeletionCertificate.data_class).order_by(DeletionCertificate.data_class)
    ).all()
    add("deletions_records", [(name, total) for name, _, total in deletions])
    add("deletions_certificates", [(name, certs) for name, certs, _ in deletions])
    add("cooperation_requests", _cooperation_counts(session, start, end))
    add("cooperation_refusals", _refusal_evaluations(session, start, end))

    report = AnnualReport(start=start, end=end, label=label or
                          f"{start.isoformat()}/{end.isoformat()}", rows=rows)
    audit(session=session, principal=principal, action="governance.report.produced",
          object_type="annual_report", object_id=report.label, legal_basis="Art 61(2)",
          details={"start": start.isoformat(), "end": end.isoformat()})
    return report


def _cooperation_counts(
    session: Session, start: datetime, end: datetime
) -> list[tuple[str, int]]:
    """Requests recorded in the period, and those that reached each later status in it."""
    request = CooperationRequest

    def count(column: Any, *where: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(request).where(
            column >= start, column < end, *where)) or 0)

    return [
        ("recorded", count(request.created_at)),
        ("sent", count(request.sent_at)),
        (c.COOP_COOPERATING, count(request.responded_at,
                                   request.status == c.COOP_COOPERATING)),
        (c.COOP_REFUSED, count(request.responded_at, request.status == c.COOP_REFUSED)),
        (c.COOP_WITHDRAWN, count(request.withdrawn_at)),
    ]


def _refusal_evaluations(
    session: Session, start: datetime, end: datetime
) -> list[tuple[str, int]]:
    """Refusals received in the period by the evaluation of their reason as it stood at
    the period's end (a later change of view does not rewrite a past report)."""
    found = dict.fromkeys(c.REFUSAL_EVALUATIONS, 0)
    refusals = session.scalars(select(CooperationRequest).where(
        CooperationRequest.status == c.COOP_REFUSED, CooperationRequest.responded_at >= start,
        CooperationRequest.responded_at < end)).all()
    for refusal in refusals:
        views = [e.evaluation for e in refusal.evaluations if e.evaluated_at < end]
        found[views[-1] if views else c.EVALUATION_UNDER_REVIEW] += 1
    return list(found.items())


def to_csv(report: AnnualReport) -> str:
    """``period,section,item,count`` — one line per counted item."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["period", "section", "item", "count"])
    for row in report.rows:
        writer.writerow([report.label, row.section, row.item, row.count])
    return buffer.getvalue()
