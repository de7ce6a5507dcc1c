"""Shared test setup: organisations and the principals acting for them.

Importable as ``worlds`` from test packages (``tests/`` is their import root).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

import pytest
from sqlalchemy.orm import Session

from mamori.access import service as access
from mamori.access.principal import Principal

OrgRow = tuple[str, str, str, str, str | None]  # code, name_ja, name_en, kind, sector
PersonRow = tuple[str, str, str]  # name, role, organisation code


def seed_organisations(
    session: Session, *, orgs: Iterable[OrgRow], people: Iterable[PersonRow], prefix: str
) -> tuple[dict[str, int], dict[str, Principal]]:
    """Create ``orgs`` through the access service; principals (with MFA) for ``people``."""
    boot = access.bootstrap_principal(session=session)
    ids: dict[str, int] = {}
    kinds: dict[str, str] = {}
    for code, ja, en, kind, sector in orgs:
        org = access.create_organisation(session=session, principal=boot, code=code,
                                         name_ja=ja, name_en=en, kind=kind, sector=sector)
        ids[code] = int(org.id)
        kinds[code] = kind
    principals = {
        name: Principal(username=f"{prefix}-{name}", roles=frozenset({role}),
                        organisation_id=ids[org], organisation_kind=kinds[org], mfa=True)
        for name, role, org in people
    }
    return ids, principals


Run = tuple[int, str, str]  # exit code, stdout, stderr


def invoke(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
           *args: str, stdin: object | None = None) -> Run:
    """``mamori ARGS`` in this process, as a shell would run it: exit code and output."""
    from mamori.cli.main import main

    monkeypatch.setattr(sys, "argv", ["mamori", *args])
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", stdin)
    capsys.readouterr()
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def first_administrator(session: Session, *, password: str) -> tuple[int, Principal]:
    """The Cabinet Office and its first administrator ``root``, made the way ``mamori
    user add`` does on first start; returns the office's id and root's signed-in form."""
    boot = access.bootstrap_principal(session=session)
    cao = access.create_organisation(session=session, principal=boot, code="cao",
                                     name_ja="内閣府", name_en="Cabinet Office",
                                     kind="cabinet_office")
    root = access.create_user(session=session, principal=boot, username="root",
                              display_name="Root", roles=["admin"], organisation_id=cao.id,
                              password=password)
    return int(cao.id), Principal(username="root", roles=frozenset({"admin"}),
                                  user_id=root.id, organisation_id=cao.id,
                                  organisation_kind="cabinet_office", mfa=True)
