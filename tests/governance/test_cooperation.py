"""Cooperation requests to telecom carriers (Art 20): explained in advance, sent, answered;
a refusal's reason evaluated and re-evaluated with the history kept. Illegal steps,
unknown ids and bad input are clear errors that change nothing; the committee reads,
others are refused. Through the service, the command line, the JSON API and the pages."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.audit.models import AuditEntry
from mamori.db import get_engine, utcnow
from mamori.errors import Conflict, Forbidden, InvalidInput, NotFound
from mamori.governance import cooperation, statistics
from mamori.governance.models import (
    CooperationExplanation,
    CooperationRequest,
    RefusalEvaluation,
)

from .conftest import (
    ADMIN,
    ANALYST,
    DIGEST,
    HANDLER,
    HTML,
    INSPECTOR,
    OPERATOR,
    Mamori,
    audit_count,
    csrf,
    make_measure,
)

Step = Callable[[Session, Principal, str], Any]


def _state(session: Session) -> tuple[Any, ...]:
    """Everything a cooperation step may change (denials aside, which are audited)."""
    session.expire_all()
    requests = session.execute(select(
        CooperationRequest.id, CooperationRequest.status, CooperationRequest.sent_at,
        CooperationRequest.responded_at, CooperationRequest.refusal_reason,
        CooperationRequest.withdrawn_at).order_by(CooperationRequest.id)).all()
    evaluations = session.execute(select(
        RefusalEvaluation.request_id, RefusalEvaluation.evaluation,
        RefusalEvaluation.note).order_by(RefusalEvaluation.id)).all()
    explanations = session.scalar(select(func.count()).select_from(CooperationExplanation))
    return ([tuple(r) for r in requests], [tuple(e) for e in evaluations], explanations,
            audit_count(session) - audit_count(session, "access.denied"))


def _step(function: Callable[..., Any], **arguments: Any) -> Step:
    """A service step on one request, as a principal, with fixed arguments."""

    def step(session: Session, who: Principal, request_id: str) -> Any:
        return function(session=session, principal=who, request_id=request_id, **arguments)

    return step


STEPS: dict[str, Step] = {
    "explain": _step(cooperation.record_explanation, method="meeting",
                     summary="content, conditions and schedule"),
    "send": _step(cooperation.send_request),
    "cooperating": _step(cooperation.record_response, outcome="cooperating"),
    "refused": _step(cooperation.record_response, outcome="refused",
                     reason="beyond our equipment"),
    "evaluate": _step(cooperation.evaluate_refusal, evaluation="legitimate",
                      note="the equipment cannot do it"),
    "withdraw": _step(cooperation.withdraw_request),
}
# How to reach each status from a draft.
PATHS: dict[str, tuple[str, ...]] = {
    "draft": (), "sent": ("explain", "send"), "cooperating": ("explain", "send", "cooperating"),
    "refused": ("explain", "send", "refused"), "withdrawn": ("withdraw",),
}
# What each status allows; every other step is a conflict.
ALLOWED: dict[str, set[str]] = {
    "draft": {"explain", "withdraw"}, "sent": {"explain", "cooperating", "refused", "withdraw"},
    "cooperating": set(), "refused": {"evaluate"}, "withdrawn": set(),
}


def _request(session: Session, status: str = "draft", measure_id: str | None = None) -> str:
    request = cooperation.request_cooperation(
        session=session, principal=ANALYST, measure_id=measure_id or make_measure(session),
        carrier="Example Telecom", items=["foreign_facility_info", "equipment_connection"],
        conditions="information within two weeks", burden="uses the existing mirror port")
    for step in PATHS[status]:
        STEPS[step](session, ANALYST, request.id)
    return request.id


def test_lifecycle_is_recorded_and_audited_with_ids_only(session: Session) -> None:
    mid = make_measure(session, article=32)
    request = cooperation.request_cooperation(
        session=session, principal=ANALYST, measure_id=mid, carrier=" Example Telecom ",
        items=["equipment_connection", "foreign_facility_info, equipment_connection"],
        conditions="within two weeks", burden="existing mirror port")
    assert re.fullmatch(r"K-\d{4}-\d{4}", request.id)
    assert (request.status, request.carrier) == ("draft", "Example Telecom")
    assert request.items == ["foreign_facility_info", "equipment_connection"]
    explanation = cooperation.record_explanation(
        session=session, principal=ANALYST, request_id=request.id, method="Document",
        summary="what is asked and on which conditions",
        document_digest="SHA256:" + DIGEST.upper(),
        explained_at=utcnow() - timedelta(days=1))
    assert (explanation.method, explanation.document_digest) == ("document", DIGEST)
    assert explanation.explained_by == "t-analyst"
    cooperation.send_request(session=session, principal=ADMIN, request_id=request.id)
    assert (request.status, request.sent_by) == ("sent", "t-admin")
    assert request.sent_at is not None
    cooperation.record_response(session=session, principal=ANALYST, request_id=request.id,
                                outcome="cooperating")
    assert request.status == "cooperating" and request.responded_at is not None
    assert request.evaluation is None and request.evaluations == []

    entries = session.scalars(select(AuditEntry).where(AuditEntry.object_id == request.id)
                              .order_by(AuditEntry.seq)).all()
    assert [e.action for e in entries] == [
        "governance.cooperation.requested", "governance.cooperation.explained",
        "governance.cooperation.sent", "governance.cooperation.responded"]
    for entry in entries:
        details = entry.details_dict
        assert details["measure"] == mid and details["request"] == request.id
        assert entry.legal_basis == "Art 20 (mutatis mutandis, Art 32)"
        assert "Example Telecom" not in entry.details and "two weeks" not in entry.details
        assert "which conditions" not in entry.details
    assert entries[1].details_dict["document_digest"] == DIGEST
    following = _request(session, measure_id=mid)
    assert int(following.rsplit("-", 1)[1]) == int(request.id.rsplit("-", 1)[1]) + 1
    out = cooperation.to_out(request)
    assert out.explanations[0].summary == "what is asked and on which conditions"


def test_art_17_measures_ask_under_art_20_itself(session: Session) -> None:
    rid = _request(session, measure_id=make_measure(session, article=17, approve=None))
    entry = session.scalars(select(AuditEntry).where(AuditEntry.object_id == rid)).one()
    assert entry.legal_basis == "Art 20"


def test_a_request_is_sent_only_after_an_explanation(session: Session) -> None:
    rid = _request(session)
    before = _state(session)
    with pytest.raises(Conflict, match="advance explanation"):
        STEPS["send"](session, ANALYST, rid)
    assert _state(session) == before
    STEPS["explain"](session, ANALYST, rid)
    STEPS["send"](session, ANALYST, rid)
    assert _state(session)[0][0][1] == "sent"


@pytest.mark.parametrize(("status", "step"), [
    (status, step) for status in PATHS for step in STEPS if step not in ALLOWED[status]
])
def test_illegal_steps_are_conflicts_that_change_nothing(
    session: Session, status: str, step: str
) -> None:
    rid = _request(session, status)
    before = _state(session)
    with pytest.raises(Conflict, match=rid):
        STEPS[step](session, ANALYST, rid)
    assert _state(session) == before


@pytest.mark.parametrize("status", ["draft", "sent"])
def test_withdrawal_from_draft_or_sent(session: Session, status: str) -> None:
    rid = _request(session, status)
    request = STEPS["withdraw"](session, ANALYST, rid)
    assert isinstance(request, CooperationRequest)
    assert (request.status, request.withdrawn_by) == ("withdrawn", "t-analyst")
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "governance.cooperation.withdrawn")).one()
    assert entry.details_dict["was_sent"] is (status == "sent")


def test_unknown_ids_and_measures_are_not_found(session: Session) -> None:
    _request(session)
    before = _state(session)
    with pytest.raises(NotFound, match="M-2000-0001"):
        cooperation.request_cooperation(session=session, principal=ANALYST,
                                        measure_id="M-2000-0001", carrier="T",
                                        items=["transmission"])
    for step in STEPS.values():
        with pytest.raises(NotFound, match="K-2000-0001"):
            step(session, ANALYST, "K-2000-0001")
    with pytest.raises(NotFound):
        cooperation.get_request(session=session, principal=INSPECTOR, request_id="K-2000-0001")
    with pytest.raises(NotFound):
        cooperation.list_requests(session=session, principal=INSPECTOR,
                                  measure_id="M-2000-0001")
    assert _state(session) == before


def test_no_request_under_a_refused_measure(session: Session) -> None:
    refused = make_measure(session, approve=False)
    before = _state(session)
    with pytest.raises(Conflict, match="refused"):
        _request(session, measure_id=refused)
    assert _state(session) == before
    # pending, approved and ended measures all take requests
    pending = make_measure(session, approve=None)
    assert cooperation.get_request(session=session, principal=ANALYST,
                                   request_id=_request(session, measure_id=pending))


def _create(**changes: Any) -> Step:
    def step(session: Session, who: Principal, request_id: str) -> object:
        request = session.get(CooperationRequest, request_id)
        assert request is not None
        args: dict[str, Any] = {"measure_id": request.measure_id, "carrier": "T",
                                "items": ["transmission"], **changes}
        return cooperation.request_cooperation(session=session, principal=who, **args)

    return step


_explained = partial(_step, cooperation.record_explanation, method="call", summary="s")
_answered = partial(_step, cooperation.record_response)
_evaluated = partial(_step, cooperation.evaluate_refusal)


@pytest.mark.parametrize(("status", "step", "message"), [
    ("draft", _create(carrier="  "), "carrier: must not be empty"),
    ("draft", _create(carrier="x" * 301), "carrier: longer than 300"),
    ("draft", _create(items=[]), "item: name at least one"),
    ("draft", _create(items=[" , "]), "item: name at least one"),
    ("draft", _create(items=["transmission", "everything"]), "'everything' is not one of"),
    ("draft", _create(items=["other"]), "description: say what 'other'"),
    ("draft", _create(conditions="x" * 4001), "conditions: longer than 4000"),
    ("draft", _explained(method="email"), "method: 'email' is not one of meeting"),
    ("draft", _explained(summary=" "), "summary: must not be empty"),
    ("draft", _explained(document_digest="abc"), "explanatory document digest"),
    ("draft", _explained(explained_at=utcnow() + timedelta(days=1)), "in advance"),
    ("sent", _answered(outcome="maybe"), "response: 'maybe' is not one of"),
    ("sent", _answered(outcome="refused"), "reason: must not be empty"),
    ("sent", _answered(outcome="refused", reason="r", evaluation="fine"), "evaluation"),
    ("sent", _answered(outcome="refused", reason="r", evaluation="legitimate"),
     "note: say why"),
    ("sent", _answered(outcome="cooperating", reason="r"), "for a refusal only"),
    ("refused", _evaluated(evaluation="not_legitimate", note=" "), "note: say why"),
    ("refused", _evaluated(evaluation="", note="n"), "nothing is not one"),
])
def test_bad_input_is_refused_and_changes_nothing(
    session: Session, status: str, step: Step, message: str
) -> None:
    rid = _request(session, status)
    before = _state(session)
    with pytest.raises(InvalidInput, match=re.escape(message)):
        step(session, ANALYST, rid)
    assert _state(session) == before


def test_other_cooperation_with_a_description(session: Session) -> None:
    request = cooperation.request_cooperation(
        session=session, principal=ANALYST, measure_id=make_measure(session),
        carrier="T", items=["other", "transmission"], description="test the link first")
    assert request.items == ["transmission", "other"]
    assert request.description == "test the link first"


def test_evaluations_are_kept_as_history(session: Session) -> None:
    rid = _request(session, "refused")
    request = cooperation.get_request(session=session, principal=ANALYST, request_id=rid)
    assert request.refusal_reason == "beyond our equipment"
    assert request.evaluation == "under_review"
    cooperation.evaluate_refusal(session=session, principal=ANALYST, request_id=rid,
                                 evaluation="legitimate", note="beyond its equipment")
    cooperation.evaluate_refusal(session=session, principal=ADMIN, request_id=rid,
                                 evaluation="NOT_LEGITIMATE", note="a mirror port exists")
    session.expire_all()
    rows = session.execute(select(RefusalEvaluation.evaluation, RefusalEvaluation.note,
                                  RefusalEvaluation.evaluated_by)
                           .where(RefusalEvaluation.request_id == rid)
                           .order_by(RefusalEvaluation.id)).all()
    assert [tuple(r) for r in rows] == [
        ("under_review", "", "t-analyst"),
        ("legitimate", "beyond its equipment", "t-analyst"),
        ("not_legitimate", "a mirror port exists", "t-admin")]
    request = cooperation.get_request(session=session, principal=INSPECTOR, request_id=rid)
    assert request.evaluation == "not_legitimate"
    entries = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "governance.cooperation.evaluated").order_by(AuditEntry.seq)).all()
    assert [(e.details_dict["evaluation"], e.details_dict["previous"]) for e in entries] == [
        ("legitimate", "under_review"), ("not_legitimate", "legitimate")]
    assert all("mirror" not in e.details for e in entries)


def test_a_refusal_may_be_judged_at_once(session: Session) -> None:
    rid = _request(session, "sent")
    request = cooperation.record_response(
        session=session, principal=ANALYST, request_id=rid, outcome="refused",
        reason="service to users would be disrupted", evaluation="legitimate",
        note="Art 20 example (2)")
    assert [(e.evaluation, e.note) for e in request.evaluations] == [
        ("legitimate", "Art 20 example (2)")]


def test_statistics_count_by_status_and_evaluation(session: Session) -> None:
    start = utcnow() - timedelta(seconds=1)
    mid = make_measure(session)
    _request(session, "cooperating", mid)
    refused = _request(session, "refused", mid)
    _request(session, "draft", mid)
    sent = _request(session, "sent", mid)
    STEPS["withdraw"](session, ANALYST, sent)
    cut = utcnow()
    STEPS["evaluate"](session, ANALYST, refused)

    def counts(end: Any) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
        report = statistics.annual_report(session=session, principal=INSPECTOR, start=start,
                                          end=end)
        return ([(r.item, r.count) for r in report.section("cooperation_requests")],
                [(r.item, r.count) for r in report.section("cooperation_refusals")])

    later = utcnow() + timedelta(days=1)
    assert counts(later) == (
        [("recorded", 4), ("sent", 3), ("cooperating", 1), ("refused", 1), ("withdrawn", 1)],
        [("legitimate", 1), ("not_legitimate", 0), ("under_review", 0)])
    # a report for a period that ended before the later view keeps the view it had then
    assert counts(cut)[1] == [("legitimate", 0), ("not_legitimate", 0), ("under_review", 1)]
    before = statistics.annual_report(session=session, principal=INSPECTOR,
                                      start=start - timedelta(days=2),
                                      end=start - timedelta(days=1))
    assert sum(r.count for r in before.rows if r.section.startswith("cooperation")) == 0


def test_inspectors_view_and_cannot_change(session: Session) -> None:
    mid = make_measure(session)
    rids = {status: _request(session, status, mid) for status in PATHS}
    listed = cooperation.list_requests(session=session, principal=INSPECTOR, measure_id=mid)
    assert [r.id for r in listed] == sorted(rids.values())
    assert cooperation.get_request(session=session, principal=INSPECTOR,
                                   request_id=rids["refused"]).evaluation == "under_review"
    before, denied = _state(session), audit_count(session, "access.denied")
    for rid in rids.values():
        for step in STEPS.values():
            with pytest.raises(Forbidden):
                step(session, INSPECTOR, rid)
    with pytest.raises(Forbidden):
        cooperation.request_cooperation(session=session, principal=INSPECTOR, measure_id=mid,
                                        carrier="T", items=["transmission"])
    assert _state(session) == before
    assert audit_count(session, "access.denied") > denied


@pytest.mark.parametrize("who", [OPERATOR, HANDLER])
def test_operators_and_handlers_are_refused(session: Session, who: Principal) -> None:
    rid = _request(session, "sent")
    before = _state(session)
    with pytest.raises(Forbidden):
        cooperation.list_requests(session=session, principal=who)
    with pytest.raises(Forbidden):
        cooperation.get_request(session=session, principal=who, request_id=rid)
    for step in STEPS.values():
        with pytest.raises(Forbidden):
            step(session, who, rid)
    assert _state(session) == before


# --- the command line ---------------------------------------------------------------------


def _rows() -> list[int]:
    """Rows of the three cooperation tables, read in a fresh session."""
    with Session(get_engine()) as session:
        return [int(session.scalar(select(func.count()).select_from(model)) or 0)
                for model in (CooperationRequest, CooperationExplanation, RefusalEvaluation)]


def test_cli_end_to_end(mamori: Mamori, tmp_path: Path) -> None:
    def ok(*args: str) -> str:
        code, out, err = mamori(*args)
        assert code == 0, (args, err)
        return out

    def fails(*args: str, message: str) -> None:
        before = _rows()
        code, _, err = mamori(*args)
        assert code == 2 and err.startswith("error: ") and message in err, (args, err)
        assert len(err.strip().splitlines()) == 1
        assert _rows() == before

    analyst = ("--as", "demo-analyst")
    mid = json.loads(ok(*analyst, "measure", "request", "--article", "33", "--grounds",
                        "exfiltration to C2", "--json"))["id"]
    created = json.loads(ok(*analyst, "cooperation", "request", "--measure", mid,
                            "--carrier", "Example Telecom", "--item", "foreign_facility_info",
                            "--item", "equipment_connection", "--conditions", "two weeks",
                            "--burden", "existing mirror port", "--json"))
    kid = created["id"]
    assert created["status"] == "draft" and created["burden"] == "existing mirror port"
    fails(*analyst, "cooperation", "send", kid, message="advance explanation")
    fails(*analyst, "cooperation", "request", "--measure", mid, "--carrier", "T", "--item",
          "bogus", message="item: 'bogus' is not one of")
    fails(*analyst, "cooperation", "request", "--measure", "M-2000-0001", "--carrier", "T",
          "--item", "transmission", message="does not exist")
    fails(*analyst, "cooperation", "explain", kid, "--method", "fax", "--summary", "s",
          message="method")
    fails(*analyst, "cooperation", "explain", kid, "--method", "meeting", "--summary", "s",
          "--document", str(tmp_path / "missing.pdf"), message="cannot read file")

    paper = tmp_path / "explanation.pdf"
    paper.write_bytes(b"%PDF what is asked and on which conditions")
    explained = json.loads(ok(*analyst, "cooperation", "explain", kid, "--method", "meeting",
                              "--summary", "content and conditions", "--document", str(paper),
                              "--json"))
    assert explained["explanations"][0]["document_digest"] == \
        hashlib.sha256(paper.read_bytes()).hexdigest()
    assert json.loads(ok(*analyst, "cooperation", "send", kid, "--json"))["status"] == "sent"
    fails(*analyst, "cooperation", "respond", kid, message="--cooperating or --refused")
    fails(*analyst, "cooperation", "respond", kid, "--cooperating", "--refused",
          message="--cooperating or --refused")
    fails(*analyst, "cooperation", "respond", kid, "--refused", message="reason")
    refused = json.loads(ok(*analyst, "cooperation", "respond", kid, "--refused", "--reason",
                            "beyond our equipment", "--json"))
    assert (refused["status"], refused["evaluation"]) == ("refused", "under_review")
    fails(*analyst, "cooperation", "withdraw", kid, message="only a draft or sent")
    fails(*analyst, "cooperation", "evaluate", kid, "--evaluation", "legitimate",
          message="note")
    ok(*analyst, "cooperation", "evaluate", kid, "--evaluation", "legitimate", "--note",
       "the equipment cannot do it")

    inspector = ("--as", "demo-committee_inspector")
    shown = json.loads(ok(*inspector, "cooperation", "show", kid, "--json"))
    assert [e["evaluation"] for e in shown["evaluations"]] == ["under_review", "legitimate"]
    text = ok(*inspector, "cooperation", "show", kid)
    assert "Example Telecom" in text and "Legitimate reason" in text
    assert "content and conditions" in text
    listed = json.loads(ok(*inspector, "cooperation", "list", "--measure", mid, "--json"))
    assert [r["id"] for r in listed] == [kid]
    assert kid in ok(*inspector, "cooperation", "list")
    fails(*inspector, "cooperation", "evaluate", kid, "--evaluation", "not_legitimate",
          "--note", "n", message="error:")
    fails("--as", "demo-comms_handler", "cooperation", "list", message="error:")
    fails(*inspector, "cooperation", "show", "K-2000-0001", message="does not exist")

    other = json.loads(ok(*analyst, "cooperation", "request", "--measure", mid, "--carrier",
                          "Other Telecom", "--item", "other", "--description",
                          "a test of the link", "--json"))["id"]
    assert json.loads(ok(*analyst, "cooperation", "withdraw", other,
                         "--json"))["status"] == "withdrawn"

    report = ok(*inspector, "oversight", "report", "--year", str(utcnow().year), "--format",
                "csv")
    rows = {(r["section"], r["item"]): int(r["count"]) for r in csv.DictReader(
        io.StringIO(report))}
    if utcnow().astimezone().year == utcnow().year:
        assert rows[("cooperation_requests", "recorded")] == 2
        assert rows[("cooperation_refusals", "legitimate")] == 1
    printable = ok(*inspector, "oversight", "report", "--year", str(utcnow().year))
    assert "Cooperation requests to telecom carriers / Requests recorded" in printable


# --- the JSON API and the pages -------------------------------------------------------------


API = "/api/v1/governance/cooperation"


def test_api_flow_and_errors(as_user: Callable[..., TestClient]) -> None:
    ana, ian, opal = as_user("ana"), as_user("ian"), as_user("opal")
    mid = ana.post("/api/v1/governance/measures",
                   json={"article": 17, "grounds": "C2 abroad"}).json()["id"]
    body = {"measure_id": mid, "carrier": "Example Telecom",
            "items": ["foreign_facility_info"], "conditions": "two weeks"}
    created = ana.post(API, json=body)
    assert created.status_code == 201, created.text
    kid = created.json()["id"]

    before = _rows()
    for bad in ({**body, "items": ["everything"]}, {**body, "items": []},
                {**body, "carrier": ""}, {**body, "colour": "red"},
                {**body, "items": ["other"]}):
        response = ana.post(API, json=bad)
        assert response.status_code == 422, (bad, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    malformed = ana.post(API, content=b'{"measure_id": ', headers={
        "content-type": "application/json"})
    assert malformed.status_code == 422
    assert ana.post(API, json={**body, "measure_id": "M-2000-0001"}).status_code == 404
    assert ana.post(f"{API}/K-2000-0001/send").status_code == 404
    assert ana.post(f"{API}/{kid}/send").status_code == 409
    assert ana.post(f"{API}/{kid}/explain", json={"method": "email",
                                                  "summary": "s"}).status_code == 422
    assert ana.post(f"{API}/{kid}/explain", json={
        "method": "call", "summary": "s", "explained_at": "2026-01-01T10:00:00"}
    ).status_code == 422  # a time without its zone
    assert ian.post(f"{API}/{kid}/withdraw").status_code == 403
    assert opal.get(API).status_code == 403
    assert _rows() == before

    explained = ana.post(f"{API}/{kid}/explain", json={
        "method": "call", "summary": "content and conditions", "document_digest": DIGEST})
    assert explained.status_code == 201
    assert explained.json()["explanations"][0]["document_digest"] == DIGEST
    assert ana.post(f"{API}/{kid}/send").json()["status"] == "sent"
    assert ana.post(f"{API}/{kid}/respond", json={"outcome": "refused"}).status_code == 422
    refused = ana.post(f"{API}/{kid}/respond", json={"outcome": "refused",
                                                     "reason": "beyond our equipment"})
    assert refused.status_code == 200 and refused.json()["evaluation"] == "under_review"
    evaluated = ana.post(f"{API}/{kid}/evaluate", json={"evaluation": "not_legitimate",
                                                        "note": "a port exists"})
    assert evaluated.status_code == 200 and evaluated.json()["evaluation"] == "not_legitimate"
    assert ana.post(f"{API}/{kid}/respond", json={"outcome": "cooperating"}).status_code == 409
    seen = ian.get(f"{API}/{kid}").json()
    assert [e["evaluation"] for e in seen["evaluations"]] == ["under_review", "not_legitimate"]
    assert [r["id"] for r in ian.get(API, params={"measure_id": mid}).json()] == [kid]
    assert ian.get(API, params={"measure_id": "M-2000-0001"}).status_code == 404
    assert ian.get(API, params={"measure_id": "M" * 30}).status_code == 422


def test_pages_in_japanese_and_english(as_user: Callable[..., TestClient]) -> None:
    ana, ian, opal = as_user("ana"), as_user("ian"), as_user("opal")
    mid = ana.post("/api/v1/governance/measures",
                   json={"article": 32, "grounds": "C2 relay"}).json()["id"]
    measure = ana.get(f"/governance/measures/{mid}", headers={"accept": HTML})
    assert f'href="/governance/cooperation?measure={mid}"' in measure.text
    listing = ana.get(f"/governance/cooperation?measure={mid}", headers={"accept": HTML})
    assert listing.status_code == 200 and "協力の求めを記録する" in listing.text
    assert f'value="{mid}"' in listing.text
    assert 'href="/governance/cooperation"' in ana.get("/home", headers={"accept": HTML}).text

    token = csrf(ana)
    form = {"csrf_token": token, "measure_id": mid, "carrier": "Example Telecom",
            "items": ["foreign_facility_info", "transmission"], "burden": "existing port"}
    none_asked = ana.post("/governance/cooperation", data={**form, "items": []},
                          headers={"accept": HTML})
    assert none_asked.status_code == 422 and "item: name at least one" in none_asked.text
    posted = ana.post("/governance/cooperation", data=form, headers={"accept": HTML})
    assert posted.status_code == 303
    url = posted.headers["location"]
    kid = url.rsplit("/", 1)[1]
    detail = ana.get(url, headers={"accept": HTML})
    assert "事前説明を記録する" in detail.text
    assert "国外関係電気通信設備に関する情報の提供" in detail.text
    sent_early = ana.post(f"{url}/send", data={"csrf_token": token}, headers={"accept": HTML})
    assert sent_early.status_code == 409
    for step, data in (("explain", {"method": "meeting", "summary": "content and conditions",
                                    "explained_at": "2026-01-05T10:00"}),
                       ("send", {}),
                       ("respond", {"outcome": "refused", "reason": "beyond our equipment",
                                    "evaluation": "under_review"}),
                       ("evaluate", {"evaluation": "legitimate", "note": "cannot do it"})):
        done = ana.post(f"{url}/{step}", data={"csrf_token": token, **data},
                        headers={"accept": HTML})
        assert done.status_code == 303, (step, done.text[:300])
    assert ana.post(f"{url}/explode", data={"csrf_token": token},
                    headers={"accept": HTML}).status_code == 404

    en = as_user("ana", "en").get(f"{url}?lang=en", headers={"accept": HTML})
    assert "Legitimate reason" in en.text and "Under review" in en.text
    assert "Record a new evaluation of the reason" in en.text
    assert 'for="v-note"' in en.text and 'id="v-note"' in en.text
    seen = ian.get(url, headers={"accept": HTML})
    assert seen.status_code == 200 and "正当な理由に当たる" in seen.text
    assert "理由の評価を新たに記録する" not in seen.text  # read-only for the committee
    console = ian.get("/oversight/cooperation", headers={"accept": HTML})
    assert console.status_code == 200 and kid in console.text
    assert "content and conditions" in console.text and "事業者が示した理由" in console.text
    report = ian.get(f"/oversight/report?year={utcnow().year}", headers={"accept": HTML})
    assert "電気通信事業者への協力の求め" in report.text and "記録された協力の求め" in report.text
    assert ana.get("/oversight/cooperation", headers={"accept": HTML}).status_code == 403
    assert opal.get("/governance/cooperation", headers={"accept": HTML}).status_code == 403
    assert opal.get(url, headers={"accept": HTML}).status_code == 403
    # ?lang= also keeps the reader's choice, so English comes last
    console_en = as_user("ian", "en").get("/oversight/cooperation?lang=en",
                                          headers={"accept": HTML})
    assert "Carrier cooperation" in console_en.text and "Advance explanations" in console_en.text
