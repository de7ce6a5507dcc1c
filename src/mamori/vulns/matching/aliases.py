"""The explicit alias table: the only way two spellings of one product meet.

KEV and JVN name products in words ("Apache" / "Log4j2"), CPE dictionaries sometimes
spell one product twice (``http_server`` / ``httpd``). Unifying them by similarity
(``_`` vs ``-``, edit distance) would merge different products, so every unification
is a reviewed line in ``data/aliases.json``.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

ALIASES_FILE = Path(__file__).resolve().parents[1] / "data" / "aliases.json"
_SPACE = re.compile(r"\s+")


def name_key(vendor: str, product: str) -> tuple[str, str]:
    """A vendor/product in words → the key form used for CPE (lower case, spaces as ``_``).

    Nothing else is changed: ``-`` and ``_`` stay what they are.
    """
    return (_SPACE.sub("_", vendor.strip().lower()), _SPACE.sub("_", product.strip().lower()))


@lru_cache(maxsize=1)
def table() -> dict[tuple[str, str], tuple[str, str]]:
    """``(vendor, product)`` spelling → the canonical CPE ``(vendor, product)``."""
    data = json.loads(ALIASES_FILE.read_text(encoding="utf-8"))
    result: dict[tuple[str, str], tuple[str, str]] = {}
    for item in data["cpe"]:
        target = (item["vendor"], item["product"])
        for spelling in item["spellings"]:
            result[(spelling[0], spelling[1])] = target
    return result


def canonical(key: tuple[str, str]) -> tuple[str, str]:
    return table().get(key, key)
