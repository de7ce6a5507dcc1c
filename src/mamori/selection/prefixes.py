"""The domestic-prefix table and the four direction classes.

Each communication is classified by whether its source and destination address
lie in the domestic table: foreign–foreign, foreign–domestic (source abroad,
destination in Japan), domestic–foreign or domestic–domestic. Only the classes
that the measure's article allows pass the gate (Art 17: foreign–foreign; Art 32:
foreign–domestic; Art 33: domestic–foreign; an agreement: all four, narrowed to
the agreement party's addresses).

The table is built from RIR delegated-statistics files (``delegated-apnic-latest``
and its extended form: ``registry|cc|type|start|value|date|status[|opaque-id]``;
IPv4 ``value`` is an address count, IPv6 ``value`` a prefix length) for one
country code, plus local overrides, one per line: ``CIDR domestic`` or
``CIDR foreign``. Overrides win over the delegated data.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mamori.errors import InvalidInput

from .selectors.matcher import v6_keys

FOREIGN_FOREIGN = "foreign_foreign"
FOREIGN_DOMESTIC = "foreign_domestic"
DOMESTIC_FOREIGN = "domestic_foreign"
DOMESTIC_DOMESTIC = "domestic_domestic"
DIRECTIONS = (FOREIGN_FOREIGN, FOREIGN_DOMESTIC, DOMESTIC_FOREIGN, DOMESTIC_DOMESTIC)
"""Indexed by ``2 * src_domestic + dst_domestic``."""

FORMAT = "mamori-prefixes/1"
MAX_LINE = 1024
V4_TOP = (1 << 32) - 1
V6_TOP = (1 << 128) - 1
STATUSES = frozenset({"allocated", "assigned"})


def merge(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, disjoint, non-adjacent inclusive ranges covering the same addresses."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1] + 1:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def subtract(ranges: list[tuple[int, int]], holes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``ranges`` minus ``holes`` (both merged)."""
    out: list[tuple[int, int]] = []
    j = 0
    for start, end in ranges:
        cur = start
        while j < len(holes) and holes[j][1] < cur:
            j += 1
        k = j
        while k < len(holes) and holes[k][0] <= end:
            h_start, h_end = holes[k]
            if h_start > cur:
                out.append((cur, h_start - 1))
            cur = max(cur, h_end + 1)
            k += 1
        if cur <= end:
            out.append((cur, end))
    return out


@dataclass
class PrefixSource:
    """Ranges one file contributed, per family and role."""

    source: str
    format: str
    domestic: dict[int, list[tuple[int, int]]] = field(default_factory=lambda: {4: [], 6: []})
    foreign: dict[int, list[tuple[int, int]]] = field(default_factory=lambda: {4: [], 6: []})
    lines: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "lines": self.lines,
            "domestic": sum(len(v) for v in self.domestic.values()),
            "foreign": sum(len(v) for v in self.foreign.values()),
        }


def _error(source: str, number: int, reason: str) -> InvalidInput:
    return InvalidInput(f"{source}: line {number}: {reason}", line=number)


def parse_delegated(text: str, *, source: str, country: str) -> PrefixSource:
    """The ``country`` rows of an RIR delegated-statistics file."""
    result = PrefixSource(source, "rir-delegated")
    country = country.upper()
    for number, raw in enumerate(text.splitlines(), start=1):
        if len(raw) > MAX_LINE:
            raise _error(source, number, f"longer than {MAX_LINE} characters")
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split("|")
        if len(fields) < 7:
            if len(fields) >= 6 and fields[-1] == "summary":
                continue
            if fields[0].replace(".", "").isdigit():  # version line: 2|apnic|...
                continue
            raise _error(source, number, "expected registry|cc|type|start|value|date|status")
        _registry, cc, kind, start, value, _date, status = fields[:7]
        if kind not in ("ipv4", "ipv6") or cc.upper() != country or status not in STATUSES:
            continue
        try:
            if kind == "ipv4":
                first = int(ipaddress.IPv4Address(start))
                count = int(value)
                if count < 1 or first + count - 1 > V4_TOP:
                    raise ValueError
                result.domestic[4].append((first, first + count - 1))
            else:
                network = ipaddress.IPv6Network(f"{start}/{int(value)}", strict=False)
                result.domestic[6].append(
                    (int(network.network_address), int(network.broadcast_address))
                )
        except ValueError:
            raise _error(source, number, f"invalid {kind} range") from None
        result.lines += 1
    return result


def parse_overrides(text: str, *, source: str) -> PrefixSource:
    """Local overrides: ``CIDR domestic`` or ``CIDR foreign`` per line."""
    result = PrefixSource(source, "overrides")
    for number, raw in enumerate(text.splitlines(), start=1):
        if len(raw) > MAX_LINE:
            raise _error(source, number, f"longer than {MAX_LINE} characters")
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2 or parts[1].lower() not in ("domestic", "foreign"):
            raise _error(source, number, "expected CIDR followed by domestic or foreign")
        try:
            network = ipaddress.ip_network(parts[0], strict=False)
        except ValueError:
            raise _error(source, number, "invalid CIDR") from None
        target = result.domestic if parts[1].lower() == "domestic" else result.foreign
        target[network.version].append(
            (int(network.network_address), int(network.broadcast_address))
        )
        result.lines += 1
    return result


def parse_prefix_file(text: str, *, source: str, country: str) -> PrefixSource:
    """Delegated statistics when the first data line has ``|``, overrides otherwise."""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            if "|" in line:
                return parse_delegated(text, source=source, country=country)
            return parse_overrides(text, source=source)
    return PrefixSource(source, "empty")


@dataclass(frozen=True)
class PrefixTable:
    """Merged domestic ranges per family (inclusive integer bounds)."""

    country: str
    v4: tuple[tuple[int, int], ...]
    v6: tuple[tuple[int, int], ...]

    @classmethod
    def build(cls, country: str, sources: Iterable[PrefixSource]) -> PrefixTable:
        domestic: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
        domestic_overrides: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
        foreign: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
        for src in sources:
            for family in (4, 6):
                if src.format == "overrides":
                    domestic_overrides[family] += src.domestic[family]
                else:
                    domestic[family] += src.domestic[family]
                foreign[family] += src.foreign[family]
        merged = {}
        for family in (4, 6):
            base = subtract(merge(domestic[family]), merge(foreign[family]))
            merged[family] = merge(base + domestic_overrides[family])
        return cls(country.upper(), tuple(merged[4]), tuple(merged[6]))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "country": self.country,
            "ipv4": [[s, e] for s, e in self.v4],
            "ipv6": [[format(s, "x"), format(e, "x")] for s, e in self.v6],
        }

    def canonical(self) -> bytes:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":")).encode()

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()

    @classmethod
    def from_json(cls, text: str) -> PrefixTable:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise InvalidInput("prefix table content has an unknown format")
        return cls(
            data["country"],
            tuple((int(s), int(e)) for s, e in data["ipv4"]),
            tuple((int(s, 16), int(e, 16)) for s, e in data["ipv6"]),
        )

    def counts(self) -> dict[str, int]:
        return {
            "ipv4_ranges": len(self.v4),
            "ipv4_addresses": sum(e - s + 1 for s, e in self.v4),
            "ipv6_ranges": len(self.v6),
        }


FOREIGN_BUCKET, DOMESTIC_BUCKET, MIXED_BUCKET = 0, 1, 2


def _v4_bucket_states(ranges: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Per /24: wholly foreign, wholly domestic, or mixed (needs the binary search)."""
    marks = np.zeros((1 << 24) + 1, dtype=np.int32)
    partial: list[int] = []
    for start, end in ranges:
        first, last = start >> 8, end >> 8
        full_first = first if start & 0xFF == 0 else first + 1
        full_last = last if end & 0xFF == 0xFF else last - 1
        if full_first <= full_last:
            marks[full_first] += 1
            marks[full_last + 1] -= 1
        if start & 0xFF:
            partial.append(first)
        if end & 0xFF != 0xFF:
            partial.append(last)
    states = (np.cumsum(marks[:-1]) > 0).astype(np.uint8)
    if partial:
        states[np.array(partial, dtype=np.int64)] = MIXED_BUCKET
    states.flags.writeable = False
    return states


class Classifier:
    """Vectorised domestic test and direction class for address columns."""

    def __init__(self, table: PrefixTable) -> None:
        self.table = table
        self._v4_start = np.array([s for s, _ in table.v4], dtype=np.uint32)
        self._v4_end = np.array([e for _, e in table.v4], dtype=np.uint32)
        self._v4_bucket = _v4_bucket_states(table.v4)
        self._v6_start = np.array([s.to_bytes(16, "big") for s, _ in table.v6], dtype="S16")
        self._v6_end = np.array([e.to_bytes(16, "big") for _, e in table.v6], dtype="S16")

    def domestic_v4(self, addrs: np.ndarray) -> np.ndarray:
        if len(self._v4_start) == 0:
            return np.zeros(len(addrs), dtype=bool)
        state = self._v4_bucket[addrs >> np.uint32(8)]
        result = state == DOMESTIC_BUCKET
        mixed = np.flatnonzero(state == MIXED_BUCKET)
        if len(mixed):
            keys = addrs[mixed]
            idx = np.searchsorted(self._v4_start, keys, side="right") - 1
            safe = np.maximum(idx, 0)
            result[mixed] = (idx >= 0) & (keys <= self._v4_end[safe])
        return result

    def domestic_v6_keys(self, keys: np.ndarray) -> np.ndarray:
        if len(self._v6_start) == 0:
            return np.zeros(len(keys), dtype=bool)
        idx = np.searchsorted(self._v6_start, keys, side="right") - 1
        safe = np.maximum(idx, 0)
        return (idx >= 0) & (keys <= self._v6_end[safe])

    def domestic_v6(self, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
        return self.domestic_v6_keys(v6_keys(hi, lo))

    def is_domestic(self, address: str) -> bool:
        """One address (for tests and explanations)."""
        ip = ipaddress.ip_address(address)
        if ip.version == 4:
            return bool(self.domestic_v4(np.array([int(ip)], dtype=np.uint32))[0])
        value = int(ip)
        return bool(
            self.domestic_v6(
                np.array([value >> 64], dtype=np.uint64),
                np.array([value & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64),
            )[0]
        )

    def direction(self, src: str, dst: str) -> str:
        return DIRECTIONS[2 * self.is_domestic(src) + self.is_domestic(dst)]
