"""Decoding of NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) export messages.

:class:`ExportDecoder` is fed whole messages (from a file of concatenated
messages or from UDP payloads of a capture) and queues their data records;
:meth:`ExportDecoder.drain` decodes the queue run by run, so fixed-length
templates cost one ``np.frombuffer`` per template per drain rather than a
Python step per record. Templates are kept per exporter, observation domain
(v9: source id) and template id. Data whose template has not been seen is
counted as unparseable, never fatal; a broken message structure raises
:class:`FlowFormatError` with its offset.
"""

from __future__ import annotations

import struct
from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np

from . import elements as el
from .batch import NUMERIC_COLUMNS
from .errors import FlowFormatError
from .templates import (
    FieldSpec,
    Template,
    TemplateRecord,
    parse_ipfix_templates,
    parse_v9_templates,
)

SOURCES = {5: "netflow5", 9: "netflow9", 10: "ipfix"}
MAX_DATAGRAM = 65535
DEFAULT_MAX_TEMPLATES = 65536

_V5_HEADER = struct.Struct("!HHIIIIBBH")
_V9_HEADER = struct.Struct("!HHIIII")
_IPFIX_HEADER = struct.Struct("!HHIII")
_SET_HEADER = struct.Struct("!HH")
V5_HEADER_LEN, V5_RECORD_LEN = 24, 48
V9_HEADER_LEN, IPFIX_HEADER_LEN = 20, 16

# NetFlow v5's fixed record, described as a template so it shares the decoding path.
V5_TEMPLATE = Template(
    0,
    tuple(
        FieldSpec(element, length)
        for element, length in (
            (el.SRC_IPV4, 4), (el.DST_IPV4, 4), (15, 4), (10, 2), (14, 2),
            (el.PACKET_DELTA, 4), (el.OCTET_DELTA, 4),
            (el.START_SYSUPTIME, 4), (el.END_SYSUPTIME, 4),
            (el.SRC_PORT, 2), (el.DST_PORT, 2), (-1, 1), (el.TCP_FLAGS, 1),
            (el.PROTOCOL, 1), (5, 1), (16, 2), (17, 2), (9, 1), (13, 1), (-1, 2),
        )
    ),
)  # fmt: skip


@dataclass
class ExportStats:
    """Counters of one read; they describe structure, never content."""

    messages: int = 0
    records: int = 0
    options_records: int = 0
    unparseable_sets: int = 0
    """Data sets whose template was unknown when they arrived."""
    unparseable_bytes: int = 0
    templates: int = 0
    template_withdrawals: int = 0


_Item = tuple[int, memoryview, int, int, int, int]
"""(sequence, record bytes, record count, export seconds, uptime base ms, uptime now ms)."""


@dataclass
class _Queue:
    runs: dict[Template, list[_Item]] = field(default_factory=dict)
    decoded: list[tuple[int, dict[str, np.ndarray]]] = field(default_factory=list)
    seq: int = 0


class ExportDecoder:
    """Stateful decoder for the export messages of any number of exporters."""

    def __init__(self, *, max_templates: int = DEFAULT_MAX_TEMPLATES) -> None:
        self.max_templates = max_templates
        self.stats = ExportStats()
        self._templates: dict[tuple[Hashable, int, int, int], Template] = {}
        self._init_ms: dict[tuple[Hashable, int], int] = {}
        self._queues: dict[int, _Queue] = {}

    # -- feeding -----------------------------------------------------------------

    def feed(self, message: memoryview, *, exporter: Hashable = None, offset: int = 0) -> None:
        """Queue the records of one complete message; ``offset`` is for error messages."""
        if len(message) < 2:
            raise FlowFormatError(offset, "message shorter than its version field")
        version = (message[0] << 8) | message[1]
        if version == 5:
            self._feed_v5(message, offset)
        elif version == 9:
            self._feed_v9(message, exporter, offset)
        elif version == 10:
            self._feed_ipfix(message, exporter, offset)
        else:
            raise FlowFormatError(offset, f"unsupported export version {version}")
        self.stats.messages += 1

    def _feed_v5(self, message: memoryview, offset: int) -> None:
        if len(message) < V5_HEADER_LEN:
            raise FlowFormatError(offset, "NetFlow v5 header truncated")
        _, count, uptime, secs, nsecs, _, _, _, _ = _V5_HEADER.unpack_from(message)
        need = V5_HEADER_LEN + V5_RECORD_LEN * count
        if len(message) < need:
            raise FlowFormatError(offset, f"NetFlow v5 message holds fewer than {count} records")
        if count:
            base = secs * 1000 + nsecs // 1_000_000 - uptime
            body = message[V5_HEADER_LEN:need]
            self._queue_run(5, V5_TEMPLATE, body, count, secs, base, uptime)

    def _feed_v9(self, message: memoryview, exporter: Hashable, offset: int) -> None:
        if len(message) < V9_HEADER_LEN:
            raise FlowFormatError(offset, "NetFlow v9 header truncated")
        _, _, uptime, secs, _, source_id = _V9_HEADER.unpack_from(message)
        self._walk(
            message, V9_HEADER_LEN, exporter, 9, source_id, secs, secs * 1000 - uptime, offset
        )

    def _feed_ipfix(self, message: memoryview, exporter: Hashable, offset: int) -> None:
        if len(message) < IPFIX_HEADER_LEN:
            raise FlowFormatError(offset, "IPFIX message header truncated")
        _, length, export_s, _, domain = _IPFIX_HEADER.unpack_from(message)
        if length != len(message):
            raise FlowFormatError(offset, "IPFIX message length does not match its header")
        self._walk(message, IPFIX_HEADER_LEN, exporter, 10, domain, export_s, -1, offset)

    def _walk(
        self,
        message: memoryview,
        pos: int,
        exporter: Hashable,
        version: int,
        domain: int,
        export_s: int,
        base_ms: int,
        offset: int,
    ) -> None:
        """Handle every set of a v9 or IPFIX message; the per-record work is deferred.

        For IPFIX the uptime base is the exporter's systemInitTimeMilliseconds, looked
        up per set because an options record earlier in the same message may set it.
        """
        end = len(message)
        init_ms = self._init_ms if version == 10 else None
        templates = self._templates
        template_sets = (0, 1) if version == 9 else (2, 3)
        queue = self._queue(version)
        unpack = _SET_HEADER.unpack_from
        while pos < end:
            if end - pos < 4:
                raise FlowFormatError(offset + pos, "set header truncated")
            set_id, length = unpack(message, pos)
            if length < 4:
                raise FlowFormatError(offset + pos, f"set length {length} is below 4")
            if pos + length > end:
                raise FlowFormatError(offset + pos, "set runs past the end of its message")
            if set_id >= 256:
                if init_ms is not None:
                    base_ms = init_ms.get((exporter, domain), -1)
                key = (exporter, version, domain, set_id)
                template = templates.get(key)
                size = template.fast_length if template is not None else 0
                if size:
                    count = (length - 4) // size
                    if count:
                        item = (
                            queue.seq,
                            message[pos + 4 : pos + 4 + count * size],
                            count,
                            export_s,
                            base_ms,
                            -1,
                        )
                        run = queue.runs.get(template)  # type: ignore[arg-type]
                        if run is None:
                            queue.runs[template] = [item]  # type: ignore[index]
                        else:
                            run.append(item)
                        queue.seq += 1
                        self.stats.records += count
                else:
                    body = message[pos + 4 : pos + length]
                    self._data_set(version, key, body, offset + pos + 4, export_s, base_ms)
            elif set_id in template_sets:
                body = message[pos + 4 : pos + length]
                parse = parse_v9_templates if version == 9 else parse_ipfix_templates
                parsed = parse(body, offset + pos + 4, options=set_id == template_sets[1])
                self._store_templates(parsed, (exporter, version, domain), offset + pos)
            pos += length

    def _store_templates(
        self,
        parsed: list[tuple[int, TemplateRecord | None]],
        scope: tuple[Hashable, int, int],
        offset: int,
    ) -> None:
        for template_id, record in parsed:
            key = (*scope, template_id)
            if record is None:
                if self._templates.pop(key, None) is not None:
                    self.stats.template_withdrawals += 1
                continue
            current = self._templates.get(key)
            if current is not None and (current.fields, current.scope_count) == record:
                continue
            if current is None and len(self._templates) >= self.max_templates:
                raise FlowFormatError(offset, f"more than {self.max_templates} templates")
            self._templates[key] = Template(template_id, record[0], record[1])
            self.stats.templates += 1

    def _data_set(
        self,
        version: int,
        key: tuple[Hashable, int, int, int],
        body: memoryview,
        offset: int,
        export_s: int,
        base_ms: int,
    ) -> None:
        template = self._templates.get(key)
        if template is None:
            self.stats.unparseable_sets += 1
            self.stats.unparseable_bytes += len(body)
            return
        if template.is_options:
            self._options_data(template, key, body, offset)
            return
        length = template.record_length
        if length is None:
            values, count = template.decode_variable(body, offset)
            if count:
                columns = el.to_columns(
                    values,
                    count,
                    export_s=np.full(count, export_s, dtype=np.int64),
                    uptime_base_ms=np.full(count, base_ms, dtype=np.int64),
                )
                queue = self._queue(version)
                queue.decoded.append((queue.seq, columns))
                queue.seq += 1
                self.stats.records += count
            return
        count = len(body) // length
        if count:
            self._queue_run(version, template, body[: count * length], count, export_s, base_ms)

    def _options_data(
        self,
        template: Template,
        key: tuple[Hashable, int, int, int],
        body: memoryview,
        offset: int,
    ) -> None:
        if template.record_length is None:
            values, count = template.decode_variable(body, offset)
        else:
            count = len(body) // template.record_length
            values = template.decode_fixed(body, count) if count else {}
        self.stats.options_records += count
        init = values.get(el.SYSTEM_INIT_MILLISECONDS)
        if init is not None and count and key[1] == 10:
            self._init_ms[(key[0], key[2])] = int(init[-1])

    def _queue(self, version: int) -> _Queue:
        queue = self._queues.get(version)
        if queue is None:
            queue = self._queues[version] = _Queue()
        return queue

    def _queue_run(
        self,
        version: int,
        template: Template,
        body: memoryview,
        count: int,
        export_s: int,
        base_ms: int,
        now_ms: int = -1,
    ) -> None:
        queue = self._queue(version)
        item = (queue.seq, body, count, export_s, base_ms, now_ms)
        queue.runs.setdefault(template, []).append(item)
        queue.seq += 1
        self.stats.records += count

    # -- draining ----------------------------------------------------------------

    def drain(self) -> list[tuple[str, dict[str, np.ndarray]]]:
        """Decode everything queued; one column set per source, in arrival order.

        Call before the buffers the queued messages point into are reused.
        """
        out: list[tuple[str, dict[str, np.ndarray]]] = []
        for version, queue in sorted(self._queues.items()):
            parts: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []
            for template, run in queue.runs.items():
                seqs, views, counts_list, exports, bases, nows = zip(*run, strict=True)
                counts = np.array(counts_list, dtype=np.int64)
                total = int(counts.sum())
                data = views[0] if len(views) == 1 else b"".join(views)
                values = template.decode_fixed(data, total)
                columns = el.to_columns(
                    values,
                    total,
                    export_s=np.repeat(np.array(exports, dtype=np.int64), counts),
                    uptime_base_ms=np.repeat(np.array(bases, dtype=np.int64), counts),
                    uptime_now_ms=(
                        np.repeat(np.array(nows, dtype=np.int64), counts) if version == 5 else None
                    ),
                )
                parts.append((np.repeat(np.array(seqs, dtype=np.int64), counts), columns))
            for seq, columns in queue.decoded:
                n = len(columns["start_ns"])
                parts.append((np.full(n, seq, dtype=np.int64), columns))
            if parts:
                out.append((SOURCES[version], _ordered(parts)))
        self._queues.clear()
        return out


def _ordered(parts: list[tuple[np.ndarray, dict[str, np.ndarray]]]) -> dict[str, np.ndarray]:
    if len(parts) == 1:
        return parts[0][1]
    seq = np.concatenate([p[0] for p in parts])
    order = np.argsort(seq, kind="stable")
    return {name: np.concatenate([p[1][name] for p in parts])[order] for name in NUMERIC_COLUMNS}


def split_messages(
    buf: memoryview, start: int, *, final: bool, base_offset: int = 0
) -> tuple[list[tuple[int, int]], int]:
    """Spans of the complete export messages in ``buf[start:]`` (a file of them).

    Returns the spans and the position of the first byte not consumed (the start
    of an incomplete message, to be completed by the next chunk). With
    ``final`` there is no next chunk, and an incomplete message is an error.
    NetFlow v9 headers carry no length: a v9 message ends where the next
    header begins (set ids 5, 9 and 10 are reserved, so the word is unambiguous)
    or at the end of the file.
    """
    spans: list[tuple[int, int]] = []
    pos, end = start, len(buf)
    while pos < end:
        if end - pos < 4:
            if final:
                raise FlowFormatError(base_offset + pos, "truncated message header")
            break
        version = (buf[pos] << 8) | buf[pos + 1]
        if version == 5:
            count = (buf[pos + 2] << 8) | buf[pos + 3]
            length = V5_HEADER_LEN + V5_RECORD_LEN * count
            if length > MAX_DATAGRAM:
                raise FlowFormatError(base_offset + pos, "NetFlow v5 record count too large")
        elif version == 10:
            length = (buf[pos + 2] << 8) | buf[pos + 3]
            if length < IPFIX_HEADER_LEN:
                raise FlowFormatError(base_offset + pos, "IPFIX message length below 16")
        elif version == 9:
            found = _v9_length(buf, pos, final=final, base_offset=base_offset)
            if found is None:
                break
            length = found
        else:
            raise FlowFormatError(base_offset + pos, f"unsupported export version {version}")
        if pos + length > end:
            if final:
                raise FlowFormatError(base_offset + pos, "message truncated at end of file")
            break
        spans.append((pos, pos + length))
        pos += length
    return spans, pos


def _v9_length(buf: memoryview, start: int, *, final: bool, base_offset: int) -> int | None:
    pos, end = start + V9_HEADER_LEN, len(buf)
    if pos > end:
        if final:
            raise FlowFormatError(base_offset + start, "NetFlow v9 header truncated")
        return None
    while True:
        if pos - start > MAX_DATAGRAM:
            raise FlowFormatError(base_offset + start, "NetFlow v9 message exceeds 65535 bytes")
        if pos == end:
            return pos - start if final else None
        if end - pos < 4:
            if final:
                raise FlowFormatError(base_offset + pos, "flowset header truncated")
            return None
        set_id, length = _SET_HEADER.unpack_from(buf, pos)
        if set_id in (5, 9, 10):
            return pos - start
        if length < 4:
            raise FlowFormatError(base_offset + pos, f"flowset length {length} is below 4")
        if pos + length > end:
            if final:
                raise FlowFormatError(base_offset + pos, "flowset truncated at end of file")
            return None
        pos += length
