"""The TAXII 2.1 server in process, on SQLite and PostgreSQL: authentication, who sees
which collection, paging with the signed cursor, filters, manifest, versions, POST with a
status resource, and the entitlement re-checked on every page."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mamori.dissemination import service
from mamori.dissemination.taxii.params import TAXII_MEDIA
from mamori.dissemination.taxii.server import collection_id
from mamori.intel.models import ImportRow
from mamori.web.app import create_app

from .conftest import World, indicator

ROOT = "/taxii2/mamori"
COUNCIL = collection_id("council_member")
PUBLIC = collection_id("computer_user_public")


def basic(username: str, token: str) -> dict[str, str]:
    raw = base64.b64encode(f"{username}:{token}".encode()).decode()
    return {"Authorization": f"Basic {raw}", "Accept": TAXII_MEDIA}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": TAXII_MEDIA}


@pytest.fixture
def served(world: World) -> dict[str, Any]:
    """Council member aoba received tiers 2 and 3; midori (public) tier 3."""
    world.entitle()
    world.provide("council_member", 2)
    world.provide("council_member", 3)
    world.provide("computer_user_public", 3)
    council = world.account("kaori", "council_member", "aoba")
    public = world.account("pub", "operator", "midori")
    del council, public
    tokens = {"kaori": world.token("kaori"), "pub": world.token("pub")}
    world.session.commit()
    return tokens


def _all_pages(client: TestClient, headers: dict[str, str], path: str, limit: int,
               **params: str) -> tuple[list[dict[str, Any]], int]:
    found: list[dict[str, Any]] = []
    pages = 0
    query: dict[str, str] = {"limit": str(limit), **params}
    while True:
        response = client.get(path, headers=headers, params=query)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == TAXII_MEDIA
        body = response.json()
        pages += 1
        found.extend(body.get("objects", []))
        if not body.get("more"):
            assert "next" not in body
            return found, pages
        query = {"limit": str(limit), "next": body["next"], **params}


def test_discovery_and_authentication(world: World, served: dict[str, str]) -> None:
    client = TestClient(create_app())
    for headers in (basic("kaori", served["kaori"]), bearer(served["kaori"])):
        discovery = client.get("/taxii2/", headers=headers)
        assert discovery.status_code == 200 and discovery.json()["api_roots"][0].endswith(
            "/taxii2/mamori/")
        root = client.get(f"{ROOT}/", headers=headers).json()
        assert root["versions"] == [TAXII_MEDIA]
        listed = client.get(f"{ROOT}/collections/", headers=headers).json()["collections"]
        assert [c["id"] for c in listed] == [COUNCIL]
        assert listed[0]["can_read"] and listed[0]["can_write"]
    for headers in ({"Accept": TAXII_MEDIA}, basic("kaori", "wrong-token"),
                    basic("nobody", served["kaori"]), bearer("mamori_nope"),
                    {"Authorization": "Digest abc", "Accept": TAXII_MEDIA}):
        for path in ("/taxii2/", f"{ROOT}/collections/{COUNCIL}/objects/"):
            response = client.get(path, headers=headers)
            assert response.status_code == 401
            assert response.headers["content-type"] == TAXII_MEDIA
            assert "Basic" in response.headers["www-authenticate"]
            assert "objects" not in response.json()
    wrong_accept = {**basic("kaori", served["kaori"]), "Accept": "application/xml"}
    assert client.get(f"{ROOT}/", headers=wrong_accept).status_code == 406
    assert client.get("/taxii2/other/", headers=basic("kaori", served["kaori"])
                      ).status_code == 404


def test_discovery_lists_the_precursor_intake_to_those_who_may_submit(
        world: World, served: dict[str, str]) -> None:
    client = TestClient(create_app())
    operator = basic("pub", served["pub"])
    roots = client.get("/taxii2/", headers=operator).json()["api_roots"]
    assert [r.rsplit("/", 3)[-3:] for r in roots] == [["taxii2", "mamori", ""],
                                                      ["reporting", "taxii2", ""]]
    intake = roots[1].removeprefix("http://testserver")
    assert client.get(intake, headers=operator).status_code == 200
    listed = client.get(f"{intake}collections/", headers=operator).json()["collections"]
    assert [(c["can_read"], c["can_write"]) for c in listed] == [(False, True)]
    council = client.get("/taxii2/", headers=basic("kaori", served["kaori"])).json()
    assert len(council["api_roots"]) == 1  # a council member may not submit precursors


def test_wrong_audiences_get_nothing(world: World, served: dict[str, str]) -> None:
    client = TestClient(create_app())
    public = basic("pub", served["pub"])
    council = basic("kaori", served["kaori"])
    for path in (f"{ROOT}/collections/{COUNCIL}/", f"{ROOT}/collections/{COUNCIL}/objects/",
                 f"{ROOT}/collections/{COUNCIL}/manifest/"):
        response = client.get(path, headers=public)
        assert response.status_code == 403, path
        assert set(response.json()) == {"title", "description", "http_status"}
    stranger = collection_id("foreign_government")
    assert client.get(f"{ROOT}/collections/{stranger}/objects/", headers=council
                      ).status_code == 403
    assert client.get(f"{ROOT}/collections/00000000-0000-0000-0000-000000000000/objects/",
                      headers=council).status_code == 404
    mine, _ = _all_pages(client, public, f"{ROOT}/collections/{PUBLIC}/objects/", 100)
    theirs, _ = _all_pages(client, council, f"{ROOT}/collections/{COUNCIL}/objects/", 100)
    assert mine and theirs
    # The public collection holds nothing secret; the council's tier 2 does.
    assert not any("attacker detail" in json.dumps(o) for o in mine)
    assert any("attacker detail" in json.dumps(o) for o in theirs)


def test_paging_filters_manifest_and_versions(world: World, served: dict[str, str]) -> None:
    client = TestClient(create_app())
    headers = basic("kaori", served["kaori"])
    objects_path = f"{ROOT}/collections/{COUNCIL}/objects/"
    everything, _ = _all_pages(client, headers, objects_path, 1000, **{"match[version]": "all"})
    found, pages = _all_pages(client, headers, objects_path, 3, **{"match[version]": "all"})
    assert pages > 1
    keys = [(o["id"], o.get("modified", o.get("created"))) for o in found]
    assert len(keys) == len(set(keys)) == len(everything)
    # A cursor is bound to its filters and cannot be forged.
    first = client.get(objects_path, headers=headers, params={"limit": "2"}).json()
    assert first["more"]
    token = first["next"]
    assert client.get(objects_path, headers=headers, params={
        "limit": "2", "next": token, "match[type]": "indicator"}).status_code == 400
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert client.get(objects_path, headers=headers, params={"next": forged}).status_code == 400
    # added_after is exclusive.
    page = client.get(objects_path, headers=headers, params={"limit": "2"})
    last = page.headers["X-TAXII-Date-Added-Last"]
    later, _ = _all_pages(client, headers, objects_path, 100, added_after=last)
    def key(o: dict[str, Any]) -> tuple[str, str]:
        return o["id"], o.get("modified", o.get("created", ""))

    before = {key(o) for o in page.json()["objects"]}
    assert later and not before & {key(o) for o in later}
    manifest = client.get(f"{ROOT}/collections/{COUNCIL}/manifest/", headers=headers,
                          params={"added_after": last}).json()
    assert all(m["date_added"] > last for m in manifest.get("objects", []))
    # match[type] and match[id]
    indicators, _ = _all_pages(client, headers, objects_path, 2, **{"match[type]": "indicator"})
    assert indicators and {o["type"] for o in indicators} == {"indicator"}
    one = indicators[0]["id"]
    by_id, _ = _all_pages(client, headers, objects_path, 10, **{"match[id]": one})
    assert [o["id"] for o in by_id] == [one]
    single = client.get(f"{objects_path}{one}/", headers=headers).json()
    assert [o["id"] for o in single["objects"]] == [one]
    versions = client.get(f"{objects_path}{one}/versions/", headers=headers).json()
    assert versions["versions"] == [single["objects"][0]["modified"]]
    assert client.get(f"{objects_path}indicator--00000000-0000-4000-8000-000000000000/",
                      headers=headers).status_code == 404
    assert client.get(objects_path, headers=headers, params={"limit": "x"}).status_code == 400
    assert client.get(objects_path, headers=headers,
                      params={"added_after": "yesterday"}).status_code == 400


def test_new_versions_and_the_version_filter(world: World, served: dict[str, str]) -> None:
    from mamori.products import service as products

    from .conftest import _import

    changed = {**indicator("public-0", "192.0.2.1"), "modified": "2026-05-01T00:00:00.000Z",
               "name": "Indicator public-0 (revised)"}
    _import(world.session, world.analyst, [changed], ["PUBLIC"])
    products.compose_product(
        session=world.session, principal=world.analyst, title_ja="改訂", title_en="Revised",
        narrative_ja="改訂。", narrative_en="Revised.", use="tactical",
        readers=["council_member"], object_ids=list(world.objects), supersedes=world.product)
    world.provide("council_member", 3)
    world.session.commit()
    client = TestClient(create_app())
    headers = basic("kaori", served["kaori"])
    path = f"{ROOT}/collections/{COUNCIL}/objects/{changed['id']}/versions/"
    listed = client.get(path, headers=headers).json()["versions"]
    assert "2026-05-01T00:00:00.000Z" in listed and len(listed) >= 2
    objects_path = f"{ROOT}/collections/{COUNCIL}/objects/"

    def versions_of(value: str) -> list[str]:
        found, _ = _all_pages(client, headers, objects_path, 50,
                              **{"match[id]": changed["id"], "match[version]": value})
        return sorted(o["modified"] for o in found)

    assert versions_of("last") == ["2026-05-01T00:00:00.000Z"]
    assert versions_of("first") == [min(listed)]
    assert versions_of("all") == sorted(listed)
    assert versions_of("2026-05-01T00:00:00Z") == ["2026-05-01T00:00:00.000Z"]


def test_posting_objects_answers_202_and_a_status(world: World, served: dict[str, str]
                                                  ) -> None:
    client = TestClient(create_app())
    headers = {**basic("kaori", served["kaori"]), "Content-Type": TAXII_MEDIA}
    shared = indicator("shared-by-member", "203.0.113.50")
    broken = {"type": "indicator", "id": "indicator--not-a-uuid"}
    response = client.post(f"{ROOT}/collections/{COUNCIL}/objects/", headers=headers,
                           content=json.dumps({"objects": [shared, broken]}))
    assert response.status_code == 202, response.text
    status = response.json()
    assert status["status"] == "complete" and status["total_count"] == 2
    assert status["success_count"] == 1 and status["failure_count"] == 1
    assert status["successes"][0]["id"] == shared["id"]
    assert "203.0.113.50" not in json.dumps(status["failures"])
    again = client.get(f"{ROOT}/status/{status['id']}/", headers=headers)
    assert again.status_code == 200 and again.json() == status
    # Stored in the intel store, SECRET and attributed to the member.
    from mamori.intel import service as intel

    record = intel.get_object(session=world.session, principal=world.analyst,
                              stix_id=shared["id"])
    assert "SECRET" in record.labels.names
    assert [a.source for a in record.labels.attributed] == ["recipient:aoba"]
    world.session.rollback()
    imports_before = len(world.session.scalars(select(ImportRow)).all())
    # Another organisation cannot read the status; the public collection takes nothing.
    public = {**basic("pub", served["pub"]), "Content-Type": TAXII_MEDIA}
    assert client.get(f"{ROOT}/status/{status['id']}/", headers=public).status_code == 403
    assert client.post(f"{ROOT}/collections/{PUBLIC}/objects/", headers=public,
                       content=json.dumps({"objects": [shared]})).status_code == 403
    assert client.post(f"{ROOT}/collections/{COUNCIL}/objects/",
                       headers={**headers, "Content-Type": "application/json"},
                       content=json.dumps({"objects": [shared]})).status_code == 415
    assert client.post(f"{ROOT}/collections/{COUNCIL}/objects/", headers=headers,
                       content=b"{not json").status_code == 400
    world.session.rollback()
    assert len(world.session.scalars(select(ImportRow)).all()) == imports_before


def test_the_entitlement_is_checked_again_on_every_page(world: World,
                                                         served: dict[str, str]) -> None:
    client = TestClient(create_app())
    headers = basic("kaori", served["kaori"])
    path = f"{ROOT}/collections/{COUNCIL}/objects/"
    first = client.get(path, headers=headers, params={"limit": "2"}).json()
    assert first["more"]
    service.withdraw_council_safeguards(session=world.session, principal=world.analyst,
                                        recipient="aoba")
    world.session.commit()
    denied = client.get(path, headers=headers, params={"limit": "2", "next": first["next"]})
    assert denied.status_code == 403 and "objects" not in denied.json()
    assert client.get(f"{ROOT}/collections/", headers=headers).json() == {}
    service.record_council_safeguards(
        session=world.session, principal=world.analyst, recipient="aoba",
        consent_on=date.today() - timedelta(days=1), consent_reference="CNS-2",
        safeguards_reference="SAFE-2")
    world.session.commit()
    resumed = client.get(path, headers=headers, params={"limit": "2", "next": first["next"]})
    assert resumed.status_code == 200 and resumed.json()["objects"]
