"""Reading a product's objects from the intel store, through its service only.

The store may hold one STIX id under several label sets (the same address from selected
communications and from an operator's report). For a tier, the newest variant the tier
admits is chosen, so that content known independently of communications is not lost;
ancestors are fetched along ``derived_from`` so the sanitiser can follow lineage, and an
ancestor with an admissible variant counts as independently known. What the principal
may not read is simply absent, and the sanitiser treats it as such.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.errors import NotFound
from mamori.intel import service as intel
from mamori.intel.models import StixRecord
from mamori.products.source import Attribution, SourceObject
from mamori.products.vocabulary import COMMS, PROVISION_DERIVED, SECRET

MAX_ANCESTORS = 5000
MAX_DEPTH = 16


@dataclass(frozen=True)
class Loaded:
    """The product's objects by id, and their ancestors and creators by id (None: the
    store does not let this principal read it)."""

    objects: dict[str, SourceObject]
    context: dict[str, SourceObject | None]


def source_object(record: StixRecord) -> SourceObject:
    labels = record.labels
    return SourceObject(
        stix=dict(record.object),
        labels=frozenset(labels.names),
        attributions=tuple(Attribution(source=a.source, consent=frozenset(a.consent))
                           for a in labels.attributed),
        derived_from=tuple(record.derived_from),
    )


def _admissible(obj: SourceObject, tier: int, released: frozenset[str]) -> bool:
    if tier == 1:
        return True
    if obj.id in released:
        return tier == 2
    if COMMS in obj.labels or PROVISION_DERIVED in obj.labels:
        return False
    return not (tier == 3 and SECRET in obj.labels)


def _variants(session: Session, principal: Principal, stix_id: str) -> list[SourceObject]:
    """The current version under each label set, newest last."""
    try:
        records = intel.list_versions(session=session, principal=principal, stix_id=stix_id)
    except NotFound:
        return []
    return [source_object(r) for r in records if r.latest and not r.revoked]


def _current(session: Session, principal: Principal, ids: Sequence[str]) -> dict[str, SourceObject]:
    if not ids:
        return {}
    records = intel.get_objects(session=session, principal=principal, ids=ids)
    return {r.stix_id: source_object(r) for r in records}


def load(*, session: Session, principal: Principal, ids: Iterable[str], tier: int,
         released: frozenset[str]) -> Loaded:
    """The product's objects for ``tier``, with their lineage and creators."""
    wanted = list(dict.fromkeys(ids))
    objects = _current(session, principal, wanted)
    for oid, obj in list(objects.items()):
        if not _admissible(obj, tier, released):
            better = [v for v in _variants(session, principal, oid)
                      if _admissible(v, tier, released)]
            if better:
                objects[oid] = better[-1]
    context: dict[str, SourceObject | None] = {}
    frontier = {d for o in objects.values() for d in o.derived_from}
    depth = 0
    while frontier and depth < MAX_DEPTH and len(context) < MAX_ANCESTORS:
        todo = sorted(frontier - set(context) - set(objects))
        found = _current(session, principal, todo)
        for oid in todo:
            ancestor = found.get(oid)
            if ancestor is not None and oid not in released and (
                    COMMS in ancestor.labels or PROVISION_DERIVED in ancestor.labels):
                clean = [v for v in _variants(session, principal, oid)
                         if COMMS not in v.labels and PROVISION_DERIVED not in v.labels]
                if clean:
                    ancestor = SourceObject(stix=ancestor.stix, labels=ancestor.labels,
                                            attributions=ancestor.attributions,
                                            derived_from=ancestor.derived_from,
                                            independent=True)
            context[oid] = ancestor
        frontier = {d for oid in todo if (o := context.get(oid)) is not None
                    for d in o.derived_from}
        depth += 1
    for oid in frontier - set(context) - set(objects):
        context[oid] = None  # beyond the depth we follow: treated as unreadable
    creators = sorted({str(o.stix["created_by_ref"]) for o in objects.values()
                       if isinstance(o.stix.get("created_by_ref"), str)}
                      - set(objects) - set(context))
    found = _current(session, principal, creators)
    for oid in creators:
        creator = found.get(oid)
        if creator is not None and creator.type == "identity":
            if not _admissible(creator, tier, released):
                better = [v for v in _variants(session, principal, oid)
                          if _admissible(v, tier, released)]
                creator = better[-1] if better else creator
            context[oid] = creator
    return Loaded(objects=objects, context=context)
