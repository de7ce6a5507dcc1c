"""Other-purpose use: granted only inside each of (ア)(イ)(ウ), refused for every way of
stepping outside; criminal investigation refused always; every decision audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.audit.models import AuditEntry
from mamori.db import utcnow
from mamori.errors import Conflict, Forbidden, InvalidInput, NotFound
from mamori.governance import agreements, consents, use
from mamori.governance import constants as c
from mamori.governance.models import Consent, Notification, UseDecision
from mamori.governance.use import SelectedInfoRef, decide_use

from .conftest import (
    ADMIN,
    ANALYST,
    CABINET_OFFICE,
    DIGEST,
    HANDLER,
    OTHER_BODY,
    audit_count,
    make_agreement,
    make_measure,
)

OTHER = "other_purpose_consented"
PURPOSE_TEXT = "Joint analysis of  botnet infrastructure with the MIC CSIRT"


def _consent(session: Session, agreement_id: str, **overrides: object) -> str:
    fields: dict[str, object] = {
        "scope_batches": ["B-1", "B-2"], "scope_categories": ["ip_address", "domain"],
        "user_body_id": OTHER_BODY, "user_body_name": "MIC CSIRT", "purpose_code": OTHER,
        "purpose_text": PURPOSE_TEXT, "document_digest": DIGEST,
    }
    fields.update(overrides)
    consent = consents.record_consent(session=session, principal=ANALYST,
                                      agreement_id=agreement_id, **fields)  # type: ignore[arg-type]
    consents.examine_consent(session=session, principal=ANALYST, consent_id=consent.id,
                             examination="necessity and scope examined case by case")
    consents.activate_consent(session=session, principal=ADMIN, consent_id=consent.id)
    return consent.id


def _arrangement(session: Session, body: int = OTHER_BODY) -> str:
    return consents.record_arrangement(
        session=session, principal=ANALYST, body_organisation_id=body, body_name="MIC CSIRT",
        purposes=[OTHER], scope="botnet infrastructure analysis", document_digest=DIGEST,
        effective_from=utcnow() - timedelta(days=1),
    ).id


def _ref(basis: str, **kw: object) -> SelectedInfoRef:
    values: dict[str, object] = {"batch_ids": ("B-1",), "categories": ("ip_address",)}
    values.update(kw)
    return SelectedInfoRef(basis_id=basis, **values)  # type: ignore[arg-type]


def _decide(session: Session, ref: SelectedInfoRef, body: int | None = OTHER_BODY,
            purpose: str = OTHER, text: str = PURPOSE_TEXT,
            principal: Principal = HANDLER) -> use.UseDecision:
    return decide_use(session=session, principal=principal, data_ref=ref, user_body_id=body,
                      purpose_code=purpose, purpose_text=text)


def test_inside_all_three_elements_is_granted(session: Session) -> None:
    aid = make_agreement(session)
    cid = _consent(session, aid)
    _arrangement(session)
    decision = _decide(session, _ref(aid, batch_ids=("B-1", "B-2"),
                                     categories=("ip_address", "domain")),
                       text="joint analysis of botnet infrastructure with the mic csirt")
    assert decision.granted and decision.reason == use.GRANTED_CONSENT
    assert decision.consent_id == cid and decision.provision
    row = session.get(UseDecision, decision.decision_id)
    assert row is not None and row.granted and row.batch_count == 2
    granted = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "governance.use.granted")).all()
    assert len(granted) == 1 and granted[0].purpose == OTHER
    assert session.scalars(select(Notification.event)).all()[-1] == c.EVENT_SCI_PROVIDED


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"ref": {"batch_ids": ("B-3",)}}, use.REFUSED_OUTSIDE_DATA),
        ({"ref": {"batch_ids": ("B-1", "B-9")}}, use.REFUSED_OUTSIDE_DATA),
        ({"ref": {"categories": ("ip_address", "url_path")}}, use.REFUSED_OUTSIDE_DATA),
        ({"ref": {"batch_ids": (), "record_ids": ("r1",)}}, use.REFUSED_OUTSIDE_DATA),
        ({"body": OTHER_BODY + 1}, use.REFUSED_OUTSIDE_BODY),
        ({"body": CABINET_OFFICE}, use.REFUSED_OUTSIDE_BODY),
        ({"text": "Joint analysis of ransomware payments"}, use.REFUSED_OUTSIDE_PURPOSE),
    ],
)
def test_each_way_of_stepping_outside_is_refused(
    session: Session, change: dict, reason: str
) -> None:
    aid = make_agreement(session)
    _consent(session, aid)
    _arrangement(session)
    _arrangement(session, body=OTHER_BODY + 1)
    ref = _ref(aid, **change.get("ref", {}))
    decision = _decide(session, ref, body=change.get("body", OTHER_BODY),
                       text=change.get("text", PURPOSE_TEXT))
    assert (decision.granted, decision.reason) == (False, reason)
    assert decision.consent_id is None
    assert audit_count(session, "governance.use.refused") == 1
    assert session.scalars(select(Notification).where(
        Notification.event == c.EVENT_SCI_PROVIDED)).all() == []


def test_consent_of_another_agreement_does_not_cover(session: Session) -> None:
    aid = make_agreement(session)
    other = make_agreement(session, party="Hikari Railway")
    _consent(session, aid)
    _arrangement(session)
    decision = _decide(session, _ref(other))
    assert (decision.granted, decision.reason) == (False, use.REFUSED_NO_CONSENT)


def test_selection_period_scope(session: Session) -> None:
    aid = make_agreement(session)
    start = utcnow() - timedelta(days=10)
    _consent(session, aid, scope_batches=[], scope_from=start,
             scope_until=start + timedelta(days=5))
    _arrangement(session)
    inside = _ref(aid, batch_ids=(), selected_from=start + timedelta(days=1),
                  selected_until=start + timedelta(days=2))
    assert _decide(session, inside).granted
    outside = _ref(aid, batch_ids=(), selected_from=start + timedelta(days=4),
                   selected_until=start + timedelta(days=6))
    assert _decide(session, outside).reason == use.REFUSED_OUTSIDE_DATA
    only_batches = _ref(aid)
    assert _decide(session, only_batches).reason == use.REFUSED_OUTSIDE_DATA


def test_provision_needs_a_prior_written_arrangement(session: Session) -> None:
    aid = make_agreement(session)
    _consent(session, aid)
    decision = _decide(session, _ref(aid))
    assert (decision.granted, decision.reason) == (False, use.REFUSED_NO_ARRANGEMENT)
    _arrangement(session)
    assert _decide(session, _ref(aid)).granted


def test_use_by_own_organisation_needs_no_arrangement(session: Session) -> None:
    aid = make_agreement(session)
    _consent(session, aid, user_body_id=CABINET_OFFICE)
    decision = _decide(session, _ref(aid), body=CABINET_OFFICE)
    assert decision.granted and not decision.provision


def test_measure_derived_information_is_never_eligible(session: Session) -> None:
    mid = make_measure(session, start=utcnow() - timedelta(minutes=5))
    aid = make_agreement(session)
    _consent(session, aid)
    _arrangement(session)
    decision = _decide(session, _ref(mid))
    assert (decision.granted, decision.reason) == (False, use.REFUSED_MEASURE_DERIVED)
    party = _decide(session, _ref(mid), purpose=c.PURPOSE_AGREEMENT_PARTY, text="")
    assert party.reason == use.REFUSED_PARTY_PURPOSE_NEEDS_AGREEMENT
    specified = _decide(session, _ref(mid), body=CABINET_OFFICE,
                        purpose=c.PURPOSE_SPECIFIED_DAMAGE_PREVENTION, text="")
    assert specified.granted and specified.reason == use.GRANTED_SPECIFIED_PURPOSE


def test_criminal_investigation_is_refused_even_with_a_consent_naming_it(
    session: Session,
) -> None:
    aid = make_agreement(session)
    with pytest.raises(InvalidInput, match="criminal investigation"):
        consents.record_consent(session=session, principal=ANALYST, agreement_id=aid,
                                purpose_code="criminal_investigation")
    # A consent naming it cannot be made through the service; write one directly to show
    # that the decision does not rest on consents at all.
    session.add(Consent(
        id="C-2099-0001", agreement_id=aid, status="active", scope_batches=["B-1"],
        scope_categories=["ip_address"], user_body_id=OTHER_BODY, user_body_name="Police",
        purpose_code="criminal_investigation", purpose_text="investigation",
        document_digest=DIGEST, examination="x", created_by="x",
    ))
    session.flush()
    _arrangement(session)
    for body in (OTHER_BODY, CABINET_OFFICE):
        decision = _decide(session, _ref(aid), body=body, purpose="criminal_investigation",
                           text="investigation")
        assert (decision.granted, decision.reason) == (
            False, use.REFUSED_CRIMINAL_INVESTIGATION)
    assert audit_count(session, "governance.use.refused") == 2
    with pytest.raises(Forbidden):  # nor can a session declare it as its purpose
        _decide(session, _ref(aid), principal=HANDLER.with_purpose("criminal_investigation"),
                purpose="criminal_investigation")


def test_default_purposes(session: Session) -> None:
    aid = make_agreement(session)
    spec = _decide(session, _ref(aid), body=CABINET_OFFICE,
                   purpose=c.PURPOSE_SPECIFIED_DAMAGE_PREVENTION, text="")
    party = _decide(session, _ref(aid), body=CABINET_OFFICE, purpose=c.PURPOSE_AGREEMENT_PARTY,
                    text="")
    assert spec.granted and party.granted
    assert _decide(session, _ref(aid)).reason == use.REFUSED_NO_CONSENT


def test_ended_agreement_refuses_every_use(session: Session) -> None:
    aid = make_agreement(session)
    _consent(session, aid)
    _arrangement(session)
    agreements.end_agreement(session=session, principal=ADMIN, agreement_id=aid, reason="end",
                             at=utcnow() - timedelta(seconds=1))
    for purpose in (OTHER, c.PURPOSE_SPECIFIED_DAMAGE_PREVENTION):
        assert _decide(session, _ref(aid), purpose=purpose).reason \
            == use.REFUSED_AGREEMENT_NOT_IN_FORCE


def test_withdrawn_consent_no_longer_covers(session: Session) -> None:
    aid = make_agreement(session)
    cid = _consent(session, aid)
    _arrangement(session)
    assert _decide(session, _ref(aid)).granted
    consents.withdraw_consent(session=session, principal=ANALYST, consent_id=cid)
    assert _decide(session, _ref(aid)).reason == use.REFUSED_NO_CONSENT


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        ({"scope_batches": [], "scope_categories": []}, "(ア)"),
        ({"scope_categories": []}, "(ア)"),
        ({"user_body_id": None}, "(イ)"),
        ({"purpose_code": ""}, "(ウ)"),
        ({"purpose_text": ""}, "(ウ)"),
        ({"document_digest": None}, "document digest"),
    ],
)
def test_activation_needs_every_element(session: Session, missing: dict, expected: str) -> None:
    aid = make_agreement(session)
    fields: dict[str, object] = {
        "scope_batches": ["B-1"], "scope_categories": ["ip_address"],
        "user_body_id": OTHER_BODY, "purpose_code": OTHER, "purpose_text": "analysis",
        "document_digest": DIGEST,
    }
    fields.update(missing)
    consent = consents.record_consent(session=session, principal=ANALYST, agreement_id=aid,
                                      **fields)  # type: ignore[arg-type]
    consents.examine_consent(session=session, principal=ANALYST, consent_id=consent.id,
                             examination="examined")
    with pytest.raises(InvalidInput, match=expected.replace("(", r"\(").replace(")", r"\)")):
        consents.activate_consent(session=session, principal=ADMIN, consent_id=consent.id)
    assert consent.status == "draft"


def test_activation_needs_the_examination_and_an_admin(session: Session) -> None:
    aid = make_agreement(session)
    consent = consents.record_consent(
        session=session, principal=ANALYST, agreement_id=aid, scope_batches=["B-1"],
        scope_categories=["ip_address"], user_body_id=OTHER_BODY, purpose_code=OTHER,
        purpose_text="analysis", document_digest=DIGEST)
    with pytest.raises(InvalidInput, match="examination"):
        consents.activate_consent(session=session, principal=ADMIN, consent_id=consent.id)
    consents.examine_consent(session=session, principal=ANALYST, consent_id=consent.id,
                             examination="examined")
    with pytest.raises(Forbidden):
        consents.activate_consent(session=session, principal=ANALYST, consent_id=consent.id)
    consents.activate_consent(session=session, principal=ADMIN, consent_id=consent.id)
    with pytest.raises(Conflict):
        consents.amend_consent(session=session, principal=ANALYST, consent_id=consent.id,
                               purpose_text="other")


def test_consent_input_errors(session: Session) -> None:
    draft = make_agreement(session, conclude=False)
    with pytest.raises(Conflict, match="not in force"):
        consents.record_consent(session=session, principal=ANALYST, agreement_id=draft)
    with pytest.raises(NotFound):
        consents.record_consent(session=session, principal=ANALYST, agreement_id="A-2020-0404")
    aid = make_agreement(session)
    for kwargs, message in (
        ({"purpose_code": c.PURPOSE_SPECIFIED_DAMAGE_PREVENTION}, "needs no consent"),
        ({"purpose_code": "espionage"}, "unknown purpose"),
        ({"document_digest": "123"}, "digest"),
        ({"scope_from": utcnow(), "scope_until": utcnow() - timedelta(days=1)}, "reversed"),
        ({"user_body_id": "x"}, "body"),
    ):
        with pytest.raises(InvalidInput, match=message):
            consents.record_consent(session=session, principal=ANALYST, agreement_id=aid,
                                    **kwargs)  # type: ignore[arg-type]
    assert session.scalars(select(Consent)).all() == []


def test_bad_references_are_errors(session: Session) -> None:
    aid = make_agreement(session)
    for ref, message in (
        (SelectedInfoRef(basis_id="X-1", batch_ids=("B",), categories=("ip",)), "basis id"),
        (SelectedInfoRef(basis_id=aid, batch_ids=("B",)), "categories"),
        (SelectedInfoRef(basis_id=aid, categories=("ip",)), "batches"),
    ):
        with pytest.raises(InvalidInput, match=message):
            _decide(session, ref)
    with pytest.raises(NotFound):
        _decide(session, _ref("A-2020-0404"))
    with pytest.raises(InvalidInput, match="unknown purpose"):
        _decide(session, _ref(aid), purpose="espionage")
    assert session.scalars(select(UseDecision)).all() == []


def test_only_designated_handlers_ask(session: Session) -> None:
    aid = make_agreement(session)
    undesignated = Principal(username="t-h2", roles=frozenset({"comms_handler"}), mfa=True,
                             purpose=OTHER, organisation_id=CABINET_OFFICE)
    for who in (ANALYST, ADMIN, undesignated):
        with pytest.raises(Forbidden):
            _decide(session, _ref(aid), principal=who)
