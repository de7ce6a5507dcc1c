"""The narrative's handling marks: passages that only some tiers may carry.

An analyst writes one narrative per language and fences what a lower tier must not
see between tag lines::

    Plain text, for every tier.

    [SECRET]
    Attacker detail for tiers 1 and 2.
    [/SECRET]

    [COMMS]
    What selected communications showed, for tier 1 only.
    [/COMMS]

A tag stands alone on its line; passages do not nest. Errors name line numbers only,
never the text, because a passage may hold communications-derived content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mamori.errors import InvalidInput
from mamori.products.vocabulary import COMMS, FORBIDDEN, SECRET

PASSAGE_LABELS = (COMMS, SECRET)
_TAG = re.compile(r"^\[(/?)([A-Za-z_]+)\]$")
MAX_LENGTH = 100_000


@dataclass(frozen=True)
class Passage:
    """A run of lines: ``label`` is None for text every tier may carry."""

    label: str | None
    text: str


def parse(text: str, *, field: str = "narrative") -> list[Passage]:
    """Split a narrative into passages; a malformed fence is the author's error."""
    if len(text) > MAX_LENGTH:
        raise InvalidInput(f"{field}: longer than {MAX_LENGTH} characters", field=field)
    passages: list[Passage] = []
    current: list[str] = []
    label: str | None = None
    opened_at = 0
    for number, line in enumerate(text.splitlines(), start=1):
        match = _TAG.match(line.strip())
        if match is None:
            current.append(line)
            continue
        closing, name = match.group(1) == "/", match.group(2).upper()
        if name not in PASSAGE_LABELS:
            raise InvalidInput(
                f"{field}: line {number} is a tag of an unknown label; use "
                f"[{COMMS}] or [{SECRET}] and their closing tags", field=field)
        if closing:
            if label != name:
                raise InvalidInput(
                    f"{field}: line {number} closes [{name}], which is not open", field=field)
            passages.append(Passage(label, "\n".join(current)))
            current, label = [], None
            continue
        if label is not None:
            raise InvalidInput(
                f"{field}: line {number} opens [{name}] inside [{label}] opened at line "
                f"{opened_at}; passages do not nest", field=field)
        if current:
            passages.append(Passage(None, "\n".join(current)))
        current, label, opened_at = [], name, number
    if label is not None:
        raise InvalidInput(f"{field}: [{label}] opened at line {opened_at} is never closed",
                           field=field)
    if current:
        passages.append(Passage(None, "\n".join(current)))
    return passages


def labels_of(passages: list[Passage]) -> frozenset[str]:
    return frozenset(p.label for p in passages if p.label is not None)


def for_tier(passages: list[Passage], tier: int) -> tuple[str, list[str]]:
    """The text a tier may carry (tags removed) and the labels of the passages left out."""
    forbidden = FORBIDDEN[tier]
    kept: list[str] = []
    removed: list[str] = []
    for passage in passages:
        if passage.label is not None and passage.label in forbidden:
            removed.append(passage.label)
            continue
        kept.append(passage.text)
    text = "\n".join(kept)
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
    return text, removed
