"""The commands the acceptance checks use (``mamori vulns import``, ``exposure --json``,
``catalogue export``, ``advisories export``) and the public catalogue page, its JSON
and CSV, the portal's exposure page and the JSON API."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mamori.config import reset_settings_cache
from mamori.db import session_scope
from mamori.vulns import service
from mamori.web.app import create_app
from worlds import invoke

from .conftest import CVE_DIR, build_world
from .test_catalogue_coordination import csaf_validate

PASSWORD = "correct horse battery staple"
Run = tuple[int, str, str]


@pytest.fixture
def people(env: Path) -> dict[str, str]:
    """The small world, plus signed-in users with API tokens for the CLI and the API."""
    from mamori.access import service as access

    with session_scope() as session:
        world = build_world(session)
        made = {"operator_id": str(world.operators["sakura"])}
        admin = world["admin"]
        for username, role, org in (("root", "admin", "cabinet_office"),
                                    ("analyst-user", "analyst", "cabinet_office"),
                                    ("sakura-user", "operator", "sakura"),
                                    ("hikari-user", "operator", "hikari")):
            access.create_user(session=session, principal=admin if username != "root" else
                               access.bootstrap_principal(session=session), username=username,
                               display_name=username, roles=[role],
                               organisation_id=world.orgs[org], password=PASSWORD)
        for username in ("analyst-user", "sakura-user", "hikari-user"):
            made[username] = access.issue_api_token(session=session, principal=admin,
                                                    username=username, name="test")
    return made


@pytest.fixture
def mamori(people: dict[str, str], monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    def run(user: str | None, *args: str) -> Run:
        if user is None:
            monkeypatch.delenv("MAMORI_TOKEN", raising=False)
        else:
            monkeypatch.setenv("MAMORI_TOKEN", people[user])
        reset_settings_cache()
        argv = ["mamori", *(["--as", user] if user else []), *args]
        return invoke(capsys, monkeypatch, *argv[1:], stdin=io.StringIO(""))

    return run


def test_the_acceptance_commands(mamori: Callable[..., Run], people: dict[str, str],
                                 tmp_path: Path) -> None:
    code, out, err = mamori("analyst-user", "vulns", "import", str(CVE_DIR))
    assert code == 0, err
    assert "new match(es)" in out
    bad = tmp_path / "bad.json"
    bad.write_text('{"dataType": "CVE_RECORD", "cveMetadata": {"cveId": "nope"}}', "utf-8")
    code, _, err = mamori("analyst-user", "vulns", "import", str(bad))
    assert code == 2 and err.startswith("error: bad.json: cveMetadata.cveId is not a CVE id")
    code, _, err = mamori("sakura-user", "vulns", "import", str(CVE_DIR))
    assert code == 2 and "may not vulns.import" in err

    operator = people["operator_id"]
    code, out, err = mamori("sakura-user", "vulns", "exposure", "--operator", operator, "--json")
    assert code == 0, err
    exposure = json.loads(out)
    ordered = [i["vulnerability"]["key"] for i in exposure["items"]]
    assert ordered[:2] == ["CVE-2021-44228", "CVE-2024-6387"], "no KEV: by severity"
    code, _, err = mamori("hikari-user", "vulns", "exposure", "--operator", operator, "--json")
    assert code == 2 and "another organisation" in err

    code, out, err = mamori("analyst-user", "vulns", "catalogue", "confirm", "CVE-2024-6387",
                            "--analysis", "ANALYSIS-2026-017", "--name-ja", "OpenSSH の脆弱性",
                            "--description-ja", "遠隔コード実行のおそれ", "--action-ja", "更新する")
    assert code == 0, err
    for fmt in ("json", "csv"):
        target = tmp_path / f"catalogue.{fmt}"
        code, out, err = mamori(None, "vulns", "catalogue", "export", "--format", fmt,
                                str(target))
        assert code == 0, err
        assert "CVE-2024-6387" in target.read_text("utf-8")
    assert service.validate_catalogue(json.loads((tmp_path / "catalogue.json").read_text())) == []

    code, out, err = mamori("analyst-user", "vulns", "advisories", "generate", "--cve",
                            "CVE-2024-6387")
    assert code == 0, err
    code, out, err = mamori("sakura-user", "vulns", "advisories", "export",
                            str(tmp_path / "csaf"))
    assert code == 0, err
    files = sorted((tmp_path / "csaf").glob("*.json"))
    assert [f.name for f in files] == ["jp-mamori-cve-2024-6387.json"]
    csaf_validate(files[0])


def test_public_catalogue_portal_and_api(mamori: Callable[..., Run],
                                         people: dict[str, str]) -> None:
    assert mamori("analyst-user", "vulns", "import", str(CVE_DIR))[0] == 0
    assert mamori("analyst-user", "vulns", "catalogue", "confirm", "CVE-2024-6387",
                  "--analysis", "A-1", "--name-ja", "OpenSSH の競合状態の脆弱性",
                  "--description-ja", "説明", "--action-ja", "更新する")[0] == 0
    client = TestClient(create_app())
    page = client.get("/vulns/catalogue")
    assert page.status_code == 200
    assert "国内で悪用されている脆弱性" in page.text and "OpenSSH の競合状態の脆弱性" in page.text
    english = client.get("/vulns/catalogue?lang=en")
    assert "Vulnerabilities exploited in Japan" in english.text
    assert "Openssh: regresshion" in english.text
    document = client.get("/vulns/catalogue.json").json()
    assert document["count"] == 1 and service.validate_catalogue(document) == []
    csv_response = client.get("/vulns/catalogue.csv")
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert csv_response.text.splitlines()[0].startswith("cveID,vendorProject,product")

    operator = people["operator_id"]
    assert client.get(f"/api/v1/vulns/exposure/{operator}").status_code == 401
    sakura = {"Authorization": f"Bearer {people['sakura-user']}"}
    hikari = {"Authorization": f"Bearer {people['hikari-user']}"}
    api = client.get(f"/api/v1/vulns/exposure/{operator}", headers=sakura)
    assert api.status_code == 200 and api.json()["items"][0]["vulnerability"]["exploited_in_japan"]
    forbidden = client.get(f"/api/v1/vulns/exposure/{operator}", headers=hikari)
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"].startswith("application/problem+json")
    html = client.get(f"/vulns/operators/{operator}?lang=en", headers=sakura)
    assert html.status_code == 200 and "CVE-2024-6387" in html.text
    assert "Exploited in Japan" in html.text
    notices = client.get("/api/v1/vulns/notifications", headers=sakura).json()
    assert {n["subject"] for n in notices} >= {"CVE-2024-6387"}
    index = client.get("/vulns?lang=en", headers=sakura)
    assert index.status_code == 200 and "Exposure by operator" in index.text
