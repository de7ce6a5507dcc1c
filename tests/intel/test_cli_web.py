"""``mamori intel import | export | related`` as the acceptance checks run them, the JSON
API and the workbench pages in both languages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mamori.cli.context import state
from mamori.cli.main import app
from mamori.intel import stix

from .conftest import bundle, indicator, relationship, sdo, sid

PASSWORD = "correct horse battery staple"


@dataclass
class Accounts:
    tokens: dict[str, str]
    names: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def accounts(env: Path) -> Accounts:
    from mamori.access import service as access
    from mamori.db import session_scope

    with session_scope() as session:
        boot = access.bootstrap_principal(session=session)
        org = access.create_organisation(session=session, principal=boot, code="cao",
                                         name_ja="内閣府", name_en="Cabinet Office",
                                         kind="cabinet_office")
        access.create_user(session=session, principal=boot, username="ic-admin",
                           display_name="Admin", roles=["admin"], organisation_id=org.id,
                           password=PASSWORD)
    tokens, names = {}, {}
    with session_scope() as session:
        from mamori.access.principal import Principal

        acting = Principal(username="ic-admin", roles=frozenset({"admin"}), mfa=True,
                           organisation_id=org.id, organisation_kind="cabinet_office")
        for who, role in (("analyst", "analyst"), ("operator", "operator")):
            name = f"ic-{who}"
            access.create_user(session=session, principal=acting, username=name,
                               display_name=name, roles=[role], organisation_id=org.id,
                               password=PASSWORD)
            session.flush()
            user = Principal(username=name, roles=frozenset({role}), organisation_id=org.id)
            tokens[who] = access.issue_api_token(session=session, principal=user,
                                                 username=name, name="test")
            names[who] = name
    return Accounts(tokens, names)


def _cli(monkeypatch: pytest.MonkeyPatch, accounts: Accounts, who: str, *args: str) -> Any:
    monkeypatch.setenv("MAMORI_TOKEN", accounts.tokens[who])
    from mamori.config import reset_settings_cache

    reset_settings_cache()
    try:
        return CliRunner().invoke(app, ["--as", accounts.names[who], *args],
                                  catch_exceptions=False, standalone_mode=False)
    except Exception as exc:  # a MamoriError: main() prints it and exits 2
        return exc
    finally:
        state.acting_as = None


def _bundle_file(tmp_path: Path) -> Path:
    objects = [indicator(1, "[ipv4-addr:value = '203.0.113.5']"),
               indicator(2, "[domain-name:value = 'c2.example']"),
               sdo("malware", 1, name="demo", is_family=True),
               relationship(1, sid("indicator", 1), "indicates", sid("malware", 1)),
               {"type": "indicator", "id": "indicator--broken"}]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle(*objects)), "utf-8")
    return path


def test_import_export_related(monkeypatch: pytest.MonkeyPatch, accounts: Accounts,
                               tmp_path: Path) -> None:
    path = _bundle_file(tmp_path)
    result = _cli(monkeypatch, accounts, "analyst", "intel", "import", str(path))
    lines = result.output.splitlines()
    assert "stored 4, merged 0, rejected 1" in lines[0]
    assert "object 4" in lines[1] and "<type>--<UUID>" in lines[1]
    again = _cli(monkeypatch, accounts, "analyst", "intel", "import", str(path), "--json")
    counts = json.loads(again.output)
    assert (counts["stored"], counts["merged"], counts["rejected"]) == (0, 4, 1)
    out = tmp_path / "export.json"
    done = _cli(monkeypatch, accounts, "analyst", "intel", "export", "--format", "stix",
                str(out))
    assert "exported 4 objects" in done.output
    exported = json.loads(out.read_text("utf-8"))
    assert {o["id"] for o in exported["objects"]} == {o["id"] for o in json.loads(
        path.read_text("utf-8"))["objects"][:4]}
    related = _cli(monkeypatch, accounts, "analyst", "intel", "related", "203.0.113.5",
                   "--hops", "2", "--json")
    found = json.loads(related.output)
    assert {n["stix_id"]: n["hop"] for n in found["nodes"]} == {
        sid("indicator", 1): 1, sid("malware", 1): 2}
    denied = _cli(monkeypatch, accounts, "operator", "intel", "related", "203.0.113.5")
    assert "may not intel.view" in str(denied)


def test_cli_errors_are_one_line_and_exit_2(accounts: Accounts, tmp_path: Path) -> None:
    env = {**os.environ, "MAMORI_TOKEN": accounts.tokens["analyst"]}
    done = subprocess.run(
        [sys.executable, "-m", "mamori.cli.main", "--as", accounts.names["analyst"], "intel",
         "import", str(tmp_path / "missing.json")],
        capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["error: cannot read missing.json: No such file "
                                                "or directory"]


def test_api_and_pages(accounts: Accounts, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from mamori.config import reset_settings_cache
    from mamori.web.app import create_app

    reset_settings_cache()
    client = TestClient(create_app(), follow_redirects=False)
    analyst = accounts.auth("analyst")
    body = _bundle_file(tmp_path).read_bytes()
    answer = client.post("/api/v1/intel/bundles?source=api-test", content=body,
                         headers={**analyst, "Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["stored"], answer.json()["rejected"]) == (4, 1)
    bad = client.post("/api/v1/intel/bundles", content=b"[1,2", headers=analyst)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(
        "application/problem+json")
    related = client.get("/api/v1/intel/related", params={"value": "c2.example", "hops": 1},
                         headers=analyst)
    assert [n["stix_id"] for n in related.json()["nodes"]] == [sid("indicator", 2)]
    record = client.get(f"/api/v1/intel/objects/{sid('malware', 1)}", headers=analyst).json()
    assert record["labels"]["secret"] and record["provenance"][0]["source"] == "api-test"
    assert client.get(f"/api/v1/intel/objects/{sid('malware', 404)}",
                      headers=analyst).status_code == 404
    assert client.get("/api/v1/intel/search", params={"q": "demo"},
                      headers=accounts.auth("operator")).status_code == 403
    exported = client.get("/api/v1/intel/bundle", headers=analyst).json()
    assert len(exported["objects"]) == 4
    note = client.post(f"/api/v1/intel/objects/{sid('malware', 1)}/notes",
                       json={"text": "seen twice"}, headers=analyst)
    assert note.status_code == 200 and note.json()["id"].startswith("note--")
    for language, word in (("ja", "分析ワークベンチ"), ("en", "Analysis workbench")):
        for url in ("/intel?q=203.0.113.5", f"/intel/object/{sid('indicator', 1)}",
                    "/intel/graph?value=203.0.113.5", "/intel/findings"):
            switched = url + ("&" if "?" in url else "?") + f"lang={language}"
            page = client.get(switched, headers=analyst)
            assert page.status_code == 200, (url, page.text[:500])
            assert f'<html lang="{language}">' in page.text
            assert word in page.text
    graph = client.get("/intel/graph?value=203.0.113.5&hops=2", headers=analyst).text
    assert "<svg" in graph and sid("malware", 1) in graph
    assert stix.make_sco("ipv4-addr", value="203.0.113.5")["id"] not in graph
