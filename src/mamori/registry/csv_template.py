"""The CSV template for bulk notification (R-4.2-10): one row per component, the
computer's fields repeated or left blank after its first row.

Rules a spreadsheet user can follow: the header row names the columns (any order;
``computer`` is required); rows whose first cell starts with ``#`` are comments; a
computer's fields may be given on any of its rows but must not contradict each other;
a row with no ``component_name`` describes only the computer. If any row of a computer
has component columns, its component list is replaced by exactly those rows; otherwise
its components stay as they are. UTF-8 (with or without BOM) and Shift_JIS (CP932, as
spreadsheet programs in Japan save it) are read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date

from mamori.registry.entries import (
    BOOL_FIELDS,
    DATE_FIELDS,
    TEXT_FIELDS,
    ComputerEntry,
    Submission,
    clean_text,
    component,
    computer_name,
    parse_bool,
    parse_date,
)
from mamori.registry.messages import N_, RegistryInputError

COMPUTER_COLUMNS: tuple[str, ...] = (
    "computer", "device_category", "site", "facility", "zone", "directly_managed",
    "manager_name", "manager_contact", "cloud_form", "cloud_provider", "product_vendor",
    "product_name", "product_version", "custom_designed", "exemption_reason", "existing",
    "in_service_since", "linked_to", "notes",
)
COMPONENT_COLUMNS: tuple[str, ...] = (
    "component_name", "component_version", "component_supplier", "component_type", "cpe",
    "purl",
)
COLUMNS: tuple[str, ...] = COMPUTER_COLUMNS + COMPONENT_COLUMNS
MAX_ROWS = 200_000
MAX_CELL = 4096

TEMPLATE_COMMENTS: tuple[str, ...] = (
    "# mamori: 特定重要電子計算機の届出 CSV テンプレート / CSV template for notifying "
    "specified critical computers",
    "# 1行に1構成要素。計算機の項目は最初の行だけ記入すれば足ります。 / One row per "
    "component; a computer's fields are needed on its first row only.",
    "# zone: critical_equipment | internal | internet_boundary; cloud_form: iaas | paas | "
    "saas; true/false: true | false",
    "# cpe: CPE 2.3 (cpe:2.3:a:vendor:product:version:*:*:*:*:*:*:*); purl: "
    "pkg:type/namespace/name@version",
    "# device_category: `mamori registry categories` / /api/v1/registry/categories",
)
EXAMPLE_ROWS: tuple[dict[str, str], ...] = (
    {
        "computer": "substation-a-rtu-01", "device_category": "rtu", "site": "Substation A",
        "facility": "Substation A protection and control", "zone": "critical_equipment",
        "directly_managed": "true", "product_vendor": "Example Corp", "product_name": "RTU-500",
        "product_version": "4.2", "existing": "true", "component_name": "RTU firmware",
        "component_version": "4.2.1", "component_supplier": "Example Corp",
        "component_type": "firmware",
        "cpe": "cpe:2.3:o:example:rtu-500_firmware:4.2.1:*:*:*:*:*:*:*",
    },
    {
        "computer": "substation-a-rtu-01", "component_name": "openssl",
        "component_version": "3.0.13", "component_type": "library",
        "cpe": "cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*",
        "purl": "pkg:generic/openssl@3.0.13",
    },
)


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise RegistryInputError(N_("the file is not a text file (it contains NUL bytes)"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932")
    except UnicodeDecodeError:
        raise RegistryInputError(
            N_("the file is neither UTF-8 nor Shift_JIS text")
        ) from None


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each non-empty, non-comment row."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise RegistryInputError(
                N_("the CSV is malformed (unbalanced quotes or a stray character)"),
                row=reader.line_num,
            ) from None
        if not any(cell.strip() for cell in cells):
            continue
        if cells[0].lstrip().startswith("#"):
            continue
        yield reader.line_num, cells


def _header(cells: list[str], row: int) -> list[str]:
    names = [cell.strip().lstrip("\ufeff").lower() for cell in cells]
    seen: set[str] = set()
    for name in names:
        if name not in COLUMNS:
            raise RegistryInputError(
                N_("unknown column; the template's columns are: %(columns)s"),
                row=row, field=name[:64] or "(empty)", columns=", ".join(COLUMNS),
            )
        if name in seen:
            raise RegistryInputError(N_("this column appears twice"), row=row, field=name)
        seen.add(name)
    if "computer" not in seen:
        raise RegistryInputError(N_("the header has no computer column"), row=row)
    return names


def _value(name: str, raw: str) -> object:
    if name in BOOL_FIELDS:
        return parse_bool(raw, field=name)
    if name in DATE_FIELDS:
        return parse_date(raw, field=name)
    return clean_text(raw, field=name, limit=TEXT_FIELDS[name])


def parse_csv(data: bytes) -> Submission:
    """The template's rows → computers with their components; all or nothing."""
    text = _decode(data)
    rows = _rows(text)
    first = next(rows, None)
    if first is None:
        raise RegistryInputError(N_("the file has no header row"))
    header = _header(first[1], first[0])
    by_name: dict[str, ComputerEntry] = {}
    for count, (line, cells) in enumerate(rows, start=1):
        if count > MAX_ROWS:
            raise RegistryInputError(
                N_("the file has more than %(limit)s rows"), row=line, limit=MAX_ROWS
            )
        try:
            _apply_row(by_name, header, cells, line)
        except RegistryInputError as error:
            raise error.located(row=line) from None
    return Submission(computers=list(by_name.values()))


def _apply_row(
    by_name: dict[str, ComputerEntry], header: list[str], cells: list[str], line: int
) -> None:
    """Merge one row into the computer it names."""
    if len(cells) > len(header):
        raise RegistryInputError(
            N_("this row has %(cells)s cells but the header has %(columns)s"),
            cells=len(cells), columns=len(header),
        )
    values = dict(zip(header, cells, strict=False))
    for name, raw in values.items():
        if len(raw) > MAX_CELL:
            raise RegistryInputError(
                N_("longer than %(limit)s characters"), field=name, limit=MAX_CELL
            )
    name = computer_name(values.get("computer"))
    entry = by_name.get(name)
    if entry is None:
        entry = by_name[name] = ComputerEntry(name=name, row=line)
    for column in COMPUTER_COLUMNS[1:]:
        value = _value(column, values.get(column, ""))
        if value is None:
            continue
        before = getattr(entry, column)
        if before is None:
            setattr(entry, column, value)
        elif before != value:
            raise RegistryInputError(
                N_("differs from an earlier row of the same computer"), field=column
            )
    has_component = any((values.get(c) or "").strip() for c in COMPONENT_COLUMNS)
    if has_component:
        if entry.components is None:
            entry.components = []
        entry.components.append(
            component(
                name=values.get("component_name"),
                version=values.get("component_version"),
                supplier=values.get("component_supplier"),
                component_type=values.get("component_type"),
                cpe=values.get("cpe"),
                purl=values.get("purl"),
            )
        )


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write_csv(computers: Iterable[ComputerEntry], *, comments: Iterable[str] = ()) -> str:
    """Computers in the template's layout (the computer's fields on its first row)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for comment in comments:
        writer.writerow([comment])
    writer.writerow(COLUMNS)
    for entry in computers:
        head = [entry.name] + [_cell(getattr(entry, c)) for c in COMPUTER_COLUMNS[1:]]
        parts = entry.components or []
        if not parts:
            writer.writerow(head + [""] * len(COMPONENT_COLUMNS))
            continue
        for index, part in enumerate(parts):
            cells = head if index == 0 else [entry.name] + [""] * (len(COMPUTER_COLUMNS) - 1)
            writer.writerow([
                *cells, _cell(part.name), _cell(part.version), _cell(part.supplier),
                _cell(part.component_type), _cell(part.cpe), _cell(part.purl),
            ])
    return buffer.getvalue()


def template() -> str:
    """The downloadable template: explanations, the header and two commented examples."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for comment in TEMPLATE_COMMENTS:
        writer.writerow([comment])
    writer.writerow(COLUMNS)
    for example in EXAMPLE_ROWS:  # commented out: remove the "#" to use one
        cells = [example.get(c, "") for c in COLUMNS]
        cells[0] = "#" + cells[0]
        writer.writerow(cells)
    return buffer.getvalue()
