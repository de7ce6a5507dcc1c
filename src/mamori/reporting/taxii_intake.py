"""A minimal TAXII 2.1 API root for attack-precursor intake (R-4.2-20).

One write-only collection: an operator's client POSTs an envelope of STIX indicators
and sightings and gets a status resource back (202). The discovery document of the
shared TAXII server (``/taxii2/``) lists this root to those who may submit
(``service.precursor_intake_open``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import JSONResponse

from mamori.errors import NotFound
from mamori.reporting import service
from mamori.reporting.api import RawBody
from mamori.reporting.precursors import MAX_BYTES, TAXII_ROOT
from mamori.reporting.stix_export import stix_time
from mamori.web.deps import CurrentPrincipal, DbSession

ROOT = TAXII_ROOT
TAXII_MEDIA = "application/taxii+json;version=2.1"
STIX_MEDIA = "application/stix+json;version=2.1"
COLLECTION_ID = "3f0f2a86-3c3f-4b5e-9d6e-5b7f6f3d1a01"
COLLECTION = {
    "id": COLLECTION_ID,
    "title": "Attack-precursor information (攻撃予兆情報)",
    "description": "Write-only: STIX 2.1 indicators and sightings from designated operators.",
    "can_read": False,
    "can_write": True,
    "media_types": [STIX_MEDIA],
}

router = APIRouter(prefix=ROOT, tags=["reporting TAXII 2.1"])


def _taxii(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=TAXII_MEDIA)


def _collection(collection_id: str) -> None:
    if collection_id != COLLECTION_ID:
        raise NotFound("no such collection", field="collection")


@router.get("/", summary="TAXII API root")
def api_root(principal: CurrentPrincipal) -> JSONResponse:
    del principal  # signed-in clients only
    return _taxii({"title": "mamori reporting intake", "versions": [TAXII_MEDIA],
                   "max_content_length": MAX_BYTES})


@router.get("/collections/", summary="TAXII collections")
def collections(principal: CurrentPrincipal) -> JSONResponse:
    del principal
    return _taxii({"collections": [COLLECTION]})


@router.get("/collections/{collection_id}/", summary="TAXII collection")
def collection(collection_id: str, principal: CurrentPrincipal) -> JSONResponse:
    del principal
    _collection(collection_id)
    return _taxii(COLLECTION)


@router.post("/collections/{collection_id}/objects/", summary="Add objects (TAXII 2.1)")
def add_objects(collection_id: str, body: RawBody, principal: CurrentPrincipal,
                session: DbSession) -> JSONResponse:
    _collection(collection_id)
    receipt = service.submit_precursors(session=session, principal=principal, document=body,
                                        channel="taxii")
    return _status(session, principal, receipt.id, status=202)


@router.get("/status/{status_id}/", summary="TAXII status resource")
def status(status_id: str, principal: CurrentPrincipal, session: DbSession) -> JSONResponse:
    return _status(session, principal, status_id)


def _status(session: Any, principal: Any, batch_id: str, status: int = 200) -> JSONResponse:
    receipt, stored = service.get_precursor_batch(session=session, principal=principal,
                                                  batch_id=batch_id)
    return _taxii({
        "id": receipt.id,
        "status": "complete",
        "request_timestamp": stix_time(receipt.received_at),
        "total_count": receipt.total,
        "success_count": receipt.total - receipt.rejected,
        "failure_count": receipt.rejected,
        "pending_count": 0,
        "successes": [{"id": i, "version": v} for i, v in stored],
    }, status)
