"""Aggregation of selected packets (and flow records) into mechanical flow records.

Only selected units reach this module. Each unit's flow key (family, addresses,
ports, protocol, and for DNS the question name and type) is looked up in a dict
that numbers the flows; the numeric state of the flows (times, counters, flags,
TTL range) lives in NumPy columns that a compiled loop updates
(:func:`.kernels.accumulate`). Memory grows with the number of *selected* flows,
not with the input.

:meth:`FlowTable.records` turns the accumulated flows into
:class:`MechanicalRecord` objects holding only the items of the active item set,
with every address that is not a selector value replaced by its pseudonym.
"""

from __future__ import annotations

import gc
import ipaddress
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np

from . import kernels
from .mechanical import ITEM_COLUMNS, ItemSet
from .prefixes import DIRECTIONS

KEY_DTYPE = np.dtype(
    [
        ("family", np.uint8),
        ("src_hi", np.uint64),
        ("src_lo", np.uint64),
        ("dst_hi", np.uint64),
        ("dst_lo", np.uint64),
        ("sport", np.uint16),
        ("dport", np.uint16),  # ICMP: type * 256 + code, as NetFlow writes it
        ("proto", np.uint8),
        ("app", np.int32),
    ]
)
ICMP_PROTOCOLS = (1, 58)
I64_MAX = np.iinfo(np.int64).max
ITEM_COLUMN_NAMES = frozenset(c for cols in ITEM_COLUMNS.values() for c in cols)


@dataclass(slots=True)
class Extras:
    """Application-layer facts of one selected unit (names, fingerprints, rule hits)."""

    qname: str | None = None
    qtype: int | None = None
    rcode: int | None = None
    sni: str | None = None
    ja3: str | None = None
    ja4: str | None = None
    host: str | None = None
    selector_ids: tuple[str, ...] = ()
    rule_ids: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MechanicalRecord:
    """A selected flow as it leaves the zone: allow-listed items, non-identified."""

    direction: str
    family: int
    src_addr: str | None
    dst_addr: str | None
    src_pseudonymised: bool
    dst_pseudonymised: bool
    first_seen: datetime | None
    last_seen: datetime | None
    src_port: int | None
    dst_port: int | None
    protocol: int | None
    tcp_flags: int | None
    packets: int | None
    bytes: int | None
    ttl_min: int | None
    ttl_max: int | None
    icmp_type: int | None
    icmp_code: int | None
    dns_qname: str | None
    dns_qtype: int | None
    dns_rcode: int | None
    tls_sni: str | None
    ja3: str | None
    ja4: str | None
    http_host: str | None
    matched_selectors: list[str] | None
    matched_rules: list[str] | None
    command_tokens: list[str] | None

    def columns(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}


def address_text(family: int, value: int) -> str:
    return str(ipaddress.IPv4Address(value) if family == 4 else ipaddress.IPv6Address(value))


def _time(ns: int) -> datetime | None:
    if ns <= 0 or ns == I64_MAX:
        return None
    return datetime.fromtimestamp(ns / 1e9, tz=UTC)


class Pseudonymiser(Protocol):
    """Prefix-preserving pseudonymisation of address arrays (see :mod:`.pseudonymise`)."""

    def ipv4(self, addresses: Any) -> np.ndarray: ...

    def ipv6(self, hi: Any, lo: Any) -> tuple[np.ndarray, np.ndarray]: ...


_OCTETS = tuple(str(i) for i in range(256))


def _v4_text(value: int) -> str:
    """Dotted-quad text of an IPv4 address, as ``str(IPv4Address(value))`` writes it."""
    return (f"{_OCTETS[value >> 24]}.{_OCTETS[(value >> 16) & 255]}."
            f"{_OCTETS[(value >> 8) & 255]}.{_OCTETS[value & 255]}")  # fmt: skip


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while many acyclic objects are built.

    Records hold no reference cycles, but allocating thousands of them can start a
    full collection that walks the whole heap (a compiled selector set of 100,000
    entries is a large one) and costs more than building the records.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(slots=True)
class _Facts:
    """The application-layer facts absorbed into one flow, in arrival order."""

    qname: str | None = None
    qtype: int | None = None
    rcode: int | None = None
    sni: str | None = None
    ja3: str | None = None
    ja4: str | None = None
    host: str | None = None
    selectors: set[str] = field(default_factory=set)
    rules: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)

    def absorb(self, extra: Extras) -> None:
        """The first value of a field wins; the last response code does; ids accumulate."""
        if self.qname is None and extra.qname is not None:
            self.qname = extra.qname
        if self.qtype is None and extra.qtype is not None:
            self.qtype = extra.qtype
        if self.sni is None and extra.sni is not None:
            self.sni = extra.sni
        if self.ja3 is None and extra.ja3 is not None:
            self.ja3 = extra.ja3
        if self.ja4 is None and extra.ja4 is not None:
            self.ja4 = extra.ja4
        if self.host is None and extra.host is not None:
            self.host = extra.host
        if extra.rcode is not None:
            self.rcode = extra.rcode
        self.selectors.update(extra.selector_ids)
        self.rules.update(extra.rule_ids)
        self.tokens.update(extra.tokens)


_COLUMNS: dict[str, tuple[type, int]] = {  # name: (dtype, initial value)
    "family": (np.uint8, 0),
    "src_hi": (np.uint64, 0),
    "src_lo": (np.uint64, 0),
    "dst_hi": (np.uint64, 0),
    "dst_lo": (np.uint64, 0),
    "sport": (np.uint16, 0),
    "dport": (np.uint16, 0),
    "proto": (np.uint8, 0),
    "name": (np.int32, -1),
    "direction": (np.uint8, 0),
    "src_group": (np.int32, -1),
    "dst_group": (np.int32, -1),
    "first_ns": (np.int64, int(I64_MAX)),
    "last_ns": (np.int64, 0),
    "packets": (np.uint64, 0),
    "bytes": (np.uint64, 0),
    "tcp_flags": (np.uint16, 0),
    "port_hit": (np.bool_, False),
    "ttl_min": (np.uint8, 255),
    "ttl_max": (np.uint8, 0),
    "ttl_seen": (np.bool_, False),
}
_KEY_FIELDS = ("family", "src_hi", "src_lo", "dst_hi", "dst_lo", "sport", "dport", "proto")
_NO_TTL = np.zeros(0, dtype=np.uint8)


class FlowTable:
    """Selected flows of one run: numeric state in NumPy columns, found by key in a dict.

    A flow's key is (family, addresses, ports, protocol, DNS question name and type).
    Flows are numbered in the order they first appear (within a batch, in key
    order); records come out sorted by first time, source and destination, ties in
    that order. One table serves one selection plan (one matcher).
    """

    def __init__(self) -> None:
        self._index: dict[tuple[int, ...], int] = {}
        self._name_ids: dict[tuple[str, int], int] = {}
        self._names: list[tuple[str, int]] = []
        self._facts: dict[int, _Facts] = {}
        self._groups: tuple[tuple[str, ...], ...] | None = None
        self._port_ids: Callable[[int, int, int], tuple[str, ...]] | None = None
        self._count = 0
        self._cols: dict[str, np.ndarray] = {
            name: np.empty(0, dtype=dtype) for name, (dtype, _) in _COLUMNS.items()
        }

    def __len__(self) -> int:
        return self._count

    def _grow(self, need: int) -> None:
        capacity = len(self._cols["family"])
        if need <= capacity:
            return
        capacity = max(need, 2 * capacity, 1024)
        for name, (dtype, initial) in _COLUMNS.items():
            column: np.ndarray = np.full(capacity, initial, dtype=dtype)
            column[: self._count] = self._cols[name][: self._count]
            self._cols[name] = column

    def _name_id(self, pair: tuple[str, int]) -> int:
        index = self._name_ids.get(pair)
        if index is None:
            index = self._name_ids[pair] = len(self._names)
            self._names.append(pair)
        return index

    def _flow_ids(self, keys: np.ndarray, app_names: list[tuple[str, int]]) -> np.ndarray:
        """The flow number of every unit; new flows are numbered in key order."""
        rows = keys.tolist()
        if app_names:
            global_name = [self._name_id(pair) for pair in app_names]
            lookup = [
                row if row[8] < 0 else (*row[:8], global_name[row[8]]) for row in rows
            ]
        else:
            lookup = rows
        index = self._index
        pending: dict[tuple[int, ...], int] = {}
        first_row: list[int] = []
        flow_of: list[int] = []
        for r, key in enumerate(lookup):
            flow = index.get(key)
            if flow is None:
                new = pending.get(key)
                if new is None:
                    new = pending[key] = len(first_row)
                    first_row.append(r)
                flow = -1 - new
            flow_of.append(flow)
        ids = np.array(flow_of, dtype=np.int64)
        if not first_row:
            return ids
        order = sorted(range(len(first_row)), key=lambda k: rows[first_row[k]])
        base = self._count
        number = np.empty(len(first_row), dtype=np.int64)
        number[order] = np.arange(base, base + len(first_row))
        for key, new in pending.items():
            index[key] = int(number[new])
        fresh = ids < 0
        ids[fresh] = number[-1 - ids[fresh]]
        self._grow(base + len(first_row))
        self._count = base + len(first_row)
        return ids

    def add(
        self,
        *,
        keys: np.ndarray,
        app_names: list[tuple[str, int]],
        direction: np.ndarray,
        src_group: np.ndarray,
        dst_group: np.ndarray,
        port_hit: np.ndarray,
        first_ns: np.ndarray,
        last_ns: np.ndarray,
        packets: np.ndarray,
        bytes_: np.ndarray,
        tcp_flags: np.ndarray,
        ttl: np.ndarray | None,
        extras: dict[int, Extras],
        groups: tuple[tuple[str, ...], ...],
        port_ids: Callable[[int, int, int], tuple[str, ...]],
    ) -> None:
        """Merge selected units (already restricted to the selected rows) into flows.

        ``keys`` has :data:`KEY_DTYPE`; its ``app`` field indexes ``app_names``
        (-1: none). ``extras`` is keyed by row and absorbed in its own order.
        """
        if len(keys) == 0:
            return
        if self._groups is None:
            self._groups, self._port_ids = groups, port_ids
        elif groups is not self._groups and groups != self._groups:
            raise ValueError("a flow table serves one selection plan")
        before = self._count
        ids = self._flow_ids(keys, app_names)
        cols = self._cols
        if self._count > before:
            fresh = np.flatnonzero(ids >= before)
            first = np.unique(ids[fresh], return_index=True)[1]
            rows, flows = fresh[first], ids[fresh[first]]
            for name in _KEY_FIELDS:
                cols[name][flows] = keys[name][rows]
            app = keys["app"][rows]
            if app_names:
                global_name = np.array([self._name_ids[pair] for pair in app_names],
                                       dtype=np.int32)  # fmt: skip
                cols["name"][flows] = np.where(app >= 0, global_name[np.maximum(app, 0)], -1)
            cols["direction"][flows] = direction[rows]
            cols["src_group"][flows] = src_group[rows]
            cols["dst_group"][flows] = dst_group[rows]
        kernels.accumulate(
            ids, first_ns.astype(np.int64, copy=False), last_ns.astype(np.int64, copy=False),
            packets.astype(np.uint64, copy=False), bytes_.astype(np.uint64, copy=False),
            tcp_flags.astype(np.uint16, copy=False), port_hit.astype(np.bool_, copy=False),
            _NO_TTL if ttl is None else ttl.astype(np.uint8, copy=False), ttl is not None,
            cols["first_ns"], cols["last_ns"], cols["packets"], cols["bytes"],
            cols["tcp_flags"], cols["port_hit"], cols["ttl_min"], cols["ttl_max"],
            cols["ttl_seen"],
        )  # fmt: skip
        for row, extra in extras.items():
            flow = int(ids[row])
            facts = self._facts.get(flow)
            if facts is None:
                name_id = int(cols["name"][flow])
                qname, qtype = self._names[name_id] if name_id >= 0 else (None, None)
                facts = self._facts[flow] = _Facts(qname=qname, qtype=qtype)
            facts.absorb(extra)

    def _group_ids(self, src_group: int, dst_group: int) -> set[str]:
        groups = self._groups or ()
        found: set[str] = set()
        if src_group >= 0:
            found.update(groups[src_group])
        if dst_group >= 0:
            found.update(groups[dst_group])
        return found

    def _selectors(
        self, flow: int, src_group: int, dst_group: int, port: bool, proto: int, sport: int,
        dport: int, cache: dict[tuple[int, int], list[str]],
    ) -> list[str] | None:
        """Sorted ids of every selector that matched the flow, None when there are none.

        ``cache`` keeps the sorted ids of the address-group pairs seen in one call.
        """
        facts = self._facts.get(flow)
        if port or facts is not None:
            found = self._group_ids(src_group, dst_group)
            if port and self._port_ids is not None:
                found.update(self._port_ids(proto, sport, dport))
            if facts is not None:
                found |= facts.selectors
            return sorted(found) or None
        pair = (src_group, dst_group)
        known = cache.get(pair)
        if known is None:
            known = cache[pair] = sorted(self._group_ids(src_group, dst_group))
        return list(known) or None

    def _pseudonyms(
        self, order: np.ndarray, pseudonymiser: Pseudonymiser, sides: tuple[str, ...]
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """(hi, lo) of the output address of each side, pseudonym where no selector covers it.

        One vectorised call per family over the uncovered addresses of all flows.
        """
        cols = self._cols
        family = cols["family"][order]
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        plain: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for side in sides:
            hi = cols[f"{side}_hi"][order].copy()
            lo = cols[f"{side}_lo"][order].copy()
            uncovered = cols[f"{side}_group"][order] < 0
            plain[side] = (hi, lo, uncovered)
            out[side] = (hi, lo)
        v4 = [np.flatnonzero(u & (family == 4)) for _, _, u in plain.values()]
        v6 = [np.flatnonzero(u & (family == 6)) for _, _, u in plain.values()]
        if sum(len(r) for r in v4):
            values = np.concatenate([lo[r] for (_, lo, _), r in zip(plain.values(), v4,
                                                                       strict=True)])  # fmt: skip
            mapped = np.asarray(pseudonymiser.ipv4(values.astype(np.uint32))).astype(np.uint64)
            start = 0
            for (_, lo, _), r in zip(plain.values(), v4, strict=True):
                lo[r] = mapped[start : start + len(r)]
                start += len(r)
        if sum(len(r) for r in v6):
            pairs = [(hi[r], lo[r]) for (hi, lo, _), r in zip(plain.values(), v6, strict=True)]
            p_hi, p_lo = pseudonymiser.ipv6(np.concatenate([p[0] for p in pairs]),
                                            np.concatenate([p[1] for p in pairs]))  # fmt: skip
            start = 0
            for (hi, lo, _), r in zip(plain.values(), v6, strict=True):
                hi[r] = p_hi[start : start + len(r)]
                lo[r] = p_lo[start : start + len(r)]
                start += len(r)
        return out

    def records(self, items: ItemSet, pseudonymiser: Pseudonymiser) -> list[MechanicalRecord]:
        """The accumulated flows as records, oldest first; addresses non-identified.

        Every address that no selector covers is replaced by its Crypto-PAn pseudonym;
        the pseudonyms of a run are computed in one vectorised call per family.
        """
        if self._count == 0:
            return []
        with _collector_paused():
            return self._records(items, pseudonymiser)

    def _records(self, items: ItemSet, pseudonymiser: Pseudonymiser) -> list[MechanicalRecord]:
        n = self._count
        allowed = items.columns
        cols = {name: column[:n] for name, column in self._cols.items()}
        order = np.lexsort((cols["dst_lo"], cols["dst_hi"], cols["src_lo"], cols["src_hi"],
                            cols["first_ns"]))  # fmt: skip
        sides = tuple(side for side in ("src", "dst") if f"{side}_addr" in allowed)
        shown = self._pseudonyms(order, pseudonymiser, sides)
        texts: dict[str, list[str | None]] = {}
        family = cols["family"][order].tolist()
        for side in ("src", "dst"):
            if side not in shown:
                texts[side] = [None] * n
                continue
            hi, lo = shown[side]
            texts[side] = [
                _v4_text(b) if f == 4 else str(ipaddress.IPv6Address((a << 64) | b))
                for f, a, b in zip(family, hi.tolist(), lo.tolist(), strict=True)
            ]
        hidden = [k for k, column in enumerate(_RECORD_FIELDS)
                  if column in ITEM_COLUMN_NAMES and column not in allowed]  # fmt: skip
        src_in, dst_in = "src_addr" in allowed, "dst_addr" in allowed
        columns = [
            order.tolist(), family, texts["src"], texts["dst"],
            *(cols[name][order].tolist() for name in (
                "src_group", "dst_group", "first_ns", "last_ns", "sport", "dport", "proto",
                "tcp_flags", "packets", "bytes", "ttl_min", "ttl_max", "ttl_seen", "port_hit",
                "direction", "name")),
        ]  # fmt: skip
        out: list[MechanicalRecord] = []
        facts_of = self._facts
        names = self._names
        cache: dict[tuple[int, int], list[str]] = {}
        for (flow, fam, src_text, dst_text, src_group, dst_group, first, last, sport, dport,
             proto, flags, packets, octets, ttl_min, ttl_max, ttl_seen, port,
             direction, name) in zip(*columns, strict=True):  # fmt: skip
            icmp_flow = proto in ICMP_PROTOCOLS
            facts = facts_of.get(flow)
            if facts is not None:
                qname, qtype, rcode = facts.qname, facts.qtype, facts.rcode
                sni, ja3, ja4, host = facts.sni, facts.ja3, facts.ja4, facts.host
                rules = sorted(facts.rules) or None
                tokens = sorted(facts.tokens) or None
            else:
                qname, qtype = names[name] if name >= 0 else (None, None)
                rcode = sni = ja3 = ja4 = host = None
                rules = tokens = None
            src_covered, dst_covered = src_group >= 0, dst_group >= 0
            first_seen = _time(first)
            values = (
                DIRECTIONS[direction], fam, src_text, dst_text,
                src_in and not src_covered, dst_in and not dst_covered,
                first_seen, first_seen if last == first else _time(last),
                None if icmp_flow else sport, None if icmp_flow else dport,
                proto, flags if proto == 6 else None, packets, octets,
                ttl_min if ttl_seen else None, ttl_max if ttl_seen else None,
                dport >> 8 if icmp_flow else None, dport & 0xFF if icmp_flow else None,
                qname, qtype, rcode, sni, ja3, ja4, host,
                self._selectors(flow, src_group, dst_group, port, proto, sport, dport, cache),
                rules, tokens,
            )  # fmt: skip
            if hidden:
                masked = list(values)
                for k in hidden:
                    masked[k] = None
                out.append(MechanicalRecord(*masked))
            else:
                out.append(MechanicalRecord(*values))
        return out


_RECORD_FIELDS = MechanicalRecord.__slots__
