"""The selection domain's public API at the zone's boundary: authorize, then act.

Keyword-only functions taking ``session=`` and ``principal=``. Every one calls
``mamori.access.service.authorize`` first; the sealed zone behind it
(:mod:`.engine`, :mod:`.core`, :mod:`.versions`) never sees a principal's rights,
only its name. Nothing here returns content from before selection: there is none
to return.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access import service as access_service
from mamori.access.principal import Principal, Resource
from mamori.audit import service as audit
from mamori.db import utcnow
from mamori.errors import InvalidInput, NotFound

from . import retention, versions
from .engine import Progress, run_selection
from .inputs import InputSource
from .mechanical import ITEMS, ItemSet
from .models import (
    ItemSetVersion,
    PrefixVersion,
    Receipt,
    ReceiptOut,
    SelectedRecord,
    SelectorSetOut,
)
from .prefixes import parse_prefix_file
from .receipts import SelectionReceipt
from .selectors import Parsed, YaraSource, parse_plain, parse_stix
from .selectors.matcher import compile_matcher
from .store import iter_records, records_query

MAX_FILE = 64 << 20
RETENTION = retention.DATA  # selected records are registered with the retention job
_YARA_RULE = re.compile(r"^\s*(?:(?:private|global)\s+)*rule\s+[A-Za-z_]\w*", re.MULTILINE)


def _authorize(session: Session, principal: Principal, action: str, kind: str,
               key: str = "") -> None:  # fmt: skip
    access_service.authorize(
        session=session, principal=principal, action=action, resource=Resource(type=kind, id=key)
    )


def _text(name: str, data: bytes) -> str:
    if len(data) > MAX_FILE:
        raise InvalidInput(f"{name}: larger than {MAX_FILE >> 20} MiB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{name}: not UTF-8 text") from None


# --- selector sets ----------------------------------------------------------------------


def parse_selector_file(name: str, data: bytes, *, now: datetime | None = None) -> Parsed:
    """A plain list, a STIX 2.1 bundle (``.json`` or JSON content) or YARA rules."""
    suffix = Path(name).suffix.lower()
    text = _text(name, data)
    stripped = text.lstrip()
    if suffix == ".json" or stripped.startswith(("{", "[")):
        return parse_stix(text.encode("utf-8"), source=name, now=now or utcnow())
    if suffix in (".yar", ".yara") or _YARA_RULE.search(text):
        parsed = Parsed(source=name, format="yara", yara=[YaraSource(name, text)])
        from .selectors import SelectorContent

        compile_matcher(SelectorContent.build([], parsed.yara))
        return parsed
    return parse_plain(text, source=name)


def import_selectors(
    *,
    session: Session,
    principal: Principal,
    name: str,
    files: Iterable[tuple[str, bytes]],
    description: str = "",
) -> versions.Imported:
    """A new version of selector set ``name`` from plain lists, STIX bundles and YARA."""
    _authorize(session, principal, "selectors.import", "selection.selector_set", name)
    parsed = [parse_selector_file(file_name, data) for file_name, data in files]
    if not parsed:
        raise InvalidInput("name at least one file to import")
    return versions.import_selectors(
        session=session, actor=principal.username, name=name, parsed=parsed,
        description=description,
    )


def list_selector_sets(*, session: Session, principal: Principal) -> list[SelectorSetOut]:
    _authorize(session, principal, "selectors.list", "selection.selector_set")
    return [
        SelectorSetOut(
            name=owner.name, description=owner.description, version=v.version,
            digest=v.digest, counts=v.counts, created_at=v.created_at, created_by=v.created_by,
        )
        for owner, v in versions.list_selector_sets(session)
    ]


def selector_set_versions(
    *, session: Session, principal: Principal, name: str
) -> list[SelectorSetOut]:
    _authorize(session, principal, "selectors.list", "selection.selector_set", name)
    rows = versions.selector_versions(session, name)
    return [
        SelectorSetOut(
            name=name, description="", version=v.version, digest=v.digest, counts=v.counts,
            created_at=v.created_at, created_by=v.created_by,
        )
        for v in rows
    ]


def selector_content(*, session: Session, principal: Principal, ref: str) -> dict[str, Any]:
    """The canonical content of one version (criteria, not communications)."""
    _authorize(session, principal, "selectors.list", "selection.selector_set", ref)
    owner, version = versions.resolve_selector_version(session, ref)
    from .selectors import SelectorContent

    content = SelectorContent.from_json(version.content)
    return {"name": owner.name, "version": version.version, "digest": version.digest,
            **content.to_json()}  # fmt: skip


# --- prefix table and item set ----------------------------------------------------------


def import_prefixes(
    *,
    session: Session,
    principal: Principal,
    files: Iterable[tuple[str, bytes]],
    country: str = "JP",
) -> versions.Imported:
    """A new domestic-prefix table from RIR delegated statistics and local overrides."""
    _authorize(session, principal, "selection.prefixes", "selection.prefix_table")
    sources = [
        parse_prefix_file(_text(file_name, data), source=file_name, country=country)
        for file_name, data in files
    ]
    if not sources:
        raise InvalidInput("name at least one file to import")
    return versions.import_prefixes(
        session=session, actor=principal.username, country=country, sources=sources
    )


def list_prefix_versions(*, session: Session, principal: Principal) -> list[PrefixVersion]:
    _authorize(session, principal, "selection.view", "selection.prefix_table")
    return versions.prefix_versions(session)


def item_set(*, session: Session, principal: Principal) -> tuple[ItemSet, list[ItemSetVersion]]:
    """The active item set and every recorded version."""
    _authorize(session, principal, "selection.view", "selection.item_set")
    return versions.current_item_set(session), versions.item_set_versions(session)


def set_item_set(
    *,
    session: Session,
    principal: Principal,
    items: list[str],
    public_comment_ref: str,
    consultation_ref: str,
    note: str = "",
) -> ItemSetVersion:
    _authorize(session, principal, "selection.configure", "selection.item_set")
    return versions.set_item_set(
        session=session, actor=principal.username, items=items,
        public_comment_ref=public_comment_ref, consultation_ref=consultation_ref, note=note,
    )


def known_items() -> dict[str, str]:
    return dict(ITEMS)


# --- runs and receipts ------------------------------------------------------------------


def run(
    *,
    session: Session,
    principal: Principal,
    measure_id: str,
    selector_set: str,
    inputs: Iterable[InputSource],
    batch_id: str,
    consume: bool = False,
    progress: Progress | None = None,
) -> SelectionReceipt:
    """Authorize ``selection.run`` and run one batch (see ``engine.run_selection``)."""
    sources = list(inputs)
    try:
        _authorize(session, principal, "selection.run", "selection.batch", batch_id)
    except BaseException:
        for source in sources:
            if source.spool is not None:
                source.spool.shred()
        raise
    return run_selection(
        session=session, principal_or_system=principal, measure_id=measure_id,
        selector_set_id=selector_set, inputs=sources, batch_id=batch_id, consume=consume,
        progress=progress,
    )


def list_receipts(
    *, session: Session, principal: Principal, measure_id: str | None = None, limit: int = 100
) -> list[ReceiptOut]:
    _authorize(session, principal, "selection.view", "selection.receipt")
    query = select(Receipt).order_by(Receipt.created_at.desc()).limit(max(1, min(limit, 1000)))
    if measure_id:
        query = query.where(Receipt.measure_id == measure_id)
    return [
        ReceiptOut(batch_id=r.batch_id, audit_seq=r.audit_seq, measure_id=r.measure_id,
                   records_out=r.records_out, created_at=r.created_at, details=r.details)
        for r in session.scalars(query)
    ]  # fmt: skip


# --- handing selected records over to the store ------------------------------------------


@dataclass(frozen=True)
class CommittedBatch:
    """A batch whose receipt is committed: the unit the store takes selected records in."""

    batch_id: str
    measure_id: str
    receipt_seq: int
    records: int
    created_at: datetime


def _handover_resource(batch_id: str = "") -> Resource:
    return Resource(type="selection.record", id=batch_id, labels=frozenset({"COMMS"}))


def committed_batches(*, session: Session, principal: Principal) -> list[CommittedBatch]:
    """Every committed batch, oldest first: what the store may take over.

    Behind the comms gate like the records themselves, so only designated handlers and
    the platform's maintenance job learn which batches exist."""
    access_service.authorize(session=session, principal=principal,
                             action="selection.handover", resource=_handover_resource())
    rows = session.scalars(select(Receipt).order_by(Receipt.created_at, Receipt.batch_id))
    return [CommittedBatch(r.batch_id, r.measure_id, r.audit_seq, r.records_out, r.created_at)
            for r in rows]


def batch_records(
    *, session: Session, principal: Principal, batch_id: str
) -> Iterator[SelectedRecord]:
    """The selected records (mechanical information only) of one committed batch.

    Authorized and audited before the first record is read (caller commits); an unknown
    batch is an error, not an empty batch."""
    access_service.authorize(session=session, principal=principal,
                             action="selection.handover",
                             resource=_handover_resource(batch_id))
    receipt = session.get(Receipt, batch_id)
    if receipt is None:
        raise NotFound(f"selection batch {batch_id}: no committed receipt")
    audit.record_by(session=session, principal=principal, action="selection.handed_over",
                    object_type="selection.batch", object_id=batch_id,
                    details={"measure_id": receipt.measure_id, "records": receipt.records_out,
                             "receipt_seq": receipt.audit_seq})
    return iter_records(session, records_query(batch_id=batch_id))
