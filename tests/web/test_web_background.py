"""Background jobs beside the server: started with the app, cancelled with it."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from fastapi.testclient import TestClient

from mamori.config import get_settings
from mamori.web import background


def test_jobs_run_for_the_life_of_the_app(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []

    async def ticking() -> None:
        events.append("started")
        try:
            while True:
                await asyncio.sleep(0.01)
        finally:
            events.append("stopped")

    monkeypatch.setattr(background, "JOBS", {"ticker": lambda settings: ticking()})
    with TestClient(app) as client:
        assert client.get("/api/v1/health").status_code == 200
        assert events == ["started"]
    assert events == ["started", "stopped"]


def test_a_failed_job_does_not_stop_the_server(app, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(background, "JOBS", {"broken": lambda settings: broken()})
    with TestClient(app) as client:
        assert client.get("/api/v1/health").status_code == 200


def test_the_audit_tree_head_job_is_picked_up(env) -> None:
    coroutine = background.JOBS["audit tree heads"](get_settings())
    assert coroutine is not None and inspect.iscoroutine(coroutine)
    assert coroutine.cr_code.co_name == "issue_tree_heads_periodically"
    coroutine.close()
