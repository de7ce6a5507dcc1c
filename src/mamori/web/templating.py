"""Jinja2 pages: one environment that finds every domain's ``templates/`` folder.

Web's own folder comes first, so ``base.html`` is always the shared layout; a
domain keeps its pages in ``src/mamori/<domain>/templates/<domain>/`` and extends
``base.html``. Text goes through the per-request translator (``{% trans %}``, ``_()``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from starlette.background import BackgroundTask
from starlette.responses import HTMLResponse

from mamori.web.i18n import LANGUAGE_NAMES, LANGUAGES, Translator, domain_dirs

JINJA_EXTENSIONS = ["jinja2.ext.i18n"]


@pass_context
def _gettext(context: Context, message: str) -> str:
    translator: Translator = context["translator"]
    return translator.gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    translator: Translator = context["translator"]
    return translator.ngettext(singular, plural, n)


def build_environment() -> Environment:
    """The Jinja2 environment: every domain's templates, autoescaping, new-style gettext."""
    loader = ChoiceLoader([FileSystemLoader(str(path)) for path in domain_dirs("templates")])
    env = Environment(
        loader=loader,
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        extensions=JINJA_EXTENSIONS,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, newstyle=True
    )
    return env


def _common_context(request: Request) -> dict[str, Any]:
    """What every page needs from the request: language, principal, CSRF token, nav."""
    state = request.state
    settings = request.app.state.settings
    translator: Translator = getattr(state, "translator", None) or request.app.state.translator(
        settings.default_language
    )
    tz = ZoneInfo(settings.timezone)

    def local_time(value: datetime | None) -> str:
        if value is None:
            return ""
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")

    def switch_url(code: str) -> str:
        """This page in another language (a GET of the same path)."""
        params = dict(request.query_params) if request.method == "GET" else {}
        params["lang"] = code
        return f"{request.url.path}?{urlencode(params)}"

    return {
        "switch_url": switch_url,
        "translator": translator,
        "lang": translator.language,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "principal": getattr(state, "principal", None),
        "csrf_token": getattr(state, "csrf_token", ""),
        "nav_entries": getattr(state, "nav_entries", []),
        "demo_mode": settings.demo,
        "local_time": local_time,
        "pick": translator.pick,
    }


def build_templates() -> Jinja2Templates:
    return Jinja2Templates(env=build_environment(), context_processors=[_common_context])


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    background: BackgroundTask | None = None,
) -> HTMLResponse:
    """Render a page with the request's language and the shared context."""
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        name,
        context or {},
        status_code=status_code,
        headers=headers,
        background=background,
    )
