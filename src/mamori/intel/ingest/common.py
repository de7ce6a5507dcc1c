"""What the ingests of internal sources share: cursors, and time-stamping objects that
mamori builds from records so that an unchanged record never makes a new version."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.db import utcnow
from mamori.intel import stix, store
from mamori.intel.labels import Labels
from mamori.intel.models import CursorRow, ImportResult, ObjectRow

_TIMES = ("created", "modified")


class IngestSummary(BaseModel):
    """What one ingest run of a source did."""

    source: str
    imports: list[ImportResult] = []
    skipped: int = 0
    notes: list[str] = []

    @property
    def stored(self) -> int:
        return sum(i.stored for i in self.imports)

    @property
    def merged(self) -> int:
        return sum(i.merged for i in self.imports)

    @property
    def rejected(self) -> int:
        return sum(len(i.rejected) for i in self.imports)

    def line(self) -> str:
        return (f"{self.source}: {len(self.imports)} imports, stored {self.stored}, merged "
                f"{self.merged}, rejected {self.rejected}, unchanged {self.skipped}")


def get_cursor(session: Session, name: str) -> str | None:
    row = session.get(CursorRow, name)
    return row.position if row is not None else None


def set_cursor(session: Session, name: str, position: str) -> None:
    row = session.get(CursorRow, name)
    if row is None:
        session.add(CursorRow(name=name, position=position, updated_at=utcnow()))
    else:
        row.position = position
        row.updated_at = utcnow()
    session.flush()


def _without_times(obj: dict[str, Any]) -> str:
    return stix.digest({k: v for k, v in obj.items() if k not in _TIMES})


def stamp(session: Session, objects: Iterable[dict[str, Any]], labels: Labels,
          now: datetime | None = None) -> tuple[list[dict[str, Any]], int]:
    """Give each built SDO/SRO ``created``/``modified``; drop those whose current stored
    version under ``labels`` says the same. Returns the objects to store and how many
    were unchanged."""
    now = now or utcnow()
    items = list(objects)
    ls_id = store.label_set_id(session, labels)
    ids = [o["id"] for o in items]
    current: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 900):
        for stix_id, body in session.execute(
                select(ObjectRow.stix_id, ObjectRow.body).where(
                    ObjectRow.stix_id.in_(ids[start:start + 900]),
                    ObjectRow.label_set_id == ls_id, ObjectRow.latest.is_(True))):
            current[stix_id] = json.loads(body)
    result: list[dict[str, Any]] = []
    unchanged = 0
    text_now = stix.format_timestamp(now)
    for obj in items:
        stored = current.get(obj["id"])
        if obj["type"] in stix.SCO_TYPES:
            if stored is not None and stix.digest(stored) == stix.digest(obj):
                unchanged += 1
            else:
                result.append(obj)
            continue
        if stored is not None and _without_times(stored) == _without_times(obj):
            unchanged += 1
            continue
        stamped = dict(obj)
        stamped["created"] = stored.get("created", text_now) if stored else \
            obj.get("created", text_now)
        modified = obj.get("modified", text_now)
        if stored is not None and stored.get("modified", "") >= modified:
            modified = text_now
        stamped["modified"] = max(modified, stamped["created"])
        result.append(stamped)
    return result, unchanged
