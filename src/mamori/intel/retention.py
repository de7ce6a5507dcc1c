"""Registers communications-derived intel ("intel_selected_comm_info") with governance's
retention job.

What the store holds under the COMMS label is processed selected communications
information (選別後通信情報), so it is erased like the selected records it came from:
objects whose COMMS version entered the store before the cut-off go, with their index,
reference, lineage and provenance rows, and so do COMMS findings. Governance computes
the cut-off from the configured period (Art 25), authorizes the purge and writes the
deletion certificate. Importing this module registers the data class.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mamori.governance import service as governance
from mamori.governance.constants import DEFAULT_RETENTION_DAYS, SELECTED_COMM_INFO
from mamori.intel.models import (
    FindingRow,
    IndexRow,
    LabelSetRow,
    LineageRow,
    ObjectRow,
    ProvenanceRow,
    RefRow,
)

DATA_CLASS = "intel_selected_comm_info"


def purge(session: Session, before: datetime) -> governance.PurgeOutcome:
    """Delete every COMMS-labelled object version and finding stored before ``before``."""
    comms = select(LabelSetRow.id).where(LabelSetRow.comms.is_(True))
    rows = session.execute(select(ObjectRow.id, ObjectRow.stored_at).where(
        ObjectRow.label_set_id.in_(comms), ObjectRow.stored_at < before)).all()
    ids = [r[0] for r in rows]
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        for column in (IndexRow.object_id, RefRow.object_id, LineageRow.object_id,
                       ProvenanceRow.object_id):
            session.execute(delete(column.class_).where(column.in_(part))
                            .execution_options(synchronize_session=False))
        session.execute(delete(ObjectRow).where(ObjectRow.id.in_(part))
                        .execution_options(synchronize_session=False))
    findings = session.execute(select(FindingRow.id, FindingRow.created_at).where(
        FindingRow.label_set_id.in_(comms), FindingRow.created_at < before)).all()
    if findings:
        session.execute(delete(FindingRow).where(FindingRow.id.in_([f[0] for f in findings]))
                        .execution_options(synchronize_session=False))
    return governance.PurgeOutcome.from_rows(
        [(f"object:{i}", t) for i, t in rows] + [(f"finding:{i}", t) for i, t in findings])


DATA = governance.register(
    governance.DataClass(
        name=DATA_CLASS,
        description="communications-derived intel objects and findings (COMMS)",
        default_days=DEFAULT_RETENTION_DAYS[SELECTED_COMM_INFO],
        purge=purge,
    )
)
