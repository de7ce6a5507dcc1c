"""The intel job beside ``mamori serve``: pull partners' TAXII collections, ingest what
landed in the platform's sources and run the analytics, every
``MAMORI_INTEL_PULL_INTERVAL_SECONDS``.

The platform's own principal pulls the feeds, moves selected records in and analyses;
reports, the register and vulnerability data are read as the analyst account named by
``MAMORI_INTEL_SYNC_AS`` (with ``MAMORI_INTEL_SYNC_TOKEN``), when one is configured,
because their domains do not open them to the platform itself. Each step commits on its
own, so one failing source does not hold back the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from mamori.access.principal import Principal
from mamori.db import session_scope
from mamori.errors import MamoriError
from mamori.intel import service
from mamori.intel.settings import intel_settings

log = logging.getLogger(__name__)
JOB = "intel"


def _sync_principal(session: Any) -> Principal | None:
    settings = intel_settings()
    if not settings.sync_as or settings.sync_token is None:
        return None
    from mamori.access import service as access

    return access.principal_for_token(session=session, username=settings.sync_as,
                                      token=settings.sync_token.get_secret_value(), via="system")


def run_once() -> list[str]:
    """One round; returns one line per step (counts only, never content)."""
    job = Principal.system(JOB)
    lines: list[str] = []
    steps = [
        ("taxii", lambda s: [f"taxii {r.source}: stored {r.stored}, merged {r.merged}"
                             for r in service.pull_all(session=s, principal=job,
                                                       checkpoint=s.commit)]),
        ("sources", lambda s: [x.line() for x in service.ingest(
            session=s, principal=p, sources=["reporting", "registry", "vulns"])]
         if (p := _sync_principal(s)) is not None else []),
        ("selection", lambda s: [x.line() for x in service.ingest(
            session=s, principal=job, sources=["selection"])]),
        ("analytics", lambda s: [f"findings {service.analyze(session=s, principal=job).counts}"]),
    ]
    for name, step in steps:
        try:
            with session_scope() as session:
                lines += step(session)
        except MamoriError as exc:
            lines.append(f"{name}: {exc.detail}")
            log.warning("intel job step %s failed: %s", name, exc.detail)
    return lines


async def run_periodically(interval_seconds: int) -> None:
    """Run :func:`run_once` every ``interval_seconds`` until cancelled."""
    while True:
        await asyncio.sleep(interval_seconds)
        for line in await asyncio.to_thread(run_once):
            log.info("intel job: %s", line)


def job(settings: object) -> Coroutine[Any, Any, None] | None:
    """The background job for ``mamori.web.background.JOBS`` (None when turned off)."""
    del settings  # intel reads its own MAMORI_INTEL_* settings
    interval = intel_settings().pull_interval_seconds
    return run_periodically(interval) if interval > 0 else None
