"""The governance commands: ``mamori agreement``, ``consent``, ``measure``,
``cooperation``, ``retention`` and ``oversight`` (one module with a Typer ``app``
each), and what they share."""

from __future__ import annotations

import functools
import inspect
import json
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel
from rich.console import Console
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.config import get_settings
from mamori.db import session_scope
from mamori.errors import InvalidInput
from mamori.governance.parsing import digest_file, parse_digest

out = Console(highlight=False, soft_wrap=True)


@cache
def _translations(language: str) -> Any:
    from mamori.web.i18n import load_translations

    translations = load_translations()
    return translations.get(language) or translations["en"]


def _(message: str) -> str:
    """``message`` in the configured language (``MAMORI_DEFAULT_LANGUAGE``)."""
    return str(_translations(get_settings().default_language).gettext(message))


def command(app: typer.Typer, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a command that also accepts ``--as USER`` after its name
    (``mamori measure approve ID --as demo-committee_inspector``)."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        hints = typing.get_type_hints(func)
        signature = inspect.signature(func)
        params = [p.replace(annotation=hints.get(p.name, p.annotation))
                  for p in signature.parameters.values()]
        params.append(inspect.Parameter(
            "acting_as", inspect.Parameter.KEYWORD_ONLY, annotation=str | None,
            default=typer.Option(None, "--as", help="Act as this user (as before the command)."),
        ))

        @functools.wraps(func)
        def wrapper(*args: Any, acting_as: str | None = None, **kwargs: Any) -> Any:
            from mamori.cli.context import state

            if acting_as:
                state.acting_as = acting_as
            return func(*args, **kwargs)

        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=params, return_annotation=hints.get("return", None))
        wrapper.__annotations__ = {**hints, "acting_as": str | None}
        app.command(name)(wrapper)
        return func

    return decorate


def principal() -> Principal:
    """Who acts (``--as``), resolved in a transaction of its own so that a later denial's
    audit entry is not held back by the sign-in's write."""
    from mamori.cli.context import current_principal

    with session_scope() as session:
        return current_principal(session)


@contextmanager
def acting() -> Iterator[tuple[Session, Principal]]:
    who = principal()
    with session_scope() as session:
        yield session, who


def emit_json(value: Any) -> None:
    """Print JSON for machines: pydantic models, lists of them, or plain data."""
    if isinstance(value, BaseModel):
        data: Any = value.model_dump(mode="json")
    elif isinstance(value, list):
        data = [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]
    else:
        data = value
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def document_digest(digest: str | None, document: Path | None, *, required: bool) -> str | None:
    """A SHA-256 given directly or computed from the signed document (not stored)."""
    if digest and document:
        raise InvalidInput("give either --digest or --document, not both")
    if document is not None:
        return digest_file(document)
    if digest:
        return parse_digest(digest)
    if required:
        raise InvalidInput("the signed document is needed: --digest HEX or --document FILE")
    return None


def organisation(session: Session, who: Principal, code: str) -> tuple[int, str]:
    """An organisation's (id, name) from its code or numeric id."""
    from mamori.access import service as access_service

    org = access_service.get_organisation(session=session, principal=who, code=code)
    return org.id, org.name(get_settings().default_language)


def local(value: Any) -> str:
    """A timestamp shown in the configured timezone."""
    from zoneinfo import ZoneInfo

    if value is None:
        return "-"
    return str(value.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%d %H:%M"))
