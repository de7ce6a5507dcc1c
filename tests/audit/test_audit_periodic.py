"""Periodic tree heads: the background task the web app's lifespan starts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from mamori.audit import service
from mamori.db import get_engine, session_scope
from mamori.errors import InvalidInput


async def _run_until(heads: int, interval: int) -> None:
    task = asyncio.create_task(service.issue_tree_heads_periodically(interval_seconds=interval))
    try:
        for _ in range(200):
            await asyncio.sleep(0.05)
            with Session(get_engine()) as session:
                if len(service.list_tree_heads(session=session)) >= heads:
                    return
        raise AssertionError("no tree head was issued")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_tree_heads_are_issued_periodically(env: Path) -> None:
    with session_scope() as session:
        for i in range(3):
            service.record(session=session, actor="system:test", action="x.y",
                           object_type="Test", object_id=str(i))
    asyncio.run(_run_until(heads=2, interval=1))
    with Session(get_engine()) as session:
        heads = service.list_tree_heads(session=session)
        assert [h.tree_size for h in heads[:2]] == [3, 3]
        assert service.verify_log(session=session).ok


def test_the_interval_must_be_positive(env: Path) -> None:
    with pytest.raises(InvalidInput):
        asyncio.run(service.issue_tree_heads_periodically(interval_seconds=0))
