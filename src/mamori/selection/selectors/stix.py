"""Selectors from STIX 2.1 indicator bundles.

Indicators with ``pattern_type`` ``yara`` become YARA sources. STIX patterns are
read as far as selection can honour them: a disjunction (``OR``) of equality,
``IN``, ``ISSUBSET`` and ``LIKE '%.suffix'`` comparisons on

* ``ipv4-addr:value`` / ``ipv6-addr:value`` (addresses and CIDRs),
* ``domain-name:value``,
* ``network-traffic:src_port`` / ``dst_port`` (and ``src_ref.value`` / ``dst_ref.value``),
* ``x-ja3:value`` / ``x-ja4:value`` (TLS client fingerprints, custom objects).

Anything else — conjunctions (``AND``), qualifiers (``WITHIN`` …), other objects —
cannot be expressed as OR-ed selectors and is skipped with a reason. Revoked and
expired indicators are skipped too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mamori.errors import InvalidInput

from .content import (
    DOMAIN,
    DOMAIN_SUFFIX,
    IP,
    JA3,
    JA4,
    PORT,
    Parsed,
    Selector,
    YaraSource,
    make_selector,
)

MAX_BUNDLE = 64 << 20

PATHS: dict[str, str] = {
    "ipv4-addr:value": IP,
    "ipv6-addr:value": IP,
    "domain-name:value": DOMAIN,
    "network-traffic:src_port": PORT,
    "network-traffic:dst_port": PORT,
    "network-traffic:src_ref.value": IP,
    "network-traffic:dst_ref.value": IP,
    "x-ja3:value": JA3,
    "x-ja4:value": JA4,
}

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<lbr>\[) | (?P<rbr>\]) | (?P<lpar>\() | (?P<rpar>\)) | (?P<comma>,)
    | (?P<str>'(?:[^'\\]|\\.)*')
    | (?P<op>!=|<=|>=|=|<|>)
    | (?P<int>-?\d+(?![\w.:'-]))
    | (?P<word>[A-Za-z0-9_\-]+(?::[A-Za-z0-9_\-.']+)?)
    )""",
    re.VERBOSE,
)


class PatternUnsupported(ValueError):
    """The pattern is valid STIX but cannot be expressed as OR-ed selectors."""


@dataclass(frozen=True, slots=True)
class Comparison:
    path: str
    op: str
    values: tuple[str, ...]


def tokens(pattern: str) -> Iterator[tuple[str, str]]:
    pos = 0
    text = pattern.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"pattern cannot be read at character {pos}")
        pos = match.end()
        kind = match.lastgroup or ""
        yield kind, match.group(kind)


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def parse_pattern(pattern: str) -> list[Comparison]:
    """The comparisons of a pattern that is a pure disjunction; raises otherwise."""
    toks = list(tokens(pattern))
    out: list[Comparison] = []
    i = 0
    n = len(toks)

    def expect(kind: str) -> str:
        nonlocal i
        if i >= n or toks[i][0] != kind:
            raise ValueError(f"pattern: expected {kind} at token {i}")
        i += 1
        return toks[i - 1][1]

    def joiner() -> bool:
        nonlocal i
        if i < n and toks[i][0] == "word" and toks[i][1].upper() == "OR":
            i += 1
            return True
        if i < n and toks[i][0] == "word" and toks[i][1].upper() in ("AND", "FOLLOWEDBY"):
            raise PatternUnsupported("conjunctions cannot be expressed as selectors")
        return False

    def value() -> str:
        nonlocal i
        if i < n and toks[i][0] == "str":
            i += 1
            return _unquote(toks[i - 1][1])
        if i < n and toks[i][0] == "int":
            i += 1
            return toks[i - 1][1]
        raise ValueError(f"pattern: expected a value at token {i}")

    def comparison() -> Comparison:
        nonlocal i
        path = expect("word")
        if i < n and toks[i][0] == "word" and toks[i][1].upper() == "NOT":
            raise PatternUnsupported("negated comparisons cannot be expressed as selectors")
        if i < n and toks[i][0] == "op":
            op = toks[i][1]
            i += 1
            if op != "=":
                raise PatternUnsupported(f"operator {op} cannot be expressed as a selector")
            return Comparison(path, "=", (value(),))
        word = expect("word").upper()
        if word in ("ISSUBSET", "LIKE"):
            return Comparison(path, word, (value(),))
        if word == "IN":
            expect("lpar")
            values = [value()]
            while i < n and toks[i][0] == "comma":
                i += 1
                values.append(value())
            expect("rpar")
            return Comparison(path, "IN", tuple(values))
        raise PatternUnsupported(f"operator {word} cannot be expressed as a selector")

    def observation() -> None:
        nonlocal i
        if i < n and toks[i][0] == "lpar":
            i += 1
            observation()
            while joiner():
                observation()
            expect("rpar")
            return
        expect("lbr")
        out.append(comparison())
        while joiner():
            out.append(comparison())
        expect("rbr")

    observation()
    while joiner():
        observation()
    if i < n:
        word = toks[i][1].upper()
        if word in ("WITHIN", "REPEATS", "START", "STOP"):
            raise PatternUnsupported("qualifiers cannot be expressed as selectors")
        raise ValueError(f"pattern: unexpected token at {i}")
    return out


def selectors_of(comparison: Comparison, ident: str) -> list[Selector]:
    kind = PATHS.get(comparison.path)
    if kind is None:
        raise PatternUnsupported("object path is not one selection can match")
    result = []
    for raw in comparison.values:
        if comparison.op == "LIKE":
            if kind != DOMAIN or not raw.startswith("%.") or "%" in raw[2:] or "_" in raw[2:]:
                raise PatternUnsupported("LIKE is supported only as '%.suffix' on domain names")
            result.append(make_selector(DOMAIN_SUFFIX, raw[2:], ident))
        elif comparison.op == "ISSUBSET" and kind != IP:
            raise PatternUnsupported("ISSUBSET applies to addresses only")
        elif kind == PORT:
            proto = "any"
            result.append(make_selector(PORT, f"{proto}/{raw}", ident))
        else:
            result.append(make_selector(kind, raw, ident))
    return result


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_stix(data: bytes, *, source: str, now: datetime) -> Parsed:
    """Selectors of a STIX 2.1 bundle (or a single indicator, or a list of objects)."""
    if len(data) > MAX_BUNDLE:
        raise InvalidInput(f"{source}: larger than {MAX_BUNDLE >> 20} MiB")
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(f"{source}: not JSON") from None
    if isinstance(document, dict) and document.get("type") == "bundle":
        objects = document.get("objects") or []
    elif isinstance(document, dict):
        objects = [document]
    elif isinstance(document, list):
        objects = document
    else:
        raise InvalidInput(f"{source}: not a STIX bundle")
    if not isinstance(objects, list):
        raise InvalidInput(f"{source}: bundle objects must be a list")
    parsed = Parsed(source=source, format="stix")
    for obj in objects:
        if not isinstance(obj, dict) or obj.get("type") != "indicator":
            continue
        ident = obj.get("id")
        if not isinstance(ident, str) or not ident.startswith("indicator--"):
            parsed.skipped.append("indicator without a valid id")
            continue
        if obj.get("revoked") is True:
            parsed.skipped.append("revoked")
            continue
        until = _time(obj.get("valid_until"))
        if until is not None and until <= now:
            parsed.skipped.append("expired (valid_until has passed)")
            continue
        pattern = obj.get("pattern")
        if not isinstance(pattern, str):
            parsed.skipped.append("indicator without a pattern")
            continue
        pattern_type = obj.get("pattern_type", "stix")
        if pattern_type == "yara":
            parsed.yara.append(YaraSource(ident, pattern))
            continue
        if pattern_type != "stix":
            parsed.skipped.append(f"pattern type {str(pattern_type)[:20]} is not supported")
            continue
        try:
            found = [s for c in parse_pattern(pattern) for s in selectors_of(c, ident)]
        except PatternUnsupported as exc:
            parsed.skipped.append(str(exc))
            continue
        except ValueError as exc:
            parsed.skipped.append(f"malformed pattern: {exc}")
            continue
        parsed.selectors.extend(found)
    return parsed
