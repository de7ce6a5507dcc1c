"""The oversight console and the annual report: committee inspectors see every decision;
other roles cannot."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.audit import service as audit_service
from mamori.db import utcnow
from mamori.errors import Forbidden, InvalidInput
from mamori.governance import (
    consents,
    cooperation,
    measures,
    notifications,
    oversight,
    retention,
    statistics,
)
from mamori.governance.use import SelectedInfoRef, decide_use

from .conftest import (
    ADMIN,
    ANALYST,
    CABINET_OFFICE,
    DIGEST,
    HANDLER,
    INSPECTOR,
    OPERATOR,
    OTHER_BODY,
    make_agreement,
    make_measure,
)

CONSOLE: list[Callable[[Session, Principal], Any]] = [
    lambda s, p: oversight.audit_page(session=s, principal=p),
    lambda s, p: oversight.receipts(session=s, principal=p),
    lambda s, p: oversight.comms_access(session=s, principal=p),
    lambda s, p: oversight.policy_files(session=s, principal=p),
    lambda s, p: oversight.export_audit_csv(session=s, principal=p),
    lambda s, p: oversight.check_entry(session=s, principal=p, seq=0),
    lambda s, p: notifications.list_notifications(session=s, principal=p),
    lambda s, p: retention.list_certificates(session=s, principal=p),
    lambda s, p: statistics.annual_report(session=s, principal=p, start=utcnow()
                                          - timedelta(days=1), end=utcnow()),
]


def _story(session: Session) -> dict[str, str]:
    """Two measures (one approved, one refused), a renewal, an agreement with a consent,
    a provision, a refused criminal-investigation use, and two cooperation requests: one
    refused by the carrier (then judged legitimate), one withdrawn."""
    start = utcnow() + timedelta(hours=1)
    approved = make_measure(session, article=17, start=start, days=5)
    refused = make_measure(session, article=32, start=start, approve=False)
    pending = make_measure(session, article=33, start=start, approve=None)
    measures.renew_measure(session=session, principal=ANALYST, measure_id=approved,
                           ends_at=start + timedelta(days=9), grounds="continuing")
    measures.approve_measure(session=session, principal=INSPECTOR, measure_id=approved)
    aid = make_agreement(session)
    consent = consents.record_consent(
        session=session, principal=ANALYST, agreement_id=aid, scope_batches=["B-1"],
        scope_categories=["ip_address"], user_body_id=OTHER_BODY, user_body_name="MIC CSIRT",
        purpose_code="other_purpose_consented", purpose_text="joint analysis",
        document_digest=DIGEST)
    consents.examine_consent(session=session, principal=ANALYST, consent_id=consent.id,
                             examination="examined")
    consents.activate_consent(session=session, principal=ADMIN, consent_id=consent.id)
    consents.record_arrangement(
        session=session, principal=ANALYST, body_organisation_id=OTHER_BODY,
        body_name="MIC CSIRT", purposes=["other_purpose_consented"], scope="analysis",
        document_digest=DIGEST, effective_from=utcnow() - timedelta(days=1))
    ref = SelectedInfoRef(basis_id=aid, batch_ids=("B-1",), categories=("ip_address",))
    decide_use(session=session, principal=HANDLER, data_ref=ref, user_body_id=OTHER_BODY,
               purpose_code="other_purpose_consented", purpose_text="joint analysis")
    decide_use(session=session, principal=HANDLER, data_ref=ref, user_body_id=CABINET_OFFICE,
               purpose_code="criminal_investigation", purpose_text="")
    asked = cooperation.request_cooperation(
        session=session, principal=ANALYST, measure_id=approved, carrier="Example Telecom",
        items=["foreign_facility_info"])
    cooperation.record_explanation(session=session, principal=ANALYST, request_id=asked.id,
                                   method="call", summary="content and conditions")
    cooperation.send_request(session=session, principal=ANALYST, request_id=asked.id)
    cooperation.record_response(session=session, principal=ANALYST, request_id=asked.id,
                                outcome="refused", reason="beyond our equipment")
    cooperation.evaluate_refusal(session=session, principal=ADMIN, request_id=asked.id,
                                 evaluation="legitimate", note="equipment cannot do it")
    dropped = cooperation.request_cooperation(
        session=session, principal=ANALYST, measure_id=pending, carrier="Other Telecom",
        items=["transmission"])
    cooperation.withdraw_request(session=session, principal=ANALYST, request_id=dropped.id)
    return {"approved": approved, "refused": refused, "agreement": aid}


@pytest.mark.parametrize("who", [ANALYST, ADMIN, HANDLER, OPERATOR])
def test_other_roles_cannot_open_the_console(session: Session, who: Principal) -> None:
    _story(session)
    for view in CONSOLE:
        with pytest.raises(Forbidden):
            view(session, who)


def test_inspector_sees_every_decision(session: Session) -> None:
    ids = _story(session)
    page = oversight.audit_page(session=session, principal=INSPECTOR, limit=500)
    actions = [e.action for e in page.items]
    for expected in ("governance.measure.requested", "governance.measure.approved",
                     "governance.measure.refused", "governance.measure.renewal_requested",
                     "governance.consent.activated", "governance.use.granted",
                     "governance.use.refused", "governance.notification.generated",
                     "governance.agreement.concluded", "governance.cooperation.responded",
                     "governance.cooperation.evaluated", "governance.cooperation.withdrawn"):
        assert expected in actions, expected
    refused = oversight.audit_page(session=session, principal=INSPECTOR,
                                   action="governance.use.refused").items
    assert refused[0].details["reason"] == "criminal_investigation_forbidden"
    approved = oversight.audit_page(session=session, principal=INSPECTOR,
                                    object_id=ids["approved"],
                                    action="governance.measure.approved").items
    assert len(approved) == 2  # the first term and the renewal
    for entry in page.items[:5]:
        assert oversight.check_entry(session=session, principal=INSPECTOR, seq=entry.seq).ok


def test_consistency_proofs(session: Session) -> None:
    _story(session)
    size = oversight.audit_page(session=session, principal=INSPECTOR).total
    proof, ok, problem = oversight.check_consistency(session=session, principal=INSPECTOR,
                                                     first=3, second=size)
    assert ok and problem is None and proof.second == size
    with pytest.raises(InvalidInput):
        oversight.check_consistency(session=session, principal=INSPECTOR, first=size,
                                    second=size + 5)


def test_comms_access_by_handler_and_purpose(session: Session) -> None:
    _story(session)
    rows = oversight.comms_access(session=session, principal=INSPECTOR)
    by_key = {(r.actor, r.purpose, r.action): r.count for r in rows}
    assert by_key[("t-handler", "other_purpose_consented", "access.comms_data")] == 2
    assert by_key[("t-handler", "other_purpose_consented", "governance.use.granted")] == 1
    assert by_key[("t-handler", "criminal_investigation", "governance.use.refused")] == 1


def test_receipts_are_the_selection_audit_entries(session: Session) -> None:
    assert oversight.receipts(session=session, principal=INSPECTOR).total == 0
    audit_service.record(session=session, actor="system:selection", action="selection.receipt",
                         object_type="selection_batch", object_id="B-1",
                         details={"basis": "M-2026-0001", "selected": 3, "erased": 120})
    page = oversight.receipts(session=session, principal=INSPECTOR)
    assert page.total == 1 and page.items[0].object_id == "B-1"


def test_policy_files_are_shown_as_loaded(session: Session) -> None:
    files = {f.name: f.text for f in oversight.policy_files(session=session,
                                                            principal=INSPECTOR)}
    assert "governance.cedar" in files and "access.cedar" in files
    assert "governance.no-self-approval" in files["governance.cedar"]


def test_audit_export_csv(session: Session) -> None:
    _story(session)
    text = oversight.export_audit_csv(session=session, principal=INSPECTOR,
                                      action="governance.measure.approved")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 2 and all(len(r["leaf_hash"]) == 64 for r in rows)


def test_annual_report_counts(session: Session) -> None:
    _story(session)
    start, end, label = statistics.year_period(utcnow().year + 1)
    assert label == str(utcnow().year + 1)
    start, end = utcnow() - timedelta(days=1), utcnow() + timedelta(days=1)
    report = statistics.annual_report(session=session, principal=INSPECTOR, start=start,
                                      end=end, label="window")
    assert report.count("approval_requests", "Art 17") == 1
    assert report.count("approval_requests", "Art 32") == 1
    assert report.count("approval_requests", "Art 33") == 1
    assert report.count("renewal_requests", "Art 17") == 1
    assert report.count("approvals", "Art 17") == 2
    assert report.count("approvals", "Art 32") == 0
    assert report.count("refusals", "Art 32") == 1
    assert report.count("notifications", "measure_started") == 1
    assert report.count("notifications", "measure_renewed") == 1
    assert report.count("notifications", "selected_info_provided") == 1
    assert report.count("provisions_by_recipient", f"MIC CSIRT (#{OTHER_BODY})") == 1
    assert report.count("other_purpose_decisions", "granted") == 1
    assert report.count("other_purpose_decisions", "refused") == 1
    assert report.count("agreements", "concluded") == 1
    assert [(r.item, r.count) for r in report.section("cooperation_requests")] == [
        ("recorded", 2), ("sent", 1), ("cooperating", 0), ("refused", 1), ("withdrawn", 1)]
    assert [(r.item, r.count) for r in report.section("cooperation_refusals")] == [
        ("legitimate", 1), ("not_legitimate", 0), ("under_review", 0)]
    text = statistics.to_csv(report)
    lines = text.splitlines()
    assert lines[0] == "period,section,item,count"
    assert "window,approvals,Art 17,2" in lines
    assert "window,cooperation_refusals,legitimate,1" in lines
    empty = statistics.annual_report(session=session, principal=INSPECTOR,
                                     start=start - timedelta(days=400),
                                     end=start - timedelta(days=300))
    assert sum(r.count for r in empty.rows) == 0
    with pytest.raises(InvalidInput):
        statistics.year_period(1800)
    with pytest.raises(InvalidInput):
        statistics.annual_report(session=session, principal=INSPECTOR, start=end, end=start)


def test_fiscal_year_bounds() -> None:
    start, end, label = statistics.year_period(2026, fiscal=True)
    assert label == "FY2026"
    assert start.isoformat() == "2026-04-01T00:00:00+09:00"
    assert end.isoformat() == "2027-04-01T00:00:00+09:00"
