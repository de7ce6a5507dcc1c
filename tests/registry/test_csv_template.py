"""The CSV template parser: what the writer writes it reads back (hypothesis), spreadsheet
habits (BOM, Shift_JIS, comments, any column order), and malformed files refused with
the row and column."""

from __future__ import annotations

import string
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.errors import InvalidInput
from mamori.registry.csv_template import COLUMNS, parse_csv, template, write_csv
from mamori.registry.entries import ComponentEntry, ComputerEntry
from mamori.registry.messages import RegistryInputError

_word = st.text(alphabet=string.ascii_letters + string.digits + " -_.,\"'日本語", min_size=1,
                max_size=16).map(str.strip).filter(lambda s: bool(s) and not s.startswith("#"))
_optional = st.one_of(st.none(), _word)
_cpe = st.one_of(st.none(), st.builds(
    lambda v, p, ver: f"cpe:2.3:a:{v}:{p}:{ver}:*:*:*:*:*:*:*",
    st.text(string.ascii_lowercase, min_size=1, max_size=8),
    st.text(string.ascii_lowercase + "_", min_size=1, max_size=8).filter(lambda s: s != "_"),
    st.text(string.digits + ".", min_size=1, max_size=6).filter(lambda s: s not in (".",)),
))
_purl = st.one_of(st.none(), st.builds(
    lambda n, v: f"pkg:generic/{n}@{v}",
    st.text(string.ascii_lowercase, min_size=1, max_size=8),
    st.text(string.digits, min_size=1, max_size=4),
))
_component = st.builds(ComponentEntry, name=_word, version=_optional, supplier=_optional,
                       component_type=st.one_of(st.none(), st.sampled_from(
                           ["library", "firmware", "operating-system"])),
                       cpe=_cpe, purl=_purl)


@st.composite
def _computers(draw: st.DrawFn) -> list[ComputerEntry]:
    names = draw(st.lists(_word, min_size=1, max_size=4, unique=True))
    return [
        ComputerEntry(
            name=name,
            device_category=draw(st.one_of(st.none(), st.sampled_from(["plc", "it_server"]))),
            site=draw(_optional), facility=draw(_optional),
            zone=draw(st.one_of(st.none(), st.sampled_from(["internal", "internet_boundary"]))),
            directly_managed=draw(st.one_of(st.none(), st.booleans())),
            manager_name=draw(_optional), product_vendor=draw(_optional),
            custom_designed=draw(st.one_of(st.none(), st.booleans())),
            existing=draw(st.one_of(st.none(), st.booleans())),
            in_service_since=draw(st.one_of(st.none(), st.dates(date(2000, 1, 1),
                                                                  date(2030, 12, 31)))),
            notes=draw(_optional),
            components=draw(st.one_of(st.none(), st.lists(_component, min_size=1, max_size=3))),
        )
        for name in names
    ]


def _same(a: ComputerEntry, b: ComputerEntry) -> None:
    assert a.name == b.name
    assert a.said() == b.said()
    assert a.components == b.components


@settings(max_examples=60, deadline=None)
@given(_computers())
def test_what_the_writer_writes_the_parser_reads(computers: list[ComputerEntry]) -> None:
    text = write_csv(computers)
    parsed = parse_csv(text.encode("utf-8")).computers
    assert len(parsed) == len(computers)
    for expected, got in zip(computers, parsed, strict=True):
        _same(expected, got)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_parse_or_fail_with_a_clear_error(data: bytes) -> None:
    try:
        parse_csv(data)
    except InvalidInput as error:
        assert error.detail
        assert not isinstance(error, RegistryInputError) or error.message_id


def test_the_template_has_the_header_and_only_commented_examples() -> None:
    text = template()
    header = next(line for line in text.splitlines() if not line.startswith(("#", '"#')))
    assert header.split(",") == list(COLUMNS)
    assert parse_csv(text.encode()).computers == []


def test_spreadsheet_habits_bom_shift_jis_column_order_and_repeated_fields() -> None:
    text = ("component_name,computer,zone,cpe\r\n"
            "# コメント行\r\n"
            "ファームウェア,制御盤1,critical_equipment,cpe:2.3:o:ex:fw:1.0:*:*:*:*:*:*:*\r\n"
            "openssl,制御盤1,,\r\n"
            ",制御盤2,internal,\r\n")
    for data in (b"\xef\xbb\xbf" + text.encode("utf-8"), text.encode("cp932")):
        computers = parse_csv(data).computers
        assert [c.name for c in computers] == ["制御盤1", "制御盤2"]
        assert computers[0].zone == "critical_equipment"
        assert [p.name for p in computers[0].components or []] == ["ファームウェア", "openssl"]
        assert computers[1].components is None


@pytest.mark.parametrize(
    ("text", "row", "field"),
    [
        ("computer,colour\nplc,red\n", 1, "colour"),
        ("computer,zone,zone\nplc,a,b\n", 1, "zone"),
        ("zone\ninternal\n", 1, None),
        ("computer,zone\nplc,internal\nplc,internet_boundary\n", 3, "zone"),
        ("computer,cpe,component_name\nplc,cpe:2.3:a:x,fw\n", 2, "cpe"),
        ("computer,purl,component_name\nplc,npm/left-pad,fw\n", 2, "purl"),
        ("computer,existing\nplc,perhaps\n", 2, "existing"),
        ("computer,in_service_since\nplc,2025-13-01\n", 2, "in_service_since"),
        ("computer,component_version\nplc,1.0\n", 2, "component_name"),
        ("computer,zone\n\n,internal\n", 3, "computer"),
        ('computer,notes\nplc,"unterminated\n', 2, None),
        ("computer\nplc,extra\n", 2, None),
    ],
)
def test_malformed_rows_name_the_row_and_column(text: str, row: int, field: str | None) -> None:
    with pytest.raises(RegistryInputError) as error:
        parse_csv(text.encode())
    assert error.value.row == row
    assert error.value.field == field


def test_binary_and_undecodable_files_are_refused() -> None:
    with pytest.raises(RegistryInputError, match="NUL"):
        parse_csv(b"computer\x00\n")
    with pytest.raises(RegistryInputError, match="UTF-8"):
        parse_csv(b"computer\n\x81\x7f\xff\xfe\n")
