"""Versioned configuration of the zone: selector sets, the prefix table, the item set.

Versions are immutable rows (a database trigger refuses UPDATE and DELETE);
importing content identical to the newest version creates nothing. Writers here
do not authorize — :mod:`.service` does, before calling them — but they audit.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.audit import service as audit
from mamori.db import utcnow
from mamori.errors import InvalidInput, NotFound

from .mechanical import DEFAULT, ItemSet, item_digest, validate_items
from .models import NAME_MAX, ItemSetVersion, PrefixVersion, SelectorSet, SelectorVersion
from .prefixes import Classifier, PrefixSource, PrefixTable
from .selectors import Parsed, SelectorContent
from .selectors.content import ID_RE


@dataclass(frozen=True)
class Imported:
    """The version an import produced (``created`` False: identical to the newest)."""

    version: SelectorVersion | PrefixVersion
    created: bool


# --- selector sets ----------------------------------------------------------------------


def parse_selector_ref(ref: str | int) -> tuple[str | None, int | None, int | None]:
    """``name``, ``name@version`` or a version row id: (name, version number, row id)."""
    if isinstance(ref, int):
        return None, None, ref
    text = ref.strip()
    name, at, number = text.partition("@")
    if at:
        if not number.isdigit():
            raise InvalidInput("selector set reference: the version after @ must be a number")
        return name, int(number), None
    return name, None, None


def resolve_selector_version(
    session: Session, ref: str | int
) -> tuple[SelectorSet, SelectorVersion]:
    """The set and version a reference names (the newest version for a bare name)."""
    name, number, row_id = parse_selector_ref(ref)
    if row_id is not None:
        version = session.get(SelectorVersion, row_id)
        if version is None:
            raise NotFound(f"selector set version {row_id} does not exist")
        owner = session.get(SelectorSet, version.set_id)
        assert owner is not None
        return owner, version
    owner = session.scalars(select(SelectorSet).where(SelectorSet.name == name)).first()
    if owner is None:
        raise NotFound(f"selector set {name!r} does not exist")
    query = select(SelectorVersion).where(SelectorVersion.set_id == owner.id)
    if number is not None:
        query = query.where(SelectorVersion.version == number)
    found = session.scalars(query.order_by(SelectorVersion.version.desc()).limit(1)).first()
    if found is None:
        raise NotFound(f"selector set {name!r} has no version {number}")
    return owner, found


def validate_set_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX or "@" in name or not ID_RE.match(name):
        raise InvalidInput(
            f"selector set name: 1 to {NAME_MAX} characters of A-Z a-z 0-9 _ . : - /, no @"
        )
    return name


def import_selectors(
    *,
    session: Session,
    actor: str,
    name: str,
    parsed: Sequence[Parsed],
    description: str = "",
) -> Imported:
    """A new version of set ``name`` (created if absent) holding exactly ``parsed``."""
    name = validate_set_name(name)
    content = SelectorContent.build(
        [s for p in parsed for s in p.selectors], [y for p in parsed for y in p.yara]
    )
    if content.is_empty():
        raise InvalidInput("the files hold no selector that selection can use")
    from .selectors.matcher import compile_matcher

    compile_matcher(content)  # YARA that does not compile fails here, before anything is kept
    owner = session.scalars(select(SelectorSet).where(SelectorSet.name == name)).first()
    now = utcnow()
    if owner is None:
        owner = SelectorSet(name=name, description=description.strip(), created_by=actor,
                            created_at=now)  # fmt: skip
        session.add(owner)
        session.flush()
    newest = session.scalars(
        select(SelectorVersion)
        .where(SelectorVersion.set_id == owner.id)
        .order_by(SelectorVersion.version.desc())
        .limit(1)
    ).first()
    digest = content.digest
    if newest is not None and newest.digest == digest:
        return Imported(newest, False)
    version = SelectorVersion(
        set_id=owner.id,
        version=(newest.version + 1) if newest else 1,
        digest=digest,
        content=content.canonical().decode("utf-8"),
        counts=content.counts(),
        sources=[p.summary() for p in parsed],
        created_by=actor,
        created_at=now,
    )
    session.add(version)
    session.flush()
    audit.record(
        session=session, actor=actor, action="selection.selectors.imported",
        object_type="selection.selector_set", object_id=f"{name}@{version.version}",
        details={"digest": digest, "counts": version.counts,
                 "sources": [{k: v for k, v in s.items() if k != "skipped_reasons"}
                             for s in version.sources]},
    )  # fmt: skip
    return Imported(version, True)


def list_selector_sets(session: Session) -> list[tuple[SelectorSet, SelectorVersion]]:
    newest = (
        select(SelectorVersion.set_id, func.max(SelectorVersion.version).label("v"))
        .group_by(SelectorVersion.set_id)
        .subquery()
    )
    rows = session.execute(
        select(SelectorSet, SelectorVersion)
        .join(SelectorVersion, SelectorVersion.set_id == SelectorSet.id)
        .join(newest, (newest.c.set_id == SelectorVersion.set_id)
              & (newest.c.v == SelectorVersion.version))
        .order_by(SelectorSet.name)
    ).all()  # fmt: skip
    return [(row[0], row[1]) for row in rows]


def selector_versions(session: Session, name: str) -> list[SelectorVersion]:
    owner = session.scalars(select(SelectorSet).where(SelectorSet.name == name)).first()
    if owner is None:
        raise NotFound(f"selector set {name!r} does not exist")
    return list(
        session.scalars(
            select(SelectorVersion)
            .where(SelectorVersion.set_id == owner.id)
            .order_by(SelectorVersion.version)
        )
    )


# --- domestic-prefix table --------------------------------------------------------------


def current_prefixes(session: Session) -> tuple[PrefixVersion, PrefixTable] | None:
    row = session.scalars(
        select(PrefixVersion).order_by(PrefixVersion.version.desc()).limit(1)
    ).first()
    if row is None:
        return None
    return row, PrefixTable.from_json(row.content)


_CLASSIFIERS: OrderedDict[str, Classifier] = OrderedDict()
CLASSIFIER_CACHE_SIZE = 2


def current_classifier(session: Session) -> tuple[PrefixVersion, Classifier] | None:
    """The newest prefix version and its classifier, built once per process and digest.

    Building a classifier expands the table into a 2^24-entry bucket array; doing that
    for every batch would dominate small batches (queue workers), so it is cached.
    """
    row = session.scalars(
        select(PrefixVersion).order_by(PrefixVersion.version.desc()).limit(1)
    ).first()
    if row is None:
        return None
    classifier = _CLASSIFIERS.get(row.digest)
    if classifier is None:
        classifier = Classifier(PrefixTable.from_json(row.content))
        _CLASSIFIERS[row.digest] = classifier
        while len(_CLASSIFIERS) > CLASSIFIER_CACHE_SIZE:
            _CLASSIFIERS.popitem(last=False)
    else:
        _CLASSIFIERS.move_to_end(row.digest)
    return row, classifier


def import_prefixes(
    *, session: Session, actor: str, country: str, sources: Sequence[PrefixSource]
) -> Imported:
    """A new version of the domestic-prefix table built from ``sources``."""
    country = (country or "").strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise InvalidInput("country: a two-letter ISO 3166 code, e.g. JP")
    table = PrefixTable.build(country, sources)
    if not table.v4 and not table.v6:
        raise InvalidInput(f"the files hold no {country} prefix: the table would be empty")
    latest = current_prefixes(session)
    if latest is not None and latest[0].digest == table.digest:
        return Imported(latest[0], False)
    row = PrefixVersion(
        version=(latest[0].version + 1) if latest else 1,
        country=country,
        digest=table.digest,
        content=table.canonical().decode("ascii"),
        counts=table.counts(),
        sources=[s.summary() for s in sources],
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session=session, actor=actor, action="selection.prefixes.imported",
        object_type="selection.prefix_table", object_id=str(row.version),
        details={"digest": row.digest, "country": country, "counts": row.counts,
                 "sources": row.sources},
    )  # fmt: skip
    return Imported(row, True)


def prefix_versions(session: Session) -> list[PrefixVersion]:
    return list(session.scalars(select(PrefixVersion).order_by(PrefixVersion.version)))


# --- mechanical-information item set ----------------------------------------------------


def current_item_set(session: Session) -> ItemSet:
    row = session.scalars(
        select(ItemSetVersion).order_by(ItemSetVersion.version.desc()).limit(1)
    ).first()
    if row is None:
        return DEFAULT
    return ItemSet(row.version, frozenset(row.items))


def item_set_versions(session: Session) -> list[ItemSetVersion]:
    return list(session.scalars(select(ItemSetVersion).order_by(ItemSetVersion.version)))


def set_item_set(
    *,
    session: Session,
    actor: str,
    items: list[str],
    public_comment_ref: str,
    consultation_ref: str,
    note: str = "",
) -> ItemSetVersion:
    """Activate a new item set; needs evidence of public comment and consultation."""
    cleaned = validate_items(items)
    public_comment_ref = (public_comment_ref or "").strip()
    consultation_ref = (consultation_ref or "").strip()
    if not public_comment_ref or not consultation_ref:
        raise InvalidInput(
            "a new item set needs the reference of the public comment and of the "
            "consultation with the oversight committee (R-1.5-8)"
        )
    if len(public_comment_ref) > 200 or len(consultation_ref) > 200:
        raise InvalidInput("references are at most 200 characters")
    current = current_item_set(session)
    if sorted(current.items) == cleaned:
        raise InvalidInput(f"item set version {current.version} already holds these items")
    row = ItemSetVersion(
        version=current.version + 1,
        items=cleaned,
        digest=item_digest(cleaned),
        public_comment_ref=public_comment_ref,
        consultation_ref=consultation_ref,
        note=(note or "").strip(),
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session=session, actor=actor, action="selection.items.changed",
        object_type="selection.item_set", object_id=str(row.version),
        legal_basis="Art 2(8)",
        details={"items": cleaned, "digest": row.digest, "previous": current.version,
                 "public_comment": public_comment_ref, "consultation": consultation_ref},
    )  # fmt: skip
    return row
