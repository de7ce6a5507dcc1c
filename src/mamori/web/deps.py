"""Request dependencies: the transaction, who is asking, and in which language.

``db_session`` wraps one request in one transaction that ends before the response
is sent (commit on success, rollback on any error), so that a 4xx never leaves a
half-made change behind. ``current_principal`` accepts the login cookie (browsers),
``Authorization: Bearer <api token>`` and HTTP Basic ``user:token`` (machine clients).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.errors import MamoriError, Unauthenticated
from mamori.web.credentials import BearerCredentials, parse_authorization
from mamori.web.i18n import N_, Translator, negotiate_language, normalise_language
from mamori.web.security import LANG_COOKIE

LOGIN_COOKIE = "mamori_login"
LOGIN_FIRST = N_("Please log in first.")


def db_session(request: Request) -> Iterator[Session]:
    """One transaction per request: commit when the handler returns, roll back on error."""
    session: Session = request.app.state.session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(db_session, scope="function")]


def _from_header(session: Session, header: str) -> Principal:
    from mamori.access import service as access

    credentials = parse_authorization(header)
    if isinstance(credentials, BearerCredentials):
        return access.principal_for_api_token(session=session, token=credentials.token, via="api")
    return access.principal_for_token(
        session=session, username=credentials.username, token=credentials.token, via="api"
    )


def _from_cookie(request: Request, session: Session, token: str) -> Principal | None:
    from mamori.access import service as access

    try:
        principal = access.principal_for_login(session=session, login_token=token)
    except MamoriError:  # expired or ended elsewhere: simply not logged in
        return None
    request.state.login_token = token
    return principal


def current_principal(request: Request, session: DbSession) -> Principal | None:
    """Who is asking, or None for an anonymous browser.

    A bad ``Authorization`` header is an error (401): a machine client must know.
    A stale login cookie just means "not logged in" so public pages keep working.
    """
    if hasattr(request.state, "principal_resolved"):
        return request.state.principal
    header = request.headers.get("authorization")
    principal: Principal | None
    if header:
        principal = _from_header(session, header)
    else:
        token = request.cookies.get(LOGIN_COOKIE)
        principal = _from_cookie(request, session, token) if token else None
    request.state.principal = principal
    request.state.principal_resolved = True
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(current_principal)]


def require_principal(principal: OptionalPrincipal) -> Principal:
    """The principal, or 401 for anyone not logged in."""
    if principal is None:
        raise Unauthenticated(LOGIN_FIRST)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(require_principal)]


def user_language(session: Session, principal: Principal) -> str | None:
    """The language saved in the account's settings (None for a non-account principal)."""
    from mamori.access import service as access

    if principal.user_id is None:
        return None
    user = access.get_user(session=session, principal=principal, username=principal.username)
    return normalise_language(user.language)


def save_language(session: Session, principal: Principal, language: str) -> None:
    """Make ``language`` the account's setting, so that it follows the user everywhere."""
    from mamori.access import service as access

    if principal.user_id is not None and user_language(session, principal) != language:
        access.set_language(
            session=session, principal=principal, username=principal.username, language=language
        )


def resolve_language(request: Request, session: Session, principal: Principal | None) -> str:
    """User setting > ``lang`` cookie (from the ?lang= switch) > Accept-Language > default.

    A ``?lang=`` switch wins for its own request and, for a logged-in user, becomes
    the saved setting, so the choice sticks on every device.
    """
    switch: str | None = getattr(request.state, "language_switch", None)
    if switch and principal is not None:
        save_language(session, principal, switch)
    chosen = (
        switch
        or (user_language(session, principal) if principal is not None else None)
        or normalise_language(request.cookies.get(LANG_COOKIE))
        or negotiate_language(request.headers.get("accept-language"))
        or request.app.state.settings.default_language
    )
    return chosen


def language(request: Request, session: DbSession, principal: OptionalPrincipal) -> str:
    """The request's language; also sets ``request.state.translator`` for the templates."""
    code = resolve_language(request, session, principal)
    request.state.translator = request.app.state.translator(code)
    return code


Language = Annotated[str, Depends(language)]


def translator(request: Request, _language: Language) -> Translator:
    return request.state.translator


CurrentTranslator = Annotated[Translator, Depends(translator)]


def anonymous_language(request: Request) -> str:
    """The language when no dependency ran (errors before routing): cookie or header."""
    return (
        getattr(getattr(request.state, "translator", None), "language", None)
        or getattr(request.state, "language_switch", None)
        or normalise_language(request.cookies.get(LANG_COOKIE))
        or negotiate_language(request.headers.get("accept-language"))
        or request.app.state.settings.default_language
    )


@dataclass(frozen=True)
class PageRequest:
    """What a page handler needs: the transaction, who is asking and their language."""

    session: Session
    principal: Principal | None
    translator: Translator

    @property
    def language(self) -> str:
        return self.translator.language


def page(
    request: Request, session: DbSession, principal: OptionalPrincipal, _language: Language
) -> PageRequest:
    """For HTML pages: also works out the menu entries the principal may open."""
    from mamori.web.nav import visible_entries

    request.state.nav_entries = (
        visible_entries(session=session, principal=principal) if principal is not None else []
    )
    return PageRequest(session=session, principal=principal, translator=request.state.translator)


Page = Annotated[PageRequest, Depends(page)]


@dataclass(frozen=True)
class LoggedInPageRequest(PageRequest):
    principal: Principal


def logged_in_page(current: Page) -> LoggedInPageRequest:
    """A page only for logged-in users; a browser without a login is sent to /login."""
    if current.principal is None:
        raise Unauthenticated(LOGIN_FIRST)
    return LoggedInPageRequest(
        session=current.session, principal=current.principal, translator=current.translator
    )


LoggedInPage = Annotated[LoggedInPageRequest, Depends(logged_in_page)]
