"""Provision's routes, mounted by the app factory as one router: the JSON API
(``/api/v1/dissemination``), the TAXII 2.1 server (``/taxii2/``), the public site
(``/public``) and the portal (``/provisions``, ``/dissemination``)."""

from __future__ import annotations

from fastapi import APIRouter

from mamori.dissemination import (
    api,
    portal,
    public,
    retention,  # noqa: F401  (registers the data class)
)
from mamori.dissemination.taxii import server as taxii

router = APIRouter()
router.include_router(api.router)
router.include_router(taxii.router)
router.include_router(public.router)
router.include_router(portal.router)
