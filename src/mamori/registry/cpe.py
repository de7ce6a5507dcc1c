"""A strict parser for CPE 2.3 formatted strings (NISTIR 7695 §6.2, the CPE dictionary's
``cpe23-item/@name`` pattern).

Notified components carry CPE names so that vulnerability records can be matched to
them (R-4.2-2); a name that only looks right would silently never match, so anything
outside the grammar is refused with the attribute and position that is wrong.
"""

from __future__ import annotations

import string
from dataclasses import astuple, dataclass, fields

from mamori.registry.messages import N_, RegistryInputError

PREFIX = "cpe:2.3:"
MAX_LENGTH = 1024
ANY = "*"
NA = "-"

ATTRIBUTES: tuple[str, ...] = (
    "part", "vendor", "product", "version", "update", "edition", "language",
    "sw_edition", "target_sw", "target_hw", "other",
)
# Characters a formatted string carries unescaped inside a value.
PLAIN = frozenset(string.ascii_letters + string.digits + "._-")
# Characters that appear only after a backslash ("quoted").
QUOTABLE = frozenset("\\*?!\"#$%&'()+,/:;<=>@[]^`{|}~")
PARTS = frozenset({"a", "o", "h", ANY, NA})


@dataclass(frozen=True)
class Cpe23:
    """The eleven attributes of a CPE name, each in formatted-string form (still quoted)."""

    part: str
    vendor: str
    product: str
    version: str = ANY
    update: str = ANY
    edition: str = ANY
    language: str = ANY
    sw_edition: str = ANY
    target_sw: str = ANY
    target_hw: str = ANY
    other: str = ANY

    def format(self) -> str:
        """The formatted string ``cpe:2.3:part:vendor:...``."""
        return PREFIX + ":".join(astuple(self))

    def __str__(self) -> str:
        return self.format()


def _split(body: str, *, field: str) -> list[str]:
    """Split on the colons that are not quoted with a backslash."""
    values: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            if index + 1 >= len(body):
                raise RegistryInputError(
                    N_("a CPE name ends with an unfinished escape (\\)"), field=field
                )
            current.append(body[index : index + 2])
            index += 2
            continue
        if char == ":":
            values.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    values.append("".join(current))
    return values


def _bad(attribute: str, position: int, *, field: str) -> RegistryInputError:
    return RegistryInputError(
        N_("the CPE attribute %(attribute)s is not well-formed (character %(position)s)"),
        field=field, attribute=attribute, position=position,
    )


def _check_value(attribute: str, value: str, offset: int, *, field: str) -> None:
    """One attribute value: ``*``, ``-``, or wildcards around a non-empty quoted body."""
    if value in (ANY, NA):
        return
    index = 0
    if value.startswith(ANY):
        index = 1
    else:
        while index < len(value) and value[index] == "?":
            index += 1
    body_start = index
    while index < len(value):
        char = value[index]
        if char in PLAIN:
            index += 1
        elif char == "\\" and index + 1 < len(value) and value[index + 1] in QUOTABLE:
            index += 2
        else:
            break
    if index == body_start:
        raise _bad(attribute, offset + index + 1, field=field)
    if value[index:] == ANY:
        return
    while index < len(value) and value[index] == "?":
        index += 1
    if index != len(value):
        raise _bad(attribute, offset + index + 1, field=field)


def _check_language(value: str, offset: int, *, field: str) -> None:
    """RFC 5646 subset the CPE pattern allows: ``ll``/``lll`` with an optional region."""
    if value in (ANY, NA):
        return
    language, _, region = value.partition("-")
    ok = 2 <= len(language) <= 3 and language.isascii() and language.isalpha()
    if "-" in value:
        ok = ok and (
            (len(region) == 2 and region.isascii() and region.isalpha())
            or (len(region) == 3 and region.isascii() and region.isdigit())
        )
    if not ok:
        raise _bad("language", offset + 1, field=field)


def parse_cpe(text: str, *, field: str = "cpe") -> Cpe23:
    """A CPE 2.3 formatted string → :class:`Cpe23`, or a clear error naming what is wrong."""
    if len(text) > MAX_LENGTH:
        raise RegistryInputError(
            N_("a CPE name is longer than %(limit)s characters"), field=field, limit=MAX_LENGTH
        )
    if not text.startswith(PREFIX):
        raise RegistryInputError(
            N_("a CPE 2.3 name starts with \"cpe:2.3:\" (the formatted-string binding)"),
            field=field,
        )
    values = _split(text[len(PREFIX) :], field=field)
    if len(values) != len(ATTRIBUTES):
        raise RegistryInputError(
            N_("a CPE 2.3 name has 11 attributes after \"cpe:2.3:\"; this one has %(count)s"),
            field=field, count=len(values),
        )
    offset = len(PREFIX)
    for attribute, value in zip(ATTRIBUTES, values, strict=True):
        if attribute == "part":
            if value not in PARTS:
                raise RegistryInputError(
                    N_("the CPE part is a (application), o (operating system) or h (hardware)"),
                    field=field,
                )
        elif attribute == "language":
            _check_language(value, offset, field=field)
        else:
            _check_value(attribute, value, offset, field=field)
        offset += len(value) + 1
    return Cpe23(*values)


def unquote(value: str) -> str:
    """A formatted-string value without its backslash quoting (for display)."""
    out: list[str] = []
    escaped = False
    for char in value:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out.append(char)
    return "".join(out)


def quote(value: str) -> str:
    """Plain text → a formatted-string value (the inverse of :func:`unquote`)."""
    if value == "":
        return ANY
    if any(c not in PLAIN and c not in QUOTABLE for c in value):
        raise RegistryInputError(
            N_("a CPE value holds only letters, digits and ASCII punctuation (no spaces)"),
            field="cpe",
        )
    return "".join(c if c in PLAIN else "\\" + c for c in value)


ATTRIBUTE_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Cpe23))
