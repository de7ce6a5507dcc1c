"""The domestic-prefix table: RIR delegated statistics, overrides, range arithmetic and
the direction classifier, against ``ipaddress`` as the oracle."""

from __future__ import annotations

import ipaddress
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.errors import InvalidInput
from mamori.selection.prefixes import (
    Classifier,
    PrefixTable,
    merge,
    parse_delegated,
    parse_overrides,
    parse_prefix_file,
    subtract,
)

DELEGATED = """2.3|apnic|20261126|5|19830613|20261125|+1000
apnic|*|ipv4|*|3|summary
apnic|JP|ipv4|133.0.0.0|16777216|19970101|allocated
apnic|JP|ipv4|43.224.0.0|768|20140101|assigned|A91B2C
apnic|CN|ipv4|1.0.1.0|256|20110414|allocated
apnic|JP|ipv4|27.0.0.0|1024|20100101|available
apnic|JP|ipv6|2001:200::|23|19990813|allocated
apnic|JP|asn|2497|1|19920101|allocated
"""


def test_delegated_statistics_keep_the_countrys_allocations() -> None:
    source = parse_delegated(DELEGATED, source="apnic", country="jp")
    assert source.lines == 3
    table = PrefixTable.build("JP", [source])
    classifier = Classifier(table)
    assert classifier.is_domestic("133.255.0.1")
    assert classifier.is_domestic("43.224.2.255") and not classifier.is_domestic("43.224.3.0")
    assert not classifier.is_domestic("1.0.1.1") and not classifier.is_domestic("27.0.0.1")
    assert classifier.is_domestic("2001:200::1") and classifier.is_domestic("2001:3ff::1")
    assert not classifier.is_domestic("2001:400::1")
    assert classifier.direction("8.8.8.8", "133.1.1.1") == "foreign_domestic"
    assert classifier.direction("133.1.1.1", "2001:200::1") == "domestic_domestic"


def test_overrides_win_and_the_table_round_trips() -> None:
    overrides = parse_overrides("133.1.0.0/16 foreign\n192.0.2.0/24 domestic\n", source="o")
    table = PrefixTable.build("JP", [parse_delegated(DELEGATED, source="a", country="JP"),
                                     overrides])
    classifier = Classifier(table)
    assert not classifier.is_domestic("133.1.2.3") and classifier.is_domestic("133.2.0.0")
    assert classifier.is_domestic("192.0.2.77")
    again = PrefixTable.from_json(table.canonical().decode())
    assert again == table and again.digest == table.digest
    assert parse_prefix_file("# only comments\n", source="e", country="JP").format == "empty"


@pytest.mark.parametrize("text", ["apnic|JP|ipv4|1.2.3|256|2000|allocated",
                                  "apnic|JP|ipv6|::1|200|2000|allocated", "just words"])
def test_broken_lines_name_their_number(text: str) -> None:
    with pytest.raises(InvalidInput, match="line 2"):
        parse_prefix_file("apnic|JP|ipv4|133.0.0.0|256|2000|allocated\n" + text,
                          source="f", country="JP")


_ranges = st.lists(
    st.tuples(st.integers(0, 400), st.integers(0, 40)).map(lambda t: (t[0], t[0] + t[1])),
    max_size=12,
)


@given(_ranges, _ranges)
def test_merge_and_subtract_match_set_arithmetic(ranges, holes) -> None:
    def points(rs):
        return {p for s, e in rs for p in range(s, e + 1)}

    merged = merge(ranges)
    assert points(merged) == points(ranges)
    assert all(a[1] + 1 < b[0] for a, b in itertools.pairwise(merged))
    assert points(subtract(merged, merge(holes))) == points(ranges) - points(holes)


@st.composite
def _network(draw, bits: int):
    prefix = draw(st.integers(min_value=max(0, bits - 20), max_value=bits))
    value = draw(st.integers(0, (1 << bits) - 1))
    cls = ipaddress.IPv4Network if bits == 32 else ipaddress.IPv6Network
    return cls((value >> (bits - prefix) << (bits - prefix), prefix))


@given(st.lists(_network(32), max_size=8), st.lists(_network(32), max_size=3),
       st.lists(st.integers(0, 2**32 - 1), max_size=40))
@settings(max_examples=60, deadline=None)
def test_v4_classification_agrees_with_ipaddress(domestic, foreign, probes) -> None:
    text = "".join(f"{n} domestic\n" for n in domestic)
    sources = [parse_overrides(text, source="d")]
    table = PrefixTable.build("JP", sources)
    holes = parse_overrides("".join(f"{n} foreign\n" for n in foreign), source="f")
    carved = PrefixTable.build("JP", [parse_delegated("", source="x", country="JP"), holes,
                                      *sources])
    classifier = Classifier(table)
    probes = probes + [int(n.network_address) for n in domestic]
    found = classifier.domestic_v4(np.array(probes, dtype=np.uint32))
    for value, got in zip(probes, found.tolist(), strict=True):
        address = ipaddress.IPv4Address(value)
        assert got == any(address in n for n in domestic)
    # Domestic overrides are applied after foreign ones, so they still win.
    assert Classifier(carved).domestic_v4(np.array(probes, dtype=np.uint32)).tolist() == [
        any(ipaddress.IPv4Address(v) in n for n in domestic) for v in probes
    ]


@given(st.lists(_network(128), min_size=1, max_size=6),
       st.lists(st.integers(0, 2**128 - 1), max_size=30))
@settings(max_examples=40, deadline=None)
def test_v6_classification_agrees_with_ipaddress(domestic, probes) -> None:
    table = PrefixTable.build("JP", [parse_overrides(
        "".join(f"{n} domestic\n" for n in domestic), source="d")])
    classifier = Classifier(table)
    probes = probes + [int(n.broadcast_address) for n in domestic]
    hi = np.array([p >> 64 for p in probes], dtype=np.uint64)
    lo = np.array([p & (2**64 - 1) for p in probes], dtype=np.uint64)
    for value, got in zip(probes, classifier.domestic_v6(hi, lo).tolist(), strict=True):
        assert got == any(ipaddress.IPv6Address(value) in n for n in domestic)
