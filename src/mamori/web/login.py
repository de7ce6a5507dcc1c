"""Login and logout for browsers, with the demo-account hint in demo mode.

A failed login answers 401 with one generic message (it never says whether the
user exists) and leaves the database as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from mamori.config import get_settings
from mamori.errors import Unauthenticated
from mamori.web.deps import LOGIN_COOKIE, Page, save_language
from mamori.web.i18n import normalise_language
from mamori.web.security import LANG_COOKIE, cookie_header, is_secure
from mamori.web.templating import render

router = APIRouter(include_in_schema=False)

DEFAULT_NEXT = "/home"


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything that could leave the site → /home."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return DEFAULT_NEXT
    if any(ch in target for ch in "\\\r\n\t") or not target.isprintable():
        return DEFAULT_NEXT
    if target.startswith(("/login", "/logout")):
        return DEFAULT_NEXT
    return target


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role_label: str
    totp: str | None


def demo_accounts(request: Request, language: str) -> list[DemoAccount]:
    """The demo accounts and their current one-time codes; empty outside demo mode."""
    if not request.app.state.settings.demo:
        return []
    from mamori.access.demo import ACCOUNTS, demo_totp_code
    from mamori.access.roles import ROLE_LABELS

    return [
        DemoAccount(
            username=account.username,
            role_label=ROLE_LABELS[account.role][language],
            totp=demo_totp_code(account.username),
        )
        for account in ACCOUNTS
    ]


def _login_page(
    request: Request, current: Page, *, next_url: str, username: str = "", failed: bool = False,
    locked: int | None = None,
) -> Response:
    return render(
        request,
        "web/login.html",
        {
            "next_url": next_url,
            "username": username,
            "failed": failed,
            "locked": locked,
            "demo_accounts": demo_accounts(request, current.language),
        },
        status_code=401 if failed else 200,
    )


@router.get("/login")
def login_form(request: Request, current: Page, next: str | None = None) -> Response:
    if current.principal is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, current, next_url=safe_next(next))


@router.get("/login/demo-accounts")
def demo_accounts_fragment(request: Request, current: Page) -> Response:
    """The demo hint's table, refreshed by htmx so the one-time codes stay current."""
    accounts = demo_accounts(request, current.language)
    if not accounts:
        return Response(status_code=204)
    return render(request, "web/_demo_accounts.html", {"demo_accounts": accounts})


@router.post("/login")
def login(
    request: Request,
    current: Page,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=1024)],
    totp_code: Annotated[str | None, Form(max_length=16)] = None,
    next: Annotated[str | None, Form(max_length=2048)] = None,
) -> Response:
    from mamori.access import service as access

    session = current.session
    try:
        principal = access.authenticate(
            session=session,
            username=username,
            password=password,
            totp_code=(totp_code or "").strip() or None,
            via="web",
        )
    except Unauthenticated as exc:
        session.rollback()
        locked = get_settings().sign_in_lockout_minutes if isinstance(
            exc, access.SignInLocked) else None
        return _login_page(request, current, next_url=safe_next(next), username=username,
                           failed=True, locked=locked)
    chosen = normalise_language(request.cookies.get(LANG_COOKIE))
    if chosen:  # a language picked with the switch before login becomes the setting
        save_language(session, principal, chosen)
    token = access.start_login(session=session, principal=principal)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.headers.append(
        "set-cookie", cookie_header(LOGIN_COOKIE, token, secure=is_secure(request))
    )
    return response


@router.post("/logout")
def logout(request: Request, current: Page) -> Response:
    from mamori.access import service as access

    token = getattr(request.state, "login_token", None)
    if token:
        access.end_login(session=current.session, login_token=token)
    response = RedirectResponse("/", status_code=303)
    response.headers.append(
        "set-cookie", cookie_header(LOGIN_COOKIE, "", secure=is_secure(request), expire=True)
    )
    return response
