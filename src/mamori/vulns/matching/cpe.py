"""CPE names as the matcher reads them: 2.3 formatted strings and 2.2 URIs (JVN, CVE
``affected[].cpes``), reduced to eleven plain attribute values.

A value is ``*`` (ANY), ``-`` (NA) or literal text without its backslash quoting.
Values that hold wildcards inside them (``log4j*``, ``?``) are kept as written and
flagged, because matching them would be a guess: the index refuses them (the
"wildcard vendor/product" trap) and the importer counts them as skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote as url_unquote

ANY = "*"
NA = "-"
ATTRIBUTES: tuple[str, ...] = (
    "part", "vendor", "product", "version", "update", "edition", "language",
    "sw_edition", "target_sw", "target_hw", "other",
)
PARTS = frozenset({"a", "o", "h"})
ANY_REST = (ANY,) * 7
MAX_LENGTH = 1024


class CpeSyntaxError(ValueError):
    """Not a CPE name; the message names the attribute, never the value."""


@dataclass(frozen=True, slots=True)
class Cpe:
    """Eleven plain values; ``wild`` lists the attributes with embedded wildcards."""

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
    wild: frozenset[str] = field(default=frozenset(), kw_only=True)

    @property
    def key(self) -> tuple[str, str]:
        return (self.vendor, self.product)

    @property
    def literal_identity(self) -> bool:
        """Vendor and product are literal names (neither ANY/NA nor wildcarded)."""
        return (
            self.vendor not in (ANY, NA) and self.product not in (ANY, NA)
            and "vendor" not in self.wild and "product" not in self.wild
        )

    def rest(self) -> tuple[str, ...]:
        """The attributes after the version, compared one by one by the matcher; empty
        when all of them are ANY (the common case, which then costs nothing)."""
        values = (self.update, self.edition, self.language, self.sw_edition, self.target_sw,
                  self.target_hw, self.other)
        return () if values == ANY_REST else values

    def format(self) -> str:
        def q(value: str) -> str:
            if value in (ANY, NA):
                return value
            return "".join(c if c.isalnum() or c in "._-" else "\\" + c for c in value)

        values = [getattr(self, a) for a in ATTRIBUTES]
        return "cpe:2.3:" + ":".join(q(v) for v in values)


def _split23(body: str) -> list[str]:
    values: list[str] = []
    current: list[str] = []
    escaped = False
    for char in body:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            values.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        raise CpeSyntaxError("a CPE name ends with an unfinished escape")
    values.append("".join(current))
    return values


def _plain23(raw: str) -> tuple[str, bool]:
    """A formatted-string value → (plain value, has an unquoted wildcard)."""
    if raw in (ANY, NA):
        return raw, False
    if raw == "":
        raise CpeSyntaxError("a CPE attribute is empty")
    out: list[str] = []
    wild = False
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == "\\":
            out.append(raw[index + 1])
            index += 2
            continue
        if char in "*?":
            wild = True
        out.append(char)
        index += 1
    return "".join(out), wild


def _parse23(text: str) -> Cpe:
    values = _split23(text[len("cpe:2.3:"):])
    if len(values) != len(ATTRIBUTES):
        raise CpeSyntaxError(f"a CPE 2.3 name has 11 attributes, this one {len(values)}")
    plain: list[str] = []
    wild: set[str] = set()
    for name, raw in zip(ATTRIBUTES, values, strict=True):
        value, is_wild = _plain23(raw)
        if is_wild:
            wild.add(name)
        plain.append(value.lower())
    if plain[0] not in PARTS and plain[0] != ANY:
        raise CpeSyntaxError("the CPE part is a, o or h")
    return Cpe(*plain, wild=frozenset(wild))


def _parse22(text: str) -> Cpe:
    """``cpe:/part:vendor:product:version:update:edition:language`` (NISTIR 7695 §6.1)."""
    values = text[len("cpe:/"):].split(":")
    if len(values) > 7 or not values[0]:
        raise CpeSyntaxError("a CPE 2.2 URI has at most 7 components")
    values += [""] * (7 - len(values))
    plain = [url_unquote(v) if v else ANY for v in values]
    edition = plain[5]
    extra = [ANY, ANY, ANY, ANY]
    if edition.startswith("~"):  # packed edition: ~edition~sw_edition~target_sw~target_hw~other
        packed = (edition.split("~") + [""] * 6)[1:6]
        edition = packed[0] or ANY
        extra = [p or ANY for p in packed[1:5]]
    part, vendor, product, version, update, _, language = plain
    if part not in PARTS:
        raise CpeSyntaxError("the CPE part is a, o or h")
    return Cpe(part, vendor.lower(), product.lower(), version.lower(), update.lower(),
               edition.lower(), language.lower(), *[e.lower() for e in extra])


def parse(text: str) -> Cpe:
    """A CPE 2.3 formatted string or 2.2 URI, or ``CpeSyntaxError``."""
    value = text.strip()
    if len(value) > MAX_LENGTH:
        raise CpeSyntaxError("a CPE name is longer than 1024 characters")
    if value.startswith("cpe:2.3:"):
        return _parse23(value)
    if value.startswith("cpe:/"):
        return _parse22(value)
    raise CpeSyntaxError("a CPE name starts with cpe:2.3: or cpe:/")


def attribute_matches(criterion: str, component: str) -> bool | None:
    """One attribute after the version: True, False, or None when the component does not
    say (``*``) and the criterion asks for a specific value."""
    if criterion == ANY:
        return True
    if criterion == NA:
        return True if component == NA else (None if component == ANY else False)
    if component == ANY:
        return None
    return criterion == component
