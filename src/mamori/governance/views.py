"""Governance routes, mounted by the app factory as one router: the JSON API
(``/api/v1/governance``), the work pages (``/governance``) and the oversight console
(``/oversight``)."""

from __future__ import annotations

from fastapi import APIRouter

from mamori.governance import api, console, pages

router = APIRouter()
router.include_router(api.router)
router.include_router(pages.router)
router.include_router(console.router)
