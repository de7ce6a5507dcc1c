"""The vulnerability domain's routes, mounted by the app factory as one router: the JSON
API (``/api/v1/vulns``) and the pages (``/vulns``, with the public catalogue)."""

from __future__ import annotations

from fastapi import APIRouter

from mamori.vulns import api, portal

router = APIRouter()
router.include_router(api.router)
router.include_router(portal.router)
