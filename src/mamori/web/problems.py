"""Errors as RFC 9457 problem details, or as a translated page for a browser.

Machine clients (and everything under ``/api/``) get ``application/problem+json``;
a browser asking for ``text/html`` gets the error page in its language. Validation
errors name the fields that are wrong and never echo what was submitted.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from mamori.errors import MamoriError, Unauthenticated
from mamori.web.i18n import N_
from mamori.web.templating import render

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://mamori.example/problems/"

log = logging.getLogger(__name__)

# Titles shown on the error page; the English text is the msgid.
STATUS_TITLES: dict[int, str] = {
    400: N_("Bad request"),
    401: N_("Authentication required"),
    403: N_("Forbidden"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    413: N_("Request too large"),
    415: N_("Unsupported media type"),
    422: N_("Invalid input"),
    429: N_("Too many requests"),
    500: N_("Internal error"),
}
STATUS_HINTS: dict[int, str] = {
    400: N_("The request could not be understood. Please check it and try again."),
    401: N_("Please log in to continue."),
    403: N_("You are not allowed to do this."),
    404: N_("There is no page at this address."),
    405: N_("This address does not accept that kind of request."),
    409: N_("This conflicts with the current state. Reload the page and try again."),
    422: N_("Some fields are missing or not valid. Nothing was changed."),
    500: N_("Something went wrong on our side. Nothing was changed. Please try again later."),
}


def wants_html(request: Request) -> bool:
    """A browser page request (not the JSON API) that accepts HTML."""
    path = request.url.path
    if path.startswith("/api/") or path == "/openapi.json":
        return False
    return "text/html" in request.headers.get("accept", "").lower()


def problem_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _translator(request: Request) -> Any:
    from mamori.web.deps import anonymous_language

    existing = getattr(request.state, "translator", None)
    if existing is not None:
        return existing
    translator = request.app.state.translator(anonymous_language(request))
    request.state.translator = translator
    return translator


def error_page(
    request: Request,
    *,
    status: int,
    title: str,
    detail: str | None,
    fields: list[str] | None = None,
    headers: dict[str, str] | None = None,
    error: MamoriError | None = None,
) -> Response:
    """The error page; an error with ``localise(gettext)`` words its own detail."""
    translator = _translator(request)
    localise = getattr(error, "localise", None)
    if callable(localise):
        detail = str(localise(translator.gettext))
    template = "web/_error_fragment.html" if request.headers.get("hx-request") else "web/error.html"
    return render(
        request,
        template,
        {
            "status": status,
            "title": translator.gettext(title),
            "detail": (detail if callable(localise) else translator.gettext(detail))
            if detail
            else "",
            "hint": translator.gettext(STATUS_HINTS.get(status, STATUS_HINTS[400])),
            "fields": fields or [],
        },
        status_code=status,
        headers=headers,
    )


def _login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


async def mamori_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MamoriError)
    if wants_html(request):
        if isinstance(exc, Unauthenticated) and request.method == "GET":
            return _login_redirect(request)
        return error_page(
            request, status=exc.status_code, title=exc.title, detail=exc.detail, error=exc
        )
    headers = {"WWW-Authenticate": 'Bearer realm="mamori"'} if exc.status_code == 401 else None
    return problem_response(exc.status_code, exc.problem(instance=request.url.path), headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else None
    headers = dict(exc.headers) if exc.headers else None
    if wants_html(request):
        title = STATUS_TITLES.get(status, phrase)
        return error_page(request, status=status, title=title, detail=detail, headers=headers)
    body: dict[str, Any] = {"type": "about:blank", "title": phrase, "status": status}
    if detail:
        body["detail"] = detail
    body["instance"] = request.url.path
    return problem_response(status, body, headers)


def validation_problems(exc: RequestValidationError) -> list[dict[str, str]]:
    """Where each error is and what is wrong, without the submitted value."""
    problems: list[dict[str, str]] = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ())]
        problems.append(
            {
                "location": location[0] if location else "",
                "field": ".".join(location[1:]),
                "type": str(error.get("type", "")),
                "message": str(error.get("msg", "")),
            }
        )
    return problems


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = validation_problems(exc)
    fields = sorted({p["field"] or p["location"] for p in problems})
    detail = "invalid or missing: " + ", ".join(fields)
    if wants_html(request):
        title = STATUS_TITLES[422]
        return error_page(request, status=422, title=title, detail=None, fields=fields)
    body = {
        "type": PROBLEM_BASE + "InvalidInput",
        "title": "Invalid input",
        "status": 422,
        "detail": detail,
        "instance": request.url.path,
        "errors": problems,
    }
    return problem_response(422, body)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    """Last resort: a generic 500 that reveals nothing about the failure."""
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    if wants_html(request):
        return error_page(request, status=500, title=N_("Internal error"), detail=None)
    body = {"type": "about:blank", "title": "Internal error", "status": 500}
    return problem_response(500, body)


def install(app: FastAPI) -> None:
    app.add_exception_handler(MamoriError, mamori_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected_error)
