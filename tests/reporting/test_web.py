"""The JSON API and the portal pages, through the real app (problem+json, CSRF, languages)."""

from __future__ import annotations

import json

from .conftest import example
from .test_stix_export import assert_valid_stix

BROWSER = "text/html,application/xhtml+xml"


def _file(client, web_world, who="sakura", doc=None, operator="sakura"):
    doc = doc or example("preliminary",
                         computers=[web_world.world.computers["plc"]])
    return client.post(f"/api/v1/reports?operator_id={web_world.world.operators[operator]}",
                       content=json.dumps(doc), headers={**web_world.auth(who),
                                                         "Content-Type": "application/json"})


def test_api_files_lists_shows_and_exports(client, web_world) -> None:
    created = _file(client, web_world)
    assert created.status_code == 201, created.text
    incident = created.json()
    assert {r["recipient"] for r in incident["routings"]} == {"cabinet_office",
                                                              "supervising_ministry"}
    update = example("update", incident=incident["id"])
    second = client.post("/api/v1/reports", content=json.dumps(update),
                         headers={**web_world.auth("sakura"), "Content-Type": "application/json"})
    assert second.status_code == 201 and second.json()["current_version"] == 2
    for who in ("sakura", "analyst", "meti"):
        listed = client.get("/api/v1/reports", headers=web_world.auth(who)).json()
        assert [i["id"] for i in listed] == [incident["id"]]
    assert client.get("/api/v1/reports", headers=web_world.auth("hikari")).json() == []
    bundle = client.get(f"/api/v1/reports/{incident['id']}/export?format=stix",
                        headers=web_world.auth("meti"))
    assert bundle.status_code == 200
    assert bundle.headers["content-type"].startswith("application/stix+json")
    assert_valid_stix(bundle.json())
    denied = client.get(f"/api/v1/reports/{incident['id']}", headers=web_world.auth("hikari"))
    assert denied.status_code == 403
    assert denied.headers["content-type"] == "application/problem+json"
    assert client.get(f"/api/v1/reports/{incident['id']}",
                      headers=web_world.auth("mlit")).status_code == 403


def test_api_errors_are_problem_details_without_content(client, web_world) -> None:
    doc = example("preliminary", indicators=[{"type": "url",
                                              "value": "http://evil.example/p?q=secret"}])
    response = _file(client, web_world, doc=doc)
    assert response.status_code == 422
    body = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert body["field"] == "indicators[0].type"
    assert "secret" not in response.text and "evil.example" not in response.text
    broken = client.post("/api/v1/reports", content=b"{not json",
                         headers={**web_world.auth("sakura"), "Content-Type": "application/json"})
    assert broken.status_code == 422 and "line 1" in broken.json()["detail"]
    assert client.get("/api/v1/reports").status_code == 401


def test_api_scope_check_and_schema(client, web_world) -> None:
    answer = client.post("/api/v1/reports/check", headers=web_world.auth("sakura"), json={
        "stage": "attempt_blocked", "zone": "internet_boundary", "category": "firewall"})
    assert answer.status_code == 200
    assert answer.json()["decision"] == "not_reportable"
    schema = client.get("/api/v1/reports/schema", headers=web_world.auth("sakura"))
    assert schema.json()["properties"]["format"]["const"] == "mamori.incident-report/1"


def test_portal_pages_in_both_languages(client, web_world) -> None:
    created = _file(client, web_world).json()
    headers = {**web_world.auth("sakura"), "Accept": BROWSER}
    page = client.get("/reports?lang=ja", headers=headers)
    assert page.status_code == 200 and "インシデント報告" in page.text
    assert created["title"] in page.text
    page = client.get(f"/reports/{created['id']}?lang=en", headers=headers)
    assert "Version 1" in page.text and "Supervising ministry" not in page.text[:0]
    assert "File an update" in page.text
    form = client.get(f"/reports/new?incident={created['id']}&lang=en", headers=headers)
    assert form.status_code == 200 and 'name="incident"' in form.text
    check = client.get("/reports/check?lang=ja", headers=headers)
    assert "報告が必要か確認" in check.text


def test_portal_form_explains_problems_and_saves_drafts(client, web_world) -> None:
    headers = {**web_world.auth("sakura"), "Accept": BROWSER}
    client.get("/reports/new?lang=en", headers=headers)
    csrf = client.cookies.get("mamori_csrf")
    form = {"csrf_token": csrf, "regulation": "art5", "kind": "preliminary", "title": "",
            "detected_at": "2026-11-20T10:00", "aware_at": "2026-11-20T09:00", "stage": "",
            "operator_id": str(web_world.world.operators["sakura"]),
            "techniques": "T9999", "indicators": "url http://x.example/a", "action": "submit"}
    response = client.post("/reports/new", data=form, headers=headers)
    assert response.status_code == 422
    for text in ("Enter a title", "cannot be before the time of detection",
                 "Choose the stage", "T9999 is not an ATT&amp;CK technique id",
                 "URLs are communications content", "A Preliminary report needs this"):
        assert text in response.text, text
    assert "x.example/a" in response.text  # the form keeps what the person typed
    saved = client.post("/reports/new", data={**form, "action": "save_draft"}, headers=headers)
    assert saved.status_code == 303 and "draft=" in saved.headers["location"]
    again = client.get(saved.headers["location"] + "&lang=en", headers=headers)
    assert "The draft is saved" in again.text and "T9999" in again.text
    listed = client.get("/api/v1/reports/drafts", headers=web_world.auth("sakura")).json()
    assert len(listed) == 1
    missing_csrf = client.post("/reports/new", data={**form, "csrf_token": "x" * 43},
                               headers=headers)
    assert missing_csrf.status_code == 403


def test_precursor_api_accepts_stix_and_refuses_content(client, web_world) -> None:
    indicator = {
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2026-11-20T00:00:00.000Z", "modified": "2026-11-20T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
        "valid_from": "2026-11-20T00:00:00Z",
    }
    sighting = {
        "type": "sighting", "spec_version": "2.1",
        "id": "sighting--ee20065d-2555-424f-ad9e-0f8428623c75",
        "created": "2026-11-20T00:00:00.000Z", "modified": "2026-11-20T00:00:00.000Z",
        "sighting_of_ref": indicator["id"], "count": 3,
    }
    bundle = {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
              "objects": [indicator, sighting]}
    headers = {**web_world.auth("sakura"), "Content-Type": "application/json"}
    accepted = client.post("/api/v1/reports/precursors", content=json.dumps(bundle),
                           headers=headers)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["accepted"] == 2
    repeat = client.post("/api/v1/reports/precursors", content=json.dumps(bundle),
                         headers=headers)
    assert repeat.json()["accepted"] == 0  # already known: stored once
    bad = dict(indicator, id="indicator--0b1c6a4c-6a8e-4f0e-9d6c-7b0f1e0c9a11",
               pattern="[url:value = 'http://x.example/secret']")
    rejected = client.post("/api/v1/reports/precursors", headers=headers,
                           content=json.dumps({**bundle, "objects": [bad, sighting]}))
    assert rejected.status_code == 422
    assert rejected.headers["content-type"] == "application/problem+json"
    assert rejected.json()["failures"][0]["id"] == bad["id"]
    assert "secret" not in rejected.text
    broken = client.post("/api/v1/reports/precursors", headers=headers, content=json.dumps(
        {**bundle, "objects": [dict(indicator, pattern_type="stix", valid_from="soon")]}))
    assert broken.status_code == 422
    seen = client.get("/api/v1/reports/precursors/" + accepted.json()["id"],
                      headers=web_world.auth("hikari"))
    assert seen.status_code == 403
