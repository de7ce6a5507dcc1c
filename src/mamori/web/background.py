"""Jobs that run beside the web server for as long as it runs.

Today: the audit log's signed tree heads, issued every ``sth_interval_seconds`` by
``mamori.audit.service.issue_tree_heads_periodically`` when the audit domain has it.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from mamori.config import Settings

log = logging.getLogger(__name__)

def _tree_heads(settings: Settings) -> Coroutine[Any, Any, None] | None:
    if importlib.util.find_spec("mamori.audit.service") is None:
        return None
    service = importlib.import_module("mamori.audit.service")
    job = getattr(service, "issue_tree_heads_periodically", None)
    if job is None:
        return None
    coroutine: Coroutine[Any, Any, None] = job(interval_seconds=settings.sth_interval_seconds)
    return coroutine


JOBS: dict[str, Callable[[Settings], Coroutine[Any, Any, None] | None]] = {
    "audit tree heads": _tree_heads,
}


@asynccontextmanager
async def run_background_jobs(settings: Settings) -> AsyncIterator[list[asyncio.Task[None]]]:
    """Start every available job; cancel them all when the server stops."""
    tasks: list[asyncio.Task[None]] = []
    for name, factory in JOBS.items():
        coroutine = factory(settings)
        if coroutine is not None:
            tasks.append(asyncio.create_task(coroutine, name=name))
            log.info("background job started: %s", name)
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        for task, outcome in zip(tasks, outcomes, strict=True):
            if isinstance(outcome, Exception):
                log.error("background job %s failed: %s", task.get_name(), type(outcome).__name__)
