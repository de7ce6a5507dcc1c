"""Selectors compiled for vectorised matching.

* Addresses and CIDRs of one family become disjoint *segments*: the boundaries of
  every selector range, sorted, each segment carrying the group of selector ids
  that cover all of it (-1: none). One ``np.searchsorted`` per column finds each
  packet's segment, whether the selectors are single addresses or nested CIDRs.
  IPv4 keys are ``uint32``; IPv6 keys are the 16 big-endian bytes (``S16``),
  whose byte order is their numeric order.
* Ports: a 65,536-entry table of protocol bits (tcp 1, udp 2, sctp 4).
* Domain names: an exact dict and a suffix dict, walked label by label, used only
  for names the protocol parsers found in candidate packets.
* JA3 / JA4: dicts. YARA: :class:`~mamori.selection.yara_rules.CompiledRules`.
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..yara_rules import CompiledRules, compile_sources
from .content import DOMAIN, DOMAIN_SUFFIX, IP, JA3, JA4, PORT, SelectorContent

V4_MAX = (1 << 32) - 1
V6_MAX = (1 << 128) - 1
PROTO_BITS = {"tcp": 1, "udp": 2, "sctp": 4, "any": 7}
NO_GROUP = -1


BUCKET_SHIFT = 8
"""IPv4 keys are pre-screened by their top 24 bits (one byte per /24)."""


def v4_buckets(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """A 2^24-entry table: 1 where some range touches that /24, 0 elsewhere.

    The ranges' /24 spans are merged and the table is written run by run.
    """
    size = 1 << (32 - BUCKET_SHIFT)
    if len(starts) == 0:
        table = np.zeros(size, dtype=np.uint8)
    else:
        order = np.argsort(starts, kind="stable")
        first = starts.astype(np.int64)[order] >> BUCKET_SHIFT
        last = np.maximum.accumulate(ends.astype(np.int64)[order] >> BUCKET_SHIFT)
        opens = np.flatnonzero(np.r_[True, first[1:] > last[:-1] + 1])
        run_first = first[opens]
        run_last = last[np.r_[opens[1:] - 1, len(first) - 1]]
        bounds = np.empty(2 * len(opens) + 1, dtype=np.int64)  # gap, run, gap, run, ..., gap
        bounds[0] = run_first[0]
        bounds[1:-1:2] = run_last - run_first + 1
        bounds[2:-1:2] = run_first[1:] - run_last[:-1] - 1
        bounds[-1] = size - 1 - run_last[-1]
        values = np.zeros(len(bounds), dtype=np.uint8)
        values[1::2] = 1
        table = np.repeat(values, bounds)
    table.flags.writeable = False
    return table


def split_v6(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The high and low ``uint64`` halves of 16-byte big-endian keys (``S16``)."""
    halves = np.frombuffer(np.ascontiguousarray(keys).tobytes(), dtype=">u8").reshape(-1, 2)
    return halves[:, 0].astype(np.uint64), halves[:, 1].astype(np.uint64)


@dataclass(frozen=True)
class Segments:
    """Sorted segment starts and the id group of each segment.

    For IPv4, ``buckets`` screens keys first: a key whose /24 no selector touches is
    answered with one table read, and only the rest are binary-searched. The
    compiled matcher (:mod:`mamori.selection.kernels`) reads the same screen as a
    bitmap (``bitmap``) and IPv6 starts as two ``uint64`` halves (``halves``); both
    are derived once per segments object.
    """

    starts: np.ndarray
    groups: np.ndarray
    buckets: np.ndarray | None = None

    @cached_property
    def bitmap(self) -> np.ndarray | None:
        """``buckets`` one bit per /24: bit ``k % 8`` of byte ``k // 8`` for /24 ``k``."""
        if self.buckets is None:
            return None
        bits = np.packbits(self.buckets != 0, bitorder="little")
        bits.flags.writeable = False
        return bits

    @cached_property
    def halves(self) -> tuple[np.ndarray, np.ndarray]:
        """IPv6 starts as (high, low) ``uint64`` halves (empty for IPv4 segments)."""
        if self.starts.dtype.kind != "S":
            return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.uint64)
        return split_v6(self.starts)

    @classmethod
    def v4(cls, starts: list[int], groups: list[int]) -> Segments:
        s = np.array(starts, dtype=np.uint32)
        g = np.array(groups, dtype=np.int32)
        covered = g != NO_GROUP
        ends = np.append(s[1:].astype(np.int64) - 1, V4_MAX)
        return cls(s, g, v4_buckets(s[covered], ends[covered]))

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Group index per key (int32, -1 when no selector covers the key)."""
        if len(keys) == 0:
            return np.empty(0, dtype=np.int32)
        if self.buckets is not None:
            maybe = np.flatnonzero(self.buckets[keys >> np.uint32(BUCKET_SHIFT)])
            out = np.full(len(keys), NO_GROUP, dtype=np.int32)
            if len(maybe):
                idx = np.searchsorted(self.starts, keys[maybe], side="right") - 1
                out[maybe] = self.groups[idx]
            return out
        idx = np.searchsorted(self.starts, keys, side="right") - 1
        return self.groups[idx]


def v6_keys(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """16-byte big-endian keys from the two uint64 halves of IPv6 addresses."""
    pairs = np.empty((len(hi), 2), dtype=">u8")
    pairs[:, 0] = hi
    pairs[:, 1] = lo
    return pairs.view("S16").ravel()


def _v6_key(value: int) -> bytes:
    return value.to_bytes(16, "big")


def build_segments(
    ranges: list[tuple[int, int, str]], top: int, groups: list[tuple[str, ...]],
    interned: dict[tuple[str, ...], int],
) -> tuple[list[int], list[int]]:
    """Boundaries and group indexes of the disjoint segments over ``[0, top]``."""
    events: dict[int, list[tuple[int, str]]] = {}
    for start, end, ident in ranges:
        events.setdefault(start, []).append((1, ident))
        if end < top:
            events.setdefault(end + 1, []).append((-1, ident))
    active: dict[str, int] = {}
    starts: list[int] = [0]
    group_of: list[int] = [NO_GROUP]
    for point in sorted(events):
        for delta, ident in events[point]:
            count = active.get(ident, 0) + delta
            if count:
                active[ident] = count
            else:
                active.pop(ident, None)
        key = tuple(sorted(active))
        if key:
            index = interned.get(key)
            if index is None:
                index = interned[key] = len(groups)
                groups.append(key)
        else:
            index = NO_GROUP
        if point == starts[-1]:
            group_of[-1] = index
        elif index != group_of[-1]:
            starts.append(point)
            group_of.append(index)
    return starts, group_of


@dataclass(frozen=True)
class Matcher:
    """Everything a selector set version needs at match time."""

    digest: str
    groups: tuple[tuple[str, ...], ...]
    v4: Segments
    v6: Segments
    port_table: np.ndarray
    port_ids: dict[tuple[int, int], tuple[str, ...]]
    domains: dict[str, tuple[str, ...]]
    suffixes: dict[str, tuple[str, ...]]
    ja3: dict[str, tuple[str, ...]]
    ja4: dict[str, tuple[str, ...]]
    yara: CompiledRules

    @property
    def has_names(self) -> bool:
        return bool(self.domains or self.suffixes)

    @property
    def has_fingerprints(self) -> bool:
        return bool(self.ja3 or self.ja4)

    @property
    def has_ports(self) -> bool:
        return bool(self.port_ids)

    def name_ids(self, name: str) -> tuple[str, ...]:
        """Selector ids matching a domain name (exact, or any suffix at a label boundary)."""
        name = name.rstrip(".").lower()
        found = list(self.domains.get(name, ()))
        if self.suffixes:
            label_start = 0
            while True:
                hit = self.suffixes.get(name[label_start:])
                if hit:
                    found.extend(hit)
                dot = name.find(".", label_start)
                if dot < 0:
                    break
                label_start = dot + 1
        return tuple(found)

    def port_match(self, proto: np.ndarray, sport: np.ndarray, dport: np.ndarray) -> np.ndarray:
        bits = proto_bits(proto)
        return ((self.port_table[sport] | self.port_table[dport]) & bits) != 0

    def port_selector_ids(self, proto: int, sport: int, dport: int) -> tuple[str, ...]:
        bit = int(proto_bits(np.array([proto], dtype=np.uint8))[0])
        out: list[str] = []
        for port in {sport, dport}:
            for proto_bit in (1, 2, 4):
                if proto_bit & bit:
                    out.extend(self.port_ids.get((proto_bit, port), ()))
        return tuple(out)


PROTO_LUT = np.zeros(256, dtype=np.uint8)
PROTO_LUT[6] = 1
PROTO_LUT[17] = 2
PROTO_LUT[136] = 2  # UDP-Lite
PROTO_LUT[132] = 4


def proto_bits(proto: np.ndarray) -> np.ndarray:
    return PROTO_LUT[proto]


def compile_matcher(content: SelectorContent, digest: str | None = None) -> Matcher:
    """Compile a selector set version (InvalidInput when its YARA does not compile)."""
    v4_ranges: list[tuple[int, int, str]] = []
    v6_ranges: list[tuple[int, int, str]] = []
    port_table = np.zeros(65536, dtype=np.uint8)
    port_ids: dict[tuple[int, int], list[str]] = {}
    dicts: dict[str, dict[str, list[str]]] = {DOMAIN: {}, DOMAIN_SUFFIX: {}, JA3: {}, JA4: {}}
    for selector in content.selectors:
        if selector.kind == IP:
            network = ipaddress.ip_network(selector.value, strict=False)
            start = int(network.network_address)
            end = int(network.broadcast_address)
            (v4_ranges if network.version == 4 else v6_ranges).append((start, end, selector.id))
        elif selector.kind == PORT:
            proto, _, port_text = selector.value.partition("/")
            port, bits = int(port_text), PROTO_BITS[proto]
            port_table[port] |= bits
            for bit in (1, 2, 4):
                if bit & bits:
                    port_ids.setdefault((bit, port), []).append(selector.id)
        else:
            dicts[selector.kind].setdefault(selector.value, []).append(selector.id)
    groups: list[tuple[str, ...]] = []
    interned: dict[tuple[str, ...], int] = {}
    s4, g4 = build_segments(v4_ranges, V4_MAX, groups, interned)
    s6, g6 = build_segments(v6_ranges, V6_MAX, groups, interned)
    port_table.flags.writeable = False

    def frozen(d: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
        return {k: tuple(sorted(set(v))) for k, v in d.items()}

    return Matcher(
        digest=digest or content.digest,
        groups=tuple(groups),
        v4=Segments.v4(s4, g4),
        v6=Segments(np.array([_v6_key(s) for s in s6], dtype="S16"), np.array(g6, dtype=np.int32)),
        port_table=port_table,
        port_ids={k: tuple(sorted(set(v))) for k, v in port_ids.items()},
        domains=frozen(dicts[DOMAIN]),
        suffixes=frozen(dicts[DOMAIN_SUFFIX]),
        ja3=frozen(dicts[JA3]),
        ja4=frozen(dicts[JA4]),
        yara=compile_sources(content.yara),
    )


_CACHE: OrderedDict[str, Matcher] = OrderedDict()
CACHE_SIZE = 4


def cached_matcher(content: SelectorContent, digest: str) -> Matcher:
    """The compiled matcher of a version, compiled once per process and digest."""
    matcher = _CACHE.get(digest)
    if matcher is None:
        matcher = compile_matcher(content, digest)
        _CACHE[digest] = matcher
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(digest)
    return matcher
