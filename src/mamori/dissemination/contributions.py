"""What recipients give back over TAXII (R-1.3-5 two-way sharing, council sharing):
stored in the intel store as SECRET and ATTRIBUTED to the contributing recipient, with
the consent it recorded about whom it may be named to (R-5.4-3, R-6.3-4).

The answer is a TAXII status resource kept in the database, so any server process can
report it later. Failures name the object's position and id, never its content.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.dissemination import guard, sources
from mamori.dissemination.models import RecipientRecord, TaxiiStatusRecord
from mamori.dissemination.objects import object_version


def source_name(recipient: RecipientRecord) -> str:
    """How the intel store names a contributing recipient."""
    return f"recipient:{recipient.code}"


def contribute(
    *,
    session: Session,
    principal: Principal,
    recipient: RecipientRecord,
    objects: list[dict[str, Any]],
    received_at: datetime,
) -> TaxiiStatusRecord:
    result = sources.contribute(session, principal, objects=objects,
                                source=source_name(recipient),
                                consent=list(recipient.attribution_consent or []))
    rejected = {r.index: r for r in result.rejected}
    successes: list[dict[str, str]] = []
    failures: list[dict[str, str]] = []
    for index, obj in enumerate(objects):
        ident = obj.get("id") if isinstance(obj.get("id"), str) else f"objects[{index}]"
        version = object_version(obj, received_at) if isinstance(obj, dict) else ""
        if index in rejected:
            failures.append({"id": str(ident)[:200], "version": str(version)[:40],
                             "message": rejected[index].reason[:300]})
        else:
            successes.append({"id": str(ident)[:200], "version": str(version)[:40]})
    status = TaxiiStatusRecord(
        id=str(uuid.uuid4()), recipient_id=recipient.id, requested_by=principal.username,
        request_timestamp=received_at, total_count=len(objects),
        success_count=len(successes), failure_count=len(failures), successes=successes,
        failures=failures)
    session.add(status)
    session.flush()
    guard.audit(session=session, principal=principal, action="dissemination.contribution.received",
                object_type="recipient", object_id=recipient.code,
                details={"status_id": status.id, "total": len(objects),
                         "stored": len(successes), "rejected": len(failures),
                         "import_id": getattr(result, "import_id", None),
                         "consent": list(recipient.attribution_consent or [])})
    return status
