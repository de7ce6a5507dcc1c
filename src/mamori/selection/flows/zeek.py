"""Zeek ``conn.log``, ``dns.log`` and ``ssl.log`` as flow records (TSV or JSON lines).

TSV logs carry their own header: ``#separator`` (itself escaped, usually
``\\x09``), ``#set_separator``, ``#empty_field`` (``(empty)``), ``#unset_field``
(``-``), ``#path`` and ``#fields``; header blocks may repeat when logs are
concatenated. Values escape bytes as ``\\xHH``. JSON logs are one object per
line with dotted keys (``id.orig_h``); ``ts`` is epoch seconds or ISO 8601.

Only mechanical fields are taken: the 5-tuple, times, counters, Zeek's TCP
history as flag bits, and for DNS the query name, for TLS the SNI and the
JA3/JA4 fingerprints when the log has them. Answers and other values stay in
the file.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np

from .batch import empty_columns
from .errors import FlowFormatError

LOG_TYPES = ("conn", "dns", "ssl")
TEXT_BY_LOG = {"conn": (), "dns": ("qname",), "ssl": ("sni", "ja3", "ja4")}
PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1}
_HISTORY_FLAGS = {"s": 0x02, "h": 0x12, "a": 0x10, "f": 0x01, "r": 0x04}
_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})|\\\\")
MAX_LINE = 1 << 20
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_I64 = 2**63


class _Rows:
    """Row-wise values of one batch, turned into columns on demand."""

    def __init__(self, log: str) -> None:
        self.log = log
        self.num: dict[str, list[int]] = {
            name: [] for name in (
                "start_ns", "end_ns", "family", "src4", "dst4", "src6_hi", "src6_lo",
                "dst6_hi", "dst6_lo", "sport", "dport", "proto", "packets", "bytes", "tcp_flags",
            )
        }  # fmt: skip
        self.text: dict[str, list[str | None]] = {name: [] for name in TEXT_BY_LOG[log]}

    def __len__(self) -> int:
        return len(self.num["start_ns"])

    def columns(self) -> dict[str, np.ndarray]:
        count = len(self)
        out = empty_columns(count)
        for name, values in self.num.items():
            out[name][:] = values
        for name, texts in self.text.items():
            col = np.empty(count, dtype=object)
            col[:] = texts
            out[name] = col
        return out


def detect_log(first_lines: Iterable[str]) -> tuple[str, str]:
    """``(format, log)``: ``tsv`` or ``json`` and which of :data:`LOG_TYPES`."""
    for line in first_lines:
        if line.startswith("#path"):
            log = line[len("#path") :].strip()
            return "tsv", _known(log)
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise FlowFormatError(0, "first JSON line is not valid JSON") from exc
            if not isinstance(record, dict):
                raise FlowFormatError(0, "JSON log lines must be objects")
            return "json", _guess_json_log(record)
    raise FlowFormatError(0, "no Zeek #path header or JSON record found")


def _known(log: str) -> str:
    if log not in LOG_TYPES:
        raise FlowFormatError(0, "Zeek log path is none of conn, dns, ssl")
    return log


def _guess_json_log(record: dict[str, Any]) -> str:
    if "query" in record or "qtype" in record or "trans_id" in record:
        return "dns"
    if "server_name" in record or "ja3" in record or "ja4" in record or "cipher" in record:
        return "ssl"
    if "conn_state" in record or "history" in record or "orig_pkts" in record:
        return "conn"
    raise FlowFormatError(0, "JSON log is none of conn, dns, ssl")


def iter_zeek(
    lines: Iterable[bytes], *, log: str | None = None, batch_size: int = 65_536
) -> Iterator[tuple[str, dict[str, np.ndarray]]]:
    """``(source, columns)`` chunks of at most ``batch_size`` records from a Zeek log."""
    parser = _Parser(log)
    rows: _Rows | None = None
    offset = 0
    for number, raw in enumerate(lines, start=1):
        if len(raw) > MAX_LINE:
            raise FlowFormatError(offset, f"line {number} is longer than {MAX_LINE} bytes")
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        record = parser.line(line, number, offset)
        offset += len(raw)
        if record is None:
            continue
        if rows is None or rows.log != parser.log:
            if rows is not None and len(rows):
                yield f"zeek-{rows.log}", rows.columns()
            rows = _Rows(parser.log)
        _add(rows, record, number, offset)
        if len(rows) >= batch_size:
            yield f"zeek-{rows.log}", rows.columns()
            rows = _Rows(parser.log)
    if rows is not None and len(rows):
        yield f"zeek-{rows.log}", rows.columns()


class _Parser:
    """Header state of a TSV log, or the JSON log type; yields one dict per record."""

    def __init__(self, log: str | None) -> None:
        self.forced = log
        self.log = log or ""
        self.separator = "\t"
        self.set_separator = ","
        self.empty = "(empty)"
        self.unset = "-"
        self.fields: list[str] | None = None

    def line(self, line: str, number: int, offset: int) -> dict[str, Any] | None:
        if not line:
            return None
        if line.startswith("#"):
            self._header(line, offset)
            return None
        if line.startswith("{"):
            return self._json(line, number, offset)
        if self.fields is None:
            raise FlowFormatError(offset, f"line {number}: data before the #fields header")
        values = line.split(self.separator)
        if len(values) != len(self.fields):
            raise FlowFormatError(
                offset, f"line {number}: {len(values)} values for {len(self.fields)} fields"
            )
        record: dict[str, Any] = {}
        for name, value in zip(self.fields, values, strict=True):
            if value == self.unset:
                record[name] = None
            elif value == self.empty:
                record[name] = ""
            else:
                record[name] = _unescape(value)
        return record

    def _header(self, line: str, offset: int) -> None:
        if line.startswith("#separator"):
            value = line[len("#separator") :].strip()
            sep = _unescape(value)
            if len(sep) != 1:
                raise FlowFormatError(offset, "#separator must be one character")
            self.separator = sep
            return
        key, _, value = line.partition(self.separator)
        if key == "#set_separator":
            self.set_separator = _unescape(value)
        elif key == "#empty_field":
            self.empty = _unescape(value)
        elif key == "#unset_field":
            self.unset = _unescape(value)
        elif key == "#path":
            log = _known(value.strip())
            if self.forced and log != self.forced:
                raise FlowFormatError(offset, "#path does not match the requested log type")
            self.log = log
        elif key == "#fields":
            self.fields = value.split(self.separator)
            if not self.log:
                raise FlowFormatError(offset, "#fields before #path")

    def _json(self, line: str, number: int, offset: int) -> dict[str, Any]:
        try:
            record = json.loads(line, parse_float=str)
        except ValueError as exc:
            raise FlowFormatError(offset, f"line {number} is not valid JSON") from exc
        if not isinstance(record, dict):
            raise FlowFormatError(offset, f"line {number} is not a JSON object")
        if not self.log:
            self.log = _guess_json_log(record)
        return record


def _unescape(value: str) -> str:
    if "\\" not in value:
        return value
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)) if m.group(1) else "\\", value)


def _add(rows: _Rows, record: dict[str, Any], number: int, offset: int) -> None:
    num = rows.num
    try:
        start = _time_ns(record.get("ts"))
        src = _address(record.get("id.orig_h"))
        dst = _address(record.get("id.resp_h"))
        sport = _int(record.get("id.orig_p"), 0xFFFF)
        dport = _int(record.get("id.resp_p"), 0xFFFF)
        proto_name = record.get("proto")
        if rows.log == "ssl":
            proto_name = proto_name or "tcp"
        proto = PROTOCOLS.get(str(proto_name), 0) if proto_name is not None else 0
        family = src[0] or dst[0]
        if proto == 1:
            if family == 6:
                proto = 58
            sport, dport = 0, (sport & 0xFF) * 256 + (dport & 0xFF)
        duration = record.get("rtt") if rows.log == "dns" else record.get("duration")
        end = start + _interval_ns(duration)
        packets = _int(record.get("orig_pkts"), 2**63) + _int(record.get("resp_pkts"), 2**63)
        octets = _int(record.get("orig_ip_bytes"), 2**63) + _int(record.get("resp_ip_bytes"), 2**63)
        if not (-_I64 <= start < _I64 and -_I64 <= end < _I64):
            raise _FieldError("timestamp")
        flags = 0
        history = record.get("history")
        if isinstance(history, str) and proto == 6:
            for letter in history.lower():
                flags |= _HISTORY_FLAGS.get(letter, 0)
    except (ValueError, TypeError, OverflowError) as exc:
        raise FlowFormatError(offset, f"line {number}: {_reason(exc)}") from None
    num["start_ns"].append(start)
    num["end_ns"].append(end)
    num["family"].append(family)
    num["src4"].append(src[1] if src[0] == 4 else 0)
    num["dst4"].append(dst[1] if dst[0] == 4 else 0)
    num["src6_hi"].append(src[1] >> 64 if src[0] == 6 else 0)
    num["src6_lo"].append(src[1] & 0xFFFFFFFFFFFFFFFF if src[0] == 6 else 0)
    num["dst6_hi"].append(dst[1] >> 64 if dst[0] == 6 else 0)
    num["dst6_lo"].append(dst[1] & 0xFFFFFFFFFFFFFFFF if dst[0] == 6 else 0)
    num["sport"].append(sport)
    num["dport"].append(dport)
    num["proto"].append(proto)
    num["packets"].append(packets)
    num["bytes"].append(octets)
    num["tcp_flags"].append(flags)
    text = rows.text
    if rows.log == "dns":
        text["qname"].append(_text(record.get("query")))
    elif rows.log == "ssl":
        text["sni"].append(_text(record.get("server_name")))
        text["ja3"].append(_text(record.get("ja3")))
        text["ja4"].append(_text(record.get("ja4")))


def _reason(exc: Exception) -> str:
    """A reason naming the problem, not the offending value."""
    kind = getattr(exc, "field", None)
    return f"invalid {kind}" if kind else "invalid field value"


class _FieldError(ValueError):
    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _int(value: Any, limit: int) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise _FieldError("counter")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _FieldError("counter or port") from None
    if not 0 <= number <= limit:
        raise _FieldError("counter or port")
    return number


def _address(value: Any) -> tuple[int, int]:
    if value is None or value == "":
        return 0, 0
    try:
        address = ipaddress.ip_address(str(value).split("%", 1)[0])
    except ValueError:
        raise _FieldError("address") from None
    return address.version, int(address)


def _decimal_ns(text: str, what: str) -> int:
    """Nanoseconds from a decimal number of seconds, without float rounding."""
    text = text.strip()
    negative = text.startswith("-")
    if negative:
        text = text[1:]
    whole, _, frac = text.partition(".")
    if not (whole.isdigit() or (whole == "" and frac)) or (frac and not frac.isdigit()):
        if "e" in text.lower():
            try:
                value = round(float(text) * 1e9)
            except ValueError:
                raise _FieldError(what) from None
            return -value if negative else value
        raise _FieldError(what)
    if len(whole) > 12:
        raise _FieldError(what)
    value = int(whole or "0") * 1_000_000_000 + int((frac + "000000000")[:9])
    return -value if negative else value


def _time_ns(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool):
        raise _FieldError("timestamp")
    if isinstance(value, int):
        return _decimal_ns(str(value), "timestamp")
    text = str(value)
    if "T" in text:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise _FieldError("timestamp") from None
        if moment.tzinfo is None:
            raise _FieldError("timestamp")
        delta = moment - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
    return _decimal_ns(text, "timestamp")


def _interval_ns(value: Any) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise _FieldError("interval")
    ns = _decimal_ns(str(value), "interval")
    if ns < 0:
        raise _FieldError("interval")
    return ns
