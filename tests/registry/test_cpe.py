"""The strict CPE 2.3 formatted-string parser: examples from NISTIR 7695 and property
tests (every well-formed name round-trips; anything else is a clear InvalidInput)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.errors import InvalidInput
from mamori.registry.cpe import ATTRIBUTES, PLAIN, QUOTABLE, Cpe23, parse_cpe, quote, unquote

VALID = [
    "cpe:2.3:a:microsoft:internet_explorer:8.0.6001:beta:*:*:*:*:*:*",
    "cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:-:*:*:online:win2003:x64:*",
    "cpe:2.3:a:foo\\\\bar:big\\$money_manager_2010:*:*:*:*:special:ipod_touch:80gb:*",
    "cpe:2.3:a:hp:openview_network_manager:7.51:*:*:*:*:linux:*:*",
    "cpe:2.3:o:linux:linux_kernel:5.15:*:*:*:*:*:*:*",
    "cpe:2.3:a:openssl:openssl:3.0.13:*:*:en-us:*:*:*:*",
    "cpe:2.3:h:example:rtu-500:4.2:*:*:*:*:*:*:*",
    "cpe:2.3:a:vendor:product:1.?:*:*:*:*:*:*:*",
    "cpe:2.3:a:vendor:product:*1.2:*:*:*:*:*:*:*",
    "cpe:2.3:a:vendor:prod\\:uct:1.0:*:*:*:*:*:*:*",
]
INVALID = [
    "",
    "cpe:/a:microsoft:internet_explorer:8.0",  # the URI binding, not a formatted string
    "cpe:2.3:a:microsoft:internet_explorer:8.0",  # too few attributes
    "cpe:2.3:x:vendor:product:1:*:*:*:*:*:*:*",  # bad part
    "cpe:2.3:a:vendor:pro duct:1:*:*:*:*:*:*:*",  # space
    "cpe:2.3:a:vendor:product:1:*:*:english:*:*:*:*",  # bad language
    "cpe:2.3:a:vendor:product:1:*:*:*:*:*:*:*:*",  # too many attributes
    "cpe:2.3:a::product:1:*:*:*:*:*:*:*",  # empty vendor
    "cpe:2.3:a:vendor:product:1**:*:*:*:*:*:*:*",  # two stars
    "cpe:2.3:a:vendor:product:1.0\\:*:*:*:*:*:*:*:",  # trailing lone escape eats a colon
    "cpe:2.3:a:vendor:prod\\.uct:1:*:*:*:*:*:*:*",  # "." is never quoted
    "CPE:2.3:a:vendor:product:1:*:*:*:*:*:*:*",
    "cpe:2.3:a:vendor:product:1:*:*:*:*:*:*:\\",
]


@pytest.mark.parametrize("text", VALID)
def test_well_formed_names_parse_and_format_back(text: str) -> None:
    cpe = parse_cpe(text)
    assert cpe.format() == text
    assert len(ATTRIBUTES) == 11


@pytest.mark.parametrize("text", INVALID)
def test_malformed_names_are_refused_with_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_cpe(text, field="cpe")
    assert error.value.extra["field"] == "cpe"
    assert text[10:] not in error.value.detail or not text[10:]


def test_quoted_colons_do_not_split_and_unquote_recovers_the_value() -> None:
    cpe = parse_cpe("cpe:2.3:a:vendor:prod\\:uct:1.0:*:*:*:*:*:*:*")
    assert cpe.product == "prod\\:uct"
    assert unquote(cpe.product) == "prod:uct"
    assert cpe.version == "1.0"


_plain_text = st.text(alphabet=sorted(PLAIN | QUOTABLE), min_size=1, max_size=20)


@st.composite
def _values(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["any", "na", "text"]))
    if kind == "any":
        return "*"
    if kind == "na":
        return "-"
    value = quote(draw(_plain_text))
    if value in ("*", "-"):
        return value
    prefix = draw(st.sampled_from(["", "*", "?", "??"]))
    suffix = draw(st.sampled_from(["", "*", "?"]))
    return prefix + value + suffix


_languages = st.one_of(
    st.sampled_from(["*", "-"]),
    st.builds(lambda a, b: a + b, st.text(string.ascii_lowercase, min_size=2, max_size=3),
              st.sampled_from(["", "-us", "-JP", "-419"])),
)


@given(
    part=st.sampled_from(["a", "o", "h", "*", "-"]),
    values=st.lists(_values(), min_size=9, max_size=9),
    language=_languages,
)
def test_every_generated_name_round_trips(part: str, values: list[str], language: str) -> None:
    attributes = [part, *values[:5], language, *values[5:]]
    cpe = Cpe23(*attributes)
    assert parse_cpe(cpe.format()) == cpe


@given(st.text(max_size=120))
def test_arbitrary_text_is_either_a_name_or_a_clear_error(text: str) -> None:
    try:
        cpe = parse_cpe(text)
    except InvalidInput as error:
        assert error.extra.get("field") == "cpe"
    else:
        assert cpe.format() == text


@given(_plain_text)
def test_quote_and_unquote_are_inverse(text: str) -> None:
    assert unquote(quote(text)) == text
