"""The exclusion list: values that correlation never follows.

A file of one value per line (``#`` comments). An excluded network excludes every
address inside it; an excluded domain excludes its sub-domains.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from mamori.errors import InvalidInput
from mamori.intel import values as v
from mamori.intel.settings import intel_settings


@dataclass(frozen=True)
class Exclusions:
    values: frozenset[v.Value]

    @cached_property
    def _networks(self) -> dict[str, list[tuple[int, str, str]]]:
        found: dict[str, list[tuple[int, str, str]]] = {}
        for excluded in self.values:
            if excluded.kind in ("ipv4", "ipv6"):
                found.setdefault(excluded.kind, []).append((excluded.plen,
                                                            *v.ip_bounds(excluded)))
        return found

    def excludes(self, value: v.Value) -> bool:
        if value in self.values:
            return True
        if value.kind in ("ipv4", "ipv6"):
            networks = self._networks.get(value.kind, [])
            if not networks:
                return False
            start, end = v.ip_bounds(value)
            return any(plen <= value.plen and low <= start and end <= high
                       for plen, low, high in networks)
        if value.kind == "domain":
            labels = value.key.split(".")
            return any(v.Value("domain", ".".join(labels[:n])) in self.values
                       for n in range(1, len(labels)))
        return False


def parse_exclusions(text: str, *, name: str = "exclusions") -> Exclusions:
    """Parse an exclusion list; a line that is no value is an error naming the line."""
    found: set[v.Value] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        try:
            found.add(v.parse_value(entry))
        except InvalidInput:
            raise InvalidInput(f"{name}, line {number}: not a value mamori correlates",
                               field="exclusions") from None
    return Exclusions(frozenset(found))


@lru_cache(maxsize=4)
def _load(path: Path, stamp: tuple[int, int]) -> Exclusions:
    del stamp  # part of the cache key: a changed file is read again
    return parse_exclusions(path.read_text(encoding="utf-8"), name=path.name)


def current() -> Exclusions:
    """The configured list (``MAMORI_INTEL_EXCLUSIONS``), re-read when the file changes."""
    path = intel_settings().exclusions
    try:
        status = path.stat()
        return _load(path, (status.st_mtime_ns, status.st_size))
    except OSError:
        raise InvalidInput(f"the exclusion list {path.name} cannot be read",
                           field="exclusions") from None
