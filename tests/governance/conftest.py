"""Principals and small builders for the governance tests.

Principals are the real value objects the access domain hands out; their roles and
attributes go through the real Cedar policies on every call.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.audit.models import AuditEntry
from mamori.db import utcnow
from mamori.governance import agreements, measures

CABINET_OFFICE = 1
OTHER_BODY = 7
COMMITTEE = 9

ANALYST = Principal(username="t-analyst", roles=frozenset({"analyst"}),
                    organisation_id=CABINET_OFFICE, organisation_kind="cabinet_office")
ANALYST_2 = Principal(username="t-analyst-2", roles=frozenset({"analyst"}),
                      organisation_id=CABINET_OFFICE, organisation_kind="cabinet_office")
ADMIN = Principal(username="t-admin", roles=frozenset({"admin"}), mfa=True,
                  organisation_id=CABINET_OFFICE, organisation_kind="cabinet_office")
INSPECTOR = Principal(username="t-inspector", roles=frozenset({"committee_inspector"}),
                      mfa=True, organisation_id=COMMITTEE,
                      organisation_kind="oversight_committee")
HANDLER = Principal(username="t-handler", roles=frozenset({"comms_handler"}),
                    designated_handler=True, mfa=True, purpose="other_purpose_consented",
                    organisation_id=CABINET_OFFICE, organisation_kind="cabinet_office")
OPERATOR = Principal(username="t-operator", roles=frozenset({"operator"}), organisation_id=3,
                     organisation_kind="operator")
SYSTEM = Principal.system("retention")

DIGEST = "ab" * 32
TEMPLATE_ITEMS = {
    "purpose": "prevent damage", "communications_scope": "party's internet links",
    "transmission_method": "mirror port", "use_limits": "per the Act",
    "individual_analysis_delivery": "portal", "cost_sharing": "each side its own",
    "confidentiality": "both sides", "effective_period": "one year",
    "termination": "by notice",
}


def audit_count(session: Session, action: str | None = None) -> int:
    query = select(func.count()).select_from(AuditEntry)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return int(session.scalar(query) or 0)


def audit_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all())


def make_measure(
    session: Session, *, article: int = 17, start: datetime | None = None,
    days: int = 30, requester: Principal = ANALYST, approve: bool | None = True,
) -> str:
    start = start or utcnow() + timedelta(days=1)
    measure = measures.request_measure(
        session=session, principal=requester, article=article, grounds="botnet C2 abroad",
        target_act="C2 relay", carrier="Example Telecom", facilities=["gw-1"],
        starts_at=start, ends_at=start + timedelta(days=days),
    )
    if approve is True:
        measures.approve_measure(session=session, principal=INSPECTOR, measure_id=measure.id)
    elif approve is False:
        measures.refuse_measure(session=session, principal=INSPECTOR, measure_id=measure.id)
    return measure.id


def make_agreement(
    session: Session, *, start: datetime | None = None, until: datetime | None = None,
    conclude: bool = True, party: str = "Sakura Electric",
) -> str:
    agreement = agreements.create_agreement(
        session=session, principal=ANALYST, party_name=party, party_organisation_id=3,
        comm_scope="traffic to and from the party's control network",
        party_identifiers=["192.0.2.0/24", "AS64500"], delivery_method="portal",
        items=TEMPLATE_ITEMS,
    )
    if conclude:
        agreements.conclude_agreement(
            session=session, principal=ADMIN, agreement_id=agreement.id,
            signed_digest=DIGEST, effective_from=start or utcnow() - timedelta(days=10),
            effective_until=until,
        )
    return agreement.id


@pytest.fixture
def now() -> datetime:
    return utcnow()
