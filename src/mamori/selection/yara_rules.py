"""YARA rules for command information (指令情報, command_info), run in memory.

Rules are compiled once per selector-set version from source held in the database
(``include`` is disabled, so compiling reads no file) and run with
``rules.match(data=...)`` on the payload of each eligible packet. What leaves a
match is the rule id ``yara:<rule>`` and, for a rule whose metadata says
``command_token = true``, the *declared* command tokens that matched.

Command tokens
--------------
A rule marks itself with ``command_token = true`` in its ``meta:`` section. Its
declared tokens are its plain text strings (``$name = "text"``, not hex strings
or regular expressions). When such a string matches, the output is the literal
exactly as written in the rule — never the matched bytes — and only if the
matched bytes are that literal (case-insensitively, or as UTF-16LE for ``wide``).
So nothing of a payload can leave through a token that the rule's author did
not write down. Tokens must be printable ASCII of at most 64 characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import yara

from mamori.errors import InvalidInput

from .selectors.content import YaraSource

TOKEN_MAX = 64
RULE_PREFIX = "yara:"
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_PRINTABLE = re.compile(r"^[\x20-\x7e]{1,64}$")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STRING_ID = re.compile(r"\$[A-Za-z0-9_]*")


@dataclass(frozen=True)
class RuleText:
    """What the scanner learnt about one rule from its source."""

    name: str
    text_strings: dict[str, str] = field(default_factory=dict)
    """String identifier (with ``$``) to its decoded text literal."""


def _skip_comment(src: str, i: int) -> int:
    if src.startswith("//", i):
        end = src.find("\n", i)
        return len(src) if end < 0 else end + 1
    if src.startswith("/*", i):
        end = src.find("*/", i + 2)
        return len(src) if end < 0 else end + 2
    return i


def _read_text(src: str, i: int) -> tuple[str, int]:
    """The decoded text literal starting at the quote ``src[i]``, and the index after it."""
    out: list[str] = []
    i += 1
    while i < len(src):
        ch = src[i]
        if ch == '"':
            return "".join(out), i + 1
        if ch == "\\" and i + 1 < len(src):
            nxt = src[i + 1]
            if nxt == "x" and i + 3 < len(src):
                try:
                    out.append(chr(int(src[i + 2 : i + 4], 16)))
                except ValueError:
                    out.append("\0")
                i += 4
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    raise ValueError("unterminated text string")


def _skip_regex(src: str, i: int) -> int:
    i += 1
    while i < len(src):
        if src[i] == "\\":
            i += 2
            continue
        if src[i] == "/":
            return i + 1
        i += 1
    raise ValueError("unterminated regular expression")


def scan_rules(source: str) -> list[RuleText]:
    """Rule names and text strings of YARA source (a light scanner, not a compiler).

    Only what token emission needs is read: ``rule NAME`` headers and, inside a
    rule, ``$id = "text"`` definitions. Hex strings, regular expressions, comments
    and conditions are stepped over.
    """
    rules: list[RuleText] = []
    i, n = 0, len(source)
    current: RuleText | None = None
    depth = 0
    while i < n:
        j = _skip_comment(source, i)
        if j != i:
            i = j
            continue
        ch = source[i]
        if ch == '"':
            _, i = _read_text(source, i)
            continue
        if ch == "{":
            depth += 1
            i += 1
            continue
        if ch == "}":
            depth = max(0, depth - 1)
            if depth == 0:
                current = None
            i += 1
            continue
        if depth == 0:
            match = _IDENT.match(source, i)
            if match and match.group() == "rule":
                after = match.end()
                name = _IDENT.match(source, after + _ws(source, after))
                if name is None:
                    raise ValueError("rule without a name")
                current = RuleText(name.group())
                rules.append(current)
                i = name.end()
                continue
            i = match.end() if match else i + 1
            continue
        if ch == "$" and current is not None:
            ident = _STRING_ID.match(source, i)
            assert ident is not None
            k = ident.end()
            k += _ws(source, k)
            if k < n and source[k] == "=":
                k += 1
                k += _ws(source, k)
                if k < n and source[k] == '"':
                    text, k = _read_text(source, k)
                    current.text_strings[ident.group()] = text
                elif k < n and source[k] == "/":
                    k = _skip_regex(source, k)
                elif k < n and source[k] == "{":
                    end = source.find("}", k)
                    k = n if end < 0 else end + 1
            i = max(k, i + 1)
            continue
        if ch == "/" and current is not None and depth > 0:
            # a regular expression outside a string definition (in a condition): step over
            # only when it is clearly one, i.e. after "matches".
            prefix = source[max(0, i - 12) : i].rstrip()
            if prefix.endswith("matches"):
                i = _skip_regex(source, i)
                continue
        i += 1
    return rules


def _ws(src: str, i: int) -> int:
    k = i
    while k < len(src) and src[k] in " \t\r\n":
        k += 1
    return k - i


@dataclass(frozen=True)
class CompiledRules:
    """Compiled rules plus the declared tokens of rules that may emit them."""

    rules: yara.Rules | None
    tokens: dict[str, dict[str, str]]
    """Rule name -> string identifier -> declared literal (token rules only)."""
    rule_names: tuple[str, ...]

    def scan(self, payload: bytes) -> tuple[list[str], list[str]]:
        """Rule ids and declared command tokens that match one payload."""
        if self.rules is None or not payload:
            return [], []
        matches = self.rules.match(data=payload, timeout=5)
        rule_ids: list[str] = []
        emitted: list[str] = []
        for match in matches:
            rule_ids.append(RULE_PREFIX + match.rule)
            declared = self.tokens.get(match.rule)
            if not declared:
                continue
            for string in match.strings:
                literal = declared.get(string.identifier)
                if literal is None:
                    continue
                if any(_is_literal(inst.matched_data, literal) for inst in string.instances):
                    emitted.append(literal)
        return rule_ids, emitted


def _is_literal(data: bytes, literal: str) -> bool:
    expected = literal.encode("ascii")
    return (
        data == expected
        or data.lower() == expected.lower()
        or data == literal.encode("utf-16-le")
        or data.lower() == literal.encode("utf-16-le").lower()
    )


EMPTY = CompiledRules(None, {}, ())


def compile_sources(sources: Sequence[YaraSource]) -> CompiledRules:
    """Compile every source into one rule set; InvalidInput names the failing source."""
    if not sources:
        return EMPTY
    names: list[str] = []
    tokens: dict[str, dict[str, str]] = {}
    for source in sources:
        try:
            yara.compile(source=source.text, includes=False)
        except yara.SyntaxError as exc:
            raise InvalidInput(f"YARA source {source.name}: {exc}") from None
        try:
            scanned = scan_rules(source.text)
        except ValueError as exc:
            raise InvalidInput(f"YARA source {source.name}: {exc}") from None
        names.extend(r.name for r in scanned)
        for rule in scanned:
            tokens[rule.name] = dict(rule.text_strings)
    try:
        rules = yara.compile(
            source="\n".join(s.text for s in sources), includes=False
        )
    except yara.SyntaxError as exc:
        raise InvalidInput(f"YARA rules cannot be combined: {exc}") from None
    marked = {rule.identifier for rule in rules if rule.meta.get("command_token") is True}
    declared = {
        name: {k: v for k, v in strings.items() if _PRINTABLE.match(v)}
        for name, strings in tokens.items()
        if name in marked
    }
    return CompiledRules(rules, declared, tuple(r.identifier for r in rules))


def rule_ids(sources: Iterable[YaraSource]) -> list[str]:
    compiled = compile_sources(list(sources))
    return [RULE_PREFIX + name for name in compiled.rule_names]
