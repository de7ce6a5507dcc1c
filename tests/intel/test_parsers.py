"""The parsers, with hypothesis: correlation values, STIX patterns (against the
``stix2-patterns`` reference parser), timestamps, labels and the exclusion list."""

from __future__ import annotations

import ipaddress
import re
import string
from datetime import UTC, datetime

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from stix2patterns.exceptions import ParseException
from stix2patterns.v21.pattern import Pattern

from mamori.errors import InvalidInput
from mamori.intel import stix
from mamori.intel import values as v
from mamori.intel.exclusions import parse_exclusions
from mamori.intel.extract import extract
from mamori.intel.labels import Labels, build_labels
from mamori.intel.patterns import PatternError, parse_pattern

# --- values ---------------------------------------------------------------------------


@given(st.ip_addresses(), st.integers(min_value=0, max_value=128))
def test_ip_values_are_exact_networks(address: ipaddress._BaseAddress, plen: int) -> None:
    plen = min(plen, address.max_prefixlen)
    network = ipaddress.ip_network(f"{address}/{plen}", strict=False)
    value = v.ip_value(str(network))
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped and plen >= 96:
        return
    assert ipaddress.ip_network(value.text, strict=False) == network
    low, high = v.ip_bounds(value)
    assert int(low, 16) == int(network.network_address)
    assert int(high, 16) == int(network.broadcast_address)
    assert len(low) == len(high) == (8 if network.version == 4 else 32)
    for outer in v.supernets(value):
        assert network.subnet_of(ipaddress.ip_network(outer.text))  # type: ignore[arg-type]
    assert len(v.supernets(value)) == value.plen


@given(st.ip_addresses(v=4), st.ip_addresses(v=4))
def test_ip_keys_sort_like_numbers(a: ipaddress.IPv4Address, b: ipaddress.IPv4Address) -> None:
    assert (v.ip_value(str(a)).key < v.ip_value(str(b)).key) == (int(a) < int(b))


labels_st = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=12)


@given(st.lists(labels_st, min_size=1, max_size=5))
def test_domains_reverse_and_nest(parts: list[str]) -> None:
    name = ".".join(parts)
    assume(not all(p.isdigit() for p in parts))
    value = v.domain_value(name.upper() + ".")
    assert value.text == name
    assert value.key == ".".join(reversed(parts))
    low, high = v.domain_range(value)
    child = v.domain_value("x." + name)
    assert low <= child.key < high
    for parent in v.parent_domains(child):
        assert child.key.startswith(parent.key + ".")


MESSAGES = re.compile(r"not a valid [A-Za-z&' ]+ value|give a value to look up|the value is "
                      r"longer than 2048 characters|not a value mamori correlates: give .*")


@given(st.text(max_size=80))
def test_parse_value_answers_or_refuses_cleanly(text: str) -> None:
    try:
        value = v.parse_value(text)
    except InvalidInput as exc:
        assert MESSAGES.fullmatch(exc.detail)  # fixed texts: the input is never echoed
        return
    assert value.kind in v.KINDS and value.key


def test_parse_value_kinds() -> None:
    assert v.parse_value("CVE-2023-1389") == v.Value("cve", "CVE-2023-1389")
    assert v.parse_value("t1059.001") == v.Value("attack", "T1059.001")
    assert v.parse_value("A" * 64).key == "sha256:" + "a" * 64
    assert v.parse_value("md5:" + "B" * 32).key == "md5:" + "b" * 32
    assert v.parse_value("https://Ex.AMPLE:443/p?q#f").key == "https://ex.ample/p?q"
    assert v.parse_value("t13d1516h2_8daaf6152771_b186095e22b6").kind == "ja4"
    assert v.parse_value("例え.jp").key == "jp.xn--r8jz45g"
    assert v.parse_value("domain:203.0.113.5x").kind == "domain"
    with pytest.raises(InvalidInput):
        v.parse_value("")


# --- patterns ----------------------------------------------------------------------------

literal = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + "./-_'\\ ", max_size=12).map(
        lambda s: "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"),
    st.integers(min_value=-9999, max_value=9999).map(str),
    st.sampled_from(["true", "false", "t'2026-11-01T00:00:00Z'", "h'ab01'", "b'AAAA'"]),
)
path = st.sampled_from([
    "ipv4-addr:value", "domain-name:value", "file:hashes.'SHA-256'", "file:name",
    "network-traffic:dst_port", "file:extensions.'windows-pebinary-ext'.sections[0].name",
    "x-custom-type:x_field", "process:arguments[*]",
])
comparison = st.one_of(
    st.tuples(path, st.sampled_from(["=", "!=", "<", "<=", ">", ">="]), st.booleans(),
              literal).map(lambda t: f"{t[0]} {'NOT ' if t[2] else ''}{t[1]} {t[3]}"),
    st.tuples(path, st.lists(literal, min_size=1, max_size=3)).map(
        lambda t: f"{t[0]} IN ({', '.join(t[1])})"),
    st.tuples(path, st.sampled_from(["LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"]),
              literal.filter(lambda x: x.startswith("'"))).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
)
expression = st.recursive(
    comparison,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["AND", "OR"]), inner).map(lambda t: " ".join(t)),
        inner.map(lambda e: f"({e})"),
    ),
    max_leaves=5,
)
observation = st.tuples(expression, st.sampled_from(
    ["", " WITHIN 5 SECONDS", " REPEATS 2 TIMES",
     " START t'2026-01-01T00:00:00Z' STOP t'2026-02-01T00:00:00Z'"])).map(
    lambda t: f"[{t[0]}]{t[1]}")
pattern_st = st.recursive(
    observation,
    lambda inner: st.tuples(inner, st.sampled_from(["AND", "OR", "FOLLOWEDBY"]), inner).map(
        lambda t: " ".join(t)) | inner.map(lambda p: f"({p})"),
    max_leaves=4,
)


def _reference(text: str) -> list[tuple[str, tuple[object, ...], str, str]]:
    found = []
    for kind, comparisons in Pattern(text).inspect().comparisons.items():
        for path_parts, op, raw in comparisons:
            parts = tuple("*" if not isinstance(p, str | int) else p for p in path_parts)
            found.append((kind, parts, op, raw))
    return sorted(found, key=repr)


def _ours(text: str) -> list[tuple[str, tuple[object, ...], str, str]]:
    found = []
    for c in parse_pattern(text):
        op = ("NOT " if c.negated else "") + c.operator
        raw = c.literals[0] if c.operator != "IN" else "(" + ",".join(c.literals) + ")"
        found.append((c.object_type, c.path, op, raw))
    return sorted(found, key=repr)


@settings(max_examples=300, deadline=None)
@given(pattern_st)
def test_patterns_agree_with_the_reference_parser(text: str) -> None:
    try:
        reference = _reference(text)
    except ParseException:
        with pytest.raises(PatternError):
            parse_pattern(text)
        return
    ours = _ours(text)
    # the reference keeps IN sets' spacing and drops the sign of numbers; compare loosely
    def norm(items: list[tuple[str, tuple[object, ...], str, str]]) -> list[object]:
        return sorted((k, p, o, r.replace(" ", "").lstrip("+")) for k, p, o, r in items)
    assert norm(ours) == norm(reference)


@given(st.text(max_size=60))
def test_pattern_parser_never_crashes(text: str) -> None:
    try:
        parse_pattern(text)
    except PatternError as exc:
        assert "offset" in str(exc) or "pattern" in str(exc) or "comparison" in str(exc) \
            or "path" in str(exc) or "WITHIN" in str(exc) or "expected" in str(exc)


def test_pattern_errors_and_values() -> None:
    for bad in ("", "[", "[ipv4-addr:value = ]", "[ipv4-addr:value '1']", "ipv4-addr:value = '1'",
                "[ipv4-addr:value = '1'] WITHIN SECONDS"):
        with pytest.raises(PatternError):
            parse_pattern(bad)
    found = extract({"type": "indicator", "pattern_type": "stix",
                     "pattern": "[ipv4-addr:value NOT = '1.2.3.4' OR domain-name:value IN "
                                "('a.example', 'b.example')] AND [file:hashes.MD5 = '"
                                + "0" * 32 + "']"})
    assert {x.label for x in found.values} == {"domain:a.example", "domain:b.example",
                                               "hash:md5:" + "0" * 32}
    broken = extract({"type": "indicator", "pattern_type": "stix", "pattern": "[broken"})
    assert broken.values == set() and "not correlated" in broken.warnings[0]


# --- timestamps, ids, labels, exclusions ---------------------------------------------------


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1),
                    timezones=st.just(UTC)))
def test_timestamps_round_trip(when: datetime) -> None:
    text = stix.format_timestamp(when)
    parsed = stix.parse_timestamp(text)
    assert parsed == when.replace(microsecond=when.microsecond // 1000 * 1000)
    assert stix.parse_timestamp(text.replace("Z", "+00:00")) is None


@given(st.sets(st.sampled_from(["COMMS", "SECRET", "PROVISION_DERIVED", "PUBLIC"])),
       st.one_of(st.none(), st.sampled_from(["operator:sakura", "taxii:partner"])),
       st.lists(st.sampled_from(["council_member", "*", "organisation:7"]), max_size=2))
def test_labels_round_trip_through_their_key(names: set[str], source: str | None,
                                             consent: list[str]) -> None:
    try:
        labels = build_labels(names, source=source, consent=consent if source else None)
    except InvalidInput:
        assert "PUBLIC" in names and len(names) > 1
        return
    assert Labels.from_key(labels.key) == labels
    assert labels.union(labels) == labels
    assert labels.union(Labels(comms=True)).comms


@given(st.lists(st.one_of(st.ip_addresses().map(str), st.sampled_from(
    ["c2.example", "# a comment", "", "CVE-2024-3400", "10.0.0.0/8"])), max_size=8))
def test_exclusion_files(lines: list[str]) -> None:
    parsed = parse_exclusions("\n".join(lines))
    for line in lines:
        entry = line.split("#", 1)[0].strip()
        if entry:
            assert parsed.excludes(v.parse_value(entry))
    assert parsed.excludes(v.ip_value("10.1.2.3")) == ("10.0.0.0/8" in lines)
    with pytest.raises(InvalidInput, match="line 2"):
        parse_exclusions("8.8.8.8\nnot a value!\n")
