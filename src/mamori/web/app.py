"""App factory: mounts every domain's router (each domain's ``views.py`` has ``router``)."""

from __future__ import annotations

import importlib

from fastapi import FastAPI

# Domain routers, mounted in this order. Add a line when a domain gains views.
ROUTERS: list[str] = []


def create_app() -> FastAPI:
    app = FastAPI(title="mamori", docs_url="/docs")
    for module_name in ROUTERS:
        app.include_router(importlib.import_module(module_name).router)
    return app
