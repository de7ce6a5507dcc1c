"""The one choke point: ``authorize()``. Deny by default; every denial is audited, and
so is every permitted access to communications-derived data."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mamori.access import auditing, policy
from mamori.access.principal import Principal, Resource
from mamori.errors import Forbidden

_MESSAGES = {
    "access.comms-gate": (
        "communications-derived data is only for a designated communications handler "
        "who signed in with a second factor and declared a permitted purpose of use"
    ),
    "access.organisation-boundary": "this record belongs to another organisation",
    "access.no-criminal-investigation": "criminal investigation is never a permitted purpose",
}


def _resource_details(resource: Resource) -> dict[str, object]:
    return {
        "labels": sorted(resource.labels),
        "organisation_id": resource.organisation_id,
    }


def deny(
    *, session: Session, principal: Principal, action: str, resource: Resource, reason: str
) -> Forbidden:
    """Audit a denial in its own transaction and return the error to raise."""
    auditing.record_independently(
        session,
        actor=principal.username,
        action="access.denied",
        object_type=resource.type,
        object_id=resource.id,
        purpose=principal.purpose,
        details={
            "requested_action": action,
            "reason": reason,
            "via": principal.via,
            **_resource_details(resource),
        },
    )
    return Forbidden(f"{principal.username} may not {action} {resource.type} {resource.id}".strip()
                     + f": {reason}", action=action)


def authorize(*, session: Session, principal: Principal, action: str, resource: Resource) -> None:
    """Allow ``action`` on ``resource`` or raise ``Forbidden`` (and audit the denial)."""
    decision = policy.decide(principal, action, resource)
    if not decision.allowed:
        message = next(
            (_MESSAGES[p] for p in decision.policies if p in _MESSAGES), decision.reason
        )
        raise deny(
            session=session, principal=principal, action=action, resource=resource,
            reason=message,
        )
    if policy.comms_derived(resource):
        auditing.record(
            session,
            actor=principal.username,
            action="access.comms_data",
            object_type=resource.type,
            object_id=resource.id,
            purpose=principal.purpose,
            details={
                "requested_action": action,
                "via": principal.via,
                "policies": list(decision.policies),
                **_resource_details(resource),
            },
        )


def permitted(*, session: Session, principal: Principal, action: str, resource: Resource) -> bool:
    """The same decision as ``authorize`` without auditing: for hiding links in the UI only."""
    del session  # same signature as authorize(); the decision needs no database
    return policy.decide(principal, action, resource).allowed
