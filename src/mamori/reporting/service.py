"""The reporting domain's public API (keyword-only functions, ``session=`` first).

Other domains call these and never touch reporting's tables. Every function takes
``principal=`` and asks ``mamori.access.service.authorize``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.errors import InvalidInput, NotFound
from mamori.reporting import registry_link
from mamori.reporting.access_rules import authorize_collection
from mamori.reporting.drafts import delete_draft, get_draft, list_drafts, save_draft
from mamori.reporting.exports import export_formats, export_incident
from mamori.reporting.lifecycle import file_report as _file_report
from mamori.reporting.lifecycle import request_report as _request_report
from mamori.reporting.models import IncidentOut
from mamori.reporting.precursors import TAXII_ROOT as PRECURSOR_TAXII_ROOT
from mamori.reporting.precursors import (
    get_precursor_batch,
    list_precursors,
    precursor_intake_open,
    submit_precursors,
)
from mamori.reporting.queries import (
    get_incident,
    incident_view,
    incidents_for_computers,
    list_incidents,
    reported_indicators,
)
from mamori.reporting.reminders import (
    list_notifications,
    mark_notification_read,
    send_due_reminders,
)
from mamori.reporting.report_format import ReportDocument
from mamori.reporting.scope import Decision, load_rules


def file_report(
    *,
    session: Session,
    principal: Principal,
    document: bytes | str | dict[str, Any] | ReportDocument,
    operator_id: int | None = None,
    draft_id: int | None = None,
    now: datetime | None = None,
) -> IncidentOut:
    """File a preliminary report, an update or a final report (``mamori.incident-report/1``).

    A new incident needs ``operator_id`` (Art 5); a later version names the incident in
    the document. The version is routed to the supervising ministry and the Cabinet Office.
    """
    incident = _file_report(session=session, principal=principal, document=document,
                            operator_id=operator_id, draft_id=draft_id, now=now)
    return incident_view(session, incident, now=now)


def request_report(
    *,
    session: Session,
    principal: Principal,
    regulation: str,
    title: str,
    operator_id: int | None = None,
    organisation_id: int | None = None,
    due_at: datetime | None = None,
    now: datetime | None = None,
) -> IncidentOut:
    """Issue an Art 9 report collection order or an Art 45(5) request."""
    incident = _request_report(session=session, principal=principal, regulation=regulation,
                               title=title, operator_id=operator_id,
                               organisation_id=organisation_id, due_at=due_at, now=now)
    return incident_view(session, incident, now=now)


def check_scope(
    *,
    session: Session,
    principal: Principal,
    stage: str,
    zone: str | None = None,
    category: str | None = None,
    techniques: Iterable[str] = (),
    operator_id: int | None = None,
    computer_ids: Iterable[int] = (),
) -> Decision:
    """"Do I need to report?": the scope rules' answer, with the reason in plain words.

    Name registered computers (their zone and category are used) or give a zone and a
    device category directly.
    """
    authorize_collection(session=session, principal=principal, action="report.check")
    ids = list(computer_ids)
    pairs: list[tuple[str | None, str | None]] = []
    if ids:
        if operator_id is None:
            raise InvalidInput("name the operator whose computers these are", field="operator_id")
        found = registry_link.computers(session=session, principal=principal,
                                        operator_id=operator_id, ids=ids)
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(f"computers not registered for operator {operator_id}: "
                           f"{', '.join(map(str, missing))}", field="computer_ids")
        pairs = [(found[i].zone, found[i].category) for i in ids]
    elif zone or category:
        pairs = [(zone or None, category or None)]
    return load_rules().evaluate_many(computers=pairs, stage=stage, techniques=list(techniques))


__all__ = [
    "PRECURSOR_TAXII_ROOT",
    "check_scope",
    "delete_draft",
    "export_formats",
    "export_incident",
    "file_report",
    "get_draft",
    "get_incident",
    "get_precursor_batch",
    "incidents_for_computers",
    "list_drafts",
    "list_incidents",
    "list_notifications",
    "list_precursors",
    "mark_notification_read",
    "precursor_intake_open",
    "reported_indicators",
    "request_report",
    "save_draft",
    "send_due_reminders",
    "submit_precursors",
]
