"""The TAXII 2.1 server under ``/taxii2/``: discovery, one API root, a collection per
recipient category, objects, manifest, versions and status; POST answered 202.

A recipient reads, in the collection of its category, exactly the tier outputs that
were provided to it. Every request authenticates (Basic: username and API token;
Bearer: API token) and re-checks the entitlement — a withdrawn consent stops the next
page. Pages continue with a signed, stateless cursor, so consecutive pages may be
served by different processes. Errors are TAXII error messages and change nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from mamori.access import service as access_service
from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.dissemination import categories as cat
from mamori.dissemination import entitlements as ent
from mamori.dissemination import guard, keys, objects
from mamori.dissemination.entitled import readable_tiers, receive_resource
from mamori.dissemination.models import RecipientRecord, TaxiiStatusRecord
from mamori.dissemination.taxii import cursor
from mamori.dissemination.taxii.params import (
    MAX_LIMIT,
    STIX_MEDIA,
    TAXII_MEDIA,
    Filters,
    TaxiiInputError,
    VersionFilter,
    accepts_taxii,
    format_timestamp,
    is_stix_id,
    is_taxii_content,
    parse_filters,
)
from mamori.errors import MamoriError, NotFound, Unauthenticated
from mamori.reporting import service as reporting
from mamori.web.credentials import BearerCredentials, parse_authorization
from mamori.web.deps import DbSession

PREFIX = "/taxii2"
API_ROOT = "mamori"
MAX_CONTENT_LENGTH = 10 * 1024 * 1024
MAX_OBJECTS_PER_POST = 1000
NAMESPACE = uuid.UUID("9d2f6a51-61c6-5b87-8a5e-8c2b8f1d6c3e")
AUTH_HEADER = 'Basic realm="mamori TAXII", Bearer realm="mamori TAXII"'


def collection_id(category: str) -> str:
    """A stable collection id per recipient category."""
    return str(uuid.uuid5(NAMESPACE, f"mamori/provision/{category}"))


COLLECTIONS: dict[str, str] = {collection_id(code): code for code in cat.CATEGORIES}

router = APIRouter(prefix=PREFIX, tags=["TAXII 2.1"])


class NotAcceptable(MamoriError):
    status_code = 406
    title = "Not acceptable"


class UnsupportedMediaType(MamoriError):
    status_code = 415
    title = "Unsupported media type"


class TooLarge(MamoriError):
    status_code = 413
    title = "Request too large"


def _taxii(body: dict[str, Any], status: int = 200,
           headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=TAXII_MEDIA, headers=headers)


def _error(exc: MamoriError) -> JSONResponse:
    body = {"title": exc.title, "description": exc.detail, "http_status": str(exc.status_code)}
    headers = {"WWW-Authenticate": AUTH_HEADER} if exc.status_code == 401 else None
    return _taxii(body, exc.status_code, headers)


def authenticate(session: Session, request: Request) -> Principal:
    """The client: Basic (username, API token) or Bearer (API token); nothing else."""
    header = request.headers.get("authorization")
    if not header:
        raise Unauthenticated("TAXII needs Basic (username and API token) or Bearer "
                              "authentication")
    credentials = parse_authorization(header)
    if isinstance(credentials, BearerCredentials):
        return access_service.principal_for_api_token(session=session, token=credentials.token,
                                                      via="api")
    return access_service.principal_for_token(session=session, username=credentials.username,
                                              token=credentials.token, via="api")


def _run(request: Request, session: Session,
         handler: Callable[[Principal], Response]) -> Response:
    """Authenticate, run, and answer an error as TAXII does — after undoing any change."""
    try:
        if not accepts_taxii(request.headers.get("accept")):
            raise NotAcceptable("this server speaks application/taxii+json;version=2.1")
        principal = authenticate(session, request)
        return handler(principal)
    except MamoriError as exc:
        session.rollback()
        return _error(exc)


def _root_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + f"{PREFIX}/{API_ROOT}/"


def _check_root(api_root: str) -> None:
    if api_root != API_ROOT:
        raise NotFound("no such API root", field="api_root")


def _recipient_for(session: Session, principal: Principal, category: str
                   ) -> RecipientRecord | None:
    if principal.organisation_id is None:
        return None
    return session.scalars(select(RecipientRecord).where(
        RecipientRecord.organisation_id == principal.organisation_id,
        RecipientRecord.category == category)).first()


def _reader(session: Session, principal: Principal, cid: str, action: str = "provision.receive"
            ) -> tuple[RecipientRecord, list[int], ent.Matrix]:
    """The principal's recipient for collection ``cid`` and the tiers it may read now."""
    category = COLLECTIONS.get(cid)
    if category is None:
        raise NotFound("no such collection", field="collection")
    matrix = ent.load_matrix()
    row = _recipient_for(session, principal, category)
    guard.authorize(session=session, principal=principal, action=action,
                    resource=receive_resource(session, row, f"taxii:{category}", matrix))
    assert row is not None  # the policy admits only a recipient of the principal's organisation
    return row, readable_tiers(session, row, matrix), matrix


def _collection(category: str, *, can_write: bool) -> dict[str, Any]:
    kind = cat.CATEGORIES[category]
    return {
        "id": collection_id(category),
        "title": f"{kind.name_ja} / {kind.name_en}",
        "description": f"Products provided to you as {kind.name_en.lower()} ({kind.article}); "
                       f"{kind.name_ja}として提供された情報",
        "can_read": True,
        "can_write": can_write,
        "media_types": [STIX_MEDIA],
    }


def _visible_collections(session: Session, principal: Principal) -> list[dict[str, Any]]:
    from mamori.dissemination.entitled import recipients_of

    matrix = ent.load_matrix()
    return [_collection(row.category, can_write=matrix.rule(row.category).contribute)
            for row in recipients_of(session, principal)]


# --- discovery, API root, collections -------------------------------------------------


@router.get("/", summary="TAXII server discovery")
def discovery(request: Request, session: DbSession) -> Response:
    def handle(principal: Principal) -> Response:
        root = _root_url(request)
        roots = [root]
        if reporting.precursor_intake_open(session=session, principal=principal):
            # Operators also learn where to submit attack-precursor information.
            roots.append(str(request.base_url).rstrip("/") +
                         f"{reporting.PRECURSOR_TAXII_ROOT}/")
        return _taxii({
            "title": "mamori TAXII 2.1",
            "description": "Provision (提供) under the Active Cyber Defense law: each "
                           "recipient reads what was provided to it.",
            "default": root,
            "api_roots": roots,
        })
    return _run(request, session, handle)


@router.get("/{api_root}/", summary="TAXII API root")
def api_root_info(api_root: str, request: Request, session: DbSession) -> Response:
    def handle(principal: Principal) -> Response:
        del principal
        _check_root(api_root)
        return _taxii({
            "title": "mamori — provision (提供)",
            "description": "Collections per recipient category of the Act.",
            "versions": [TAXII_MEDIA],
            "max_content_length": MAX_CONTENT_LENGTH,
        })
    return _run(request, session, handle)


@router.get("/{api_root}/collections/", summary="TAXII collections")
def list_collections(api_root: str, request: Request, session: DbSession) -> Response:
    def handle(principal: Principal) -> Response:
        _check_root(api_root)
        found = _visible_collections(session, principal)
        return _taxii({"collections": found} if found else {})
    return _run(request, session, handle)


@router.get("/{api_root}/collections/{cid}/", summary="TAXII collection")
def get_collection(api_root: str, cid: str, request: Request, session: DbSession) -> Response:
    def handle(principal: Principal) -> Response:
        _check_root(api_root)
        row, _, matrix = _reader(session, principal, cid)
        return _taxii(_collection(row.category, can_write=matrix.rule(row.category).contribute))
    return _run(request, session, handle)


# --- objects, manifest, versions ------------------------------------------------------


def _page(session: Session, row: RecipientRecord, tiers: list[int], filters: Filters,
          scope: str) -> tuple[objects.Page, dict[str, Any], dict[str, str]]:
    key = keys.signing_key(session, keys.CURSOR)
    bound = filters.digest(scope)
    after = cursor.decode(key, filters.next, scope=scope, filters=bound) if filters.next \
        else None
    page = objects.page(session, recipient_id=row.id, tiers=tiers, filters=filters,
                        after=after, limit=filters.limit)
    envelope: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if page.rows:
        envelope["more"] = page.more
        position = page.last_position
        if page.more and position is not None:
            envelope["next"] = cursor.encode(key, scope=scope, filters=bound, position=position)
        headers["X-TAXII-Date-Added-First"] = format_timestamp(page.rows[0].date_added)
        headers["X-TAXII-Date-Added-Last"] = format_timestamp(page.rows[-1].date_added)
    return page, envelope, headers


OBJECT_FILTERS = frozenset({"id", "type", "version", "spec_version"})


@router.get("/{api_root}/collections/{cid}/objects/", summary="TAXII get objects")
def get_objects(api_root: str, cid: str, request: Request, session: DbSession) -> Response:
    def handle(principal: Principal) -> Response:
        _check_root(api_root)
        row, tiers, _ = _reader(session, principal, cid)
        filters = parse_filters(request.query_params, allowed=OBJECT_FILTERS,
                                max_limit=MAX_LIMIT)
        page, envelope, headers = _page(session, row, tiers, filters, f"{cid}/objects")
        if page.rows:
            envelope["objects"] = [objects.body(r) for r in page.rows]
        return _taxii(envelope, headers=headers)
    return _run(request, session, handle)


@router.get("/{api_root}/collections/{cid}/manifest/", summary="TAXII get object manifests")
def get_manifest(api_root: str, cid: str, request: Request, session: DbSession) -> Response:
    def handle(principal: Principal) -> Response:
        _check_root(api_root)
        row, tiers, _ = _reader(session, principal, cid)
        filters = parse_filters(request.query_params, allowed=OBJECT_FILTERS,
                                max_limit=MAX_LIMIT)
        page, envelope, headers = _page(session, row, tiers, filters, f"{cid}/manifest")
        if page.rows:
            envelope["objects"] = [
                {"id": r.stix_id, "date_added": format_timestamp(r.date_added),
                 "version": r.version, "media_type": f"application/stix+json;version="
                 f"{r.spec_version}"} for r in page.rows]
        return _taxii(envelope, headers=headers)
    return _run(request, session, handle)


def _object_scope(session: Session, row: RecipientRecord, tiers: list[int], cid: str,
                  object_id: str) -> None:
    if not is_stix_id(object_id) or not objects.exists(
            session, recipient_id=row.id, tiers=tiers, stix_id=object_id):
        raise NotFound("no such object in this collection", field="object_id")


@router.get("/{api_root}/collections/{cid}/objects/{object_id}/", summary="TAXII get an object")
def get_object(api_root: str, cid: str, object_id: str, request: Request,
               session: DbSession) -> Response:
    def handle(principal: Principal) -> Response:
        _check_root(api_root)
        row, tiers, _ = _reader(session, principal, cid)
        _object_scope(session, row, tiers, cid, object_id)
        filters = parse_filters(request.query_params, allowed=frozenset({"version",
                                                                           "spec_version"}))
        filters = Filters(added_after=filters.added_after, ids=(object_id,),
                          versions=filters.versions, spec_versions=filters.spec_versions,
                          limit=filters.limit, next=filters.next)
        page, envelope, headers = _page(session, row, tiers, filters,
                                        f"{cid}/objects/{object_id}")
        if page.rows:
            envelope["objects"] = [objects.body(r) for r in page.rows]
        return _taxii(envelope, headers=headers)
    return _run(request, session, handle)


@router.get("/{api_root}/collections/{cid}/objects/{object_id}/versions/",
            summary="TAXII get object versions")
def get_versions(api_root: str, cid: str, object_id: str, request: Request,
                 session: DbSession) -> Response:
    def handle(principal: Principal) -> Response:
        _check_root(api_root)
        row, tiers, _ = _reader(session, principal, cid)
        _object_scope(session, row, tiers, cid, object_id)
        parsed = parse_filters(request.query_params, allowed=frozenset({"spec_version"}))
        filters = Filters(added_after=parsed.added_after, ids=(object_id,),
                          versions=VersionFilter(last=False, all=True),
                          spec_versions=parsed.spec_versions, limit=parsed.limit,
                          next=parsed.next)
        page, envelope, headers = _page(session, row, tiers, filters,
                                        f"{cid}/versions/{object_id}")
        if page.rows:
            envelope["versions"] = [r.version for r in page.rows]
        return _taxii(envelope, headers=headers)
    return _run(request, session, handle)


# --- adding objects, status -----------------------------------------------------------


def _status_body(row: TaxiiStatusRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.id, "status": "complete",
        "request_timestamp": format_timestamp(row.request_timestamp),
        "total_count": row.total_count, "success_count": row.success_count,
        "failure_count": row.failure_count, "pending_count": 0,
    }
    if row.successes:
        body["successes"] = row.successes
    if row.failures:
        body["failures"] = row.failures
    return body


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_CONTENT_LENGTH:
        raise TooLarge(f"the body exceeds max_content_length ({MAX_CONTENT_LENGTH} bytes)")
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_CONTENT_LENGTH:
            raise TooLarge(f"the body exceeds max_content_length ({MAX_CONTENT_LENGTH} bytes)")
    return data


def parse_envelope(raw: bytes) -> list[dict[str, Any]]:
    """The objects of a TAXII envelope; malformed input is the client's error."""
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise TaxiiInputError("the body is not JSON", field="body") from None
    if not isinstance(document, dict) or not isinstance(document.get("objects"), list):
        raise TaxiiInputError("expected an envelope: {\"objects\": [...]}", field="objects")
    items = document["objects"]
    if not items or len(items) > MAX_OBJECTS_PER_POST:
        raise TaxiiInputError(f"an envelope carries 1-{MAX_OBJECTS_PER_POST} objects",
                              field="objects")
    if not all(isinstance(o, dict) for o in items):
        raise TaxiiInputError("every entry of objects must be a STIX object", field="objects")
    return items


@router.post("/{api_root}/collections/{cid}/objects/", summary="TAXII add objects",
             status_code=202)
async def add_objects(api_root: str, cid: str, request: Request, session: DbSession) -> Response:
    try:
        raw = await _body(request)
    except MamoriError as exc:
        return _error(exc)

    def handle(principal: Principal) -> Response:
        from mamori.dissemination.contributions import contribute

        _check_root(api_root)
        row, _, _ = _reader(session, principal, cid, action="provision.contribute")
        if not is_taxii_content(request.headers.get("content-type")):
            raise UnsupportedMediaType("send application/taxii+json;version=2.1")
        items = parse_envelope(raw)
        status = contribute(session=session, principal=principal, recipient=row,
                            objects=items, received_at=utcnow())
        return _taxii(_status_body(status), 202)
    return await run_in_threadpool(_run, request, session, handle)


@router.get("/{api_root}/status/{status_id}/", summary="TAXII status")
def get_status(api_root: str, status_id: str, request: Request, session: DbSession) -> Response:
    def handle(principal: Principal) -> Response:
        _check_root(api_root)
        row = session.get(TaxiiStatusRecord, status_id[:36])
        recipient = session.get(RecipientRecord, row.recipient_id) if row is not None else None
        guard.authorize(session=session, principal=principal, action="provision.receive",
                        resource=guard.resource(
                            guard.RECIPIENT, f"status:{status_id[:36]}",
                            organisation_id=recipient.organisation_id if recipient else None,
                            active_recipient=bool(recipient and recipient.active),
                            entitled=recipient is not None))
        if row is None:
            raise NotFound("no such status", field="status_id")
        return _taxii(_status_body(row))
    return _run(request, session, handle)
