"""App factory: mounts every domain's router (each domain's ``views.py`` has ``router``).

Around the routers: one transaction per request, CSRF checks on every state change a
browser could send, security headers, Japanese and English pages, problem+json errors,
static files and the OpenAPI description at ``/openapi.json`` (shown at ``/docs``).
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import cache

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

import mamori
from mamori.config import Settings, get_settings
from mamori.db.session import get_engine, session_factory
from mamori.web import problems
from mamori.web.background import run_background_jobs
from mamori.web.i18n import LANGUAGES, Translator, domain_dirs, load_translations
from mamori.web.security import SecurityMiddleware, verify_csrf
from mamori.web.templating import build_templates

# Domain routers, mounted in this order. Add a line when a domain gains views.
ROUTERS: list[str] = [
    "mamori.registry.views",
    "mamori.reporting.views",
    "mamori.vulns.views",
    "mamori.intel.views",
    "mamori.governance.views",
    "mamori.products.views",
    "mamori.dissemination.views",
]

# The web shell's own routers, mounted before the domains'.
WEB_ROUTERS: tuple[str, ...] = (
    "mamori.web.api",
    "mamori.web.login",
    "mamori.web.pages",
    "mamori.web.docs",
)

DESCRIPTION = (
    "JSON API of mamori (守り), the information platform of Japan's Active Cyber Defense "
    "law. Authenticate with `Authorization: Bearer <api token>` (or HTTP Basic "
    "`user:token`). Errors are RFC 9457 problem details (`application/problem+json`)."
)


def _translator_factory() -> Callable[[str], Translator]:
    translations = load_translations()

    @cache
    def translator(language: str) -> Translator:
        code = language if language in LANGUAGES else LANGUAGES[0]
        return Translator(language=code, translations=translations[code])

    return translator


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with run_background_jobs(app.state.settings):
        yield


def _mount_static(app: FastAPI) -> None:
    """Web's files at ``/static``; a domain's own ``static/`` at ``/static/<domain>``."""
    web_static, *domain_static = domain_dirs("static")
    for directory in domain_static:  # the longer prefixes first
        domain = directory.parent.name
        app.mount(f"/static/{domain}", StaticFiles(directory=directory), name=f"static-{domain}")
    app.mount("/static", StaticFiles(directory=web_static), name="static")


def create_app(*, settings: Settings | None = None) -> FastAPI:
    """The ASGI app for ``settings`` (default: the process settings)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="mamori",
        version=mamori.__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        dependencies=[Depends(verify_csrf)],
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.session_factory = session_factory(get_engine(settings.effective_database_url))
    app.state.translator = _translator_factory()
    app.state.templates = build_templates()
    app.add_middleware(SecurityMiddleware)
    problems.install(app)
    _mount_static(app)
    for module_name in (*WEB_ROUTERS, *ROUTERS):
        app.include_router(importlib.import_module(module_name).router)
    return app
