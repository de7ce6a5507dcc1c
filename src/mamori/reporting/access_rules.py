"""How reporting asks the one choke point: the resource each action touches.

Reports carry the SECRET label (unpublished incident information, R-5.5-1) and belong
to the filing organisation, so ``access.organisation-boundary`` keeps operators to their
own. ``routed_to_requester`` tells the policy whether a report reached the asking
person's ministry.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mamori.access import service as access
from mamori.access.principal import Principal, Resource
from mamori.reporting.models import Incident

REPORT = "report"
LABELS = frozenset({"SECRET"})


def incident_resource(incident: Incident, principal: Principal) -> Resource:
    routed = principal.organisation_id is not None and any(
        r.organisation_id == principal.organisation_id for r in incident.routings
    )
    return Resource(
        type=REPORT, id=str(incident.id), labels=LABELS, organisation_id=incident.organisation_id,
        attrs={"routed_to_requester": "true" if routed else "false",
               "regulation": incident.regulation},
    )


def authorize_incident(
    *, session: Session, principal: Principal, action: str, incident: Incident
) -> None:
    access.authorize(session=session, principal=principal, action=action,
                     resource=incident_resource(incident, principal))


def may(*, session: Session, principal: Principal, action: str, incident: Incident) -> bool:
    """The same decision without an audit entry: for listing and for hiding links."""
    return access.permitted(session=session, principal=principal, action=action,
                            resource=incident_resource(incident, principal))


def collection_resource(organisation_id: int | None = None, **attrs: str) -> Resource:
    return Resource(type=REPORT, labels=LABELS, organisation_id=organisation_id, attrs=attrs)


def authorize_collection(
    *, session: Session, principal: Principal, action: str, organisation_id: int | None = None,
    **attrs: str,
) -> None:
    access.authorize(session=session, principal=principal, action=action,
                     resource=collection_resource(organisation_id, **attrs))


def may_collection(
    *, session: Session, principal: Principal, action: str, organisation_id: int | None = None,
) -> bool:
    """The same decision without an audit entry: for what a page or discovery lists."""
    return access.permitted(session=session, principal=principal, action=action,
                            resource=collection_resource(organisation_id))
