"""Browser protections: security headers, cookie flags and CSRF double-submit tokens.

Every response carries a strict Content-Security-Policy (no inline scripts, no other
origins), ``X-Frame-Options: DENY`` and friends. Every state-changing request that a
browser could send on its own (anything but a bearer or basic client sending a
non-form body) must echo the per-browser CSRF token from its cookie in the
``csrf_token`` form field or the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import re
import secrets
from http.cookies import SimpleCookie

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mamori.errors import Forbidden
from mamori.web.i18n import N_, normalise_language

CSRF_COOKIE = "mamori_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Swagger UI sets element styles from its bundle; it still loads no script but ours.
DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")

BASE_HEADERS: dict[str, str] = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


CSRF_MESSAGE = N_(
    "The form's security token is missing or out of date. Reload the page and try again."
)


class CsrfRejected(Forbidden):
    title = "CSRF token missing or wrong"


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def is_token_shaped(value: str | None) -> bool:
    return bool(value) and bool(_TOKEN_SHAPE.match(value or ""))


def cookie_header(
    name: str,
    value: str,
    *,
    secure: bool,
    max_age: int | None = None,
    http_only: bool = True,
    expire: bool = False,
) -> str:
    """A ``Set-Cookie`` value: always ``SameSite=Lax`` and path ``/``; ``Secure`` on HTTPS."""
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["path"] = "/"
    morsel["samesite"] = "Lax"
    if http_only:
        morsel["httponly"] = True
    if secure:
        morsel["secure"] = True
    if expire:
        morsel["max-age"] = 0
        morsel["expires"] = "Thu, 01 Jan 1970 00:00:00 GMT"
    elif max_age is not None:
        morsel["max-age"] = max_age
    return morsel.OutputString()


def is_secure(connection: HTTPConnection) -> bool:
    return connection.url.scheme == "https"


def security_headers(path: str, *, secure: bool) -> dict[str, str]:
    headers = dict(BASE_HEADERS)
    headers["Content-Security-Policy"] = DOCS_CSP if path == "/docs" else CSP
    if not path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"
    if secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


class SecurityMiddleware:
    """Adds the security headers, issues the CSRF cookie and remembers a ``?lang=`` switch."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        secure = is_secure(connection)
        token = connection.cookies.get(CSRF_COOKIE)
        issue_token = not is_token_shaped(token)
        if issue_token:
            token = new_csrf_token()
        switch = normalise_language(connection.query_params.get("lang"))
        state = scope.setdefault("state", {})
        state["csrf_token"] = token
        state["language_switch"] = switch
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in security_headers(path, secure=secure).items():
                    if name not in headers:
                        headers[name] = value
                if issue_token:
                    headers.append(
                        "set-cookie", cookie_header(CSRF_COOKIE, str(token), secure=secure)
                    )
                if switch:
                    headers.append(
                        "set-cookie",
                        cookie_header(
                            LANG_COOKIE, switch, secure=secure, max_age=LANG_COOKIE_MAX_AGE
                        ),
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _needs_csrf(request: Request) -> bool:
    if request.method not in UNSAFE_METHODS:
        return False
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    machine_client = bool(request.headers.get("authorization"))
    return not machine_client or content_type in FORM_TYPES


async def verify_csrf(request: Request) -> None:
    """App-wide dependency: reject a browser-sendable state change without the right token."""
    if not _needs_csrf(request):
        return
    expected = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "").lower()
    if not sent and content_type.startswith(FORM_TYPES[:2]):
        form = await request.form()
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    matches = bool(sent) and secrets.compare_digest(str(expected).encode(), str(sent).encode())
    if not (is_token_shaped(expected) and matches):
        raise CsrfRejected(CSRF_MESSAGE)
