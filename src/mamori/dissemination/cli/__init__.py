"""``mamori recipient`` and ``mamori provision``: the command line of provision."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.cli.context import current_principal
from mamori.db import session_scope
from mamori.dissemination import retention  # noqa: F401  (registers the data class)


@contextmanager
def acting() -> Iterator[tuple[Session, Principal]]:
    with session_scope() as session:
        yield session, current_principal(session)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))
