"""The oversight console under ``/oversight`` for committee inspectors (R-3.3-20,
R-3.3-22): the audit log with proofs, measures and approvals, consents and use
decisions, selection receipts, access to communications-derived data, the access
policy files, notifications and deletion certificates, carriers' cooperation, the
annual report and CSV exports. Every page authorizes ``oversight.view`` first: other
roles get 403."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import select
from starlette.responses import Response

from mamori.db import utcnow
from mamori.errors import NotFound
from mamori.governance import (
    consents,
    cooperation,
    measures,
    notifications,
    oversight,
    retention,
)
from mamori.governance import statistics as stats
from mamori.governance.guard import authorize
from mamori.governance.labels import label_context
from mamori.governance.models import UseDecision
from mamori.governance.parsing import parse_when
from mamori.web import nav
from mamori.web.deps import LoggedInPage, LoggedInPageRequest
from mamori.web.templating import render

router = APIRouter(prefix="/oversight", include_in_schema=False)

nav.register(
    url="/oversight",
    label_ja="監理委員会コンソール",
    label_en="Oversight console",
    roles=frozenset({"committee_inspector"}),
    action="oversight.view",
    resource_type="governance.oversight",
    description_ja="監査ログと証明、承認、同意、選別の受領記録、通信情報へのアクセス、統計。",
    description_en="Audit log with proofs, approvals, consents, selection receipts, access "
    "to communications-derived data and statistics.",
    order=45,
)

PAGE_SIZE = 50
CSV = "text/csv; charset=utf-8"


def _console(current: LoggedInPageRequest, what: str) -> None:
    authorize(session=current.session, principal=current.principal, action="oversight.view",
              resource_type="governance.oversight", resource_id=what)


def _page(request: Request, name: str, context: dict[str, Any]) -> Response:
    return render(request, f"governance/{name}", {**label_context(), **context})


def _moment(value: str | None, field: str) -> datetime | None:
    return parse_when(value, field=field) if value else None


@router.get("")
def audit_log(
    request: Request,
    current: LoggedInPage,
    action: Annotated[str | None, Query(max_length=100)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    object_id: Annotated[str | None, Query(max_length=200)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    page = oversight.audit_page(session=current.session, principal=current.principal,
                                action=action, actor=actor, object_id=object_id,
                                offset=offset, limit=PAGE_SIZE)
    return _page(request, "console.html", {
        "page": page, "filters": {"action": action or "", "actor": actor or "",
                                  "object_id": object_id or ""},
        "next_offset": offset + PAGE_SIZE if offset + PAGE_SIZE < page.total else None,
        "prev_offset": max(offset - PAGE_SIZE, 0) if offset else None,
    })


@router.get("/audit/{seq}")
def audit_entry(request: Request, current: LoggedInPage, seq: int,
                tree_size: int | None = None) -> Response:
    check = oversight.check_entry(session=current.session, principal=current.principal,
                                  seq=seq, tree_size=tree_size)
    return _page(request, "audit_entry.html", {"check": check})


@router.get("/consistency")
def consistency(request: Request, current: LoggedInPage, first: int | None = None,
                second: int | None = None) -> Response:
    _console(current, "audit_log")
    result = None
    if first is not None and second is not None:
        result = oversight.check_consistency(session=current.session,
                                             principal=current.principal, first=first,
                                             second=second)
    total = oversight.audit_page(session=current.session, principal=current.principal,
                                 limit=1).total
    return _page(request, "consistency.html", {"result": result, "first": first,
                                               "second": second, "total": total})


@router.get("/measures")
def approvals(request: Request, current: LoggedInPage) -> Response:
    _console(current, "measures")
    rows = [measures.to_out(m) for m in measures.list_measures(
        session=current.session, principal=current.principal)]
    return _page(request, "console_measures.html", {"measures": rows})


@router.get("/consents")
def consent_records(request: Request, current: LoggedInPage) -> Response:
    _console(current, "consents")
    decisions = current.session.scalars(
        select(UseDecision).order_by(UseDecision.id.desc()).limit(200)).all()
    return _page(request, "console_consents.html", {
        "consents": consents.list_consents(session=current.session,
                                           principal=current.principal),
        "arrangements": consents.list_arrangements(session=current.session,
                                                   principal=current.principal),
        "decisions": decisions,
    })


@router.get("/cooperation")
def cooperation_records(request: Request, current: LoggedInPage) -> Response:
    _console(current, "cooperation")
    return _page(request, "console_cooperation.html", {
        "requests": cooperation.list_requests(session=current.session,
                                              principal=current.principal),
    })


@router.get("/receipts")
def receipts(request: Request, current: LoggedInPage,
             offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    page = oversight.receipts(session=current.session, principal=current.principal,
                              offset=offset, limit=PAGE_SIZE)
    return _page(request, "receipts.html", {
        "page": page,
        "next_offset": offset + PAGE_SIZE if offset + PAGE_SIZE < page.total else None,
    })


@router.get("/comms-access")
def comms_access(request: Request, current: LoggedInPage, since: str | None = None,
                 until: str | None = None) -> Response:
    rows = oversight.comms_access(session=current.session, principal=current.principal,
                                  since=_moment(since, "since"), until=_moment(until, "until"))
    return _page(request, "comms_access.html", {"rows": rows, "since": since or "",
                                                "until": until or ""})


@router.get("/policies")
def policies(request: Request, current: LoggedInPage) -> Response:
    files = oversight.policy_files(session=current.session, principal=current.principal)
    return _page(request, "policies.html", {"files": files})


@router.get("/notifications")
def notification_log(request: Request, current: LoggedInPage) -> Response:
    return _page(request, "notifications.html", {
        "notifications": notifications.list_notifications(session=current.session,
                                                          principal=current.principal),
        "certificates": retention.list_certificates(session=current.session,
                                                    principal=current.principal),
    })


def _report(current: LoggedInPageRequest, year: int | None, fiscal: bool) -> stats.AnnualReport:
    start, end, label = stats.year_period(year or utcnow().year, fiscal=fiscal)
    return stats.annual_report(session=current.session, principal=current.principal,
                               start=start, end=end, label=label)


@router.get("/report")
def report(request: Request, current: LoggedInPage,
           year: Annotated[int | None, Query(ge=2000, le=2200)] = None,
           fiscal: bool = False) -> Response:
    result = _report(current, year, fiscal)
    sections = [(name, result.section(name)) for name in stats.SECTIONS]
    return _page(request, "report.html", {"report": result, "sections": sections,
                                          "year": year or utcnow().year, "fiscal": fiscal})


@router.get("/report.csv")
def report_csv(current: LoggedInPage,
               year: Annotated[int | None, Query(ge=2000, le=2200)] = None,
               fiscal: bool = False) -> Response:
    result = _report(current, year, fiscal)
    return _csv(stats.to_csv(result), f"mamori-report-{result.label}.csv")


def _csv(text: str, filename: str) -> Response:
    return Response(text, media_type=CSV,
                    headers={"content-disposition": f'attachment; filename="{filename}"'})


def _rows(items: Iterable[Any], fields: tuple[str, ...]) -> Iterable[list[Any]]:
    for item in items:
        yield [getattr(item, f) for f in fields]


@router.get("/export/{name}.csv")
def export(current: LoggedInPage, name: str, action: str | None = None) -> Response:
    """Exports: audit, measures, consents, decisions, notifications, certificates."""
    session, principal = current.session, current.principal
    _console(current, "export")
    if name == "audit":
        return _csv(oversight.export_audit_csv(session=session, principal=principal,
                                               action=action), "mamori-audit.csv")
    if name == "measures":
        header = ("measure", "article", "term", "starts_at", "ends_at", "status",
                  "requested_by", "requested_at", "decided_by", "decided_at")
        rows = [[m.id, m.article, t.seq, t.starts_at, t.ends_at, t.status, t.requested_by,
                 t.requested_at, t.decided_by, t.decided_at]
                for m in measures.list_measures(session=session, principal=principal)
                for t in m.terms]
        return _csv(oversight.rows_to_csv(header, rows), "mamori-measures.csv")
    if name == "consents":
        fields: tuple[str, ...] = ("id", "agreement_id", "status", "user_body_id",
                                   "purpose_code",
                  "document_digest", "examined_at", "activated_at", "withdrawn_at")
        return _csv(oversight.rows_to_csv(fields, _rows(
            consents.list_consents(session=session, principal=principal), fields)),
            "mamori-consents.csv")
    if name == "decisions":
        fields = ("id", "decided_at", "actor", "basis_id", "user_body_id", "purpose_code",
                  "granted", "reason", "provision", "consent_id", "arrangement_id")
        rows_ = session.scalars(select(UseDecision).order_by(UseDecision.id)).all()
        return _csv(oversight.rows_to_csv(fields, _rows(rows_, fields)),
                    "mamori-use-decisions.csv")
    if name == "notifications":
        fields = ("id", "event", "object_type", "object_id", "occurred_at", "created_at")
        return _csv(oversight.rows_to_csv(fields, _rows(notifications.list_notifications(
            session=session, principal=principal), fields)), "mamori-notifications.csv")
    if name == "certificates":
        fields = ("id", "data_class", "record_count", "cutoff", "oldest", "newest",
                  "ids_digest", "retention_days", "actor", "created_at")
        return _csv(oversight.rows_to_csv(fields, _rows(retention.list_certificates(
            session=session, principal=principal), fields)), "mamori-certificates.csv")
    raise NotFound(f"no export named {name[:40]!r}")



