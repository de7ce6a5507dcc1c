"""Intel's routes, mounted by the app factory as one router: the JSON API
(``/api/v1/intel``) and the analysts' workbench (``/intel``)."""

from __future__ import annotations

from fastapi import APIRouter

from mamori.intel import api, pages

router = APIRouter()
router.include_router(api.router)
router.include_router(pages.router)
