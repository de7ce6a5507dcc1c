"""Selector parsing (plain lists, STIX 2.1, YARA), canonical digests and the compiled
matcher, checked against brute-force oracles with hypothesis."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import stix2
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.errors import InvalidInput
from mamori.selection.selectors import (
    Selector,
    SelectorContent,
    YaraSource,
    compile_matcher,
    make_selector,
    parse_plain,
    parse_stix,
    v6_keys,
)
from mamori.selection.selectors.stix import PatternUnsupported, parse_pattern
from mamori.selection.yara_rules import compile_sources, scan_rules

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def test_plain_list_kinds_and_normalisation() -> None:
    parsed = parse_plain(
        "# comment\n198.51.100.7\n203.0.113.0/24  # trailing\n2001:DB8::/32\n"
        "Evil.Example.\n*.c2.example\nport 4444\nport udp/53\n"
        "ja3 E7D705A3286E19EA42F587B344EE6865\nja4 t13d1516h2_8daaf6152771_b186095e22b6\n"
        "ip 10.0.0.1/8 my-id\nbücher.example\n",
        source="list.txt",
    )
    got = [(s.kind, s.value) for s in parsed.selectors]
    assert got == [
        ("ip", "198.51.100.7"), ("ip", "203.0.113.0/24"), ("ip", "2001:db8::/32"),
        ("domain", "evil.example"), ("domain_suffix", "c2.example"),
        ("port", "any/4444"), ("port", "udp/53"),
        ("ja3", "e7d705a3286e19ea42f587b344ee6865"),
        ("ja4", "t13d1516h2_8daaf6152771_b186095e22b6"),
        ("ip", "10.0.0.0/8"), ("domain", "xn--bcher-kva.example"),
    ]
    assert parsed.selectors[9].id == "my-id"


@pytest.mark.parametrize("line", ["port 70000", "ja3 xyz", "bad..name", "frob 1.2.3.4",
                                  "port icmp/1", "ip 300.1.1.1"])
def test_unreadable_lines_name_the_line_not_the_value(line: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_plain(f"198.51.100.7\n{line}\n", source="l.txt")
    assert "line 2" in caught.value.detail
    assert line.split()[-1] not in caught.value.detail


@given(st.lists(st.ip_addresses(), min_size=1, max_size=20))
def test_digest_is_order_independent_and_content_bound(addresses) -> None:
    text = "\n".join(str(a) for a in addresses)
    first = SelectorContent.build(parse_plain(text, source="a").selectors)
    second = SelectorContent.build(parse_plain("\n".join(reversed(text.splitlines())),
                                               source="b").selectors)
    assert first.digest == second.digest
    assert SelectorContent.from_json(first.canonical().decode()).digest == first.digest
    extra = SelectorContent.build([*first.selectors, make_selector("port", "9")])
    assert extra.digest != first.digest


def _bundle(*indicators: stix2.Indicator) -> bytes:
    return stix2.Bundle(objects=list(indicators), allow_custom=True).serialize().encode()


def test_stix_bundle_import() -> None:
    valid = NOW - timedelta(days=1)
    bundle = _bundle(
        stix2.Indicator(pattern="[ipv4-addr:value = '198.51.100.7'] OR "
                                "[ipv4-addr:value ISSUBSET '203.0.113.0/24']",
                        pattern_type="stix", valid_from=valid),
        stix2.Indicator(pattern="[domain-name:value = 'evil.example' OR "
                                "domain-name:value LIKE '%.c2.example']",
                        pattern_type="stix", valid_from=valid),
        stix2.Indicator(pattern="[network-traffic:dst_port = 4444]", pattern_type="stix",
                        valid_from=valid),
        stix2.Indicator(pattern="[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'x.y']",
                        pattern_type="stix", valid_from=valid),
        stix2.Indicator(pattern="[file:name = 'dropper.exe']", pattern_type="stix",
                        valid_from=valid),
        stix2.Indicator(pattern="[ipv4-addr:value = '5.6.7.8']", pattern_type="stix",
                        valid_from=valid - timedelta(days=30), valid_until=valid),
        stix2.Indicator(pattern="[ipv4-addr:value = '5.6.7.9']", pattern_type="stix",
                        valid_from=valid, revoked=True),
        stix2.Indicator(pattern='rule r { strings: $a = "x" condition: $a }',
                        pattern_type="yara", valid_from=valid),
    )
    parsed = parse_stix(bundle, source="b.json", now=NOW)
    kinds = sorted((s.kind, s.value) for s in parsed.selectors)
    assert kinds == [("domain", "evil.example"), ("domain_suffix", "c2.example"),
                     ("ip", "198.51.100.7"), ("ip", "203.0.113.0/24"), ("port", "any/4444")]
    assert all(s.id.startswith("indicator--") for s in parsed.selectors)
    assert len(parsed.yara) == 1
    assert sorted(parsed.skipped) == sorted([
        "conjunctions cannot be expressed as selectors",
        "object path is not one selection can match", "expired (valid_until has passed)",
        "revoked"])


@given(st.lists(st.ip_addresses(v=4), min_size=1, max_size=5))
def test_stix_in_sets_and_escapes(addresses) -> None:
    values = ", ".join(f"'{a}'" for a in addresses)
    comparisons = parse_pattern(f"[ipv4-addr:value IN ({values})]")
    assert comparisons[0].values == tuple(str(a) for a in addresses)
    (only,) = parse_pattern(r"[domain-name:value = 'it\'s.example']")
    assert only.values == ("it's.example",)
    with pytest.raises(PatternUnsupported):
        parse_pattern("[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS")


def test_stix_garbage_is_an_input_error() -> None:
    with pytest.raises(InvalidInput):
        parse_stix(b"{not json", source="x.json", now=NOW)
    parsed = parse_stix(json.dumps({"type": "indicator", "id": "indicator--1",
                                    "pattern": "[[[", "pattern_type": "stix"}).encode(),
                        source="x.json", now=NOW)
    assert parsed.selectors == [] and parsed.skipped[0].startswith("malformed pattern")


_literal = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E,
                                          blacklist_characters='"\\'), min_size=1, max_size=20)


@given(st.lists(_literal, min_size=1, max_size=4, unique=True))
@settings(max_examples=40, deadline=None)
def test_yara_scanner_finds_declared_literals(literals) -> None:
    strings = "\n".join(f'  $t{i} = "{lit}"' for i, lit in enumerate(literals))
    source = (f"// rule not_me {{ }}\nrule tokens {{\n meta: command_token = true\n"
              f"  note = \"{{ braces }}\"\n strings:\n{strings}\n  $h = {{ 41 42 }}\n"
              f"  $r = /a\\/b{{2}}/\n condition: any of them }}")
    (rule,) = scan_rules(source)
    assert rule.name == "tokens"
    assert [rule.text_strings[f"$t{i}"] for i in range(len(literals))] == literals
    compiled = compile_sources([YaraSource("t", source)])
    ids, tokens = compiled.scan(("\x01" + literals[0] + "\x02").encode())
    assert ids == ["yara:tokens"]
    assert literals[0] in tokens and set(tokens) <= set(literals)


def test_yara_tokens_are_never_payload_bytes() -> None:
    compiled = compile_sources([YaraSource("t", r'''
rule r { meta: command_token = true
  strings: $re = /get [a-z]+/ $lit = "wget" wide
  condition: any of them }''')])
    ids, tokens = compiled.scan(b"get secretpath " + "wget".encode("utf-16-le"))
    assert ids == ["yara:r"] and tokens == ["wget"]
    with pytest.raises(InvalidInput):
        compile_sources([YaraSource("bad", "rule { nope")])
    with pytest.raises(InvalidInput):
        compile_sources([YaraSource("inc", 'include "/etc/passwd"\nrule a { condition: true }')])


@st.composite
def _networks(draw, version: int):
    bits = 32 if version == 4 else 128
    prefix = draw(st.integers(min_value=bits - 12, max_value=bits))
    value = draw(st.integers(min_value=0, max_value=(1 << bits) - 1))
    cls = ipaddress.IPv4Network if version == 4 else ipaddress.IPv6Network
    return cls((value >> (bits - prefix) << (bits - prefix), prefix))


@given(st.lists(_networks(4), min_size=1, max_size=15),
       st.lists(st.integers(min_value=0, max_value=(1 << 32) - 1), max_size=30))
@settings(max_examples=60, deadline=None)
def test_v4_segments_agree_with_ipaddress(networks, probes) -> None:
    selectors = [Selector("ip", str(n), f"s{i}") for i, n in enumerate(networks)]
    matcher = compile_matcher(SelectorContent.build(selectors))
    inside = [int(n.network_address) for n in networks] + [int(n.broadcast_address)
                                                           for n in networks]
    keys = np.array(probes + inside, dtype=np.uint32)
    groups = matcher.v4.lookup(keys)
    for key, group in zip(keys.tolist(), groups.tolist(), strict=True):
        address = ipaddress.IPv4Address(key)
        expected = sorted(f"s{i}" for i, n in enumerate(networks) if address in n)
        assert (list(matcher.groups[group]) if group >= 0 else []) == expected


@given(st.lists(_networks(6), min_size=1, max_size=10),
       st.lists(st.integers(min_value=0, max_value=(1 << 128) - 1), max_size=20))
@settings(max_examples=40, deadline=None)
def test_v6_segments_agree_with_ipaddress(networks, probes) -> None:
    selectors = [Selector("ip", str(n), f"s{i}") for i, n in enumerate(networks)]
    matcher = compile_matcher(SelectorContent.build(selectors))
    values = probes + [int(n.network_address) for n in networks]
    hi = np.array([v >> 64 for v in values], dtype=np.uint64)
    lo = np.array([v & (2**64 - 1) for v in values], dtype=np.uint64)
    groups = matcher.v6.lookup(v6_keys(hi, lo))
    for value, group in zip(values, groups.tolist(), strict=True):
        address = ipaddress.IPv6Address(value)
        expected = sorted(f"s{i}" for i, n in enumerate(networks) if address in n)
        assert (list(matcher.groups[group]) if group >= 0 else []) == expected


def test_names_ports_and_fingerprints() -> None:
    matcher = compile_matcher(SelectorContent.build(parse_plain(
        "evil.example\n*.c2.example\nport tcp/4444\nport any/53\n", source="x").selectors))
    assert matcher.name_ids("EVIL.example.") == ("domain:evil.example",)
    assert matcher.name_ids("a.b.c2.example") == ("domain_suffix:c2.example",)
    assert matcher.name_ids("c2.example") == ("domain_suffix:c2.example",)
    assert matcher.name_ids("xc2.example") == ()
    assert matcher.name_ids("sub.evil.example") == ()
    proto = np.array([6, 17, 6, 17], dtype=np.uint8)
    sport = np.array([1, 1, 4444, 53], dtype=np.uint16)
    dport = np.array([4444, 4444, 1, 2], dtype=np.uint16)
    assert matcher.port_match(proto, sport, dport).tolist() == [True, False, True, True]
