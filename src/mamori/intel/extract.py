"""What a STIX object mentions that another source might mention too: the correlation
values of addresses, domains, URLs, hashes, CVEs, ATT&CK techniques and JA4
fingerprints, taken from observables, indicator patterns and external references.

Problems are returned as warnings naming the property, never its content.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mamori.errors import InvalidInput
from mamori.intel import values as v
from mamori.intel.patterns import Comparison, PatternError, parse_pattern

NAME_MAX = 300
PSEUDONYM_PROPERTY = "x_mamori_pseudonym_epoch"
JA4_PROPERTY = "x_mamori_ja4"
_ATTACK_SOURCES = frozenset({"mitre-attack", "mitre-ics-attack", "mitre-mobile-attack"})
_EQUALITY = frozenset({"=", "IN"})
_CVE_IN_TEXT = re.compile(r"^CVE-\d{4}-\d{4,19}$", re.IGNORECASE)


@dataclass
class Extracted:
    values: set[v.Value] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)

    def add(self, make: Any, *args: str, where: str) -> None:
        try:
            made = make(*args)
        except InvalidInput:
            self.warnings.append(f"{where} is not a valid value; not correlated")
            return
        if isinstance(made, tuple):
            self.values.update(x for x in made if x is not None)
        else:
            self.values.add(made)


def _hashes(found: Extracted, hashes: object, where: str) -> None:
    if not isinstance(hashes, Mapping):
        return
    for algorithm, digest in hashes.items():
        if isinstance(algorithm, str) and isinstance(digest, str) and \
                algorithm.strip().lower() in v.HASH_ALGORITHMS:
            found.add(v.hash_value, algorithm, digest, where=f"{where}.{algorithm}")


def _address(found: Extracted, obj: Mapping[str, Any]) -> None:
    value = obj.get("value")
    if not isinstance(value, str):
        return
    epoch = obj.get(PSEUDONYM_PROPERTY)
    if isinstance(epoch, str) and epoch:
        found.add(v.pseudo_value, epoch, value, where="value")
    else:
        found.add(v.ip_value, value, where="value")


def _comparison_values(found: Extracted, comparison: Comparison) -> None:
    if comparison.negated:
        return
    kind, path, op = comparison.object_type, comparison.path, comparison.operator
    strings = comparison.strings()
    where = "pattern"
    if kind in ("ipv4-addr", "ipv6-addr") and path == ("value",) and \
            (op in _EQUALITY or op == "ISSUBSET"):
        for text in strings:
            found.add(v.ip_value, text, where=where)
    elif kind == "domain-name" and path == ("value",) and op in _EQUALITY:
        for text in strings:
            found.add(v.domain_value, text, where=where)
    elif kind == "url" and path == ("value",) and op in _EQUALITY:
        for text in strings:
            found.add(v.url_value, text, where=where)
    elif kind in ("file", "artifact", "x509-certificate") and len(path) == 2 and \
            path[0] == "hashes" and op in _EQUALITY and isinstance(path[1], str):
        if path[1].strip().lower() in v.HASH_ALGORITHMS:
            for text in strings:
                found.add(v.hash_value, path[1], text, where=where)
    elif kind == "network-traffic" and path == (JA4_PROPERTY,) and op in _EQUALITY:
        for text in strings:
            found.add(v.ja4_value, text, where=where)
    elif kind == "vulnerability" and path in (("name",), ("external_references", "*",
                                                          "external_id")):
        for text in strings:
            if _CVE_IN_TEXT.match(text):
                found.add(v.cve_value, text, where=where)


def _external(found: Extracted, refs: object) -> None:
    if not isinstance(refs, list):
        return
    for ref in refs:
        if not isinstance(ref, Mapping):
            continue
        source, external_id = ref.get("source_name"), ref.get("external_id")
        if not isinstance(source, str) or not isinstance(external_id, str):
            continue
        if source.lower() == "cve":
            found.add(v.cve_value, external_id, where="external_references")
        elif source in _ATTACK_SOURCES and external_id.upper().startswith("T"):
            found.add(v.attack_value, external_id, where="external_references")


def extract(obj: Mapping[str, Any]) -> Extracted:
    """The correlation values of one object."""
    found = Extracted()
    kind = obj.get("type")
    if kind in ("ipv4-addr", "ipv6-addr"):
        _address(found, obj)
    elif kind == "domain-name" and isinstance(obj.get("value"), str):
        found.add(v.domain_value, obj["value"], where="value")
    elif kind == "url" and isinstance(obj.get("value"), str):
        found.add(v.url_value, obj["value"], where="value")
    elif kind in ("file", "artifact", "x509-certificate"):
        _hashes(found, obj.get("hashes"), "hashes")
    elif kind == "network-traffic" and isinstance(obj.get(JA4_PROPERTY), str):
        found.add(v.ja4_value, obj[JA4_PROPERTY], where=JA4_PROPERTY)
    elif kind == "indicator" and obj.get("pattern_type") == "stix":
        try:
            comparisons = parse_pattern(obj.get("pattern", ""))
        except PatternError as exc:
            found.warnings.append(f"pattern cannot be read ({exc}); not correlated")
        else:
            for comparison in comparisons:
                _comparison_values(found, comparison)
    elif kind == "vulnerability" and isinstance(obj.get("name"), str) and \
            _CVE_IN_TEXT.match(obj["name"].strip()):
        found.add(v.cve_value, obj["name"], where="name")
    _external(found, obj.get("external_references"))
    return found


def display_name(obj: Mapping[str, Any]) -> str:
    """A short text to find and show the object by."""
    for key in ("name", "value", "pattern", "relationship_type", "opinion", "abstract"):
        value = obj.get(key)
        if isinstance(value, str) and value:
            return value[:NAME_MAX]
    if obj.get("type") == "file" and isinstance(obj.get("hashes"), Mapping):
        first = next(iter(obj["hashes"].values()), "")
        return str(first)[:NAME_MAX]
    return str(obj.get("type", ""))


def values_of(objects: Iterable[Mapping[str, Any]]) -> set[v.Value]:
    result: set[v.Value] = set()
    for obj in objects:
        result |= extract(obj).values
    return result
