"""Reporting's routes, mounted by the app factory as one router: the JSON API
(``/api/v1/reports``), the TAXII intake (``/reporting/taxii2``) and the portal
(``/reports``)."""

from __future__ import annotations

from fastapi import APIRouter

from mamori.reporting import api, portal, taxii_intake

router = APIRouter()
router.include_router(api.router)
router.include_router(taxii_intake.router)
router.include_router(portal.router)
