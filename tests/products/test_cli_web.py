"""The ``mamori product`` commands and the web (JSON API and pages), on real accounts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from csaf.csaf.v20._validator import validate as validate_csaf
from typer.testing import CliRunner

from mamori.access.principal import Principal
from mamori.errors import InvalidInput, NotFound

from .conftest import ANALYST, attack_pattern, indicator, store, vulnerability
from .test_renderers import stix_errors

PASSWORD = "correct horse battery staple 42"
IND = indicator("cli", "192.0.2.77")
VULN = vulnerability("cli", "CVE-2024-3400", "CVE-2024-3400")
TECH = attack_pattern("cli", "T1190", "Exploit Public-Facing Application")
SPEC = {"title_ja": "境界機器の脆弱性", "title_en": "Edge device vulnerability",
        "narrative_ja": "悪用を確認。", "narrative_en": "Exploitation confirmed.",
        "use": "operational", "readers": ["special_infrastructure_operator"],
        "object_ids": [IND["id"], VULN["id"], TECH["id"]],
        "actions_ja": "更新する。", "actions_en": "Update."}


@dataclass
class Accounts:
    tokens: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def accounts(env: Path) -> Accounts:
    from mamori.access import service as access
    from mamori.db import session_scope

    with session_scope() as session:
        boot = access.bootstrap_principal(session=session)
        org = access.create_organisation(session=session, principal=boot, code="cabinet_office",
                                         name_ja="内閣府", name_en="Cabinet Office",
                                         kind="cabinet_office")
        access.create_user(session=session, principal=boot, username="p-admin",
                           display_name="Admin", roles=["admin"], organisation_id=org.id,
                           password=PASSWORD)
        session.flush()
        admin = Principal(username="p-admin", roles=frozenset({"admin"}),
                          organisation_id=org.id, organisation_kind="cabinet_office", mfa=True)
        for name, role in (("p-analyst", "analyst"), ("p-operator", "operator")):
            access.create_user(session=session, principal=admin, username=name,
                               display_name=name, roles=[role], organisation_id=org.id,
                               password=PASSWORD)
        session.flush()
        tokens = {who: access.issue_api_token(
            session=session, principal=Principal(username=f"p-{who}", roles=frozenset({role}),
                                                 organisation_id=org.id),
            username=f"p-{who}", name="test")
            for who, role in (("analyst", "analyst"), ("operator", "operator"))}
        store(session, ANALYST, [IND, VULN, TECH], labels=["PUBLIC"])
    return Accounts(tokens)


def _cli(accounts: Accounts, monkeypatch: pytest.MonkeyPatch, *args: str):  # type: ignore[no-untyped-def]
    from mamori.cli.main import app

    monkeypatch.setenv("MAMORI_TOKEN", accounts.tokens["analyst"])
    from mamori.config import reset_settings_cache

    reset_settings_cache()
    return CliRunner().invoke(app, ["--as", "p-analyst", "product", *args])


def test_cli_compose_build_export(accounts: Accounts, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "product.json"
    spec.write_text(json.dumps(SPEC, ensure_ascii=False), encoding="utf-8")
    made = _cli(accounts, monkeypatch, "compose", str(spec), "--json")
    assert made.exit_code == 0, made.output
    product_id = json.loads(made.output)["id"]
    listed = _cli(accounts, monkeypatch, "list")
    assert product_id in listed.output
    built = _cli(accounts, monkeypatch, "build", product_id, "--tier", "2", "--audience",
                 "council_member:3")
    assert "lint passed" in built.output
    folder = tmp_path / "out"
    exported = _cli(accounts, monkeypatch, "export", product_id, "--tier", "3", "--format",
                    "stix", "--format", "csaf", "--format", "html", "--format", "navigator",
                    str(folder))
    assert exported.exit_code == 0, exported.output
    files = sorted(p.name for p in folder.iterdir())
    csaf_name = f"jp-mamori-{product_id.lower()}-t3.json"
    assert csaf_name in files and len(files) == 4
    assert all(name.startswith(f"{product_id}-v1-tier3") for name in files if name != csaf_name)
    bundle = json.loads((folder / f"{product_id}-v1-tier3-computer_user_public.json")
                        .read_text(encoding="utf-8"))
    assert stix_errors(bundle) == []
    csaf = json.loads((folder / csaf_name).read_text(encoding="utf-8"))
    assert validate_csaf(csaf).overall_valid
    shown = _cli(accounts, monkeypatch, "show", product_id)
    assert json.loads(shown.output)["current_version"] == 1
    bad = _cli(accounts, monkeypatch, "export", product_id, "--tier", "4", str(folder))
    assert isinstance(bad.exception, InvalidInput)
    missing = _cli(accounts, monkeypatch, "show", "PRD-2026-9999")
    assert isinstance(missing.exception, NotFound)


def test_api_and_pages(accounts: Accounts) -> None:
    from fastapi.testclient import TestClient

    from mamori.config import reset_settings_cache
    from mamori.web.app import create_app

    reset_settings_cache()
    client = TestClient(create_app(), follow_redirects=False)
    assert client.get("/api/v1/products").status_code == 401
    created = client.post("/api/v1/products", json=SPEC, headers=accounts.auth("analyst"))
    assert created.status_code == 201, created.text
    product_id = created.json()["id"]
    bad = client.post("/api/v1/products", json={**SPEC, "use": "poetry"},
                      headers=accounts.auth("analyst"))
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    summary = client.post(f"/api/v1/products/{product_id}/tiers/3",
                          json={"category": "computer_user_public"},
                          headers=accounts.auth("analyst"))
    assert summary.status_code == 200 and summary.json()["lint"]["passed"]
    stix = client.post(f"/api/v1/products/{product_id}/tiers/2/stix",
                       json={"category": "council_member"}, headers=accounts.auth("analyst"))
    assert stix.headers["content-type"].startswith("application/stix+json")
    assert stix_errors(stix.json()) == []
    denied = client.post(f"/api/v1/products/{product_id}/tiers/2",
                         json={"category": "council_member"}, headers=accounts.auth("operator"))
    assert denied.status_code == 403
    browser = {**accounts.auth("analyst"), "Accept": "text/html"}
    page = client.get("/products?lang=ja", headers=browser)
    assert page.status_code == 200 and "分析プロダクト" in page.text and product_id in page.text
    detail = client.get(f"/products/{product_id}?lang=en", headers=browser)
    assert detail.status_code == 200 and "Build a tier for an audience" in detail.text
    compose = client.get("/products/new?lang=en", headers=browser)
    assert compose.status_code == 200 and "[SECRET]" in compose.text
    token = client.cookies.get("mamori_csrf")
    assert token
    forms = {**browser, "X-CSRF-Token": token}
    built = client.post(f"/products/{product_id}/build?lang=en", headers=forms,
                        data={"tier": "3", "category": "computer_user_public"})
    assert built.status_code == 200 and "The labels lint passed" in built.text
    download = client.post(f"/products/{product_id}/export", headers=forms,
                           data={"tier": "3", "category": "computer_user_public",
                                 "format": "html"})
    assert download.status_code == 200 and "周知等用総合整理分析情報" in download.text
    assert "attachment" in download.headers["content-disposition"]
    made = client.post("/products/new", headers=forms, data={
        "title_ja": "新", "title_en": "New", "use": "strategic", "readers": ["executive"],
        "object_ids": IND["id"], "narrative_en": "", "narrative_ja": "",
        "supersedes": product_id})
    assert made.status_code == 303
    refused = client.post("/products/new?lang=ja", headers=forms, data={
        "title_ja": "新", "title_en": "New", "use": "strategic"})
    assert refused.status_code == 422 and "readers" in refused.text
    old = client.get(f"/products/{product_id}?version=1&lang=en", headers=browser)
    assert "This version is superseded" in old.text
