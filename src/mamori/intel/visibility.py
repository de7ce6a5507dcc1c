"""The one filter every read of the store goes through.

The Cedar policies decide, for a principal and an action, which label sets it may
read (the comms gate of ``access.cedar`` hides COMMS from all but designated handlers
with a second factor and a declared purpose). The answer becomes a SQL condition on
``label_set_id``, so rows, counts and correlations a principal may not see are never
read at all: nothing computed for a principal can reveal that a hidden object exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from mamori.access import service as access_service
from mamori.access.principal import Principal
from mamori.intel.labels import Labels
from mamori.intel.models import LabelSetRow

VIEW = "intel.view"


@dataclass(frozen=True)
class Scope:
    """The label sets one principal may read for one action, and which are COMMS."""

    allowed: frozenset[int]
    comms: frozenset[int]
    labels: dict[int, Labels]

    def where(self, column: InstrumentedAttribute[int] | ColumnElement[int]) -> ColumnElement[bool]:
        """The SQL condition restricting ``column`` (a label-set id) to this scope."""
        if not self.allowed:
            return false()
        return column.in_(sorted(self.allowed))

    def sees(self, label_set_id: int) -> bool:
        return label_set_id in self.allowed


def scope(*, session: Session, principal: Principal, action: str = VIEW) -> Scope:
    """Which label sets ``principal`` may read with ``action`` (cached per session)."""
    rows = tuple((int(i), str(k)) for i, k in session.execute(
        select(LabelSetRow.id, LabelSetRow.key).order_by(LabelSetRow.id)))
    cache: dict[tuple[Principal, str, tuple[tuple[int, str], ...]], Scope] = \
        session.info.setdefault("intel_scope", {})
    cache_key = (principal, action, rows)
    cached = cache.get(cache_key)
    if cached is not None:
        return cached
    labels = {row_id: Labels.from_key(key) for row_id, key in rows}
    allowed = frozenset(
        row_id for row_id, label_set in labels.items()
        if access_service.permitted(session=session, principal=principal, action=action,
                                    resource=label_set.resource())
    )
    result = Scope(allowed=allowed,
                   comms=frozenset(i for i in allowed if labels[i].comms), labels=labels)
    cache[cache_key] = result
    return result


def forget(session: Session) -> None:
    """Drop cached scopes (after label sets were added in this session)."""
    session.info.pop("intel_scope", None)


def audit_comms_access(
    *, session: Session, principal: Principal, scope_: Scope, label_set_ids: set[int],
    action: str, what: str,
) -> None:
    """One audited authorization when a read returned communications-derived rows."""
    if not (label_set_ids & scope_.comms):
        return
    access_service.authorize(
        session=session, principal=principal, action=action,
        resource=Labels(comms=True).resource(key=what),
    )
