"""``mamori user``: accounts, organisations, API tokens, second factors, the roster of
designated handlers and the purposes of use.

Every command acts as ``--as USER`` (token in ``MAMORI_TOKEN``). On first start, while
no administrator exists, ``user org-add`` and ``user add --role admin`` run without one.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from functools import cache
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from mamori.access import service
from mamori.access.principal import Principal
from mamori.access.principals import find_user, principal_of
from mamori.access.purposes import declarable
from mamori.access.roles import ROLE_LABELS
from mamori.cli.context import current_principal, state
from mamori.config import get_settings
from mamori.db import session_scope, utcnow
from mamori.errors import InvalidInput


@cache
def _translations(language: str) -> Any:
    from mamori.web.i18n import load_translations

    translations = load_translations()
    return translations.get(language) or translations["en"]


def _(message: str) -> str:
    """``message`` in the configured language (``MAMORI_DEFAULT_LANGUAGE``)."""
    return str(_translations(get_settings().default_language).gettext(message))


app = typer.Typer(
    help="Accounts, organisations, API tokens, the roster of designated handlers, purposes.",
    no_args_is_help=True,
)
out = Console()
err = Console(stderr=True)


@contextmanager
def _acting() -> Iterator[tuple[Session, Principal]]:
    with session_scope() as session:
        yield session, current_principal(session)


def _bootstrapping(session: Session) -> bool:
    return not state.acting_as and service.needs_bootstrap(session=session)


def _yes(flag: bool) -> str:
    return _("yes") if flag else "-"


def _date(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field} must be a date like 2025-04-01", field=field) from None


def _json(items: Any) -> None:
    typer.echo(json.dumps(items, ensure_ascii=False, indent=2, default=str))


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt(_("Password"), hide_input=True, confirmation_prompt=True))


@app.command("add")
def add(
    username: str = typer.Argument(..., help="Login name (a-z, 0-9, . _ -)."),
    role: list[str] = typer.Option(..., "--role", help="A role; repeat for several."),
    org: str = typer.Option(..., "--org", help="Organisation code (see `mamori user orgs`)."),
    display_name: str | None = typer.Option(None, "--display-name", help="Name shown in the UI."),
    language: str = typer.Option("ja", "--language", help="UI language: ja or en."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
) -> None:
    """Create an account (the first administrator needs no --as)."""
    password = _read_password(password_stdin)
    with session_scope() as session:
        bootstrap = _bootstrapping(session)
        principal = (
            service.bootstrap_principal(session=session) if bootstrap
            else current_principal(session)
        )
        organisation = service.get_organisation(session=session, principal=principal, code=org)
        user = service.create_user(
            session=session, principal=principal, username=username,
            display_name=display_name or username, roles=role,
            organisation_id=organisation.id, password=password, language=language,
        )
        token = None
        if bootstrap:
            record = find_user(session, user.username)
            assert record is not None
            token = service.issue_api_token(
                session=session, principal=principal_of(session, record, mfa=False, via="cli"),
                username=user.username, name="bootstrap",
            )
    out.print(_("created {username} ({roles}) in {organisation}").format(
        username=user.username, roles=", ".join(user.roles), organisation=organisation.code
    ))
    if token:
        out.print(_("first administrator: API token (shown once, keep it in MAMORI_TOKEN):"))
        typer.echo(token)


@app.command("list")
def list_(
    org: str | None = typer.Option(None, "--org", help="Only this organisation."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List accounts."""
    with _acting() as (session, principal):
        org_id = (
            service.get_organisation(session=session, principal=principal, code=org).id
            if org else None
        )
        users = service.list_users(session=session, principal=principal, organisation_id=org_id)
    if as_json:
        _json([u.model_dump(mode="json") for u in users])
        return
    table = Table(_("username"), _("name"), _("roles"), _("organisation"), "TOTP",
                  _("roster"), _("demo"))
    for u in users:
        table.add_row(
            u.username, u.display_name, ", ".join(u.roles), u.organisation_code,
            _yes(u.totp_enrolled), _yes(u.designated_handler), _yes(u.demo),
        )
    out.print(table)


@app.command("show")
def show(
    username: str, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """Show one account."""
    with _acting() as (session, principal):
        user = service.get_user(session=session, principal=principal, username=username)
    if as_json:
        _json(user.model_dump(mode="json"))
        return
    for key, value in user.model_dump().items():
        out.print(f"{key}: {value}", markup=False, highlight=False)


@app.command("whoami")
def whoami() -> None:
    """Show who this invocation acts as: roles, organisation, roster, MFA, purpose."""
    with _acting() as (_session, p):
        pass
    out.print(
        f"{p.username}: roles={','.join(sorted(p.roles))} organisation={p.organisation_id} "
        f"designated_handler={p.designated_handler} mfa={p.mfa} purpose={p.purpose or '-'}",
        markup=False, highlight=False, soft_wrap=True,
    )


@app.command("token")
def token(
    username: str,
    name: str = typer.Option("cli", "--name", help="A name to tell this token apart."),
    expires_days: int | None = typer.Option(None, "--expires-days", min=1, help="Expiry."),
    totp_code: str | None = typer.Option(
        None, "--totp", help="The account's current one-time code: the token then counts as MFA."
    ),
) -> None:
    """Issue an API token; it is printed once and only its hash is kept."""
    expires = utcnow() + timedelta(days=expires_days) if expires_days else None
    with _acting() as (session, principal):
        value = service.issue_api_token(
            session=session, principal=principal, username=username, name=name,
            expires_at=expires, totp_code=totp_code,
        )
    err.print(_("API token {name} for {username} (shown once):").format(
        name=name, username=username
    ))
    typer.echo(value)


@app.command("revoke-token")
def revoke_token(username: str, name: str = typer.Option(..., "--name")) -> None:
    """Revoke an API token by name."""
    with _acting() as (session, principal):
        service.revoke_api_token(session=session, principal=principal, username=username,
                                 name=name)
    out.print(_("revoked token {name} of {username}").format(name=name, username=username))


@app.command("totp")
def totp_(username: str) -> None:
    """Enrol a new TOTP second factor; prints the otpauth:// URI for an authenticator app."""
    with _acting() as (session, principal):
        uri = service.enroll_totp(session=session, principal=principal, username=username)
    typer.echo(uri)


@app.command("unlock")
def unlock(username: str) -> None:
    """End a sign-in lockout (too many failed sign-ins) of an account now."""
    with _acting() as (session, principal):
        was = service.unlock_sign_in(session=session, principal=principal, username=username)
    message = _("{username}: sign-in unlocked") if was else _("{username}: was not locked")
    out.print(message.format(username=username))


@app.command("language")
def language(username: str, lang: str = typer.Argument(..., help="ja or en")) -> None:
    """Set the UI language of an account."""
    with _acting() as (session, principal):
        service.set_language(session=session, principal=principal, username=username,
                             language=lang)
    out.print(_("{username}: language {language}").format(username=username, language=lang))


@app.command("designate")
def designate(
    username: str,
    training_date: str = typer.Option(..., "--training-date", help="Training completed on."),
    acknowledged_date: str | None = typer.Option(
        None, "--acknowledged-date", help="Secrecy acknowledgement signed on (default: training)."
    ),
    valid_from: str | None = typer.Option(None, "--valid-from", help="Default: today."),
    valid_until: str | None = typer.Option(None, "--valid-until", help="Default: one year."),
) -> None:
    """Put a communications handler on the roster of designated handlers."""
    training = _date(training_date, "training_date")
    assert training is not None
    with _acting() as (session, principal):
        entry = service.designate_handler(
            session=session, principal=principal, username=username,
            training_completed_on=training,
            acknowledged_on=_date(acknowledged_date, "acknowledged_date"),
            valid_from=_date(valid_from, "valid_from"),
            valid_until=_date(valid_until, "valid_until"),
        )
    out.print(_("{username} is on the roster from {start} to {end}").format(
        username=username, start=entry.valid_from, end=entry.valid_until
    ))


@app.command("undesignate")
def undesignate(username: str) -> None:
    """Take a handler off the roster now."""
    with _acting() as (session, principal):
        service.revoke_designation(session=session, principal=principal, username=username)
    out.print(_("{username} is no longer on the roster").format(username=username))


@app.command("roster")
def roster_(
    include_past: bool = typer.Option(False, "--all", help="Include past and revoked entries."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The roster of designated communications-information handlers."""
    with _acting() as (session, principal):
        entries = service.list_roster(session=session, principal=principal,
                                      include_past=include_past)
    if as_json:
        _json([e.model_dump(mode="json") for e in entries])
        return
    table = Table(_("username"), _("organisation"), _("valid"), _("training"),
                  _("acknowledged"), _("current"))
    for e in entries:
        table.add_row(
            e.username, e.organisation_code, f"{e.valid_from} – {e.valid_until}",
            str(e.training_completed_on), str(e.acknowledged_on), _yes(e.current),
        )
    out.print(table)


@app.command("org-add")
def org_add(
    code: str,
    kind: str = typer.Option(..., "--kind", help="e.g. cabinet_office, operator, supplier."),
    name_ja: str = typer.Option(..., "--name-ja"),
    name_en: str = typer.Option(..., "--name-en"),
    sector: str | None = typer.Option(None, "--sector"),
) -> None:
    """Register an organisation (needs no --as before the first administrator exists)."""
    with session_scope() as session:
        principal = (
            service.bootstrap_principal(session=session) if _bootstrapping(session)
            else current_principal(session)
        )
        org = service.create_organisation(
            session=session, principal=principal, code=code, name_ja=name_ja, name_en=name_en,
            kind=kind, sector=sector,
        )
    out.print(_("organisation {code} registered (id {id})").format(code=org.code, id=org.id))


@app.command("orgs")
def orgs(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List organisations."""
    with _acting() as (session, principal):
        rows = service.list_organisations(session=session, principal=principal)
    if as_json:
        _json([o.model_dump(mode="json") for o in rows])
        return
    table = Table(_("code"), "名称", "name", _("kind"), _("sector"))
    for o in rows:
        table.add_row(o.code, o.name_ja, o.name_en, o.kind, o.sector or "-")
    out.print(table)


@app.command("purposes")
def purposes(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Purposes of use that `--purpose` accepts (which role may declare which: access.cedar)."""
    items = [{"code": p.code, "ja": p.ja, "en": p.en} for p in declarable()]
    if as_json:
        _json(items)
        return
    table = Table(_("code"), "利用目的", "purpose of use")
    for p in items:
        table.add_row(p["code"], p["ja"], p["en"])
    out.print(table)


@app.command("roles")
def roles() -> None:
    """The roles and what they are called."""
    table = Table(_("code"), "役割", "role")
    for code, label in ROLE_LABELS.items():
        table.add_row(code, label["ja"], label["en"])
    out.print(table)
