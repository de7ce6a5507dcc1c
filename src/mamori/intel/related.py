"""Everything related to a value or an object within N hops.

Objects are related when they share a correlation value (not ubiquitous, not
excluded), when one references the other, or through a relationship object (which
counts as an edge, not a hop). The search runs breadth-first over the reader's scope
only, bounded by the fan-out cap per value and per referenced object and by a result
limit, so its cost is set by what it finds, not by the size of the store.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.intel import correlation
from mamori.intel import values as v
from mamori.intel.exclusions import Exclusions
from mamori.intel.models import ObjectRow, RefRow, RelatedEdge, RelatedNode, RelatedResult
from mamori.intel.read import CHUNK, _newest
from mamori.intel.visibility import Scope


@dataclass
class _Walk:
    session: Session
    scope: Scope
    cap: int
    limit: int
    exclusions: Exclusions
    hop_of: dict[int, int] = field(default_factory=dict)  # object row id -> hop
    stix_of: dict[int, str] = field(default_factory=dict)
    type_of: dict[int, str] = field(default_factory=dict)
    edges: dict[tuple[str, str, str, str], RelatedEdge] = field(default_factory=dict)
    ubiquitous: set[str] = field(default_factory=set)
    excluded: set[str] = field(default_factory=set)
    followed: set[v.Value] = field(default_factory=set)
    truncated: bool = False
    plens: dict[str, frozenset[int]] | None = None

    def add(self, row_id: int, hop: int) -> bool:
        if row_id in self.hop_of:
            return False
        if len(self.hop_of) >= self.limit:
            self.truncated = True
            return False
        self.hop_of[row_id] = hop
        return True

    def edge(self, a: str, b: str, via: str, detail: str, rel: str | None = None) -> None:
        if a == b:
            return
        first, second = sorted((a, b))
        self.edges.setdefault((first, second, via, detail),
                              RelatedEdge(source=a, target=b, via=via, detail=detail,
                                          relationship_id=rel))


def _by_ids(session: Session, columns: str, ids: list[int]) -> list[Any]:
    """Plain rows of ``intel_object`` by row id (the ids are integers of ours)."""
    found: list[Any] = []
    postgresql = session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(ids), CHUNK):
        part = [int(i) for i in ids[start:start + CHUNK]]
        params: tuple[Any, ...]
        if postgresql:
            statement, params = (f"SELECT {columns} FROM intel_object "  # noqa: S608 (ours)
                                 "WHERE id = ANY(%s::bigint[])", (part,))
        else:
            statement, params = (f"SELECT {columns} FROM intel_object WHERE id IN "  # noqa: S608 (ours)
                                 f"({', '.join('?' for _ in part)})", tuple(part))
        found += list(session.connection().exec_driver_sql(statement, params))
    return found


def _describe(session: Session, scope: Scope, row_ids: Iterable[int], walk: _Walk) -> None:
    ids = sorted(set(row_ids) - set(walk.stix_of))
    for row_id, stix_id, kind in _by_ids(session, "id, stix_id, stix_type", ids):
        walk.stix_of[int(row_id)] = stix_id
        walk.type_of[int(row_id)] = kind


def _latest_rows(session: Session, scope: Scope, stix_ids: Iterable[str]) -> dict[str, list[int]]:
    """Visible latest, unrevoked row ids per STIX id."""
    found: dict[str, list[int]] = {}
    ids = sorted(set(stix_ids))
    for start in range(0, len(ids), CHUNK):
        for row_id, stix_id in session.execute(
                select(ObjectRow.id, ObjectRow.stix_id).where(
                    ObjectRow.stix_id.in_(ids[start:start + CHUNK]), ObjectRow.latest.is_(True),
                    ObjectRow.revoked.is_(False), scope.where(ObjectRow.label_set_id))):
            found.setdefault(stix_id, []).append(row_id)
    return found


def _incoming(session: Session, scope: Scope, stix_ids: list[str], cap: int
              ) -> tuple[dict[str, list[tuple[int, str]]], set[str]]:
    """Visible rows referencing each id, at most ``cap`` per id (more: a hub)."""
    found: dict[str, list[tuple[int, str]]] = {}
    hubs: set[str] = set()
    labels = correlation.label_filter(scope)
    postgresql = session.get_bind().dialect.name == "postgresql"
    connection = session.connection()
    for start in range(0, len(stix_ids), correlation.PROBES_PER_STATEMENT):
        part = stix_ids[start:start + correlation.PROBES_PER_STATEMENT]
        if postgresql:  # one array parameter: the same text every time, planned once
            statement = (
                "SELECT q.n - 1, r.object_id, r.prop FROM unnest(%s::text[]) WITH ORDINALITY "  # noqa: S608 (placeholders)
                "AS q(ref, n) CROSS JOIN LATERAL (SELECT object_id, prop FROM intel_ref "
                f"WHERE ref = q.ref AND {labels} LIMIT {int(cap) + 1}) AS r")
            params: tuple[object, ...] = (list(part),)
        else:
            statement = " UNION ALL ".join(
                f"SELECT {number} AS n, object_id, prop FROM (SELECT object_id, prop FROM "  # noqa: S608 (placeholders)
                f"intel_ref WHERE ref = ? AND {labels} LIMIT {int(cap) + 1}) AS r{number}"
                for number in range(len(part)))
            params = tuple(part)
        rows: dict[int, list[tuple[int, str]]] = {}
        for number, object_id, prop in connection.exec_driver_sql(statement, params):
            rows.setdefault(int(number), []).append((int(object_id), prop))
        for number, ref in enumerate(part):
            items = rows.get(number, [])
            if len({i for i, _ in items}) > cap:
                hubs.add(ref)
            elif items:
                found[ref] = items
    return found, hubs


def _outgoing(session: Session, scope: Scope, row_ids: list[int]) -> list[tuple[int, str, str]]:
    found = []
    for start in range(0, len(row_ids), CHUNK):
        found += [(int(o), r, p) for o, r, p in session.execute(
            select(RefRow.object_id, RefRow.ref, RefRow.prop)
            .where(RefRow.object_id.in_(row_ids[start:start + CHUNK])))]
    return found


def _expand(walk: _Walk, frontier: list[int], hop: int) -> list[int]:
    session, scope = walk.session, walk.scope
    reached: list[int] = []
    links: list[tuple[str, int, str, str]] = []  # (from stix id, to row, via, detail)

    def reach(row_id: int) -> None:
        if walk.add(row_id, hop):
            reached.append(row_id)

    # shared values
    values = correlation.values_of_objects(session, frontier)
    owners: dict[v.Value, list[int]] = {}
    for row_id, found in values.items():
        for value in found:
            owners.setdefault(value, []).append(row_id)
    probes: list[correlation.Probe] = []
    for value in sorted(owners):
        if value in walk.followed:
            continue
        walk.followed.add(value)
        if walk.exclusions.excludes(value):
            walk.excluded.add(value.label)
            continue
        probes += correlation.probes(value, plens=walk.plens)
    step = correlation.PROBES_PER_STATEMENT
    for start in range(0, len(probes), step):
        if walk.truncated:  # the result limit is reached: the rest would be cut anyway
            break
        hits = correlation.run_probes(session, scope, probes[start:start + step],
                                      cap=walk.cap)
        for value, found_hits in hits.items():
            walk.ubiquitous.update(found_hits.ubiquitous)
            for matched, ids in found_hits.objects.items():
                for row_id in ids:
                    reach(row_id)
                    links += [(walk.stix_of[o], row_id, "value", matched)
                              for o in owners[value]]
    # references, both ways
    outgoing = _outgoing(session, scope, frontier)
    targets = _latest_rows(session, scope, {ref for _, ref, _ in outgoing})
    for source, ref, prop in outgoing:
        for row_id in targets.get(ref, []):
            reach(row_id)
            links.append((walk.stix_of[source], row_id, "ref", prop))
    incoming, hubs = _incoming(session, scope, sorted({walk.stix_of[r] for r in frontier}),
                               walk.cap)
    walk.ubiquitous.update(f"object:{h}" for h in hubs)
    for target, items in incoming.items():
        for row_id, prop in items:
            reach(row_id)
            links.append((target, row_id, "ref", prop))
    _describe(session, scope, [row_id for _, row_id, _, _ in links], walk)
    for origin, row_id, via, detail in links:
        walk.edge(origin, walk.stix_of[row_id], via, detail)
    return _collapse_relationships(walk, reached, hop)


def _collapse_relationships(walk: _Walk, reached: list[int], hop: int) -> list[int]:
    """A relationship is an edge: reaching it brings both its ends to the same hop."""
    relationships = [r for r in reached if walk.type_of.get(r) == "relationship"]
    if not relationships:
        return reached
    bodies = {row_id: json.loads(body) for row_id, body in walk.session.execute(
        select(ObjectRow.id, ObjectRow.body).where(ObjectRow.id.in_(relationships)))}
    ends = {ref for body in bodies.values() for ref in (body.get("source_ref"),
                                                         body.get("target_ref")) if ref}
    rows = _latest_rows(walk.session, walk.scope, ends)
    extra: list[int] = []
    for body in bodies.values():
        source, target = body.get("source_ref"), body.get("target_ref")
        for end in (source, target):
            for end_row in rows.get(end, []):
                if walk.add(end_row, hop):
                    extra.append(end_row)
        walk.edge(str(source), str(target), "relationship",
                  str(body.get("relationship_type")), body.get("id"))
    _describe(walk.session, walk.scope, extra, walk)
    return [r for r in reached if r not in bodies] + extra


def walk_related(
    session: Session, scope: Scope, *, start_rows: list[int], start_value: v.Value | None,
    hops: int, cap: int, limit: int, exclusions: Exclusions, query: str,
) -> RelatedResult:
    """Breadth-first from ``start_rows`` (an object) or ``start_value`` (a value)."""
    from mamori.intel.store import prefix_lengths

    walk = _Walk(session, scope, cap, limit, exclusions, plens=prefix_lengths(session))
    frontier: list[int] = []
    first_hop = 1
    if start_value is not None:
        excluded = exclusions.excludes(start_value)
        if excluded:
            walk.excluded.add(start_value.label)
        hits = correlation.lookup(session, scope, start_value, cap=cap)
        walk.ubiquitous.update(hits.ubiquitous)
        walk.followed.add(start_value)
        links = []
        for matched, ids in hits.objects.items():
            for row_id in ids:
                if walk.add(row_id, 1):
                    frontier.append(row_id)
                links.append((row_id, matched))
        _describe(session, scope, frontier, walk)
        for row_id, matched in links:
            walk.edge(start_value.label, walk.stix_of[row_id], "value", matched)
        frontier = _collapse_relationships(walk, frontier, 1)
        first_hop = 2
        if excluded:
            frontier = []
    else:
        for row_id in start_rows:
            walk.add(row_id, 0)
        frontier = list(start_rows)
        _describe(session, scope, frontier, walk)
    for hop in range(first_hop, hops + 1):
        if not frontier or walk.truncated:
            break
        frontier = _expand(walk, frontier, hop)
    return _result(walk, query, hops)


@dataclass(frozen=True)
class _Row:
    id: int
    stix_id: str
    stix_type: str
    name: str
    label_set_id: int
    body: str
    modified: Any
    stored_at: Any
    version: int


def _result(walk: _Walk, query: str, hops: int) -> RelatedResult:
    found = _by_ids(walk.session, "id, stix_id, stix_type, name, label_set_id, body, "
                    "modified, stored_at, version", sorted(walk.hop_of))
    rows = [_Row(id=int(r[0]), stix_id=r[1], stix_type=r[2], name=r[3],
                 label_set_id=int(r[4]), body=r[5], modified=r[6], stored_at=r[7],
                 version=int(r[8])) for r in found if r[2] != "relationship"]
    newest = _newest(rows)  # type: ignore[arg-type]
    hop_by_stix: dict[str, int] = {}
    for row in rows:
        hop_by_stix[row.stix_id] = min(hop_by_stix.get(row.stix_id, hops),
                                       walk.hop_of[row.id])
    nodes = [  # built from stored, already checked data: no re-validation
        RelatedNode.model_construct(stix_id=stix_id, type=row.stix_type, name=row.name,
                                    hop=hop_by_stix[stix_id],
                                    labels=walk.scope.labels[row.label_set_id],
                                    object=json.loads(row.body))
        for stix_id, row in sorted(newest.items(), key=lambda i: (hop_by_stix[i[0]], i[0]))
    ]
    ends = {n.stix_id for n in nodes} | {query}
    edges = sorted((e for e in walk.edges.values() if e.source in ends and e.target in ends),
                   key=lambda e: (e.source, e.target, e.via, e.detail))
    return RelatedResult(query=query, hops=hops, nodes=nodes, edges=edges,
                         ubiquitous=sorted(walk.ubiquitous), excluded=sorted(walk.excluded),
                         truncated=walk.truncated)
