"""Root commands: ``init``, ``serve`` and ``demo``."""

from __future__ import annotations

import os

import typer
from rich.console import Console

from mamori.config import get_settings, reset_settings_cache

out = Console()


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("serve")(serve)
    app.command("demo")(demo)


def init() -> None:
    """Create the data folder, the database schema and the audit signing key."""
    from mamori.audit import keys
    from mamori.db import get_engine, init_db

    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    init_db(get_engine())
    key_path = keys.ensure_signing_key(settings=settings)
    out.print(f"database ready: {settings.effective_database_url}")
    out.print(f"audit signing key: {key_path}")


def serve(
    host: str | None = typer.Option(None, help="Address to listen on."),
    port: int | None = typer.Option(None, help="Port to listen on."),
) -> None:
    """Serve the web UI, the JSON API and the TAXII 2.1 server."""
    import uvicorn

    from mamori.web.app import create_app

    settings = get_settings()
    uvicorn.run(create_app(), host=host or settings.host, port=port or settings.port)


def demo(
    serve_ui: bool = typer.Option(True, "--serve/--no-serve", help="Serve the UI afterwards."),
    port: int | None = typer.Option(None, help="Port to serve on."),
) -> None:
    """Seed the demo scenario into the embedded database and serve the UI.

    Demo accounts (``demo-<role>``, password = name) work only in demo mode.
    """
    os.environ["MAMORI_DEMO"] = "1"
    reset_settings_cache()
    init()
    from mamori.demo.scenario import run_scenario

    run_scenario(console=out)
    if serve_ui:
        settings = get_settings()
        out.print(
            f"serving on http://{settings.host}:{port or settings.port}/ — "
            "log in as demo-analyst / demo-analyst (see README)"
        )
        serve(host=None, port=port)
