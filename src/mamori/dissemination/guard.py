"""Authorization and audit for provision, in one place so that action names and resource
shapes stay the same everywhere.

Resources: ``dissemination.recipient`` and ``dissemination.provision`` carry the
recipient's organisation, so that the organisation boundary of ``access.cedar`` keeps a
recipient to its own provisions; the tag ``active_recipient`` says the organisation
acts as a recipient now, ``contribute`` that its collection accepts objects. A
provision whose content came from selected communications information carries the
``COMMS`` label inside the Cabinet Office until it is provided.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from mamori.access import service as access_service
from mamori.access.principal import Resource
from mamori.audit import service as audit_service

DOMAIN = "dissemination"
RECIPIENT = "dissemination.recipient"
PROVISION = "dissemination.provision"


def resource(
    kind: str,
    ident: str | int = "",
    *,
    organisation_id: int | None = None,
    labels: frozenset[str] = frozenset(),
    **tags: Any,
) -> Resource:
    return Resource(type=kind, id=str(ident), labels=labels, organisation_id=organisation_id,
                    attrs=tags)


# The one authorization choke point, re-exported so this domain's callers import one module.
authorize = access_service.authorize
permitted = access_service.permitted


# One audit entry in the caller's transaction, by the principal (ids, counts, codes only).
audit = partial(audit_service.record_by, purpose=None)
