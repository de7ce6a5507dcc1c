"""Partners' TAXII 2.1 collections, pulled incrementally with ``added_after``.

A source is registered once (collection URL, user, the *name* of the environment
variable holding the password, the labels its objects get); each pull asks for what
was added after the stored cursor, page by page, stores each page and moves the cursor
to the server's ``X-TAXII-Date-Added-Last``. A pull that stops half-way resumes where
the last stored page ended.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.errors import Conflict, InvalidInput, MamoriError, NotFound
from mamori.intel import guard, store
from mamori.intel.ingest.bundle import import_objects
from mamori.intel.labels import Labels, build_labels
from mamori.intel.models import PullResult, TaxiiSourceOut, TaxiiSourceRow

PAGE_SIZE = 500
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_ENV = re.compile(r"^[A-Z_][A-Z0-9_]{0,99}$")
DATE_ADDED_LAST = "X-TAXII-Date-Added-Last"


class SourceUnavailable(MamoriError):
    """The partner's server did not answer as a TAXII 2.1 collection."""

    status_code = 502
    title = "TAXII source unavailable"


def _out(session: Session, row: TaxiiSourceRow) -> TaxiiSourceOut:
    return TaxiiSourceOut(id=row.id, name=row.name, url=row.url, username=row.username,
                          password_env=row.password_env,
                          labels=store.labels_of(session, row.label_set_id),
                          added_after=row.added_after, enabled=row.enabled,
                          last_pulled_at=row.last_pulled_at, last_status=row.last_status)


def add_source(
    *, session: Session, principal: Principal, name: str, url: str,
    username: str | None = None, password_env: str | None = None,
    labels: Iterable[str] = ("SECRET",), consent: Iterable[str] | None = None,
) -> TaxiiSourceOut:
    """Register a collection; its objects are ATTRIBUTED to ``taxii:<name>``."""
    guard.authorize_source(session=session, principal=principal, key=name)
    name = (name or "").strip().lower()
    if not _NAME.match(name):
        raise InvalidInput("source name: lower-case letters, digits, - and _ (at most 63)",
                           field="name")
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("the collection URL must be http(s)://host/.../collections/<id>/",
                           field="url")
    if password_env is not None and not _ENV.match(password_env):
        raise InvalidInput("password_env names an environment variable (A-Z, 0-9, _)",
                           field="password_env")
    chosen = build_labels(labels, source=f"taxii:{name}", consent=list(consent or []))
    if chosen.comms:
        raise InvalidInput("a partner's feed is not communications information (no COMMS)",
                           field="labels")
    if session.scalar(select(TaxiiSourceRow.id).where(TaxiiSourceRow.name == name)):
        raise Conflict(f"a TAXII source named {name} exists already", field="name")
    row = TaxiiSourceRow(name=name, url=url.strip() if url.strip().endswith("/")
                         else url.strip() + "/", username=username or None,
                         password_env=password_env, enabled=True,
                         label_set_id=store.label_set_id(session, chosen),
                         created_by=principal.username)
    session.add(row)
    session.flush()
    guard.audit(session=session, principal=principal, action="intel.taxii_source_added",
                object_type="intel.source", object_id=row.id,
                details={"name": name, "labels": sorted(chosen.names)})
    return _out(session, row)


def list_sources(*, session: Session, principal: Principal) -> list[TaxiiSourceOut]:
    guard.authorize_source(session=session, principal=principal)
    return [_out(session, r) for r in session.scalars(
        select(TaxiiSourceRow).order_by(TaxiiSourceRow.name))]


class _Collection:
    """A taxii2-client collection that also reports the date-added headers."""

    def __init__(self, row: TaxiiSourceRow) -> None:
        from taxii2client.common import _HTTPConnection
        from taxii2client.v21 import Collection

        password = os.environ.get(row.password_env) if row.password_env else None
        if row.password_env and password is None:
            raise SourceUnavailable(
                f"{row.name}: the environment variable {row.password_env} is not set",
                field="password_env")
        connection = _HTTPConnection(user=row.username, password=password, version="2.1")
        self.last_added: str | None = None
        connection.session.hooks["response"].append(self._hook)
        self.collection = Collection(row.url, conn=connection)

    def _hook(self, response: Any, *args: Any, **kwargs: Any) -> None:
        value = response.headers.get(DATE_ADDED_LAST)
        if value:
            self.last_added = value


def _pages(client: _Collection, added_after: str | None) -> Iterable[dict[str, Any]]:
    from taxii2client.v21 import as_pages

    kwargs: dict[str, Any] = {}
    if added_after:
        kwargs["added_after"] = added_after
    yield from as_pages(client.collection.get_objects, per_request=PAGE_SIZE, **kwargs)


def pull_source(
    *, session: Session, principal: Principal, name: str,
    checkpoint: Callable[[], None] | None = None,
) -> PullResult:
    """Pull what the collection added after the cursor; ``checkpoint`` runs after each
    stored page (the scheduled job commits there, so a failed pull resumes)."""
    guard.authorize_source(session=session, principal=principal, key=name)
    row = session.scalar(select(TaxiiSourceRow).where(TaxiiSourceRow.name == name))
    if row is None:
        raise NotFound(f"no TAXII source named {name}", field="name")
    labels: Labels = store.labels_of(session, row.label_set_id)
    result = PullResult(source=name, pages=0, objects=0, stored=0, merged=0, rejected=0,
                        added_after=row.added_after)
    try:
        client = _Collection(row)
        for envelope in _pages(client, row.added_after):
            objects = envelope.get("objects", []) if isinstance(envelope, dict) else []
            if objects:
                imported = import_objects(
                    session=session, principal=principal, objects=objects,
                    source=f"taxii:{name}", labels=labels, kind="taxii",
                    context={"added_after": row.added_after})
                result.stored += imported.stored
                result.merged += imported.merged
                result.rejected += len(imported.rejected)
            result.pages += 1
            result.objects += len(objects)
            if client.last_added:
                row.added_after = client.last_added
            row.last_pulled_at = utcnow()
            row.last_status = f"ok: {result.objects} objects"
            session.flush()
            if checkpoint is not None:
                checkpoint()
    except MamoriError:
        raise
    except Exception as exc:  # the partner's server or the network failed
        raise SourceUnavailable(f"{name}: the TAXII server did not answer as expected "
                                f"({type(exc).__name__})", field="source") from None
    result.added_after = row.added_after
    return result


def pull_all(*, session: Session, principal: Principal,
             checkpoint: Callable[[], None] | None = None) -> list[PullResult]:
    """Pull every enabled source; a failing source is reported and the rest still run."""
    guard.authorize_source(session=session, principal=principal)
    results = []
    names = list(session.scalars(select(TaxiiSourceRow.name).where(
        TaxiiSourceRow.enabled.is_(True)).order_by(TaxiiSourceRow.name)))
    for name in names:
        try:
            results.append(pull_source(session=session, principal=principal, name=name,
                                       checkpoint=checkpoint))
        except SourceUnavailable as exc:
            row = session.scalar(select(TaxiiSourceRow).where(TaxiiSourceRow.name == name))
            if row is not None:
                row.last_status = exc.detail[:300]
                row.last_pulled_at = utcnow()
            results.append(PullResult(source=name, pages=0, objects=0, stored=0, merged=0,
                                      rejected=0, added_after=row.added_after if row else None))
    return results
