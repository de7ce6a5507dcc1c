"""Selection criteria: parsing (plain lists, STIX 2.1, YARA), canonical content and
the compiled matcher. Versions are stored by :mod:`mamori.selection.service`."""

from __future__ import annotations

from .content import (
    DOMAIN,
    DOMAIN_SUFFIX,
    IP,
    JA3,
    JA4,
    KINDS,
    PORT,
    YARA,
    Parsed,
    Selector,
    SelectorContent,
    YaraSource,
    make_selector,
)
from .matcher import Matcher, cached_matcher, compile_matcher, v6_keys
from .plain import parse_plain
from .stix import parse_stix

__all__ = [
    "DOMAIN",
    "DOMAIN_SUFFIX",
    "IP",
    "JA3",
    "JA4",
    "KINDS",
    "PORT",
    "YARA",
    "Matcher",
    "Parsed",
    "Selector",
    "SelectorContent",
    "YaraSource",
    "cached_matcher",
    "compile_matcher",
    "make_selector",
    "parse_plain",
    "parse_stix",
    "v6_keys",
]
