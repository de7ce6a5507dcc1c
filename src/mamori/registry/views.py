"""The registry's routes: the JSON API (``/api/v1/registry``) and the portal
(``/registry``), mounted by the app factory as one router."""

from __future__ import annotations

from fastapi import APIRouter

from mamori.registry import api, portal

router = APIRouter()
router.include_router(api.router)
router.include_router(portal.router)
