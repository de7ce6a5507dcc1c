"""The STIX intake's object check: only mechanical information, errors without values."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.reporting.precursors import check_object, pattern_problem

BASE = {
    "type": "indicator", "spec_version": "2.1",
    "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "created": "2026-11-20T00:00:00.000Z", "modified": "2026-11-20T00:00:00.000Z",
    "pattern_type": "stix", "valid_from": "2026-11-20T00:00:00Z",
}


@pytest.mark.parametrize(
    ("pattern", "accepted"),
    [
        ("[ipv4-addr:value = '198.51.100.7']", True),
        ("[ipv6-addr:value = '2001:db8::1']", True),
        ("[domain-name:value = 'c2.example.org']", True),
        ("[file:hashes.'SHA-256' = '" + "a" * 64 + "']", True),
        ("[autonomous-system:number = 64500]", True),
        ("[network-traffic:dst_ref.value = '198.51.100.7' AND "
         "network-traffic:dst_port = 443]", True),
        ("[url:value = 'http://x.example/secret']", False),
        ("[email-message:subject = 'invoice']", False),
        ("[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'x']",
         False),
        ("[file:name = 'report.doc']", False),
        ("[ipv4-addr:value = ", False),
    ],
)
def test_patterns(pattern: str, accepted: bool) -> None:
    _, failure = check_object({**BASE, "pattern": pattern}, 0)
    assert (failure is None) == accepted
    if failure:
        assert failure["id"] == BASE["id"]
        for secret in ("secret", "invoice", "report.doc", "User-Agent"):
            assert secret not in failure["message"]


def test_other_objects_and_broken_ones() -> None:
    _, failure = check_object({"type": "malware", "id": "malware--x"}, 3)
    assert "only indicator and sighting" in failure["message"]
    _, failure = check_object({**BASE, "pattern": "[ipv4-addr:value = '1.2.3.4']",
                               "valid_from": "soon"}, 0)
    assert "valid_from" in failure["message"]
    _, failure = check_object("not an object", 5)
    assert failure["id"] == "objects[5]"


stix_like = st.fixed_dictionaries(
    {"type": st.sampled_from(["indicator", "sighting", "note"])},
    optional={
        "id": st.text(max_size=60), "spec_version": st.sampled_from(["2.1", "2.0", ""]),
        "created": st.text(max_size=30), "modified": st.text(max_size=30),
        "pattern": st.text(max_size=60), "pattern_type": st.sampled_from(["stix", "yara"]),
        "valid_from": st.text(max_size=30), "sighting_of_ref": st.text(max_size=60),
        "count": st.integers(-5, 10),
    },
)


@settings(max_examples=150, deadline=None)
@given(stix_like)
def test_any_object_gives_an_answer_not_a_crash(obj: dict) -> None:
    accepted, failure = check_object(obj, 0)
    assert (accepted is None) != (failure is None)
    if failure:
        assert set(failure) == {"id", "message"}


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=80))
def test_any_pattern_text_gives_an_answer(text: str) -> None:
    problem = pattern_problem(text)
    assert problem is None or isinstance(problem, str)
