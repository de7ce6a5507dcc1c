"""Parsers of what people type, tested with generated input."""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.errors import InvalidInput
from mamori.governance import parsing

aware = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2200, 1, 1),
                     timezones=st.sampled_from([UTC, timezone(timedelta(hours=9)),
                                                timezone(timedelta(hours=-5, minutes=-30))]))


@given(aware)
def test_iso_datetimes_round_trip(moment: datetime) -> None:
    parsed = parsing.parse_when(moment.isoformat())
    assert parsed == moment and parsed.tzinfo == UTC


@given(st.dates(min_value=datetime(1990, 1, 1).date(), max_value=datetime(2200, 1, 1).date()))
def test_dates_are_midnight_in_japan(day: object) -> None:
    parsed = parsing.parse_when(str(day))
    assert parsed.tzinfo == UTC
    local = parsed.astimezone(timezone(timedelta(hours=9)))
    assert (local.date(), local.hour, local.minute) == (day, 0, 0)


def test_z_suffix_and_naive_times() -> None:
    assert parsing.parse_when("2026-04-01T00:00:00Z") == datetime(2026, 4, 1, tzinfo=UTC)
    assert parsing.parse_when("2026-04-01T09:00") == datetime(2026, 4, 1, tzinfo=UTC)


@given(st.text(max_size=60))
def test_any_text_parses_or_is_a_clear_error(text: str) -> None:
    try:
        parsed = parsing.parse_when(text, field="start")
    except InvalidInput as exc:
        assert exc.detail in {"start: expected an ISO 8601 date or date-time",
                              "start: out of range"}
    else:
        assert parsed.tzinfo == UTC


@given(st.ip_addresses(), st.integers(min_value=0, max_value=128))
def test_prefixes_normalise(address: object, length: int) -> None:
    assert isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address)
    length = min(length, address.max_prefixlen)
    text = f"{address}/{length}"
    value = parsing.parse_party_identifier(text)
    assert ipaddress.ip_network(value) == ipaddress.ip_network(text, strict=False)
    assert parsing.parse_party_identifier(value) == value


@given(st.integers(min_value=0, max_value=4294967295))
def test_as_numbers(number: int) -> None:
    assert parsing.parse_party_identifier(f"as{number}") == f"AS{number}"


@given(st.text(max_size=40))
def test_identifier_text_parses_or_is_a_clear_error(text: str) -> None:
    try:
        parsing.parse_party_identifiers([text])
    except InvalidInput as exc:
        assert exc.detail.startswith("party identifier:")


@given(st.lists(st.sampled_from(["192.0.2.0/24", "AS1", "2001:db8::/32", "10.1.2.3/8"]),
                max_size=6))
def test_identifier_lists_are_sorted_and_distinct(values: list[str]) -> None:
    out = parsing.parse_party_identifiers([",".join(values)])
    assert out == sorted(set(out))
    assert len(out) == len({parsing.parse_party_identifier(v) for v in values})


@given(st.binary(max_size=64))
def test_digests(data: bytes) -> None:
    digest = hashlib.sha256(data).hexdigest()
    assert parsing.parse_digest(digest.upper()) == digest
    assert parsing.parse_digest("sha256:" + digest) == digest
    with pytest.raises(InvalidInput):
        parsing.parse_digest(digest[:-1])


@given(st.text(max_size=80))
def test_digest_text_parses_or_is_a_clear_error(text: str) -> None:
    try:
        value = parsing.parse_digest(text)
    except InvalidInput as exc:
        assert "SHA-256" in exc.detail
    else:
        assert len(value) == 64


@given(st.text(max_size=80))
def test_purpose_normalisation_is_idempotent(text: str) -> None:
    once = parsing.normalise_purpose(text)
    assert parsing.normalise_purpose(once) == once
    assert parsing.normalise_purpose(f"  {text.upper()}  ") == parsing.normalise_purpose(
        text.upper())


@given(st.lists(st.text(alphabet="abcB-1, ", max_size=12), max_size=5))
def test_lists(values: list[str]) -> None:
    out = parsing.parse_list(values, field="batches")
    assert out == sorted(set(out)) and all(item and item == item.strip() for item in out)


def test_period_checks() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    parsing.check_period(now, None)
    parsing.check_period(now, now + timedelta(seconds=1))
    for end in (now, now - timedelta(days=1)):
        with pytest.raises(InvalidInput, match="reversed"):
            parsing.check_period(now, end)


CODES = ("foreign_facility_info", "equipment_connection", "transmission", "other")


@given(st.text(max_size=60))
def test_any_text_is_a_code_or_a_clear_error(text: str) -> None:
    try:
        code = parsing.parse_choice(text, CODES, field="item")
    except InvalidInput as exc:
        assert exc.detail.startswith("item: ") and "is not one of" in exc.detail
        assert len(exc.detail) < 200  # long input is not echoed
    else:
        assert code in CODES and code == text.strip().lower()


@given(st.lists(st.sampled_from(CODES), min_size=1),
       st.lists(st.sampled_from([" ", "", "  "]), max_size=3))
def test_codes_are_distinct_and_in_vocabulary_order(picked: list[str], blanks: list[str]) -> None:
    values = [f" {code.upper()} " for code in picked] + blanks + [",".join(picked)]
    codes = parsing.parse_choices(values, CODES, field="item")
    assert codes == [c for c in CODES if c in set(picked)]
    assert parsing.parse_choices(codes, CODES, field="item") == codes


@given(st.lists(st.text(max_size=30), max_size=5))
def test_any_list_is_codes_or_a_clear_error(values: list[str]) -> None:
    try:
        codes = parsing.parse_choices(values, CODES, field="item")
    except InvalidInput as exc:
        assert exc.detail.startswith("item: ")
    else:
        assert codes and set(codes) <= set(CODES) and len(codes) == len(set(codes))
