"""Party agreements: template, draft, notes, conclusion, end; a draft that is not
concluded leaves nothing that names the party."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.audit.models import AuditEntry
from mamori.db import utcnow
from mamori.errors import Conflict, Forbidden, InvalidInput, NotFound
from mamori.governance import agreements, parameters
from mamori.governance import constants as c
from mamori.governance.models import Agreement, ConsultationNote

from .conftest import ADMIN, ANALYST, DIGEST, INSPECTOR, OPERATOR, TEMPLATE_ITEMS, make_agreement


def test_template_has_the_standard_items(session: Session) -> None:
    version, items = agreements.agreement_template(session=session)
    assert version == 0
    assert [i["key"] for i in items] == [k for k, _, _ in c.DEFAULT_AGREEMENT_TEMPLATE]
    assert all(i["ja"] and i["en"] for i in items)


def test_lifecycle_draft_in_force_ended(session: Session) -> None:
    draft = agreements.create_agreement(
        session=session, principal=ANALYST, party_name="Sakura Electric",
        party_identifiers=["192.0.2.7/24", "as64500", "2001:db8::/32"], priority=2,
    )
    assert draft.status == "draft" and draft.id.startswith("A-")
    assert draft.party_identifiers == ["192.0.2.0/24", "2001:db8::/32", "AS64500"]
    agreements.add_consultation_note(session=session, principal=ANALYST, agreement_id=draft.id,
                                     note="first meeting: scope discussed")
    with pytest.raises(InvalidInput, match="does not yet address"):
        agreements.conclude_agreement(session=session, principal=ADMIN, agreement_id=draft.id,
                                      signed_digest=DIGEST, effective_from=utcnow())
    agreements.update_draft(session=session, principal=ANALYST, agreement_id=draft.id,
                            items=TEMPLATE_ITEMS, deviations="cost item differs")
    with pytest.raises(InvalidInput, match="communications scope"):
        agreements.conclude_agreement(session=session, principal=ADMIN, agreement_id=draft.id,
                                      signed_digest=DIGEST, effective_from=utcnow())
    agreements.update_draft(session=session, principal=ANALYST, agreement_id=draft.id,
                            comm_scope="control network uplinks")
    with pytest.raises(Forbidden):
        agreements.conclude_agreement(session=session, principal=ANALYST, agreement_id=draft.id,
                                      signed_digest=DIGEST, effective_from=utcnow())
    with pytest.raises(InvalidInput, match="digest"):
        agreements.conclude_agreement(session=session, principal=ADMIN, agreement_id=draft.id,
                                      signed_digest="not-a-digest", effective_from=utcnow())
    with pytest.raises(InvalidInput, match="reversed"):
        agreements.conclude_agreement(session=session, principal=ADMIN, agreement_id=draft.id,
                                      signed_digest=DIGEST, effective_from=utcnow(),
                                      effective_until=utcnow() - timedelta(days=1))
    assert session.get(Agreement, draft.id).status == "draft"  # type: ignore[union-attr]
    agreements.conclude_agreement(session=session, principal=ADMIN, agreement_id=draft.id,
                                  signed_digest="SHA256:" + DIGEST.upper(),
                                  effective_from=utcnow())
    assert draft.status == "in_force" and draft.signed_digest == DIGEST
    with pytest.raises(Conflict):
        agreements.update_draft(session=session, principal=ANALYST, agreement_id=draft.id,
                                comm_scope="x")
    agreements.end_agreement(session=session, principal=ADMIN, agreement_id=draft.id,
                             reason="term over")
    assert draft.status == "ended" and draft.ended_at is not None
    with pytest.raises(Conflict):
        agreements.end_agreement(session=session, principal=ADMIN, agreement_id=draft.id,
                                 reason="again")


def test_bad_draft_input(session: Session) -> None:
    for kwargs, message in (
        ({"party_name": " "}, "party name"),
        ({"party_name": "P", "party_identifiers": ["999.1.1.1/8"]}, "party identifier"),
        ({"party_name": "P", "priority": 0}, "priority"),
        ({"party_name": "P", "items": {"not_an_item": "x"}}, "template"),
    ):
        with pytest.raises(InvalidInput, match=message):
            agreements.create_agreement(session=session, principal=ANALYST, **kwargs)
    assert session.scalar(select(func.count()).select_from(Agreement)) == 0
    with pytest.raises(NotFound):
        agreements.add_consultation_note(session=session, principal=ANALYST,
                                         agreement_id="A-2020-0001", note="x")
    with pytest.raises(Forbidden):
        agreements.create_agreement(session=session, principal=OPERATOR, party_name="P")


def test_withdrawn_draft_leaves_no_trace_of_the_party(session: Session) -> None:
    draft = agreements.create_agreement(session=session, principal=ANALYST,
                                        party_name="Hikari Railway", party_organisation_id=5,
                                        comm_scope="uplinks")
    agreements.add_consultation_note(session=session, principal=ANALYST, agreement_id=draft.id,
                                     note="meeting held")
    agreements.withdraw_draft(session=session, principal=ANALYST, agreement_id=draft.id)
    assert session.get(Agreement, draft.id) is None
    assert session.scalar(select(func.count()).select_from(ConsultationNote)) == 0
    for row in session.scalars(select(AuditEntry)).all():
        blob = json.dumps([row.object_id, row.details, row.legal_basis, row.purpose])
        assert "Hikari" not in blob and '"5"' not in blob
    assert "declined" not in c.AGREEMENT_STATUSES
    with pytest.raises(InvalidInput):
        agreements.list_agreements(session=session, principal=ANALYST, status="declined")


def test_listing_and_visibility(session: Session) -> None:
    a = make_agreement(session)
    b = make_agreement(session, conclude=False, party="Other")
    assert {x.id for x in agreements.list_agreements(session=session, principal=INSPECTOR)} \
        == {a, b}
    assert [x.id for x in agreements.list_agreements(session=session, principal=ANALYST,
                                                     status="draft")] == [b]
    with pytest.raises(Forbidden):
        agreements.list_agreements(session=session, principal=OPERATOR)


def test_template_is_versioned_configuration(session: Session) -> None:
    items = [{"key": "purpose", "ja": "目的", "en": "Purpose"}]
    row = parameters.set_parameter(session=session, principal=ADMIN,
                                   key=c.PARAM_AGREEMENT_TEMPLATE, value=items,
                                   reason="simplified")
    assert row.version == 1
    assert agreements.agreement_template(session=session) == (1, items)
    draft = agreements.create_agreement(session=session, principal=ANALYST, party_name="P",
                                        comm_scope="s", items={"purpose": "p"})
    assert draft.template_version == 1
    agreements.conclude_agreement(session=session, principal=ADMIN, agreement_id=draft.id,
                                  signed_digest=DIGEST, effective_from=utcnow())
    with pytest.raises(InvalidInput, match="twice"):
        parameters.set_parameter(session=session, principal=ADMIN,
                                 key=c.PARAM_AGREEMENT_TEMPLATE, value=items + items)
    history = parameters.history(session=session, principal=INSPECTOR,
                                 key=c.PARAM_AGREEMENT_TEMPLATE)
    assert [h.version for h in history] == [1]
