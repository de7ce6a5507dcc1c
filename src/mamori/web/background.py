"""Jobs that run beside the web server for as long as it runs.

Today: the audit log's signed tree heads, issued every ``sth_interval_seconds`` by
``mamori.audit.service.issue_tree_heads_periodically`` when the audit domain has it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from mamori.config import Settings

log = logging.getLogger(__name__)

def _tree_heads(settings: Settings) -> Coroutine[Any, Any, None] | None:
    from mamori.audit.service import issue_tree_heads_periodically

    return issue_tree_heads_periodically(interval_seconds=settings.sth_interval_seconds)


def _intel(settings: Settings) -> Coroutine[Any, Any, None] | None:
    from mamori.intel.schedule import job

    return job(settings)


JOBS: dict[str, Callable[[Settings], Coroutine[Any, Any, None] | None]] = {
    "audit tree heads": _tree_heads,
    "intel feeds, ingest and analytics": _intel,
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
