"""Export of everything a reader may see as one STIX 2.1 bundle.

Each object goes out exactly as it was stored, plus ``x_mamori_handling`` (its labels
and attributions), so that a re-import keeps the restrictions and an export compared
with its import differs by nothing else. Written in a stream: the bundle never has to
fit in memory.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.intel.labels import HANDLING_PROPERTY
from mamori.intel.models import ObjectRow
from mamori.intel.visibility import Scope


def _rows(session: Session, scope: Scope, *, types: list[str] | None, since: datetime | None,
          current_only: bool, include_revoked: bool) -> Iterator[ObjectRow]:
    query = select(ObjectRow).where(scope.where(ObjectRow.label_set_id)).order_by(ObjectRow.id)
    if types:
        query = query.where(ObjectRow.stix_type.in_(types))
    if since is not None:
        query = query.where(ObjectRow.stored_at >= since)
    if current_only:
        query = query.where(ObjectRow.latest.is_(True))
    if not include_revoked:
        query = query.where(ObjectRow.revoked.is_(False))
    yield from session.scalars(query.execution_options(yield_per=2000))


def exported(row: ObjectRow, scope: Scope) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(row.body)
    body[HANDLING_PROPERTY] = scope.labels[row.label_set_id].as_json()
    return body


def write_bundle(
    session: Session, scope: Scope, handle: IO[str], *, types: list[str] | None = None,
    since: datetime | None = None, current_only: bool = False, include_revoked: bool = True,
) -> tuple[int, set[int]]:
    """Write the bundle to ``handle``; returns the object count and the label sets seen."""
    handle.write('{"type":"bundle","id":"bundle--' + str(uuid.uuid4()) + '","objects":[')
    count = 0
    seen: set[int] = set()
    for row in _rows(session, scope, types=types, since=since, current_only=current_only,
                     include_revoked=include_revoked):
        handle.write(("," if count else "") + json.dumps(exported(row, scope), ensure_ascii=False))
        seen.add(row.label_set_id)
        count += 1
    handle.write("]}")
    return count, seen


def bundle_dict(
    session: Session, scope: Scope, *, types: list[str] | None = None,
    since: datetime | None = None, current_only: bool = False, include_revoked: bool = True,
) -> tuple[dict[str, Any], set[int]]:
    objects = []
    seen: set[int] = set()
    for row in _rows(session, scope, types=types, since=since, current_only=current_only,
                     include_revoked=include_revoked):
        objects.append(exported(row, scope))
        seen.add(row.label_set_id)
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}, seen
