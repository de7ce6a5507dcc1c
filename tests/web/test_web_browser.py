"""A real browser loads the pages: no CSP violation, and htmx runs under the CSP."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from mamori.config import reset_settings_cache
from mamori.web.app import create_app


@pytest.fixture
def live_server(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, list[str]]]:
    """The app on a free local port (demo mode: the login page polls for fresh codes)."""
    monkeypatch.setenv("MAMORI_HOME", str(tmp_path))
    monkeypatch.setenv("MAMORI_DATABASE_URL", f"sqlite:///{tmp_path / 'mamori.db'}")
    monkeypatch.setenv("MAMORI_DEMO", "1")
    reset_settings_cache()
    app = create_app()
    seen: list[str] = []

    async def recording(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            seen.append(scope["path"])
        await app(scope, receive, send)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(recording, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", seen
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    reset_settings_cache()


def _load(chromium: str, url: str, budget_ms: int) -> tuple[str, str]:
    result = subprocess.run(
        [
            chromium, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--enable-logging=stderr", "--v=0",
            f"--virtual-time-budget={budget_ms}", "--dump-dom", url,
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )
    return result.stdout, result.stderr


@pytest.mark.slow
def test_pages_load_in_a_browser_without_csp_violations(live_server, require_tool) -> None:
    chromium = require_tool("chromium")
    base, seen = live_server
    dom, log = _load(chromium, f"{base}/login?lang=en", budget_ms=12_000)
    assert "Log in" in dom and "Demo accounts" in dom
    assert "Content Security Policy" not in log
    # htmx (a script file, allowed by the CSP) refreshed the demo codes by itself.
    assert "/login/demo-accounts" in seen

    dom, log = _load(chromium, f"{base}/?lang=ja", budget_ms=2_000)
    assert "通信の秘密の保護の仕組み" in dom
    assert "Content Security Policy" not in log
