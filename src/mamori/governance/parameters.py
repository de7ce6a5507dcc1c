"""Regulatory parameters as versioned configuration (R-7.1-2): retention periods,
notification triggers, the agreement template and the default measure term.

Each change is a new version row, made by an admin and audited; reading takes the
newest version or the built-in default.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.errors import InvalidInput
from mamori.governance import constants as c
from mamori.governance.guard import audit, authorize
from mamori.governance.models import ParameterVersion
from mamori.governance.parameter_values import current_value, default_value
from mamori.governance.retention import validate_period_change

KEYS = (c.PARAM_RETENTION, c.PARAM_NOTIFICATION_TRIGGERS, c.PARAM_AGREEMENT_TEMPLATE,
        c.PARAM_MEASURE_TERM_DAYS)


def _validate(
    key: str, value: Any, previous: Any, decision_ref: str | None, reason: str | None
) -> Any:
    if key == c.PARAM_RETENTION:
        if not isinstance(value, dict) or not value:
            raise InvalidInput("retention_days: expected {data class: days}")
        clean = {}
        for name, days in value.items():
            if not isinstance(days, int) or isinstance(days, bool):
                raise InvalidInput(f"retention_days.{name}: expected a whole number of days")
            if days != previous.get(name):
                validate_period_change(str(name), days, decision_ref, reason)
            clean[str(name)] = days
        return clean
    if key == c.PARAM_NOTIFICATION_TRIGGERS:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidInput("notification_triggers: expected a list of event names")
        unknown = sorted(set(value) - set(c.EVENTS))
        if unknown:
            raise InvalidInput(f"notification_triggers: unknown events {', '.join(unknown)}; "
                               f"known: {', '.join(c.EVENTS)}")
        return sorted(set(value))
    if key == c.PARAM_AGREEMENT_TEMPLATE:
        if not isinstance(value, list) or not value:
            raise InvalidInput("agreement_template: expected a list of items")
        seen = set()
        for item in value:
            if not isinstance(item, dict) or not all(
                isinstance(item.get(k), str) and item.get(k) for k in ("key", "ja", "en")
            ):
                raise InvalidInput("agreement_template: each item needs key, ja and en")
            if item["key"] in seen:
                raise InvalidInput(f"agreement_template: item {item['key']!r} appears twice")
            seen.add(item["key"])
        return [{"key": i["key"], "ja": i["ja"], "en": i["en"]} for i in value]
    if key == c.PARAM_MEASURE_TERM_DAYS:
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 3660:
            raise InvalidInput("measure_term_days: expected 1 to 3660 days")
        return value
    raise InvalidInput(f"unknown parameter {key!r}; known: {', '.join(KEYS)}")


def get_parameter(*, session: Session, key: str) -> tuple[int, Any]:
    """(version, value) of a parameter; version 0 is the built-in default."""
    if key not in KEYS:
        raise InvalidInput(f"unknown parameter {key!r}; known: {', '.join(KEYS)}")
    return current_value(session, key)


def set_parameter(
    *,
    session: Session,
    principal: Principal,
    key: str,
    value: Any,
    reason: str | None = None,
    decision_ref: str | None = None,
) -> ParameterVersion:
    """Record a new version of a parameter."""
    authorize(session=session, principal=principal, action="governance.configure",
              resource_type="governance.parameter", resource_id=key)
    version, previous = current_value(session, key) if key in KEYS else (0, None)
    clean = _validate(key, value, previous, decision_ref, reason)
    row = ParameterVersion(
        key=key, version=version + 1, value=clean, reason=(reason or "").strip() or None,
        decision_ref=(decision_ref or "").strip() or None, created_by=principal.username,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit(session=session, principal=principal, action="governance.parameter.changed",
          object_type="governance_parameter", object_id=key,
          details={"version": row.version, "value": clean, "reason": row.reason,
                   "decision_ref": row.decision_ref})
    return row


def set_retention_days(
    *,
    session: Session,
    principal: Principal,
    data_class: str,
    days: int,
    reason: str | None = None,
    decision_ref: str | None = None,
) -> ParameterVersion:
    """Change one class's retention period (a new version of ``retention_days``)."""
    _, value = current_value(session, c.PARAM_RETENTION)
    merged = dict(value)
    merged[data_class] = days
    return set_parameter(session=session, principal=principal, key=c.PARAM_RETENTION,
                         value=merged, reason=reason, decision_ref=decision_ref)


def history(*, session: Session, principal: Principal, key: str) -> list[ParameterVersion]:
    authorize(session=session, principal=principal, action="governance.parameters",
              resource_type="governance.parameter", resource_id=key)
    return list(session.scalars(
        select(ParameterVersion).where(ParameterVersion.key == key)
        .order_by(ParameterVersion.version)
    ).all())


__all__ = ["KEYS", "default_value", "get_parameter", "history", "set_parameter",
           "set_retention_days"]
