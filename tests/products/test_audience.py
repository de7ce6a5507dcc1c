"""Audiences: the six categories, and the ``CATEGORY[:ORGANISATION]`` form the CLI and
the pages read (a parser, so hypothesis drives it)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.errors import InvalidInput
from mamori.products.audience import CATEGORIES, Audience, parse_audience


@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_any_text_is_an_audience_or_a_clear_error(text: str) -> None:
    try:
        audience = parse_audience(text)
    except InvalidInput as exc:
        assert exc.extra.get("field") == "audience"
        return
    assert audience.category in CATEGORIES


@given(st.sampled_from(sorted(CATEGORIES)), st.one_of(st.none(), st.integers(1, 10**9)))
def test_round_trip(category: str, organisation: int | None) -> None:
    text = category if organisation is None else f"{category}:{organisation}"
    audience = parse_audience(text)
    assert (audience.category, audience.organisation_id) == (category, organisation)
    keys = audience.consent_keys()
    assert category in keys and "*" in keys
    assert (f"organisation:{organisation}" in keys) is (organisation is not None)


def test_keys_and_validation() -> None:
    a = Audience("supplier", 3, frozenset({"operator:x"}))
    assert a.key() == Audience("supplier", 3, frozenset({"operator:x"})).key()
    assert a.key() != Audience("supplier", 3).key()
    for bad in (("nobody", None), ("supplier", 0), ("supplier", True)):
        with pytest.raises(InvalidInput):
            Audience(bad[0], bad[1])  # type: ignore[arg-type]
