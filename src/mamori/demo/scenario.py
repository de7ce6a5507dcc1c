"""The demo scenario: each domain contributes one step, run in order, idempotently.

A step is a function ``step(*, session, console)``; it must be safe to run twice
(the demo can be started again on the same database).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from rich.console import Console

from mamori.db import session_scope

# (title, "module:function") in the order the story unfolds.
STEPS: list[tuple[str, str]] = [
    ("organisations and accounts", "mamori.access.demo:seed"),
    ("agreement, consent and approved measure", "mamori.governance.demo:seed"),
    ("automatic selection under the approved measure", "mamori.selection.demo:seed"),
    ("critical computer notifications", "mamori.registry.demo:seed"),
    ("incident reports", "mamori.reporting.demo:seed"),
    ("vulnerabilities", "mamori.vulns.demo:seed"),
    ("intel: every source in one store, cross-matched", "mamori.intel.demo:seed"),
    ("one product composed in three tiers", "mamori.products.demo:seed"),
    ("one product delivered in three tiers to one recipient of each category",
     "mamori.dissemination.demo:seed"),
]


def _load(target: str) -> Callable[..., Any]:
    module_name, func = target.split(":")
    step: Callable[..., Any] = getattr(importlib.import_module(module_name), func)
    return step


def run_scenario(*, console: Console) -> None:
    for title, target in STEPS:
        with session_scope() as session:
            _load(target)(session=session, console=console)
        console.print(f"[green]✓[/green] {title}")
