"""Retention: a period per data class and the purge job that enforces it.

Domains register their data classes here with a purge callback; the job computes each
class's cut-off from the configured period, calls the callback, and writes a deletion
certificate (class, count, period, digest over the deleted rows' ids) to the audit log
in the same transaction as the deletion. The audit log itself is never purged.

Registering a class::

    from mamori.governance import retention

    retention.register(retention.DataClass(
        name="selected_comm_info", description="selected records",
        default_days=730, purge=my_purge))

where ``my_purge(session, before) -> PurgeOutcome`` deletes what was created before
``before`` (``retention.purge_rows`` does this for a plain table).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, delete, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.errors import InvalidInput, NotFound
from mamori.governance import constants as c
from mamori.governance.guard import audit, authorize
from mamori.governance.models import DeletionCertificate, Notification, UseDecision
from mamori.governance.parameter_values import retention_days


@dataclass(frozen=True)
class PurgeOutcome:
    """What a purge callback deleted: how many rows, the digest of their ids, and the
    oldest and newest timestamps among them."""

    count: int
    ids_digest: str
    oldest: datetime | None = None
    newest: datetime | None = None

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[Any, datetime | None]]) -> PurgeOutcome:
        """From (id, timestamp) pairs of the deleted rows."""
        items = list(rows)
        times = [t if t.tzinfo else t.replace(tzinfo=UTC) for _, t in items if t is not None]
        return cls(
            count=len(items),
            ids_digest=digest_ids(str(i) for i, _ in items),
            oldest=min(times) if times else None,
            newest=max(times) if times else None,
        )


def digest_ids(ids: Iterable[str]) -> str:
    """SHA-256 over the sorted ids, one per line: reproducible by anyone holding the ids."""
    digest = hashlib.sha256()
    for value in sorted(ids):
        digest.update(value.encode("utf-8") + b"\n")
    return digest.hexdigest()


PurgeFunc = Callable[[Session, datetime], PurgeOutcome]


@dataclass(frozen=True)
class DataClass:
    """A kind of stored record with a retention period and a way to delete it."""

    name: str
    description: str
    default_days: int
    purge: PurgeFunc


_registry: dict[str, DataClass] = {}


def register(data_class: DataClass) -> DataClass:
    """Add (or replace) a data class; returns it."""
    if data_class.default_days <= 0:
        raise ValueError("default_days must be positive")
    _registry[data_class.name] = data_class
    return data_class


def unregister(name: str) -> None:
    _registry.pop(name, None)


def registered() -> list[DataClass]:
    return sorted(_registry.values(), key=lambda d: d.name)


def purge_rows(
    session: Session,
    id_column: InstrumentedAttribute[Any] | Column[Any],
    time_column: InstrumentedAttribute[Any] | Column[Any],
    before: datetime,
) -> PurgeOutcome:
    """Delete the rows of one table whose ``time_column`` is before ``before``."""
    rows = session.execute(
        select(id_column, time_column).where(time_column < before)
    ).all()
    ids = [row[0] for row in rows]
    table = getattr(id_column, "expression", id_column).table
    for start in range(0, len(ids), 500):
        session.execute(delete(table).where(id_column.in_(ids[start:start + 500])))
    return PurgeOutcome.from_rows((row[0], row[1]) for row in rows)


def period_days(session: Session, data_class: str) -> int:
    entry = _registry.get(data_class)
    days = retention_days(session, data_class, entry.default_days if entry else None)
    if days is None:
        raise NotFound(f"unknown data class {data_class!r}")
    return days


@dataclass(frozen=True)
class PurgeReport:
    data_class: str
    cutoff: datetime
    retention_days: int
    outcome: PurgeOutcome
    certificate_id: int | None


def purge_expired(
    *,
    session: Session,
    principal: Principal,
    at: datetime | None = None,
    classes: Iterable[str] | None = None,
) -> list[PurgeReport]:
    """Delete every registered class's expired records and certify each deletion.

    The caller commits; certificates are written only for classes where something was
    deleted.
    """
    authorize(session=session, principal=principal, action="retention.purge",
              resource_type="governance.retention")
    now = at or utcnow()
    names = list(classes) if classes is not None else [d.name for d in registered()]
    unknown = [n for n in names if n not in _registry]
    if unknown:
        raise NotFound(f"unknown data class {', '.join(unknown)}")
    reports = []
    for name in names:
        data_class = _registry[name]
        days = period_days(session, name)
        cutoff = now - timedelta(days=days)
        outcome = data_class.purge(session, cutoff)
        certificate_id = None
        if outcome.count:
            certificate = DeletionCertificate(
                data_class=name, record_count=outcome.count, cutoff=cutoff,
                oldest=outcome.oldest, newest=outcome.newest, ids_digest=outcome.ids_digest,
                retention_days=days, actor=principal.username, created_at=utcnow(),
            )
            session.add(certificate)
            session.flush()
            certificate_id = certificate.id
            audit(session=session, principal=principal, action="governance.retention.purged",
                  object_type="data_class", object_id=name, legal_basis="Art 25",
                  details=certificate_details(certificate))
        reports.append(PurgeReport(name, cutoff, days, outcome, certificate_id))
    session.flush()
    return reports


def certificate_details(certificate: DeletionCertificate) -> dict[str, Any]:
    """The deletion certificate as it appears in the audit entry."""
    return {
        "certificate_id": certificate.id,
        "data_class": certificate.data_class,
        "count": certificate.record_count,
        "retention_days": certificate.retention_days,
        "period": {
            "oldest": certificate.oldest.isoformat() if certificate.oldest else None,
            "newest": certificate.newest.isoformat() if certificate.newest else None,
            "before": certificate.cutoff.isoformat(),
        },
        "ids_digest": certificate.ids_digest,
    }


def list_certificates(*, session: Session, principal: Principal) -> list[DeletionCertificate]:
    authorize(session=session, principal=principal, action="oversight.view",
              resource_type="governance.oversight")
    return list(session.scalars(
        select(DeletionCertificate).order_by(DeletionCertificate.id)
    ).all())


def policies(
    *, session: Session, principal: Principal
) -> list[tuple[DataClass | None, str, int]]:
    """(registered class or None, name, days) for every registered or configured class."""
    from mamori.governance.parameter_values import current_value

    authorize(session=session, principal=principal, action="retention.view",
              resource_type="governance.retention")
    _, configured = current_value(session, c.PARAM_RETENTION)
    names = set(_registry) | set(configured)
    rows = []
    for name in sorted(names):
        entry = _registry.get(name)
        days = retention_days(session, name, entry.default_days if entry else None)
        rows.append((entry, name, int(days or 0)))
    return rows


def validate_period_change(name: str, days: int, decision_ref: str | None,
                           reason: str | None) -> None:
    """A period is positive; SCI's may exceed its default only with a recorded decision."""
    if days <= 0:
        raise InvalidInput(f"retention period of {name}: must be at least one day")
    default = c.DEFAULT_RETENTION_DAYS.get(name)
    if name in c.DECISION_BOUND_CLASSES and default is not None and days > default and not (
        (decision_ref or "").strip() and (reason or "").strip()
    ):
        raise InvalidInput(
            f"retention period of {name}: extending beyond {default} days needs a recorded "
            "decision (--decision REF and --reason TEXT)"
        )


# Governance's own data classes.
def _purge_notifications(session: Session, before: datetime) -> PurgeOutcome:
    return purge_rows(session, Notification.id, Notification.occurred_at, before)


def _purge_use_decisions(session: Session, before: datetime) -> PurgeOutcome:
    return purge_rows(session, UseDecision.id, UseDecision.decided_at, before)


register(DataClass(c.COMMITTEE_NOTIFICATION, "notifications to the oversight committee",
                   c.DEFAULT_RETENTION_DAYS[c.COMMITTEE_NOTIFICATION], _purge_notifications))
register(DataClass(c.USE_DECISION, "use and provision decisions on selected information",
                   c.DEFAULT_RETENTION_DAYS[c.USE_DECISION], _purge_use_decisions))
