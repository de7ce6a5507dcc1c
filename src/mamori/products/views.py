"""The products routes: the JSON API (``/api/v1/products``) and the analysts' pages
(``/products``), mounted by the app factory as one router."""

from __future__ import annotations

from fastapi import APIRouter

from mamori.products import api, portal

router = APIRouter()
router.include_router(api.router)
router.include_router(portal.router)
