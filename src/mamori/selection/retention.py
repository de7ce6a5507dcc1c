"""Registers selected records ("selected_comm_info") with governance's retention job.

A boundary module: the purge itself is :func:`.erasure.purge_selected` (whole-day
partition drops on PostgreSQL, row deletes on SQLite); governance computes the
cut-off from the configured period (Art 25), authorizes the purge and writes the
deletion certificate. Importing this module registers the data class.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from mamori.governance import service as governance
from mamori.governance.constants import DEFAULT_RETENTION_DAYS

from .engine import DATA_CLASS
from .erasure import purge_selected


def purge(session: Session, before: datetime) -> governance.PurgeOutcome:
    """Delete every selected record created before ``before``."""
    return governance.PurgeOutcome.from_rows(purge_selected(session, before).rows)


DATA = governance.register(
    governance.DataClass(
        name=DATA_CLASS,
        description="selected records (selected communications information, COMMS)",
        default_days=DEFAULT_RETENTION_DAYS[DATA_CLASS],
        purge=purge,
    )
)
