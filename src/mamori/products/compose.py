"""Composing products, and reading them (issue 8 item 1, R-4.3-3 … R-4.3-5, R-5.3-1).

A product is store objects plus a narrative and recommended actions in Japanese and
English, a use (tactical, operational, strategic) and its readers. Products are
versioned: composing with ``supersedes`` makes the next version and marks the old one
superseded, so that every agency speaks with one voice — reading an old version always
says which version is current. A product carries the handling labels of what it holds,
so one that holds communications-derived content is behind the communications gate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.config import get_settings
from mamori.db import utcnow
from mamori.errors import Conflict, InvalidInput, NotFound
from mamori.intel import service as intel
from mamori.products import guard
from mamori.products import narrative as narrative_marks
from mamori.products.bundle import digest as content_digest
from mamori.products.models import Product, ProductRecord
from mamori.products.vocabulary import ATTRIBUTED, PUBLIC, READERS, USES

MAX_OBJECTS = 1000
_PRODUCT_ID = re.compile(r"^PRD-\d{4}-\d{4,6}$")
_STIX_ID = re.compile(r"^[a-z][a-z0-9-]*--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                      r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _text(field: str, value: str, *, limit: int, required: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{field}: expected text", field=field)
    text = value.replace("\r\n", "\n").strip()
    if required and not text:
        raise InvalidInput(f"{field}: required", field=field)
    if len(text) > limit:
        raise InvalidInput(f"{field}: longer than {limit} characters", field=field)
    return text


def check_product_id(product_id: str) -> str:
    text = (product_id or "").strip().upper()
    if not _PRODUCT_ID.match(text):
        raise InvalidInput("a product id looks like PRD-2026-0001", field="product_id")
    return text


def _object_ids(object_ids: Iterable[str]) -> list[str]:
    if isinstance(object_ids, str):
        raise InvalidInput("object_ids: expected a list of STIX ids", field="object_ids")
    ids = [str(i).strip() for i in object_ids]
    for position, oid in enumerate(ids, start=1):
        if not _STIX_ID.match(oid):
            raise InvalidInput(f"object {position}: not a STIX id (<type>--<UUID>)",
                               field="object_ids")
    unique = list(dict.fromkeys(ids))
    if len(unique) > MAX_OBJECTS:
        raise InvalidInput(f"object_ids: at most {MAX_OBJECTS} objects", field="object_ids")
    return unique


def _readers(readers: Iterable[str]) -> list[str]:
    if isinstance(readers, str):
        raise InvalidInput("readers: expected a list", field="readers")
    chosen = list(dict.fromkeys(str(r).strip() for r in readers if str(r).strip()))
    if not chosen:
        raise InvalidInput("readers: name at least one reader", field="readers")
    unknown = [r for r in chosen if r not in READERS]
    if unknown:
        raise InvalidInput(f"readers: unknown reader {unknown[0]!r}; readers are: "
                           f"{', '.join(READERS)}", field="readers")
    return chosen


def _label_text(labels: Iterable[str]) -> str:
    return ",".join(sorted(set(labels)))


def labels_of(row: ProductRecord) -> list[str]:
    return [label for label in row.labels.split(",") if label]


def _current_version(session: Session, product_id: str) -> int:
    return int(session.scalar(select(func.max(ProductRecord.version))
                              .where(ProductRecord.product_id == product_id)) or 0)


def to_product(session: Session, row: ProductRecord) -> Product:
    current = row.version if row.current else _current_version(session, row.product_id)
    return Product(
        id=row.product_id, version=row.version, current_version=current,
        superseded=not row.current, superseded_at=row.superseded_at,
        title_ja=row.title_ja, title_en=row.title_en, narrative_ja=row.narrative_ja,
        narrative_en=row.narrative_en, actions_ja=row.actions_ja, actions_en=row.actions_en,
        use=row.use, readers=list(row.readers), object_ids=list(row.object_ids),
        labels=labels_of(row), organisation_id=row.organisation_id, digest=row.digest,
        created_by=row.created_by, created_at=row.created_at)


def _new_product_id(session: Session, now: datetime) -> str:
    year = now.astimezone(ZoneInfo(get_settings().timezone)).year
    prefix = f"PRD-{year}-"
    existing = session.scalars(select(ProductRecord.product_id)
                               .where(ProductRecord.product_id.like(prefix + "%"))).all()
    number = max((int(p.rsplit("-", 1)[1]) for p in existing), default=0) + 1
    return f"{prefix}{number:04d}"


def compose_product(
    *,
    session: Session,
    principal: Principal,
    title_ja: str,
    title_en: str,
    narrative_ja: str,
    narrative_en: str,
    use: str,
    readers: list[str],
    object_ids: list[str],
    actions_ja: str = "",
    actions_en: str = "",
    supersedes: str | None = None,
) -> Product:
    """A new product, or with ``supersedes`` the next version of an existing one."""
    texts = {
        "title_ja": _text("title_ja", title_ja, limit=300, required=True),
        "title_en": _text("title_en", title_en, limit=300, required=True),
        "narrative_ja": _text("narrative_ja", narrative_ja, limit=narrative_marks.MAX_LENGTH),
        "narrative_en": _text("narrative_en", narrative_en, limit=narrative_marks.MAX_LENGTH),
        "actions_ja": _text("actions_ja", actions_ja, limit=20_000),
        "actions_en": _text("actions_en", actions_en, limit=20_000),
    }
    if use not in USES:
        raise InvalidInput(f"use: one of {', '.join(USES)}", field="use")
    chosen_readers = _readers(readers)
    ids = _object_ids(object_ids)
    passage_labels: set[str] = set()
    for name, text in texts.items():
        passage_labels |= narrative_marks.labels_of(narrative_marks.parse(text, field=name))
    guard.authorize(session=session, principal=principal, action="product.compose",
                    resource=guard.product(labels=passage_labels))
    records = intel.get_objects(session=session, principal=principal, ids=ids) if ids else []
    found = {r.stix_id: r for r in records}
    missing = [oid for oid in ids if oid not in found]
    if missing:
        raise InvalidInput(f"{len(missing)} object(s) are not in the store (first: "
                           f"{missing[0]})", field="object_ids")
    labels = set(passage_labels)
    for record in records:
        labels |= record.labels.names - {ATTRIBUTED}
    if labels - {PUBLIC}:
        labels.discard(PUBLIC)
    elif ids and all(PUBLIC in r.labels.names for r in records):
        labels = {PUBLIC}
    guard.authorize(session=session, principal=principal, action="product.compose",
                    resource=guard.product(labels=labels))
    now = utcnow()
    previous: ProductRecord | None = None
    if supersedes is not None:
        product_id = check_product_id(supersedes)
        previous = session.scalars(
            select(ProductRecord).where(ProductRecord.product_id == product_id,
                                        ProductRecord.current.is_(True))
            .with_for_update()).first()
        if previous is None:
            raise NotFound(f"no product {product_id}", field="supersedes")
        guard.authorize(session=session, principal=principal, action="product.compose",
                        resource=guard.product(product_id, labels_of(previous)))
        version = previous.version + 1
    else:
        product_id = _new_product_id(session, now)
        version = 1
    draft_digest = content_digest({**texts, "use": use, "readers": chosen_readers,
                                   "object_ids": ids})
    row = ProductRecord(product_id=product_id, version=version, current=True,
                        use=use, readers=chosen_readers, object_ids=ids,
                        labels=_label_text(labels), organisation_id=principal.organisation_id,
                        digest=draft_digest, created_by=principal.username, created_at=now,
                        **texts)
    try:
        with session.begin_nested():
            if previous is not None:
                previous.current = False
                previous.superseded_at = now
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(f"product {product_id} version {version} was made by someone else at "
                       "the same moment; compose again", field="supersedes") from None
    guard.audit(session=session, principal=principal,
                action="product.superseded" if previous is not None else "product.composed",
                object_type="product", object_id=product_id,
                details={"version": version, "use": use, "readers": chosen_readers,
                         "objects": len(ids), "labels": sorted(labels), "digest": draft_digest,
                         "supersedes_version": previous.version if previous else None},
                legal_basis="Act No. 42 of 2025, Art 37")
    return to_product(session, row)


def load_row(session: Session, product_id: str, version: int | None = None) -> ProductRecord:
    product_id = check_product_id(product_id)
    query = select(ProductRecord).where(ProductRecord.product_id == product_id)
    if version is None:
        query = query.where(ProductRecord.current.is_(True))
    else:
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise InvalidInput("version: a positive number", field="version")
        query = query.where(ProductRecord.version == version)
    row = session.scalars(query).first()
    if row is None:
        raise NotFound(f"no product {product_id}" + (f" version {version}" if version else ""),
                       field="product_id")
    return row


def get_product(*, session: Session, principal: Principal, product_id: str,
                version: int | None = None) -> Product:
    """A product's current version, or ``version`` (which says what is current)."""
    row = load_row(session, product_id, version)
    guard.authorize(session=session, principal=principal, action="product.view",
                    resource=guard.product(row.product_id, labels_of(row)))
    return to_product(session, row)


def list_versions(*, session: Session, principal: Principal, product_id: str) -> list[Product]:
    """Every version of a product, oldest first."""
    current = load_row(session, product_id)
    guard.authorize(session=session, principal=principal, action="product.view",
                    resource=guard.product(current.product_id, labels_of(current)))
    rows = session.scalars(select(ProductRecord).where(
        ProductRecord.product_id == current.product_id).order_by(ProductRecord.version)).all()
    visible = [r for r in rows if guard.permitted(
        session=session, principal=principal, action="product.view",
        resource=guard.product(r.product_id, labels_of(r)))]
    return [to_product(session, r) for r in visible]


def list_products(
    *,
    session: Session,
    principal: Principal,
    include_superseded: bool = False,
    use: str | None = None,
    reader: str | None = None,
    text: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Product]:
    """The products the principal may read, newest first (current versions unless
    ``include_superseded``). Products whose labels the principal may not read are not
    counted, listed or hinted at."""
    guard.authorize(session=session, principal=principal, action="product.list",
                    resource=guard.product())
    if use is not None and use not in USES:
        raise InvalidInput(f"use: one of {', '.join(USES)}", field="use")
    if reader is not None and reader not in READERS:
        raise InvalidInput(f"reader: one of {', '.join(READERS)}", field="reader")
    label_sets = session.scalars(select(ProductRecord.labels).distinct()).all()
    allowed = [ls for ls in label_sets if guard.permitted(
        session=session, principal=principal, action="product.view",
        resource=guard.product(labels=[x for x in ls.split(",") if x]))]
    if not allowed:
        return []
    query = select(ProductRecord).where(ProductRecord.labels.in_(sorted(allowed)))
    if not include_superseded:
        query = query.where(ProductRecord.current.is_(True))
    if use is not None:
        query = query.where(ProductRecord.use == use)
    if text:
        pattern = f"%{text.strip().lower()[:200]}%"
        query = query.where(func.lower(ProductRecord.title_en).like(pattern)
                            | ProductRecord.title_ja.like(f"%{text.strip()[:200]}%")
                            | (ProductRecord.product_id == text.strip().upper()))
    query = query.order_by(ProductRecord.created_at.desc(), ProductRecord.id.desc())
    rows = list(session.scalars(query.offset(max(0, offset)).limit(max(1, min(limit, 1000)))))
    if reader is not None:
        rows = [r for r in rows if reader in r.readers]
    return [to_product(session, r) for r in rows]
