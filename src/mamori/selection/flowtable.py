"""Aggregation of selected packets (and flow records) into mechanical flow records.

Only selected units reach this module. Within a batch they are grouped with one
``np.unique`` over a structured key (family, addresses, ports, protocol, and for
DNS the question name and type); across batches the groups merge in a dict, so
memory grows with the number of *selected* flows, not with the input.

:meth:`FlowTable.records` turns the accumulated flows into
:class:`MechanicalRecord` objects holding only the items of the active item set,
with every address that is not a selector value replaced by its pseudonym.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np

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


@dataclass(slots=True)
class Flow:
    """One flow being accumulated (addresses as integers, in memory only)."""

    family: int
    src: int
    dst: int
    sport: int
    dport: int
    proto: int
    direction: int
    src_covered: bool
    dst_covered: bool
    first_ns: int = I64_MAX
    last_ns: int = 0
    packets: int = 0
    bytes: int = 0
    tcp_flags: int = 0
    ttl_min: int | None = None
    ttl_max: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
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
        for name in ("qname", "qtype", "sni", "ja3", "ja4", "host"):
            if getattr(self, name) is None and getattr(extra, name) is not None:
                setattr(self, name, getattr(extra, name))
        if extra.rcode is not None:
            self.rcode = extra.rcode
        self.selectors.update(extra.selector_ids)
        self.rules.update(extra.rule_ids)
        self.tokens.update(extra.tokens)


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


def _pseudonyms(flows: list[Flow], pseudonymiser: Pseudonymiser) -> dict[tuple[int, int], int]:
    """Pseudonym of every uncovered address of ``flows``, by (family, address)."""
    wanted: dict[int, set[int]] = {4: set(), 6: set()}
    for flow in flows:
        if not flow.src_covered:
            wanted[flow.family].add(flow.src)
        if not flow.dst_covered:
            wanted[flow.family].add(flow.dst)
    out: dict[tuple[int, int], int] = {}
    if wanted[4]:
        plain = np.fromiter(wanted[4], dtype=np.uint32, count=len(wanted[4]))
        for value, pseudonym in zip(plain.tolist(), pseudonymiser.ipv4(plain).tolist(),
                                    strict=True):  # fmt: skip
            out[(4, value)] = pseudonym
    if wanted[6]:
        values = list(wanted[6])
        hi = np.array([v >> 64 for v in values], dtype=np.uint64)
        lo = np.array([v & 0xFFFFFFFFFFFFFFFF for v in values], dtype=np.uint64)
        p_hi, p_lo = pseudonymiser.ipv6(hi, lo)
        for value, a, b in zip(values, p_hi.tolist(), p_lo.tolist(), strict=True):
            out[(6, value)] = (a << 64) | b
    return out


class FlowTable:
    """Selected flows of one run, keyed by their flow key."""

    def __init__(self) -> None:
        self.flows: dict[tuple[object, ...], Flow] = {}

    def __len__(self) -> int:
        return len(self.flows)

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
        """Merge selected units (already restricted to the selected rows) into flows."""
        if len(keys) == 0:
            return
        uniq, first_index, inverse = np.unique(keys, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
        count = len(uniq)
        n_packets = np.bincount(inverse, weights=packets.astype(np.float64), minlength=count)
        n_bytes = np.bincount(inverse, weights=bytes_.astype(np.float64), minlength=count)
        first = np.full(count, I64_MAX, dtype=np.int64)
        np.minimum.at(first, inverse, first_ns)
        last = np.zeros(count, dtype=np.int64)
        np.maximum.at(last, inverse, last_ns)
        flags = np.zeros(count, dtype=np.uint16)
        np.bitwise_or.at(flags, inverse, tcp_flags.astype(np.uint16))
        ports = np.zeros(count, dtype=bool)
        np.logical_or.at(ports, inverse, port_hit)
        if ttl is not None:
            tmin = np.full(count, 255, dtype=np.uint8)
            np.minimum.at(tmin, inverse, ttl)
            tmax = np.zeros(count, dtype=np.uint8)
            np.maximum.at(tmax, inverse, ttl)
        pair_src = np.unique(np.stack([inverse, src_group]), axis=1)
        pair_dst = np.unique(np.stack([inverse, dst_group]), axis=1)
        ids_of: dict[int, set[int]] = {}
        for pairs in (pair_src, pair_dst):
            for g, grp in zip(pairs[0].tolist(), pairs[1].tolist(), strict=True):
                if grp >= 0:
                    ids_of.setdefault(g, set()).add(grp)
        flows: list[Flow] = []
        for g in range(count):
            key = uniq[g]
            family = int(key["family"])
            src = (int(key["src_hi"]) << 64) | int(key["src_lo"])
            dst = (int(key["dst_hi"]) << 64) | int(key["dst_lo"])
            app = int(key["app"])
            qname, qtype = app_names[app] if app >= 0 else (None, None)
            tkey = (family, src, dst, int(key["sport"]), int(key["dport"]), int(key["proto"]),
                    qname, qtype)  # fmt: skip
            flow = self.flows.get(tkey)
            i0 = int(first_index[g])
            if flow is None:
                flow = Flow(
                    family=family, src=src, dst=dst, sport=int(key["sport"]),
                    dport=int(key["dport"]), proto=int(key["proto"]),
                    direction=int(direction[i0]),
                    src_covered=bool(src_group[i0] >= 0), dst_covered=bool(dst_group[i0] >= 0),
                    qname=qname, qtype=qtype,
                )  # fmt: skip
                if flow.proto in ICMP_PROTOCOLS:  # type and code travel in dport
                    flow.icmp_type, flow.icmp_code = flow.dport >> 8, flow.dport & 0xFF
                self.flows[tkey] = flow
            flow.first_ns = min(flow.first_ns, int(first[g]))
            flow.last_ns = max(flow.last_ns, int(last[g]))
            flow.packets += int(n_packets[g])
            flow.bytes += int(n_bytes[g])
            flow.tcp_flags |= int(flags[g])
            if ttl is not None:
                lo, hi = int(tmin[g]), int(tmax[g])
                flow.ttl_min = lo if flow.ttl_min is None else min(flow.ttl_min, lo)
                flow.ttl_max = hi if flow.ttl_max is None else max(flow.ttl_max, hi)
            for grp in ids_of.get(g, ()):
                flow.selectors.update(groups[grp])
            if ports[g]:
                flow.selectors.update(port_ids(flow.proto, flow.sport, flow.dport))
            flows.append(flow)
        for row, extra in extras.items():
            flows[int(inverse[row])].absorb(extra)

    def records(self, items: ItemSet, pseudonymiser: Pseudonymiser) -> list[MechanicalRecord]:
        """The accumulated flows as records, oldest first; addresses non-identified.

        Every address that no selector covers is replaced by its Crypto-PAn pseudonym;
        the pseudonyms of a run are computed in one vectorised call per family.
        """
        allowed = items.columns
        flows = sorted(self.flows.values(), key=lambda f: (f.first_ns, f.src, f.dst))
        pseudonyms = _pseudonyms(flows, pseudonymiser)

        def addr(family: int, value: int, covered: bool) -> str:
            if covered:
                return address_text(family, value)
            return address_text(family, pseudonyms[(family, value)])

        out = []
        for flow in flows:
            icmp_flow = flow.proto in ICMP_PROTOCOLS
            values: dict[str, object] = {
                "direction": DIRECTIONS[flow.direction],
                "family": flow.family,
                "src_addr": addr(flow.family, flow.src, flow.src_covered)
                if "src_addr" in allowed else None,
                "dst_addr": addr(flow.family, flow.dst, flow.dst_covered)
                if "dst_addr" in allowed else None,
                "src_pseudonymised": "src_addr" in allowed and not flow.src_covered,
                "dst_pseudonymised": "dst_addr" in allowed and not flow.dst_covered,
                "first_seen": _time(flow.first_ns),
                "last_seen": _time(flow.last_ns),
                "src_port": None if icmp_flow else flow.sport,
                "dst_port": None if icmp_flow else flow.dport,
                "protocol": flow.proto,
                "tcp_flags": flow.tcp_flags if flow.proto == 6 else None,
                "packets": flow.packets,
                "bytes": flow.bytes,
                "ttl_min": flow.ttl_min,
                "ttl_max": flow.ttl_max,
                "icmp_type": flow.icmp_type,
                "icmp_code": flow.icmp_code,
                "dns_qname": flow.qname,
                "dns_qtype": flow.qtype,
                "dns_rcode": flow.rcode,
                "tls_sni": flow.sni,
                "ja3": flow.ja3,
                "ja4": flow.ja4,
                "http_host": flow.host,
                "matched_selectors": sorted(flow.selectors) or None,
                "matched_rules": sorted(flow.rules) or None,
                "command_tokens": sorted(flow.tokens) or None,
            }
            for column in ITEM_COLUMN_NAMES - allowed:
                values[column] = None
            out.append(MechanicalRecord(**values))  # type: ignore[arg-type]
        return out
