"""Retention of provided selected information (Art 25): the objects of a tier-1 provision
whose content came from selected communications information stay in the recipient's
TAXII collection only for the configured period; the provision record itself (the
evidence that it happened) is kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mamori.dissemination.models import ProvisionRecord, ServedObjectRecord
from mamori.governance import service as governance

DATA_CLASS = "provided_selected_info"


def purge(session: Session, before: datetime) -> governance.PurgeOutcome:
    """Delete the served objects of SCI-bearing provisions added before ``before``."""
    t = ServedObjectRecord
    bearing = select(ProvisionRecord.id).where(ProvisionRecord.use_decision_id.is_not(None))
    rows = session.execute(select(t.id, t.date_added).where(
        t.provision_id.in_(bearing), t.date_added < before)).all()
    if rows:
        session.execute(delete(t).where(t.id.in_([r[0] for r in rows])))
    return governance.PurgeOutcome.from_rows((r[0], r[1]) for r in rows)


governance.register(governance.DataClass(
    name=DATA_CLASS,
    description="provided objects derived from selected communications information",
    default_days=730, purge=purge))
