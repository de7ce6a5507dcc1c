"""STIX 2.1 patterns, read for the values they compare against.

A small recursive-descent parser of the patterning grammar (STIX 2.1 §9): it checks the
structure and returns every comparison (object type, property path, operator, literal),
so that an indicator correlates with the addresses, domains and hashes it names. It is
far faster than the ANTLR-based ``stix2-patterns`` (a million indicators must ingest in
minutes); the tests hold the two to the same answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WILDCARD = "*"


class PatternError(Exception):
    """The text is not a STIX 2.1 pattern; the message names the offset, never content."""


@dataclass(frozen=True)
class Comparison:
    object_type: str
    path: tuple[str | int, ...]
    operator: str  # "=", "!=", "<", "<=", ">", ">=", "IN", "LIKE", "MATCHES", "ISSUBSET", ...
    negated: bool
    literals: tuple[str, ...]  # raw literal text, e.g. "'10.0.0.0/8'" or "t'2020-…Z'"

    def strings(self) -> list[str]:
        """The string literals' values (quotes removed, escapes resolved)."""
        return [unquote(raw) for raw in self.literals if raw.startswith("'")]


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<typed>[tbh]'(?:[^'\\]|\\.)*')
  | (?P<path>[a-z0-9][a-z0-9-]*[a-z0-9]:)
  | (?P<float>[+-]?\d*\.\d+)
  | (?P<int>[+-]?\d+)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[\[\]().,:*])
  | (?P<word>[A-Za-z_][A-Za-z0-9_-]*)
""", re.VERBOSE)
_KEYWORDS = frozenset({"AND", "OR", "NOT", "FOLLOWEDBY", "IN", "LIKE", "MATCHES", "ISSUBSET",
                       "ISSUPERSET", "EXISTS", "WITHIN", "SECONDS", "REPEATS", "TIMES",
                       "START", "STOP", "true", "false"})
_STRING_OPS = ("LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET")


def unquote(raw: str) -> str:
    body = raw[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _tokens(text: str) -> list[tuple[str, str, int]]:
    found: list[tuple[str, str, int]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise PatternError(f"unexpected character at offset {position}")
        kind = match.lastgroup or ""
        if kind != "ws":
            found.append((kind, match.group(), position))
        position = match.end()
    return found


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.found: list[Comparison] = []

    # --- token helpers ------------------------------------------------------------------

    def peek(self, offset: int = 0) -> tuple[str, str, int] | None:
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def word(self, offset: int = 0) -> str | None:
        token = self.peek(offset)
        return token[1] if token and token[0] in ("word", "punct", "op") else None

    def take(self, expected: str | None = None, kind: str | None = None) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise PatternError("the pattern ends too early")
        if (expected is not None and token[1] != expected) or (kind is not None
                                                               and token[0] != kind):
            raise PatternError(f"unexpected token at offset {token[2]}")
        self.at += 1
        return token

    # --- grammar ------------------------------------------------------------------------

    def pattern(self) -> list[Comparison]:
        if not self.tokens:
            raise PatternError("the pattern is empty")
        self.observations()
        if self.peek() is not None:
            raise PatternError(f"unexpected token at offset {self.peek()[2]}")  # type: ignore[index]
        return self.found

    def observations(self) -> None:
        self.observation()
        while self.word() in ("AND", "OR", "FOLLOWEDBY"):
            self.at += 1
            self.observation()

    def observation(self) -> None:
        if self.word() == "[":
            self.at += 1
            self.comparison_or()
            self.take("]")
        elif self.word() == "(":
            self.at += 1
            self.observations()
            self.take(")")
        else:
            token = self.peek()
            raise PatternError(f"expected '[' or '(' at offset {token[2] if token else 'end'}")
        self.qualifiers()

    def qualifiers(self) -> None:
        while True:
            keyword = self.word()
            if keyword == "WITHIN":
                self.at += 1
                number = self.peek()
                if number is None or number[0] not in ("int", "float"):
                    raise PatternError("WITHIN needs a number of seconds")
                self.at += 1
                self.take("SECONDS")
            elif keyword == "REPEATS":
                self.at += 1
                self.take(kind="int")
                self.take("TIMES")
            elif keyword == "START":
                self.at += 1
                self._timestamp()
                self.take("STOP")
                self._timestamp()
            else:
                return

    def _timestamp(self) -> None:
        token = self.take(kind="typed")
        if not token[1].startswith("t'"):
            raise PatternError(f"expected a t'…' timestamp at offset {token[2]}")

    def comparison_or(self) -> None:
        self.comparison_and()
        while self.word() == "OR":
            self.at += 1
            self.comparison_and()

    def comparison_and(self) -> None:
        self.test()
        while self.word() == "AND":
            self.at += 1
            self.test()

    def test(self) -> None:
        if self.word() == "(":
            self.at += 1
            self.comparison_or()
            self.take(")")
            return
        if self.word() == "EXISTS":
            self.at += 1
            self.object_path()
            return
        object_type, path = self.object_path()
        negated = False
        if self.word() == "NOT":
            negated = True
            self.at += 1
        token = self.peek()
        if token is None:
            raise PatternError("the comparison has no operator")
        if token[0] == "op":
            self.at += 1
            operator = "!=" if token[1] == "<>" else token[1]
            literal = self.literal()
            if literal in ("true", "false") and operator not in ("=", "!="):
                raise PatternError(f"true and false compare only with = or != "
                                   f"(offset {token[2]})")
            self.found.append(Comparison(object_type, path, operator, negated, (literal,)))
        elif token[1] == "IN":
            self.at += 1
            self.found.append(Comparison(object_type, path, "IN", negated, self.set_literal()))
        elif token[1] in _STRING_OPS:
            self.at += 1
            literal = self.take(kind="string")[1]
            self.found.append(Comparison(object_type, path, token[1], negated, (literal,)))
        else:
            raise PatternError(f"expected a comparison operator at offset {token[2]}")

    def object_path(self) -> tuple[str, tuple[str | int, ...]]:
        token = self.take(kind="path")
        object_type = token[1][:-1]
        path: list[str | int] = [self._component(first=True)]
        while True:
            nxt = self.word()
            if nxt == ".":
                self.at += 1
                path.append(self._component(first=False))
            elif nxt == "[" and self._index_follows():
                self.at += 1
                index = self.take()
                path.append(WILDCARD if index[1] == "*" else int(index[1]))
                self.take("]")
            else:
                return object_type, tuple(path)

    def _index_follows(self) -> bool:
        token = self.peek(1)
        return token is not None and (token[0] == "int" or token[1] == "*")

    def _component(self, *, first: bool) -> str:
        token = self.peek()
        if token is None:
            raise PatternError("the object path ends too early")
        if token[0] == "word":
            self.at += 1
            return token[1]
        if token[0] == "string" and not first:
            self.at += 1
            return unquote(token[1])
        raise PatternError(f"expected a property name at offset {token[2]}")

    def literal(self) -> str:
        token = self.peek()
        if token is None:
            raise PatternError("the comparison has no value")
        if token[0] in ("string", "typed", "int", "float") or token[1] in ("true", "false"):
            self.at += 1
            return token[1]
        raise PatternError(f"expected a value at offset {token[2]}")

    def set_literal(self) -> tuple[str, ...]:
        self.take("(")
        values = [self.literal()]
        while self.word() == ",":
            self.at += 1
            values.append(self.literal())
        self.take(")")
        return tuple(values)


def parse_pattern(text: str) -> list[Comparison]:
    """Every comparison of a STIX 2.1 pattern; ``PatternError`` when it is not one."""
    if not isinstance(text, str) or len(text) > 1 << 20:
        raise PatternError("a pattern is text of at most 1 MiB")
    return _Parser(text).pattern()
