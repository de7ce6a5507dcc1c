"""The STIX objects each recipient was provided, as its TAXII collection serves them.

Every object version is stored once per recipient with the time it was added. Pages
are read in ``(date_added, row id)`` order after a position, so a page can be continued
by any process. Only rows of tiers the recipient is entitled to *now* are read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.orm import Session

from mamori.dissemination.models import ServedObjectRecord
from mamori.dissemination.taxii.cursor import Position
from mamori.dissemination.taxii.params import Filters, format_timestamp, version_key


@dataclass(frozen=True)
class Page:
    rows: list[ServedObjectRecord]
    more: bool

    @property
    def last_position(self) -> Position | None:
        if not self.rows:
            return None
        last = self.rows[-1]
        return Position(added=last.date_added, row_id=last.id)


def object_version(obj: dict[str, Any], added: datetime) -> str:
    """An object's version as TAXII names it: ``modified``, else ``created``, else when added."""
    for field in ("modified", "created"):
        value = obj.get(field)
        if isinstance(value, str) and value:
            return value
    return format_timestamp(added)


def store(
    session: Session,
    *,
    recipient_id: int,
    provision_id: int,
    tier: int,
    objects: Iterable[dict[str, Any]],
    added: datetime,
) -> int:
    """Add a provision's objects to the recipient's collection; returns how many were new.

    An object version the recipient holds already keeps its first place and content
    (TAXII serves each object version once)."""
    new = 0
    for obj in objects:
        version = object_version(obj, added)
        key = version_key(version)
        body = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        existing = session.scalars(select(ServedObjectRecord).where(
            ServedObjectRecord.recipient_id == recipient_id,
            ServedObjectRecord.stix_id == obj["id"],
            ServedObjectRecord.version_key == key)).first()
        if existing is not None:
            continue
        session.add(ServedObjectRecord(
            recipient_id=recipient_id, provision_id=provision_id, tier=tier,
            stix_id=obj["id"], stix_type=str(obj.get("type") or obj["id"].split("--")[0]),
            version=version, version_key=key, spec_version=str(obj.get("spec_version", "2.1")),
            date_added=added, body=body))
        new += 1
    session.flush()
    return new


def _base(recipient_id: int, tiers: Sequence[int], filters: Filters) -> Any:
    """The rows the filters admit before the version filter (medallion's order of steps)."""
    t = ServedObjectRecord
    conditions = [t.recipient_id == recipient_id, t.tier.in_(list(tiers))]
    if filters.types:
        conditions.append(t.stix_type.in_(filters.types))
    if filters.ids:
        conditions.append(t.stix_id.in_(filters.ids))
    if filters.added_after is not None:
        conditions.append(t.date_added > filters.added_after)
    if filters.spec_versions:
        conditions.append(t.spec_version.in_(filters.spec_versions))
    return and_(*conditions)


def _version_condition(base: Any, filters: Filters) -> Any:
    t = ServedObjectRecord
    chosen = filters.versions
    if chosen.all:
        return None
    parts = []
    if chosen.exact:
        parts.append(t.version_key.in_(chosen.exact))
    for wanted, pick in ((chosen.last, func.max), (chosen.first, func.min)):
        if wanted:
            inner = select(t.stix_id, pick(t.version_key)).where(base).group_by(t.stix_id)
            parts.append(tuple_(t.stix_id, t.version_key).in_(inner))
    return or_(*parts) if parts else None


def page(
    session: Session,
    *,
    recipient_id: int,
    tiers: Sequence[int],
    filters: Filters,
    after: Position | None,
    limit: int,
) -> Page:
    """One page of the recipient's objects after ``after`` (exclusive)."""
    if not tiers:
        return Page(rows=[], more=False)
    t = ServedObjectRecord
    base = _base(recipient_id, tiers, filters)
    query = select(t).where(base)
    versions = _version_condition(base, filters)
    if versions is not None:
        query = query.where(versions)
    if after is not None:
        query = query.where(or_(t.date_added > after.added,
                                and_(t.date_added == after.added, t.id > after.row_id)))
    rows = list(session.scalars(query.order_by(t.date_added, t.id).limit(limit + 1)))
    return Page(rows=rows[:limit], more=len(rows) > limit)


def exists(session: Session, *, recipient_id: int, tiers: Sequence[int], stix_id: str) -> bool:
    t = ServedObjectRecord
    return session.scalar(select(func.count()).select_from(t).where(
        t.recipient_id == recipient_id, t.tier.in_(list(tiers)), t.stix_id == stix_id)) != 0


def body(row: ServedObjectRecord) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(row.body)
    return parsed


def count(session: Session, *, recipient_id: int, tiers: Sequence[int]) -> int:
    t = ServedObjectRecord
    if not tiers:
        return 0
    return int(session.scalar(select(func.count()).select_from(t).where(
        t.recipient_id == recipient_id, t.tier.in_(list(tiers)))) or 0)


def of_provision(session: Session, provision_id: int) -> list[dict[str, Any]]:
    t = ServedObjectRecord
    rows = session.scalars(select(t).where(t.provision_id == provision_id).order_by(t.id))
    return [body(r) for r in rows]
