"""The narrative's handling marks: a parser, so hypothesis drives it."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mamori.errors import InvalidInput
from mamori.products import narrative
from mamori.products.narrative import Passage

LINE = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30) \
    .filter(lambda s: not narrative._TAG.match(s.strip()))
BLOCK = st.lists(LINE, min_size=1, max_size=4).map("\n".join)
PASSAGES = st.lists(st.tuples(st.sampled_from([None, "COMMS", "SECRET"]), BLOCK), max_size=6)


def compose(passages: list[tuple[str | None, str]]) -> str:
    parts = []
    for label, text in passages:
        parts.append(text if label is None else f"[{label}]\n{text}\n[/{label}]")
    return "\n".join(parts)


@given(PASSAGES)
@settings(max_examples=200, deadline=None)
@example([(None, '0'), (None, '0'), ('COMMS', '0\n0')])  # public text spelling the block
def test_fenced_passages_round_trip(passages: list[tuple[str | None, str]]) -> None:
    parsed = narrative.parse(compose(passages))
    assert [p.label for p in parsed if p.label] == [label for label, _ in passages if label]
    for tier in (1, 2, 3):
        text, removed = narrative.for_tier(parsed, tier)
        forbidden = {1: set(), 2: {"COMMS"}, 3: {"COMMS", "SECRET"}}[tier]
        assert sorted(removed) == sorted(label for label, _ in passages if label in forbidden)
        # What a tier carries is exactly what the allowed passages alone would make; a
        # forbidden block's text may then appear only if the allowed ones spell it.
        allowed = [(label, block) for label, block in passages if label not in forbidden]
        assert text == narrative.for_tier(narrative.parse(compose(allowed)), tier)[0]


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_text_parses_or_is_refused_without_echoing_it(text: str) -> None:
    try:
        parsed = narrative.parse(text)
    except InvalidInput as exc:
        assert "line" in exc.detail
        for line in text.splitlines():
            if len(line.strip()) > 12 and not narrative._TAG.match(line.strip()):
                assert line.strip() not in exc.detail
        return
    assert all(isinstance(p, Passage) for p in parsed)


@pytest.mark.parametrize("text", [
    "[SECRET]\nopen", "[/SECRET]", "[COMMS]\n[SECRET]\nx\n[/SECRET]\n[/COMMS]",
    "[TOPSECRET]\nx\n[/TOPSECRET]", "[SECRET]\nx\n[/COMMS]",
])
def test_malformed_fences(text: str) -> None:
    with pytest.raises(InvalidInput):
        narrative.parse(text)


def test_labels_of() -> None:
    parsed = narrative.parse("a\n[SECRET]\nb\n[/SECRET]\n [comms] \nc\n[/COMMS]")
    assert narrative.labels_of(parsed) == {"SECRET", "COMMS"}
    assert narrative.for_tier(parsed, 3) == ("a", ["SECRET", "COMMS"])
