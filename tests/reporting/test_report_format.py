"""The report JSON parser: examples, the shipped JSON Schema, and hypothesis."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.errors import InvalidInput
from mamori.reporting.report_format import (
    FORMAT,
    INDICATOR_TYPES,
    STAGES,
    ReportFormatError,
    check_required,
    parse_report,
)
from mamori.reporting.workflows import load_workflows

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "mamori" / "reporting"
SCHEMA = json.loads((PACKAGE / "schema" / "incident-report.schema.json").read_text("utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def example(name: str) -> dict:
    return json.loads((PACKAGE / "examples" / f"{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["preliminary", "update", "final"])
def test_examples_parse_and_follow_the_schema(name: str) -> None:
    doc = example(name)
    VALIDATOR.validate(doc)
    parsed = parse_report(json.dumps(doc))
    check_required(parsed, load_workflows().get("art5"))
    again = parse_report(parsed.to_json())  # the stored form is accepted again
    assert again == parsed
    VALIDATOR.validate({k: v for k, v in parsed.to_json().items() if v is not None})


def test_uncertain_and_not_obtainable_are_kept() -> None:
    doc = parse_report(example("preliminary"))
    assert doc.fields["summary"].uncertain
    assert doc.fields["impact"].not_obtainable
    assert doc.stage_uncertain
    assert doc.techniques[0].uncertain and not doc.techniques[1].uncertain


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"format": "other"}, "format"),
        ({"kind": "draft"}, "kind"),
        ({"detected_at": "2026-11-20T01:10:00"}, "detected_at"),
        ({"aware_at": "2026-11-19T00:00:00+09:00"}, "aware_at"),
        ({"stage": "maybe"}, "stage"),
        ({"techniques": ["T9999"]}, "techniques[0]"),
        ({"computers": [1, 1]}, "computers[1].id"),
        ({"indicators": [{"type": "url", "value": "http://x.example/a?b"}]},
         "indicators[0].type"),
        ({"indicators": [{"type": "ipv4-addr", "value": "300.1.1.1"}]}, "indicators[0].value"),
        ({"fields": {"summary": {"value": "x", "not_obtainable": "y"}}}, "fields.summary"),
        ({"fields": {"records_affected": -1}}, "fields.records_affected"),
        ({"fields": {"colour": "red"}}, "fields"),
        ({"extra": 1}, ""),
    ],
)
def test_errors_name_the_path_and_never_the_value(change: dict, path: str) -> None:
    doc = {**example("preliminary"), **change}
    with pytest.raises(ReportFormatError) as caught:
        parse_report(json.dumps(doc))
    assert caught.value.extra["field"] == (path or "document")
    for value in ("http://x.example/a?b", "300.1.1.1", "red", "2026-11-19"):
        assert value not in caught.value.detail


def test_required_fields_follow_the_workflow() -> None:
    doc = example("final")
    del doc["fields"]["cause"]
    with pytest.raises(InvalidInput, match="cause"):
        check_required(parse_report(doc), load_workflows().get("art5"))
    doc["fields"]["cause"] = {"not_obtainable": "vendor has not answered"}
    check_required(parse_report(doc), load_workflows().get("art5"))


# --- hypothesis ---------------------------------------------------------------------------

times = st.datetimes(timezones=st.just(__import__("datetime").UTC)).map(lambda t: t.isoformat())
texts = st.text(min_size=1, max_size=50).filter(lambda s: s.strip() and s.isprintable())
entries = st.one_of(
    texts,
    st.fixed_dictionaries({"value": texts}, optional={"uncertain": st.booleans()}),
    st.fixed_dictionaries({"not_obtainable": texts}),
)
indicators = st.one_of(
    st.builds(lambda a: {"type": "ipv4-addr", "value": a},
              st.ip_addresses(v=4).map(str)),
    st.builds(lambda a: {"type": "ipv6-addr", "value": a},
              st.ip_addresses(v=6).map(str)),
    st.builds(lambda h: {"type": "file-sha256", "value": h},
              st.text("0123456789abcdef", min_size=64, max_size=64)),
    st.builds(lambda n: {"type": "autonomous-system", "value": n},
              st.integers(1, 4_294_967_295)),
)
documents = st.fixed_dictionaries(
    {
        "format": st.just(FORMAT),
        "kind": st.sampled_from(["preliminary", "update", "final"]),
        "title": texts,
        "detected_at": st.just("2026-01-01T00:00:00+00:00"),
        "aware_at": times.filter(lambda t: t >= "2026-01-01"),
        "stage": st.sampled_from(STAGES),
    },
    optional={
        "fields": st.fixed_dictionaries({}, optional={"summary": entries, "cause": entries}),
        "techniques": st.lists(st.sampled_from(["T1190", "T0866", "T1071.001"]), max_size=3),
        "computers": st.lists(st.integers(1, 10**6), max_size=5, unique=True),
        "indicators": st.lists(indicators, max_size=5),
        "incident": st.integers(1, 10**6),
    },
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(documents)
def test_generated_documents_parse_and_round_trip(doc: dict) -> None:
    if doc["aware_at"] < doc["detected_at"]:
        return
    VALIDATOR.validate(doc)
    parsed = parse_report(json.dumps(doc))
    assert parse_report(parsed.to_json()) == parsed


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                  max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*sorted(SCHEMA["properties"]), "zzz"]), json_values,
                       max_size=12))
def test_arbitrary_input_never_crashes_and_agrees_with_the_schema(doc: dict) -> None:
    """Anything the parser accepts the schema accepts too; errors are ReportFormatError only."""
    try:
        parse_report(json.dumps(doc))
    except ReportFormatError:
        return
    VALIDATOR.validate(doc)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_a_format_error(data: bytes) -> None:
    with pytest.raises(ReportFormatError):
        parse_report(data)


@given(st.sampled_from(INDICATOR_TYPES), st.text(max_size=40))
def test_indicator_values_never_appear_in_errors(kind: str, text: str) -> None:
    value = "\u2603" + text  # a marker no message contains: never valid, never echoed
    doc = {**example("preliminary"), "indicators": [{"type": kind, "value": value}]}
    with pytest.raises(ReportFormatError) as caught:
        parse_report(json.dumps(doc))
    assert "\u2603" not in caught.value.detail
