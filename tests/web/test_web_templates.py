"""Domains add pages without touching web: their templates extend the shared layout."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient

from mamori.errors import InvalidInput
from mamori.web import templating
from mamori.web.app import create_app
from mamori.web.deps import Page
from mamori.web.i18n import domain_dirs
from mamori.web.templating import render


class LocalisedError(InvalidInput):
    """An error that words its own detail per language (as the registry's do)."""

    def localise(self, gettext) -> str:  # type: ignore[no-untyped-def]
        return gettext("Home") + " / " + gettext("Roles")


def test_every_domains_templates_are_found(env, tmp_path: Path, monkeypatch, web) -> None:
    domain = tmp_path / "reports" / "templates"
    (domain / "reports").mkdir(parents=True)
    (domain / "reports" / "list.html").write_text(
        '{% extends "base.html" %}{% block content %}<h1 id="r">{{ _("Roles") }}</h1>'
        "{% endblock %}",
        encoding="utf-8",
    )
    monkeypatch.setattr(
        templating, "domain_dirs", lambda sub: [*domain_dirs(sub), domain]
    )
    app = create_app()
    router = APIRouter()

    @router.get("/x-reports")
    def reports(request: Request, _current: Page):  # type: ignore[no-untyped-def]
        return render(request, "reports/list.html")

    @router.get("/x-broken")
    def broken(request: Request, _current: Page):  # type: ignore[no-untyped-def]
        raise LocalisedError("home / roles")

    app.include_router(router)
    client = TestClient(app, follow_redirects=False)
    ja = client.get("/x-reports", headers={"accept-language": "ja", "accept": web.BROWSER})
    assert '<h1 id="r">役割</h1>' in ja.text and "守り" in ja.text  # the shared layout
    en = client.get("/x-reports?lang=en", headers={"accept": web.BROWSER})
    assert '<h1 id="r">Roles</h1>' in en.text

    page = client.get("/x-broken?lang=ja", headers={"accept": web.BROWSER})
    assert page.status_code == 422 and "ホーム / 役割" in page.text
    problem = client.get("/x-broken", headers={"accept": "application/json"})
    assert problem.json()["detail"] == "home / roles"


@pytest.mark.parametrize("language", ["ja", "en"])
def test_templates_autoescape(env, language: str, web) -> None:
    app = create_app()
    client = TestClient(app, follow_redirects=False)
    page = client.get(
        "/login?next=/%22%3E%3Cscript%3Ealert(1)%3C/script%3E",
        headers={"accept": web.BROWSER, "accept-language": language},
    )
    assert "<script>alert(1)</script>" not in page.text
    assert "/&#34;&gt;&lt;script&gt;alert(1)" in page.text
