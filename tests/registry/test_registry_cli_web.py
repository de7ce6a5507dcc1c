"""The commands the acceptance checks use (``mamori operator add``, ``mamori registry
import``/``list``) and the same powers over the JSON API and the portal pages, in
Japanese and English."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cyclonedx.output.xml import XmlV1Dot6
from fastapi.testclient import TestClient

from mamori.config import reset_settings_cache
from mamori.db import session_scope
from mamori.registry import sbom
from mamori.web.app import create_app
from worlds import first_administrator, invoke

PASSWORD = "correct horse battery staple"
Run = tuple[int, str, str]


@pytest.fixture
def tokens(env: Path) -> dict[str, str]:
    """An administrator and one operator's staff member, each with an API token."""
    from mamori.access import service as access

    made: dict[str, str] = {}
    with session_scope() as session:
        _, admin = first_administrator(session, password=PASSWORD)
        for code, kind in (("sakura", "operator"), ("hikari", "operator")):
            access.create_organisation(session=session, principal=admin, code=code,
                                       name_ja=code, name_en=code, kind=kind)
        orgs = {o.code: o.id for o in access.list_organisations(session=session,
                                                                principal=admin)}
        for username, org in (("sakura-staff", "sakura"), ("hikari-staff", "hikari")):
            access.create_user(session=session, principal=admin, username=username,
                               display_name=username, roles=["operator"],
                               organisation_id=orgs[org], password=PASSWORD)
        for username in ("root", "sakura-staff", "hikari-staff"):
            made[username] = access.issue_api_token(session=session, principal=admin,
                                                    username=username, name="test")
    return made


@pytest.fixture
def mamori(
    tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Run]:
    def run(user: str, *args: str) -> Run:
        monkeypatch.setenv("MAMORI_TOKEN", tokens[user])
        reset_settings_cache()
        return invoke(capsys, monkeypatch, "--as", user, *args, stdin=io.StringIO(""))

    return run


def _sbom(tmp_path: Path, name: str = "ems-01") -> Path:
    bom = sbom.to_bom(
        computer=name, device_category="control_server", product_vendor="Acme",
        product_name="EMS", product_version="2.1",
        components=[
            {"name": "openssl", "version": "3.0.13", "component_type": "library",
             "cpe": "cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*",
             "purl": "pkg:generic/openssl@3.0.13"},
            {"name": "linux", "version": "5.15", "component_type": "operating-system",
             "cpe": "cpe:2.3:o:linux:linux_kernel:5.15:*:*:*:*:*:*:*"},
        ],
    )
    path = tmp_path / "ems.cdx.xml"
    path.write_text(XmlV1Dot6(bom).output_as_string(), encoding="utf-8")
    return path


def test_the_acceptance_commands(mamori: Callable[..., Run], tmp_path: Path) -> None:
    code, out, err = mamori("root", "operator", "add", "--name", "さくら電力株式会社",
                            "--sector", "electricity", "--organisation", "sakura", "--json")
    assert code == 0, err
    operator_id = json.loads(out)["id"]
    assert json.loads(out)["supervising_ministry"] == "meti"

    code, out, err = mamori("sakura-staff", "registry", "import", "--operator",
                            str(operator_id), str(_sbom(tmp_path)))
    assert code == 0, err
    csv = tmp_path / "more.csv"
    csv.write_text("computer,device_category,zone,component_name,component_version\n"
                   "fw-01,firewall,internet_boundary,fw os,9.1\n", encoding="utf-8")
    code, out, err = mamori("sakura-staff", "registry", "import", "--operator",
                            str(operator_id), str(csv))
    assert code == 0, err

    code, out, err = mamori("sakura-staff", "registry", "list", "--operator", str(operator_id),
                            "--json")
    assert code == 0, err
    listed = {c["name"]: c for c in json.loads(out)}
    assert sorted(listed) == ["ems-01", "fw-01"]
    assert [p["name"] for p in listed["ems-01"]["components"]] == ["openssl", "linux"]
    assert listed["ems-01"]["components"][0]["purl"] == "pkg:generic/openssl@3.0.13"

    bad = tmp_path / "bad.csv"
    bad.write_text("computer,zone\nfw-02,internal\nfw-03,moon\n", encoding="utf-8")
    code, out, err = mamori("sakura-staff", "registry", "import", "--operator",
                            str(operator_id), str(bad))
    assert code == 2
    assert err.strip().startswith("error: row 3, zone:")
    code, out, _ = mamori("root", "registry", "list", "--operator", str(operator_id), "--json")
    assert len(json.loads(out)) == 2, "nothing of the bad file was imported"

    code, out, err = mamori("hikari-staff", "registry", "list", "--operator", str(operator_id))
    assert code == 2 and "another organisation" in err
    code, out, err = mamori("root", "operator", "add", "--name", "x", "--sector", "nowhere")
    assert code == 2 and "unknown sector" in err
    code, out, _ = mamori("sakura-staff", "registry", "template")
    assert code == 0 and "computer,device_category" in out


@pytest.fixture
def client(tokens: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(), base_url="https://testserver") as test_client:
        yield test_client


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_json_api_has_the_same_powers(
    client: TestClient, tokens: dict[str, str], tmp_path: Path
) -> None:
    root, staff, other = (_auth(tokens[u]) for u in ("root", "sakura-staff", "hikari-staff"))
    made = client.post("/api/v1/registry/operators", headers=root,
                       json={"name": "さくら電力", "sector": "electricity",
                             "organisation": "sakura"})
    assert made.status_code == 201, made.text
    op = made.json()["id"]
    created = client.post(f"/api/v1/registry/operators/{op}/computers", headers=staff, json={
        "name": "plc-1", "device_category": "plc", "zone": "critical_equipment",
        "components": [{"name": "fw", "cpe": "cpe:2.3:o:x:fw"}]})
    assert created.status_code == 422
    problem = created.json()
    assert problem["field"] == "cpe" and problem["item"] == 1
    assert created.headers["content-type"].startswith("application/problem+json")
    created = client.post(f"/api/v1/registry/operators/{op}/computers", headers=staff, json={
        "name": "plc-1", "device_category": "plc", "zone": "critical_equipment",
        "components": [{"name": "fw", "cpe": "cpe:2.3:o:x:fw:1:*:*:*:*:*:*:*"}]})
    assert created.status_code == 201, created.text
    computer = created.json()
    assert computer["status"] == "draft"

    uploaded = client.post(f"/api/v1/registry/operators/{op}/imports",
                           headers={**staff, "Content-Type": "application/xml"},
                           content=_sbom(tmp_path, "ems-02").read_bytes())
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["components"] == 2

    listed = client.get(f"/api/v1/registry/operators/{op}/computers", headers=staff).json()
    assert sorted(c["name"] for c in listed) == ["ems-02", "plc-1"]
    assert client.get(f"/api/v1/registry/operators/{op}/computers",
                      headers=other).status_code == 403
    history = client.get(f"/api/v1/registry/computers/{computer['id']}/history", headers=staff)
    assert [v["version"] for v in history.json()] == [1]
    cdx = client.get(f"/api/v1/registry/computers/{computer['id']}/sbom", headers=staff)
    assert cdx.json()["bomFormat"] == "CycloneDX"
    found = client.get("/api/v1/registry/components", headers=root,
                       params={"cpe_vendor": "x", "cpe_product": "fw"})
    assert [c["computer_id"] for c in found.json()] == [computer["id"]]
    assert client.get("/api/v1/registry/categories").json()["categories"][0]["attack_id"]
    template = client.get("/api/v1/registry/template.csv", headers=staff)
    assert "computer,device_category" in template.text


def _csrf(client: TestClient) -> str:
    client.get("/")
    return str(client.cookies.get("mamori_csrf"))


@pytest.mark.parametrize(
    ("lang", "words"),
    [("ja", ["特定重要電子計算機", "下書き保存", "経過措置の期限"]),
     ("en", ["Specified critical computers", "Save draft", "Transition deadline"])],
)
def test_the_portal_in_japanese_and_english(
    client: TestClient, tokens: dict[str, str], lang: str, words: list[str]
) -> None:
    root, staff = _auth(tokens["root"]), _auth(tokens["sakura-staff"])
    op = client.post("/api/v1/registry/operators", headers=root,
                     json={"name": "さくら電力", "sector": "electricity",
                           "organisation": "sakura"}).json()["id"]
    browser = {**staff, "Accept": "text/html", "Accept-Language": lang}
    page = client.get(f"/registry/operators/{op}?lang={lang}", headers=browser)
    assert page.status_code == 200
    form = client.get(f"/registry/operators/{op}/computers/new", headers=browser)
    for word in words:
        assert word in page.text + form.text
    token = _csrf(client)
    saved = client.post(f"/registry/operators/{op}/computers", headers=browser,
                        data={"csrf_token": token, "name": "hmi-1", "device_category": "hmi",
                              "action": "notify", "component_name": ["openssl", ""],
                              "cpe": ["cpe:2.3:a:openssl", ""]},
                        follow_redirects=False)
    assert saved.status_code == 422
    message = re.search(r'id="form-error">(.*?)</div>', saved.text, re.S)
    assert message is not None
    expected = ("構成要素 1 · CPE 2.3:" if lang == "ja" else "Component 1 · CPE 2.3:")
    assert expected in message.group(1)
    assert 'value="hmi-1"' in saved.text, "what was typed stays in the form"
    draft = client.post(f"/registry/operators/{op}/computers", headers=browser,
                        data={"csrf_token": token, "name": "hmi-1", "device_category": "hmi",
                              "action": "draft"}, follow_redirects=False)
    assert draft.status_code == 303
    detail = client.get(draft.headers["location"], headers=browser)
    assert ("下書き" if lang == "ja" else "Draft") in detail.text
    upload = client.get(f"/registry/operators/{op}/import", headers=browser)
    assert 'id="upload-progress"' in upload.text and "/static/registry/upload.js" in upload.text
    bad = client.post(f"/registry/operators/{op}/import",
                      headers={**browser, "HX-Request": "true", "X-CSRF-Token": token},
                      files={"file": ("x.csv", b"computer,zone\nplc,moon\n", "text/csv")})
    assert bad.status_code == 200
    assert ("2 行目 · ゾーン" if lang == "ja" else "Row 2 · Zone") in bad.text
    assert client.get("/static/registry/upload.js").status_code == 200
