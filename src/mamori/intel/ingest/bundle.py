"""Importing STIX 2.1 bundles: from a file, the API, a partner's feed or a source sync.

Every object is stored, merged or rejected with a reason; nothing is dropped silently.
Labels come from the caller (and from a mamori export's ``x_mamori_handling``, which
can only add restrictions); the import is authorized for every label set it will
write before anything is written, and audited with its counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.errors import InvalidInput
from mamori.intel import guard, store
from mamori.intel.labels import HANDLING_PROPERTY, Labels, carried_labels, union_all
from mamori.intel.models import ImportResult, Rejection

MAX_BUNDLE_BYTES = 512 << 20
SOURCE_MAX = 300


def parse_bundle_text(data: bytes | str, *, name: str = "bundle") -> dict[str, Any]:
    """A bundle from JSON text; errors name the file and position, never content."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise InvalidInput(f"{name}: larger than {MAX_BUNDLE_BYTES >> 20} MiB", field="bundle")
    try:
        parsed = json.loads(data)
    except UnicodeDecodeError:
        raise InvalidInput(f"{name}: not UTF-8 text", field="bundle") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{name}: not JSON (line {exc.lineno}, column {exc.colno})",
                           field="bundle") from None
    return check_bundle(parsed, name=name)


def check_bundle(bundle: Any, *, name: str = "bundle") -> dict[str, Any]:
    if not isinstance(bundle, Mapping) or bundle.get("type") != "bundle":
        raise InvalidInput(f"{name}: not a STIX bundle (a JSON object with type \"bundle\")",
                           field="bundle")
    objects = bundle.get("objects", [])
    if not isinstance(objects, list):
        raise InvalidInput(f"{name}: \"objects\" is not a list", field="bundle")
    return dict(bundle)


def clean_source(source: str) -> str:
    text = " ".join((source or "").split())
    if not text:
        raise InvalidInput("name the source of the bundle", field="source")
    if len(text) > SOURCE_MAX:
        raise InvalidInput(f"the source name is longer than {SOURCE_MAX} characters",
                           field="source")
    return text


def effective_labels(obj: Any, labels: Labels) -> Labels:
    """The caller's labels plus those a mamori export carried on the object."""
    if isinstance(obj, dict) and HANDLING_PROPERTY in obj:
        try:
            carried = carried_labels(obj)
        except InvalidInput:
            carried = None
        if carried is not None:
            return labels.union(carried)
    return labels


def import_objects(
    *, session: Session, principal: Principal, objects: Iterable[Any], source: str,
    labels: Labels, kind: str, context: dict[str, Any] | None = None,
    derived_from: Mapping[str, tuple[str, ...]] | None = None, action: str = "intel.import",
    keep_ids: bool = False,
) -> ImportResult:
    """Store ``objects`` under ``labels``; the one write path of every ingest."""
    source = clean_source(source)
    items = list(objects)
    incoming = [store.Incoming(obj=obj, labels=effective_labels(obj, labels), index=n,
                               context=context,
                               derived_from=(derived_from or {}).get(
                                   obj.get("id", "") if isinstance(obj, dict) else "", ()))
                for n, obj in enumerate(items)]
    label_sets = {i.labels for i in incoming} | {labels}
    for label_set in label_sets:
        guard.authorize(session=session, principal=principal, action=action, labels=label_set,
                        key=source[:100])
    # The import is labelled like everything it wrote, so that its counts are hidden
    # from whoever may not see all of it.
    row = store.new_import(session, kind=kind, source=source, actor=principal.username,
                           labels=union_all(label_sets))
    outcome = store.store_objects(session, items=incoming, import_row=row, keep_ids=keep_ids)
    store.finish_import(session, row, outcome)
    guard.audit(session=session, principal=principal, action="intel.imported",
                object_type="intel.import", object_id=row.id, details={
                    "kind": kind, "source": source, "labels": sorted(labels.names),
                    "stored": outcome.stored, "merged": outcome.merged,
                    "rejected": len(outcome.rejected)})
    return ImportResult(import_id=row.id, source=source, labels=labels, stored=outcome.stored,
                        merged=outcome.merged, rejected=outcome.rejected,
                        warnings=outcome.warnings, stored_ids=outcome.stored_ids)


def import_bundle(
    *, session: Session, principal: Principal, bundle: Mapping[str, Any], source: str,
    labels: Labels, kind: str = "bundle", context: dict[str, Any] | None = None,
) -> ImportResult:
    """Import one bundle (see :func:`import_objects`)."""
    checked = check_bundle(bundle)
    return import_objects(session=session, principal=principal,
                          objects=checked.get("objects", []), source=source, labels=labels,
                          kind=kind, context=context)


def rejection_lines(rejected: list[Rejection]) -> list[str]:
    """One line per rejected object, for people."""
    return [f"object {r.index}{' (' + r.id + ')' if r.id else ''}: {r.reason}" for r in rejected]
