"""The selection commands: ``mamori select`` (runs, receipts, export, the prefix table,
the item set) and ``mamori selectors`` (selector sets). This package is the zone's
boundary: it authenticates, authorizes through the service layer and prints only
receipts, counts and configuration — never content."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.cli.context import current_principal
from mamori.config import get_settings
from mamori.db import session_scope

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


@cache
def _translations(language: str) -> Any:
    from mamori.web.i18n import load_translations

    translations = load_translations()
    return translations.get(language) or translations["en"]


def _(message: str) -> str:
    """``message`` in the configured language (``MAMORI_DEFAULT_LANGUAGE``)."""
    return str(_translations(get_settings().default_language).gettext(message))


@contextmanager
def acting() -> Iterator[tuple[Session, Principal]]:
    """A transaction and the invocation's principal (committed once established)."""
    with session_scope() as session:
        principal = current_principal(session)
        session.commit()
        yield session, principal


def emit_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def local(moment: datetime | None) -> str:
    """A stored UTC time shown in the configured zone (Asia/Tokyo by default)."""
    if moment is None:
        return "-"
    return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%d %H:%M:%S %Z")
