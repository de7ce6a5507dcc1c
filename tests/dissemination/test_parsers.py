"""The parsers of untrusted input, with hypothesis: TAXII timestamps, filters, media
types and envelopes, the signed cursor, and the entitlement matrix file."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.dissemination import entitlements as ent
from mamori.dissemination.taxii import cursor
from mamori.dissemination.taxii.params import (
    Filters,
    TaxiiInputError,
    accepts_taxii,
    format_timestamp,
    is_taxii_content,
    parse_filters,
    parse_timestamp,
    version_key,
)
from mamori.dissemination.taxii.server import parse_envelope
from mamori.dissemination.webhooks import sign, verify
from mamori.errors import InvalidInput

ALL = frozenset({"id", "type", "version", "spec_version"})
moments = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 31),
                       timezones=st.just(UTC))


@given(moments)
def test_timestamps_round_trip(moment: datetime) -> None:
    text = format_timestamp(moment)
    assert parse_timestamp(text, "t") == moment
    assert version_key(text) == text


@given(st.text(max_size=60))
def test_timestamp_parser_only_raises_its_own_error(text: str) -> None:
    try:
        parsed = parse_timestamp(text, "added_after")
    except TaxiiInputError as error:  # the message never echoes the input
        assert error.detail in {
            "added_after: expected a timestamp like 2026-01-31T09:00:00.000Z",
            "added_after: not a valid date and time"}
    else:
        assert parsed.tzinfo is UTC and text.endswith("Z")


def test_timestamp_examples() -> None:
    assert parse_timestamp("2026-04-01T00:00:00Z", "t") == datetime(2026, 4, 1, tzinfo=UTC)
    assert parse_timestamp("2026-04-01T00:00:00.1234567Z", "t").microsecond == 123456
    for bad in ("2026-04-01", "2026-04-01T00:00:00+09:00", "2026-02-30T00:00:00Z", ""):
        with pytest.raises(TaxiiInputError):
            parse_timestamp(bad, "t")


query_values = st.one_of(st.text(max_size=40), st.sampled_from(
    ["1", "100", "0", "-1", "all", "first,last", "indicator", "indicator,malware",
     "2026-01-01T00:00:00Z", "2.1", "indicator--00000000-0000-4000-8000-000000000000"]))
queries = st.dictionaries(st.sampled_from(
    ["added_after", "limit", "next", "match[id]", "match[type]", "match[version]",
     "match[spec_version]", "match[other]"]), query_values, max_size=6)


@given(queries)
def test_filters_parse_or_fail_cleanly(query: dict[str, str]) -> None:
    try:
        parsed = parse_filters(query, allowed=ALL, max_limit=50)
    except TaxiiInputError as error:
        assert error.status_code == 400 and error.extra.get("field")
    else:
        assert 1 <= parsed.limit <= 50
        assert len(parsed.digest("scope")) == 32


def test_filter_examples_and_digest_binding() -> None:
    parsed = parse_filters({"match[type]": "malware,indicator", "match[version]": "all",
                            "limit": "5000"}, allowed=ALL)
    assert parsed.types == ("indicator", "malware") and parsed.versions.all
    assert parsed.limit == 1000
    same = parse_filters({"match[type]": "indicator,malware", "match[version]": "all",
                          "next": "x.y", "limit": "3"}, allowed=ALL)
    assert parsed.digest("c/objects") == same.digest("c/objects")
    assert parsed.digest("c/objects") != parsed.digest("c/manifest")
    assert parse_filters({"match[type]": "indicator"}, allowed=frozenset()).types == ()
    assert parse_filters({}, allowed=ALL).versions.last


keys = st.binary(min_size=16, max_size=32)


@given(keys, moments, st.integers(min_value=0, max_value=2**53), st.text(max_size=30))
def test_cursor_round_trip(key: bytes, added: datetime, row: int, scope: str) -> None:
    filters = Filters().digest(scope)
    token = cursor.encode(key, scope=scope, filters=filters,
                          position=cursor.Position(added=added, row_id=row))
    found = cursor.decode(key, token, scope=scope, filters=filters)
    assert (found.added, found.row_id) == (added, row)
    with pytest.raises(TaxiiInputError):
        cursor.decode(key + b"x", token, scope=scope, filters=filters)
    with pytest.raises(TaxiiInputError):
        cursor.decode(key, token, scope=scope + "x", filters=filters)
    with pytest.raises(TaxiiInputError):
        cursor.decode(key, token, scope=scope, filters="other")


@given(keys, st.text(max_size=600))
def test_cursor_decoder_refuses_anything_else(key: bytes, token: str) -> None:
    with pytest.raises(TaxiiInputError):
        cursor.decode(key, token, scope="s", filters="f")


@given(keys, moments, st.integers(min_value=0, max_value=10**9), st.data())
def test_a_changed_cursor_is_refused(key: bytes, added: datetime, row: int,
                                     data: st.DataObject) -> None:
    token = cursor.encode(key, scope="s", filters="f",
                          position=cursor.Position(added=added, row_id=row))
    index = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    replacement = data.draw(st.sampled_from("ABCabc019-_."))
    changed = token[:index] + replacement + token[index + 1:]
    if changed != token:
        try:
            found = cursor.decode(key, changed, scope="s", filters="f")
        except TaxiiInputError:
            return
        # base64 padding bits may absorb a change; the position must then be the same.
        assert (found.added, found.row_id) == (added, row)


@given(st.text(max_size=80))
def test_media_type_checks_never_fail(header: str) -> None:
    assert isinstance(accepts_taxii(header), bool)
    assert isinstance(is_taxii_content(header), bool)


def test_media_type_examples() -> None:
    assert accepts_taxii("application/taxii+json;version=2.1")
    assert accepts_taxii("application/taxii+json") and accepts_taxii("*/*")
    assert not accepts_taxii("application/taxii+json;version=2.0")
    assert not accepts_taxii("text/html")
    assert is_taxii_content("application/taxii+json; version=2.1")
    assert not is_taxii_content("application/json")


@given(st.binary(max_size=200))
def test_envelope_parser_raises_only_its_own_error(raw: bytes) -> None:
    try:
        items = parse_envelope(raw)
    except TaxiiInputError:
        return
    assert items and all(isinstance(i, dict) for i in items)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=12))
def test_envelope_parser_on_any_json(document: object) -> None:
    try:
        items = parse_envelope(json.dumps(document).encode())
    except TaxiiInputError:
        return
    assert isinstance(document, dict) and items == document["objects"]


@given(st.text(min_size=1, max_size=40), st.integers(min_value=0, max_value=2**40),
       st.binary(max_size=100))
def test_webhook_signatures_verify_only_the_signed_body(secret: str, stamp: int,
                                                        body: bytes) -> None:
    header = sign(secret, stamp, body)
    assert verify(secret, header, body, now=stamp)
    assert not verify(secret, header, body + b"x", now=stamp)
    assert not verify(secret, header, body, now=stamp + 301)


@given(st.text(max_size=80))
def test_webhook_header_parser_never_fails(header: str) -> None:
    assert isinstance(verify("s", header, b"", now=0), bool)


# --- the entitlement matrix -----------------------------------------------------------


def test_the_packaged_matrix_and_the_ceilings_of_the_act() -> None:
    matrix = ent.load_matrix()
    assert matrix.version >= 1
    assert {c: sorted(r.tiers) for c, r in matrix.rules.items()} == {
        "administrative_body": [1, 2, 3], "foreign_government": [1, 2, 3],
        "council_member": [2, 3], "special_infrastructure_operator": [2, 3],
        "computer_user_public": [3], "supplier": [2, 3]}
    text = ent.PACKAGED.read_bytes()
    lifted = text.replace(b'[categories.computer_user_public]\ntiers = [3]',
                          b'[categories.computer_user_public]\ntiers = [2, 3]')
    assert lifted != text
    with pytest.raises(InvalidInput, match="exceed what the Act allows"):
        ent.parse_matrix(lifted)
    # A file cannot drop a statutory condition: the foreign checks stay.
    dropped = text.replace(
        b'conditions = { "1" = ["foreign_checks"], "2" = ["foreign_checks"], '
        b'"3" = ["foreign_checks"] }', b'')
    assert dropped != text
    again = ent.parse_matrix(dropped)
    assert all(ent.FOREIGN_CHECKS in again.rule("foreign_government").conditions_for(t)
               for t in (1, 2, 3))
    verdict = ent.evaluate(again, "foreign_government", 2, set())
    assert not verdict.allowed and verdict.missing == (ent.FOREIGN_CHECKS,)


@settings(max_examples=60)
@given(st.binary(max_size=300))
def test_matrix_parser_raises_only_invalid_input(raw: bytes) -> None:
    with contextlib.suppress(InvalidInput):
        ent.parse_matrix(raw)


@settings(max_examples=60)
@given(st.dictionaries(st.sampled_from(sorted(ent.CEILINGS)),
                       st.lists(st.integers(min_value=0, max_value=4), max_size=4),
                       min_size=6, max_size=6))
def test_no_matrix_lifts_a_ceiling(tiers: dict[str, list[int]]) -> None:
    lines = ["version = 3"]
    for code, chosen in tiers.items():
        lines += [f"[categories.{code}]", f"tiers = {sorted(set(chosen))}",
                  'legal_basis = "Art 0"']
    lines += ["[purposes.p]", 'ja = "目的"', 'en = "purpose"']
    try:
        matrix = ent.parse_matrix("\n".join(lines).encode())
    except InvalidInput:
        assert any(not set(t) <= ent.CEILINGS[c] for c, t in tiers.items())
        return
    for code, rule in matrix.rules.items():
        assert rule.tiers <= ent.CEILINGS[code]
        for tier in rule.tiers:
            assert set(ent.STATUTORY.get(code, ())) <= set(rule.conditions_for(tier))
