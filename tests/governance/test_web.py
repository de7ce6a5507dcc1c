"""Governance pages, the oversight console and the JSON API: real accounts with real API
tokens through the real authorize(); the console is for committee inspectors only."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.db import get_engine, session_scope, utcnow
from mamori.governance.models import Measure

from .conftest import HTML, csrf

CONSOLE_PAGES = (
    "/oversight", "/oversight/audit/0", "/oversight/consistency?first=1&second=2",
    "/oversight/measures", "/oversight/consents", "/oversight/receipts",
    "/oversight/comms-access", "/oversight/policies", "/oversight/notifications",
    "/oversight/report", "/oversight/report.csv", "/oversight/export/audit.csv",
    "/oversight/export/measures.csv", "/oversight/export/consents.csv",
    "/oversight/export/decisions.csv", "/oversight/export/notifications.csv",
    "/oversight/export/certificates.csv",
)


def _measures() -> int:
    with Session(get_engine()) as session:
        return int(session.scalar(select(func.count()).select_from(Measure)) or 0)


def test_api_measure_flow_and_errors(as_user: Callable[..., TestClient]) -> None:
    ana, ian = as_user("ana"), as_user("ian")
    start = utcnow() + timedelta(days=1)
    body = {"article": 32, "grounds": "C2 relay abroad", "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(days=20)).isoformat(), "facilities": ["gw-1"]}
    created = ana.post("/api/v1/governance/measures", json=body)
    assert created.status_code == 201, created.text
    mid = created.json()["id"]
    denied = ana.post(f"/api/v1/governance/measures/{mid}/approve", json={})
    assert denied.status_code == 403
    assert denied.headers["content-type"].startswith("application/problem+json")
    approved = ian.post(f"/api/v1/governance/measures/{mid}/approve", json={"note": "ok"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    gate = ana.get(f"/api/v1/governance/gate/{mid}",
                   params={"at": (start + timedelta(days=2)).isoformat()})
    assert gate.json()["allowed"] is True and gate.json()["directions"] == ["foreign_domestic"]

    before = _measures()
    for bad, status in (({**body, "article": 99}, 422), ({**body, "ends_at": body["starts_at"],
                                                          "starts_at": body["ends_at"]}, 422)):
        response = ana.post("/api/v1/governance/measures", json=bad)
        assert response.status_code == status, response.text
        assert response.json()["detail"]
    missing = ian.post("/api/v1/governance/measures/M-2000-0001/approve", json={})
    assert missing.status_code == 404
    assert _measures() == before
    renewal = ana.post(f"/api/v1/governance/measures/{mid}/renew",
                       json={"ends_at": (start + timedelta(days=10)).isoformat(),
                             "grounds": "more"})
    assert renewal.status_code == 422 and "reversed" in renewal.json()["detail"]

    report = ian.get("/api/v1/governance/report", params={"year": utcnow().year,
                                                          "format": "csv"})
    assert report.status_code == 200 and report.text.startswith("period,section,item,count")
    assert ana.get("/api/v1/governance/report", params={"year": 2026}).status_code == 403


def test_console_is_for_inspectors_only(as_user: Callable[..., TestClient]) -> None:
    ana, ian = as_user("ana"), as_user("ian")
    ana.post("/api/v1/governance/measures", json={"article": 17, "grounds": "g"})
    for url in CONSOLE_PAGES:
        response = ian.get(url, headers={"accept": HTML})
        assert response.status_code == 200, (url, response.text[:300])
    for name in ("ana", "root", "opal"):
        client = as_user(name)
        for url in CONSOLE_PAGES:
            assert client.get(url, headers={"accept": HTML}).status_code == 403, (name, url)
    home = ian.get("/home", headers={"accept": HTML})
    assert 'href="/oversight"' in home.text
    assert 'href="/oversight"' not in ana.get("/home", headers={"accept": HTML}).text


def test_console_pages_show_the_evidence(as_user: Callable[..., TestClient]) -> None:
    ana, ian = as_user("ana"), as_user("ian")
    mid = ana.post("/api/v1/governance/measures",
                   json={"article": 33, "grounds": "exfiltration"}).json()["id"]
    ian.post(f"/api/v1/governance/measures/{mid}/refuse", json={"note": "not justified"})
    ja = ian.get("/oversight", headers={"accept": HTML})
    assert "監理委員会コンソール" in ja.text and "governance.measure.refused" in ja.text
    seq = ian.get("/oversight/export/audit.csv?action=governance.measure.refused").text
    row = next(csv.DictReader(io.StringIO(seq)))
    proof = ian.get(f"/oversight/audit/{row['seq']}", headers={"accept": HTML})
    assert "検証されました" in proof.text
    policies = ian.get("/oversight/policies", headers={"accept": HTML})
    assert "governance.no-self-approval" in policies.text
    measures_csv = ian.get("/oversight/export/measures.csv").text
    assert f"{mid},33,1," in measures_csv and ",refused," in measures_csv
    report = ian.get(f"/oversight/report?year={utcnow().year}", headers={"accept": HTML})
    assert "年次報告の統計" in report.text and "承認の求め" in report.text
    en = as_user("ian", "en").get("/oversight?lang=en&action=governance.measure.refused",
                                  headers={"accept": HTML})
    assert "Oversight console" in en.text and mid in en.text


def test_pages_and_forms(as_user: Callable[..., TestClient]) -> None:
    ana, ian, root = as_user("ana"), as_user("ian"), as_user("root")
    page = ana.get("/governance/measures", headers={"accept": HTML})
    assert page.status_code == 200 and "措置の承認を求める" in page.text
    token = csrf(ana)
    posted = ana.post("/governance/measures", data={
        "csrf_token": token, "article": "17", "grounds": "botnet", "starts_at": "",
        "ends_at": ""}, headers={"accept": HTML})
    assert posted.status_code == 303
    url = posted.headers["location"]
    mid = url.rsplit("/", 1)[1]
    detail = ian.get(url, headers={"accept": HTML})
    assert "承認する" in detail.text  # the inspector sees the decision form
    assert "承認する" not in ana.get(url, headers={"accept": HTML}).text
    decided = ian.post(f"{url}/approve", data={"csrf_token": csrf(ian), "note": "ok"},
                       headers={"accept": HTML})
    assert decided.status_code == 303
    assert ana.get(f"/api/v1/governance/measures/{mid}").json()["terms"][0]["status"] \
        == "approved"
    bad = ana.post("/governance/measures", data={"csrf_token": token, "article": "5",
                                                 "grounds": "x"}, headers={"accept": HTML})
    assert bad.status_code == 422 and "Art 17, 32 or 33" in bad.text

    draft = ana.post("/governance/agreements", data={
        "csrf_token": token, "party_name": "Power", "comm_scope": "uplinks",
        "party_identifiers": "192.0.2.0/24, AS64500"}, headers={"accept": HTML})
    assert draft.status_code == 303
    agreement = ana.get(draft.headers["location"], headers={"accept": HTML})
    assert "192.0.2.0/24" in agreement.text and "標準項目" in agreement.text
    assert "協定を締結する" not in agreement.text
    assert "協定を締結する" in root.get(draft.headers["location"],
                                     headers={"accept": HTML}).text
    assert as_user("opal").get("/governance/agreements",
                               headers={"accept": HTML}).status_code == 403


def test_consent_pages(as_user: Callable[..., TestClient]) -> None:
    from mamori.governance import consents

    from .conftest import ANALYST, make_agreement

    with session_scope() as session:
        aid = make_agreement(session)
        consent = consents.record_consent(session=session, principal=ANALYST,
                                          agreement_id=aid, scope_batches=["B-1"],
                                          purpose_code="other_purpose_consented",
                                          purpose_text="joint analysis")
        cid = consent.id
    ana, root, ian = as_user("ana"), as_user("root"), as_user("ian")
    listing = ana.get("/governance/consents", headers={"accept": HTML})
    assert listing.status_code == 200 and cid in listing.text
    detail = ana.get(f"/governance/consents/{cid}", headers={"accept": HTML})
    assert "発効前に不足している事項" in detail.text and "(イ) 利用する機関" in detail.text
    assert "有効にする" not in detail.text
    assert "有効にする" in root.get(f"/governance/consents/{cid}",
                                  headers={"accept": HTML}).text
    refused = root.post(f"/governance/consents/{cid}/activate",
                        data={"csrf_token": csrf(root)}, headers={"accept": HTML})
    assert refused.status_code == 422
    examined = ana.post(f"/governance/consents/{cid}/examine",
                        data={"csrf_token": csrf(ana), "examination": "examined"},
                        headers={"accept": HTML})
    assert examined.status_code == 303
    console = ian.get("/oversight/consents", headers={"accept": HTML})
    assert cid in console.text
    agreement = ana.get(f"/governance/agreements/{aid}", headers={"accept": HTML})
    assert "求める同意を記録する" in agreement.text
