"""Templates of NetFlow v9 and IPFIX, and the decoding of data records with them.

A fixed-length template becomes a NumPy structured dtype holding only the
fields the flow columns need (by offset), so a whole run of records decodes in
one ``np.frombuffer``. Templates with variable-length fields (IPFIX only) are
walked record by record. Enterprise-specific fields are skipped by length.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from . import elements as el
from .errors import FlowFormatError

VARIABLE = 0xFFFF
ENTERPRISE_BIT = 0x8000

_U16 = struct.Struct("!H")
_U16X2 = struct.Struct("!HH")
_U16X3 = struct.Struct("!HHH")
_U32 = struct.Struct("!I")
_PAST_SET = "variable-length field runs past its set"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a template: element id, length in bytes (65535: variable), PEN."""

    element: int
    length: int
    enterprise: int = 0


@dataclass(eq=False, slots=True)
class Template:
    """A data or options template; identity-hashed so it can group record runs."""

    template_id: int
    fields: tuple[FieldSpec, ...]
    scope_count: int = 0
    record_length: int | None = field(init=False)
    fast_length: int = field(init=False)
    """Record length of a fixed-length data template, else 0 (the slow path)."""
    dtype: np.dtype | None = field(init=False)
    _names: dict[int, tuple[str, int]] = field(init=False)

    def __post_init__(self) -> None:
        variable = any(f.length == VARIABLE for f in self.fields)
        self.record_length = None if variable else sum(f.length for f in self.fields)
        self.fast_length = 0 if variable or self.scope_count else (self.record_length or 0)
        self._names = {}
        self.dtype = None
        if variable:
            return
        names, formats, offsets = [], [], []
        offset = 0
        for spec in self.fields:
            if (
                spec.enterprise == 0
                and spec.element not in self._names
                and el.usable(spec.element, spec.length)
            ):
                name = f"e{spec.element}"
                self._names[spec.element] = (name, spec.length)
                names.append(name)
                formats.append(_field_format(spec.element, spec.length))
                offsets.append(offset)
            offset += spec.length
        self.dtype = np.dtype(
            {"names": names, "formats": formats, "offsets": offsets, "itemsize": max(offset, 1)}
        )

    @property
    def is_options(self) -> bool:
        return self.scope_count > 0

    def decode_fixed(self, data: bytes | memoryview, count: int) -> dict[int, np.ndarray]:
        """Element columns of ``count`` consecutive fixed-length records in ``data``."""
        assert self.dtype is not None
        records = np.frombuffer(data, dtype=self.dtype, count=count)
        out: dict[int, np.ndarray] = {}
        for element, (name, length) in self._names.items():
            out[element] = _as_values(records[name], element, length)
        return out

    def decode_variable(self, data: memoryview, offset: int) -> tuple[dict[int, np.ndarray], int]:
        """Element columns of the records in a set body with variable-length fields.

        Returns the columns and the record count; a trailing remainder shorter than
        the minimum record is padding. Raises :class:`FlowFormatError` when a
        record runs past the end of the set.
        """
        rows: dict[int, list[int]] = {}
        wanted = [
            spec.element if spec.enterprise == 0 and spec.element in el.WANTED else -1
            for spec in self.fields
        ]
        minimum = sum(1 if s.length == VARIABLE else s.length for s in self.fields)
        end = len(data)
        pos = 0
        count = 0
        while end - pos >= max(minimum, 1):
            for spec, element in zip(self.fields, wanted, strict=True):
                length = spec.length
                if length == VARIABLE:
                    if pos >= end:
                        raise FlowFormatError(offset + pos, _PAST_SET)
                    length = data[pos]
                    pos += 1
                    if length == 255:
                        if pos + 2 > end:
                            raise FlowFormatError(offset + pos, _PAST_SET)
                        length = _U16.unpack_from(data, pos)[0]
                        pos += 2
                if pos + length > end:
                    raise FlowFormatError(offset + pos, "data record runs past its set")
                if element >= 0 and el.usable(element, length):
                    column = rows.get(element)
                    if column is None:
                        column = rows[element] = [0] * count
                    if len(column) == count:
                        column.append(int.from_bytes(data[pos : pos + length], "big"))
                pos += length
            count += 1
            for column in rows.values():
                if len(column) < count:
                    column.append(0)
        out: dict[int, np.ndarray] = {}
        for element, column in rows.items():
            if el.ADDRESS_ELEMENTS.get(element) == 16:
                out[element] = np.array(
                    [(v >> 64, v & 0xFFFFFFFFFFFFFFFF) for v in column], dtype=np.uint64
                ).reshape(count, 2)
            else:
                out[element] = np.array(column, dtype=np.uint64)
        return out, count


def _field_format(element: int, length: int) -> object:
    if length == 16:
        return (">u8", (2,))
    if length in (1, 2, 4, 8):
        return f">u{length}"
    return ("u1", (length,))


def _as_values(column: np.ndarray, element: int, length: int) -> np.ndarray:
    if length == 16:
        return column.astype(np.uint64)
    if length in (1, 2, 4, 8):
        return column.astype(np.uint64)
    value = np.zeros(len(column), dtype=np.uint64)
    for i in range(length):
        value = (value << np.uint64(8)) | column[:, i].astype(np.uint64)
    return value


def parse_ipfix_templates(
    body: memoryview, offset: int, *, options: bool
) -> list[tuple[int, TemplateRecord | None]]:
    """Template records of one IPFIX (options) template set body.

    Returns ``(template_id, (fields, scope_count))`` pairs; ``None`` withdraws the
    template (field count zero, RFC 7011 section 8.1).
    """
    out: list[tuple[int, TemplateRecord | None]] = []
    pos, end = 0, len(body)
    header = 6 if options else 4
    while end - pos >= header:
        if options:
            template_id, count, scope = _U16X3.unpack_from(body, pos)
        else:
            template_id, count = _U16X2.unpack_from(body, pos)
            scope = 0
        if template_id == 0 and count == 0 and (not options or scope == 0):
            break  # padding
        _check_template_id(template_id, offset + pos)
        pos += header
        if count == 0:
            out.append((template_id, None))
            continue
        if options and (scope == 0 or scope > count):
            raise FlowFormatError(offset + pos, "options template scope field count invalid")
        specs: list[FieldSpec] = []
        for _ in range(count):
            if end - pos < 4:
                raise FlowFormatError(offset + pos, "template record runs past its set")
            element, length = _U16X2.unpack_from(body, pos)
            pos += 4
            enterprise = 0
            if element & ENTERPRISE_BIT:
                if end - pos < 4:
                    raise FlowFormatError(offset + pos, "template record runs past its set")
                enterprise = _U32.unpack_from(body, pos)[0]
                pos += 4
                element &= ~ENTERPRISE_BIT
            specs.append(FieldSpec(element, length, enterprise))
        out.append((template_id, _make_template(template_id, specs, scope, offset + pos)))
    return out


def parse_v9_templates(
    body: memoryview, offset: int, *, options: bool
) -> list[tuple[int, TemplateRecord | None]]:
    """Template records of one NetFlow v9 (options) template flowset body (RFC 3954)."""
    out: list[tuple[int, TemplateRecord | None]] = []
    pos, end = 0, len(body)
    while end - pos >= (6 if options else 4):
        if options:
            template_id, scope_len, option_len = _U16X3.unpack_from(body, pos)
            if template_id == 0 and scope_len == 0 and option_len == 0:
                break
            _check_template_id(template_id, offset + pos)
            pos += 6
            if scope_len % 4 or option_len % 4 or scope_len == 0:
                raise FlowFormatError(offset + pos, "options template field lengths invalid")
            if pos + scope_len + option_len > end:
                raise FlowFormatError(offset + pos, "template record runs past its flowset")
            specs = [
                FieldSpec(*_U16X2.unpack_from(body, pos + i))
                for i in range(0, scope_len + option_len, 4)
            ]
            pos += scope_len + option_len
            # v9 scope types (system, interface, ...) are not information elements.
            specs = [
                FieldSpec(-1, s.length) if i < scope_len // 4 else s for i, s in enumerate(specs)
            ]
            out.append(
                (template_id, _make_template(template_id, specs, scope_len // 4, offset + pos))
            )
            # Options template flowsets are padded to 4 bytes; nothing else follows.
            if end - pos < 6:
                break
        else:
            template_id, count = _U16X2.unpack_from(body, pos)
            if template_id == 0 and count == 0:
                break
            _check_template_id(template_id, offset + pos)
            pos += 4
            if count == 0:
                raise FlowFormatError(offset + pos, "template has no fields")
            if pos + 4 * count > end:
                raise FlowFormatError(offset + pos, "template record runs past its flowset")
            specs = [FieldSpec(*_U16X2.unpack_from(body, pos + 4 * i)) for i in range(count)]
            pos += 4 * count
            # NetFlow v9 has no variable-length encoding: 65535 is a plain length.
            if any(s.length == VARIABLE for s in specs):
                raise FlowFormatError(offset + pos, "field length 65535 in a NetFlow v9 template")
            out.append((template_id, _make_template(template_id, specs, 0, offset + pos)))
    return out


def _check_template_id(template_id: int, offset: int) -> None:
    if template_id < 256:
        raise FlowFormatError(offset, f"template id {template_id} is below 256")


TemplateRecord = tuple[tuple[FieldSpec, ...], int]
"""A parsed template before it is built: its fields and its scope field count."""


def _make_template(
    template_id: int, specs: list[FieldSpec], scope: int, offset: int
) -> TemplateRecord:
    if sum(s.length for s in specs) == 0:
        raise FlowFormatError(offset, f"template {template_id} has zero-length records")
    return tuple(specs), scope
