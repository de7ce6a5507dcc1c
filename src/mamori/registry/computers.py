"""Specified critical computers (特定重要電子計算機): notify, change, withdraw, read,
and the component index the vulnerability matcher reads."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.config import get_settings
from mamori.errors import Conflict, NotFound
from mamori.registry import configuration, guard, notifications
from mamori.registry.entries import ComputerEntry, computer_name
from mamori.registry.models import (
    Component,
    ComponentRecord,
    Computer,
    ComputerRecord,
    ComputerVersion,
    ComputerVersionRecord,
    OperatorRecord,
)
from mamori.registry.operators import load_operator, viewable_operator

COMPONENT_LIMIT = 10_000


def today() -> date:
    """Today in the platform's time zone (deadlines are calendar days in Japan)."""
    return datetime.now(ZoneInfo(get_settings().timezone)).date()


def context(
    session: Session, principal: Principal, operator: OperatorRecord
) -> notifications.Context:
    return notifications.Context(
        session=session, principal=principal, operator=operator,
        values=configuration.current(session), today=today(),
    )


def load_computer(session: Session, computer_id: int) -> ComputerRecord:
    row = session.get(ComputerRecord, computer_id)
    if row is None:
        raise NotFound(f"no computer {computer_id}", field="computer")
    return row


def _viewable(
    session: Session, principal: Principal, computer_id: int, action: str = "registry.view"
) -> tuple[ComputerRecord, OperatorRecord]:
    row = load_computer(session, computer_id)
    operator = load_operator(session, row.operator_id)
    guard.authorize_operator(session=session, principal=principal, action=action,
                             operator=operator)
    return row, operator


def _audit_change(
    session: Session, principal: Principal, row: ComputerRecord, notification: str | None,
    source: str,
) -> None:
    action = {
        None: "registry.computer.draft_saved",
        "new": "registry.computer.notified",
        "exemption": "registry.computer.exemption_notified",
        "change": "registry.computer.change_notified",
    }[notification]
    guard.audit(
        session=session, principal=principal, action=action,
        object_type="registry.computer", object_id=row.id,
        details={"operator_id": row.operator_id, "version": row.version, "source": source},
    )


def _save(
    session: Session, principal: Principal, operator: OperatorRecord, entry: ComputerEntry,
    row: ComputerRecord | None, *, notify: bool, source: str,
) -> Computer:
    ctx = context(session, principal, operator)
    planned = notifications.plan(ctx, [(entry, row)], notify=notify, replace=True)
    version_before = planned[0].row.version if planned[0].row is not None else 0
    saved = notifications.write(ctx, planned, source=source)[0]
    if saved.version != version_before:
        _audit_change(session, principal, saved, planned[0].notification, source)
    return Computer.model_validate(saved)


def create_computer(
    *, session: Session, principal: Principal, operator_id: int, entry: ComputerEntry,
    notify: bool = False, source: str = "form",
) -> Computer:
    """Save a new computer as a draft, or notify it at once (``notify``)."""
    operator = viewable_operator(
        session=session, principal=principal, operator_id=operator_id, action="registry.notify"
    )
    entry.name = computer_name(entry.name)
    if entry.name in notifications.computers_by_name(session, operator.id):
        raise Conflict("this operator has a computer of this name already", field="name")
    return _save(session, principal, operator, entry, None, notify=notify, source=source)


def update_computer(
    *, session: Session, principal: Principal, computer_id: int, entry: ComputerEntry,
    notify: bool = False, source: str = "form",
) -> Computer:
    """Replace a computer's fields (components too, when ``entry.components`` is a list).

    A draft stays a draft unless ``notify``; a notified computer's change is a change
    notification at once.
    """
    row, operator = _viewable(session, principal, computer_id, "registry.notify")
    entry.name = computer_name(entry.name)
    return _save(session, principal, operator, entry, row, notify=notify, source=source)


def notify_computer(*, session: Session, principal: Principal, computer_id: int) -> Computer:
    """Submit a draft as a notification (or an exemption claim), once it is complete."""
    row, operator = _viewable(session, principal, computer_id, "registry.notify")
    ctx = context(session, principal, operator)
    entry = ComputerEntry(name=row.name)
    planned = notifications.plan(ctx, [(entry, row)], notify=True, replace=False)
    version_before = row.version
    notifications.write(ctx, planned, source="form")
    if row.version != version_before:
        _audit_change(session, principal, row, planned[0].notification, "form")
    return Computer.model_validate(row)


def withdraw_computer(
    *, session: Session, principal: Principal, computer_id: int, reason: str | None = None
) -> Computer:
    row, operator = _viewable(session, principal, computer_id, "registry.notify")
    notifications.withdraw(context(session, principal, operator), row, reason=reason)
    return Computer.model_validate(row)


def get_computer(*, session: Session, principal: Principal, computer_id: int) -> Computer:
    row, _ = _viewable(session, principal, computer_id)
    return Computer.model_validate(row)


def find_computers(
    *,
    session: Session,
    principal: Principal,
    operator_id: int | None = None,
    ids: list[int] | None = None,
) -> list[Computer]:
    """Computers of one operator, or of every operator ``principal`` may view.

    With ``ids``, only those computers (the ones ``principal`` may view among them).
    """
    query = select(ComputerRecord).order_by(ComputerRecord.id)
    if operator_id is not None:
        viewable_operator(session=session, principal=principal, operator_id=operator_id)
        query = query.where(ComputerRecord.operator_id == operator_id)
    else:
        guard.authorize_registry(session=session, principal=principal, action="operator.list")
    if ids is not None:
        query = query.where(ComputerRecord.id.in_(list(ids)))
    rows = list(session.scalars(query))
    if operator_id is None:
        allowed: dict[int, bool] = {}
        for row in rows:
            if row.operator_id not in allowed:
                allowed[row.operator_id] = guard.permitted_operator(
                    session=session, principal=principal, action="registry.view",
                    operator=load_operator(session, row.operator_id),
                )
        rows = [row for row in rows if allowed[row.operator_id]]
    return [Computer.model_validate(row) for row in rows]


def computer_history(
    *, session: Session, principal: Principal, computer_id: int
) -> list[ComputerVersion]:
    """Every version of a computer: what changed, when, by whom, and what it notified."""
    row, _ = _viewable(session, principal, computer_id)
    versions = session.scalars(
        select(ComputerVersionRecord)
        .where(ComputerVersionRecord.computer_id == row.id)
        .order_by(ComputerVersionRecord.version)
    )
    return [ComputerVersion.model_validate(v) for v in versions]


def list_components(
    *,
    session: Session,
    principal: Principal,
    operator_id: int | None = None,
    cpe_vendor: str | None = None,
    cpe_product: str | None = None,
    purl_type: str | None = None,
    purl_name: str | None = None,
    include_withdrawn: bool = False,
    limit: int = COMPONENT_LIMIT,
    offset: int = 0,
) -> list[Component]:
    """Components by CPE vendor/product and purl type/name (indexed), for matching.

    CPE vendor and product compare as formatted-string values, lower-cased.
    """
    query = (
        select(ComponentRecord)
        .join(ComputerRecord, ComputerRecord.id == ComponentRecord.computer_id)
        .order_by(ComponentRecord.id)
    )
    if operator_id is not None:
        viewable_operator(session=session, principal=principal, operator_id=operator_id)
        query = query.where(ComputerRecord.operator_id == operator_id)
    else:
        guard.authorize_registry(
            session=session, principal=principal, action="registry.components"
        )
    if cpe_vendor is not None:
        query = query.where(ComponentRecord.cpe_vendor == cpe_vendor.lower())
    if cpe_product is not None:
        query = query.where(ComponentRecord.cpe_product == cpe_product.lower())
    if purl_type is not None:
        query = query.where(ComponentRecord.purl_type == purl_type.lower())
    if purl_name is not None:
        query = query.where(ComponentRecord.purl_name == purl_name)
    if not include_withdrawn:
        query = query.where(ComputerRecord.status != notifications.WITHDRAWN)
    query = query.limit(max(1, min(limit, COMPONENT_LIMIT))).offset(max(0, offset))
    return [Component.model_validate(row) for row in session.scalars(query)]
