"""The feed parsers against arbitrary input (hypothesis): a malformed feed is a clear
``FeedError`` naming where, never a crash and never its content in the message."""

from __future__ import annotations

import contextlib
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.errors import MamoriError
from mamori.vulns.ingest import FeedError, Unit, detect, parse_unit
from mamori.vulns.ingest.jvn import version_range
from mamori.vulns.matching import cpe as cpe_mod
from mamori.vulns.matching import purl as purl_mod
from mamori.vulns.matching.csaf_status import VersSyntaxError, vers_ranges
from mamori.vulns.matching.versions import compare, version_key

DATA = Path(__file__).parent / "data"
FEEDS = sorted(p for p in DATA.rglob("*") if p.suffix in (".json", ".xml"))
SECRET = "ZZSECRETZZ"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=12,
)


@given(st.text(max_size=120))
def test_cpe_parser_raises_only_its_own_error(text: str) -> None:
    with contextlib.suppress(cpe_mod.CpeSyntaxError):
        cpe_mod.parse(text)


@given(st.lists(st.from_regex(r"[a-z0-9][a-z0-9._\-]{0,8}", fullmatch=True), min_size=3,
                max_size=3))
def test_literal_cpe_names_survive_format_and_parse(values: list[str]) -> None:
    vendor, product, version = values
    name = cpe_mod.Cpe("a", vendor, product, version)
    assert cpe_mod.parse(name.format()) == name


@given(st.text(max_size=40), st.text(max_size=40))
def test_version_comparison_never_fails_and_is_antisymmetric(a: str, b: str) -> None:
    forward, backward = compare(a, b), compare(b, a)
    assert (forward is None) == (backward is None)
    if forward is not None:
        assert forward == -backward  # type: ignore[operator]


@given(st.lists(st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,3}([a-z]|-rc[0-9]|p[0-9])?",
                              fullmatch=True), min_size=3, max_size=3))
def test_dotted_versions_order_transitively(versions: list[str]) -> None:
    keys = sorted(versions, key=lambda v: version_key(v))
    for left, right in itertools.pairwise(keys):
        assert compare(left, right) in (-1, 0)


@given(st.text(max_size=60))
def test_jvn_version_text_is_read_or_left_for_review(text: str) -> None:
    found = version_range(text)
    assert found is None or found.status == "affected"


@given(st.text(max_size=60))
def test_vers_ranges_raise_only_their_own_error(text: str) -> None:
    with contextlib.suppress(VersSyntaxError):
        vers_ranges(text, "affected")


@given(st.text(max_size=80))
def test_purl_parser_raises_value_error_only(text: str) -> None:
    with contextlib.suppress(ValueError):
        purl_mod.parse(text)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_arbitrary_bytes_are_refused_clearly(data: bytes) -> None:
    try:
        parse_unit(Unit("feed.json", data))
    except MamoriError as exc:
        assert exc.detail.startswith("feed.json")


def _mutations(document: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(document, dict):
        for key, value in document.items():
            found += _mutations(value, (*path, key))
    elif isinstance(document, list):
        for index, value in enumerate(document[:3]):
            found += _mutations(value, (*path, index))
    return found


def _replace(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


JSON_FEEDS = [p for p in FEEDS if p.suffix == ".json"]


@pytest.mark.parametrize("path", JSON_FEEDS, ids=[p.name for p in JSON_FEEDS])
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow,
                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_corrupted_fields_of_real_feeds_fail_cleanly(path: Path, data: st.DataObject) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    where = data.draw(st.sampled_from(_mutations(document)))
    value = data.draw(json_values | st.just(SECRET))
    corrupted = _replace(document, where, value)
    try:
        parse_unit(Unit(path.name, json.dumps(corrupted).encode()))
    except MamoriError as exc:
        assert SECRET not in exc.detail, "an error message repeats feed content"


@pytest.mark.parametrize("path", FEEDS, ids=[p.name for p in FEEDS])
def test_every_sample_feed_parses_and_is_detected_by_content(path: Path) -> None:
    data = path.read_bytes()
    feed = parse_unit(Unit("renamed.bin", data))
    assert feed.kind == detect(data, "renamed.bin")
    assert feed.records


def test_xml_entities_are_refused() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;">]><VULDEF-Document><Vulinfo>&b;</Vulinfo>'
            b"</VULDEF-Document>")
    with pytest.raises(FeedError, match="DTD or entities"):
        parse_unit(Unit("bomb.xml", bomb))


def test_unknown_json_is_named_as_such() -> None:
    with pytest.raises(FeedError, match="not a KEV catalogue"):
        parse_unit(Unit("x.json", b'{"hello": "world"}'))


def test_kev_that_breaks_the_schema_names_the_field_not_the_value() -> None:
    document = {"catalogVersion": "1", "dateReleased": "2025-01-01T00:00:00Z", "count": 1,
                "vulnerabilities": [{"cveID": SECRET}]}
    with pytest.raises(FeedError) as caught:
        parse_unit(Unit("kev.json", json.dumps(document).encode()))
    assert "vulnerabilities[0]" in caught.value.detail and SECRET not in caught.value.detail
