"""``/docs``: Swagger UI served from our own static files, under the same strict CSP."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from mamori.web.deps import Language
from mamori.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def api_docs(request: Request, _language: Language) -> Response:
    return render(request, "web/docs.html", {"openapi_url": request.app.openapi_url})
