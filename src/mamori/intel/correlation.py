"""Looking values up in the correlation index, within a reader's scope.

A value is looked up as itself and as what contains it or lies inside it: an address
finds the networks that contain it, a network finds the addresses inside it, a domain
finds its parent domains and its sub-domains. Every probe is bounded by the fan-out
cap: a probe that finds more than ``cap`` objects the reader may see is *ubiquitous*
and yields nothing to follow. The probes of a call travel together in a few
``UNION ALL`` statements of plain SQL (hundreds of probes per query would otherwise
spend more time building SQL than the database spends answering).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.intel import values as v
from mamori.intel.models import IndexRow
from mamori.intel.visibility import Scope

PROBES_PER_STATEMENT = 150
EXACT, INSIDE, BELOW = "exact", "inside", "below"


@dataclass(frozen=True)
class Probe:
    """One index look-up made for ``origin``; ``matched`` names what it looks for.

    ``how``: ``exact`` (kind, key, plen), ``inside`` (IP keys from ``low`` to ``high``
    with a longer prefix) or ``below`` (domain keys in ``[low, high)``).
    """

    origin: v.Value
    matched: str
    how: str
    kind: str
    key: str
    plen: int = 0
    high: str = ""


@dataclass
class Hits:
    """What the probes of one value found: object row ids per matched value."""

    objects: dict[str, list[int]] = field(default_factory=dict)
    ubiquitous: list[str] = field(default_factory=list)

    @property
    def all_objects(self) -> set[int]:
        return {i for ids in self.objects.values() for i in ids}


def _exact(origin: v.Value, value: v.Value) -> Probe:
    return Probe(origin, value.label, EXACT, value.kind, value.key, value.plen)


def probes(value: v.Value, *, wide: bool = True,
           plens: dict[str, frozenset[int]] | None = None) -> list[Probe]:
    """The look-ups for ``value``; ``wide`` adds containing and contained values.
    ``plens`` (the prefix lengths the index holds) skips networks that cannot exist."""
    found = [_exact(value, value)]
    if not wide:
        return found
    if value.kind in ("ipv4", "ipv6"):
        lengths = None if plens is None else plens.get(value.kind, frozenset())
        found += [_exact(value, net) for net in v.supernets(value, lengths)]
        full = 32 if value.kind == "ipv4" else 128
        if value.plen < full:
            low, high = v.ip_bounds(value)
            found.append(Probe(value, f"{value.label} (inside)", INSIDE, value.kind, low,
                               value.plen, high))
    elif value.kind == "domain":
        found += [_exact(value, parent) for parent in v.parent_domains(value)]
        low, high = v.domain_range(value)
        found.append(Probe(value, f"{value.label} (sub-domains)", BELOW, "domain", low, 0,
                           high))
    return found


class _Params:
    """Placeholders in the driver's own style (SQLite ``?``, psycopg ``%s``)."""

    def __init__(self, session: Session) -> None:
        self.mark = "%s" if session.get_bind().dialect.name == "postgresql" else "?"
        self.values: list[object] = []

    def __call__(self, value: object) -> str:
        self.values.append(value)
        return self.mark


def _condition(probe: Probe, p: _Params) -> str:
    if probe.how == EXACT:
        return f"kind = {p(probe.kind)} AND key = {p(probe.key)} AND plen = {p(probe.plen)}"
    if probe.how == INSIDE:
        return (f"kind = {p(probe.kind)} AND key >= {p(probe.key)} AND key <= {p(probe.high)}"
                f" AND plen > {p(probe.plen)}")
    return f"kind = {p(probe.kind)} AND key >= {p(probe.key)} AND key < {p(probe.high)}"


def label_filter(scope: Scope) -> str:
    """The scope as SQL on ``label_set_id`` (integers from the database, inlined)."""
    if not scope.allowed:
        return "1 = 0"
    return "label_set_id IN (" + ", ".join(str(int(i)) for i in sorted(scope.allowed)) + ")"


def run_probes(session: Session, scope: Scope, all_probes: Sequence[Probe], *, cap: int
               ) -> dict[v.Value, Hits]:
    """Run probes in as few statements as possible; each returns at most ``cap + 1`` rows."""
    result: dict[v.Value, Hits] = {}
    postgresql = session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(all_probes), PROBES_PER_STATEMENT):
        part = all_probes[start:start + PROBES_PER_STATEMENT]
        if postgresql:
            found = _run_lateral(session, scope, part, cap)
        else:
            found = _run_union(session, scope, part, cap)
        for number, probe in enumerate(part):
            hits = result.setdefault(probe.origin, Hits())
            ids = found.get(number, [])
            if len(ids) > cap:
                hits.ubiquitous.append(probe.matched)
            elif ids:
                hits.objects.setdefault(probe.matched, []).extend(sorted(set(ids)))
    return result


def _collect(rows: object) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for number, object_id in rows:  # type: ignore[attr-defined]
        found.setdefault(int(number), []).append(int(object_id))
    return found


def _run_union(session: Session, scope: Scope, part: Sequence[Probe], cap: int
               ) -> dict[int, list[int]]:
    """One ``UNION ALL`` of bounded sub-selects (SQLite plans these cheaply)."""
    params = _Params(session)
    labels = label_filter(scope)
    selects = [
        f"SELECT {number} AS n, object_id FROM (SELECT object_id FROM intel_index "  # noqa: S608 (placeholders)
        f"WHERE {_condition(probe, params)} AND {labels} LIMIT {int(cap) + 1}) AS p{number}"
        for number, probe in enumerate(part)
    ]
    return _collect(session.connection().exec_driver_sql(" UNION ALL ".join(selects),
                                                         tuple(params.values)))


def _run_lateral(session: Session, scope: Scope, part: Sequence[Probe], cap: int
                 ) -> dict[int, list[int]]:
    """PostgreSQL: the exact probes as one ``VALUES`` list joined laterally (one small
    plan however many probes), the range probes as bounded sub-selects."""
    labels = label_filter(scope)
    params = _Params(session)
    exact = [(n, p) for n, p in enumerate(part) if p.how == EXACT]
    ranges = [(n, p) for n, p in enumerate(part) if p.how != EXACT]
    parts: list[str] = []
    if exact:
        # four array parameters whatever the number of probes: the text never changes,
        # so the server plans it once and psycopg prepares it
        parts.append(
            "SELECT q.n, i.object_id FROM unnest(%s::int[], %s::text[], %s::text[], "  # noqa: S608 (placeholders)
            "%s::smallint[]) AS q(n, kind, key, plen) CROSS JOIN LATERAL (SELECT object_id "
            f"FROM intel_index WHERE kind = q.kind AND key = q.key AND plen = q.plen AND "
            f"{labels} LIMIT {int(cap) + 1}) AS i")
        params.values += [[n for n, _ in exact], [p.kind for _, p in exact],
                          [p.key for _, p in exact], [p.plen for _, p in exact]]
    parts += [
        f"SELECT {n} AS n, object_id FROM (SELECT object_id FROM intel_index "  # noqa: S608 (placeholders)
        f"WHERE {_condition(p, params)} AND {labels} LIMIT {int(cap) + 1}) AS p{n}"
        for n, p in ranges
    ]
    return _collect(session.connection().exec_driver_sql(" UNION ALL ".join(parts),
                                                         tuple(params.values)))


def lookup(session: Session, scope: Scope, value: v.Value, *, cap: int, wide: bool = True
           ) -> Hits:
    """The objects the reader may see that mention ``value`` (or contain / lie in it)."""
    from mamori.intel.store import prefix_lengths

    chosen = probes(value, wide=wide, plens=prefix_lengths(session))
    return run_probes(session, scope, chosen, cap=cap).get(value, Hits())


def values_of_objects(session: Session, object_ids: Sequence[int]) -> dict[int, set[v.Value]]:
    """The indexed values of the given object rows."""
    found: dict[int, set[v.Value]] = {}
    ids = sorted(set(object_ids))
    for start in range(0, len(ids), 900):
        rows = session.execute(
            select(IndexRow.object_id, IndexRow.kind, IndexRow.key, IndexRow.plen)
            .where(IndexRow.object_id.in_(ids[start:start + 900]))
        )
        for object_id, kind, key, plen in rows:
            found.setdefault(int(object_id), set()).add(v.Value(kind, key, int(plen)))
    return found
