"""Information elements the flow readers use, and how they become flow columns.

NetFlow v9 field types and IPFIX information elements share numbers for the
fields used here (RFC 3954 section 8, IANA "IPFIX Information Elements").
Decoding works on *element columns*: one NumPy array per element id for the
records of one template, so the fixed-length path (a structured dtype over a
set's bytes) and the variable-length path (a per-record walk) share the
mapping to :data:`~.batch.NUMERIC_COLUMNS`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .batch import empty_columns

OCTET_DELTA = 1
PACKET_DELTA = 2
PROTOCOL = 4
TCP_FLAGS = 6
SRC_PORT = 7
SRC_IPV4 = 8
DST_PORT = 11
DST_IPV4 = 12
END_SYSUPTIME = 21
START_SYSUPTIME = 22
SRC_IPV6 = 27
DST_IPV6 = 28
ICMP_TYPE_CODE_V4 = 32
IP_VERSION = 60
OCTET_TOTAL = 85
PACKET_TOTAL = 86
ICMP_TYPE_CODE_V6 = 139
START_SECONDS = 150
END_SECONDS = 151
START_MILLISECONDS = 152
END_MILLISECONDS = 153
START_MICROSECONDS = 154
END_MICROSECONDS = 155
START_NANOSECONDS = 156
END_NANOSECONDS = 157
START_DELTA_MICROSECONDS = 158
END_DELTA_MICROSECONDS = 159
SYSTEM_INIT_MILLISECONDS = 160
ICMP_TYPE_V4 = 176
ICMP_CODE_V4 = 177
ICMP_TYPE_V6 = 178
ICMP_CODE_V6 = 179

ADDRESS_ELEMENTS: dict[int, int] = {SRC_IPV4: 4, DST_IPV4: 4, SRC_IPV6: 16, DST_IPV6: 16}
"""Address elements and the only length each may have."""

INTEGER_ELEMENTS = frozenset(
    {
        OCTET_DELTA,
        PACKET_DELTA,
        PROTOCOL,
        TCP_FLAGS,
        SRC_PORT,
        DST_PORT,
        END_SYSUPTIME,
        START_SYSUPTIME,
        ICMP_TYPE_CODE_V4,
        IP_VERSION,
        OCTET_TOTAL,
        PACKET_TOTAL,
        ICMP_TYPE_CODE_V6,
        START_SECONDS,
        END_SECONDS,
        START_MILLISECONDS,
        END_MILLISECONDS,
        START_DELTA_MICROSECONDS,
        END_DELTA_MICROSECONDS,
        SYSTEM_INIT_MILLISECONDS,
        ICMP_TYPE_V4,
        ICMP_CODE_V4,
        ICMP_TYPE_V6,
        ICMP_CODE_V6,
    }
)
"""Unsigned integers; reduced-size encoding (RFC 7011 section 6.2) allows 1 to 8 bytes."""

NTP_ELEMENTS = frozenset({START_MICROSECONDS, END_MICROSECONDS, START_NANOSECONDS, END_NANOSECONDS})
"""dateTimeMicroseconds / dateTimeNanoseconds: 8-byte NTP timestamps."""

WANTED = frozenset(ADDRESS_ELEMENTS) | INTEGER_ELEMENTS | NTP_ELEMENTS

NTP_UNIX_OFFSET = 2_208_988_800
MS = 1_000_000
SECOND = 1_000_000_000


def usable(element: int, length: int) -> bool:
    """Whether a field with this element id and length feeds a flow column."""
    if element in ADDRESS_ELEMENTS:
        return length == ADDRESS_ELEMENTS[element]
    if element in NTP_ELEMENTS:
        return length == 8
    if element in INTEGER_ELEMENTS:
        return 1 <= length <= 8
    return False


def to_columns(
    values: Mapping[int, np.ndarray],
    count: int,
    *,
    export_s: np.ndarray,
    uptime_base_ms: np.ndarray,
    uptime_now_ms: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Flow columns for ``count`` records from their element columns.

    ``values`` maps element id to a ``uint64`` array (IPv6 addresses: ``(count, 2)``).
    ``export_s`` is the message export time per record; ``uptime_base_ms`` the wall
    clock in milliseconds at exporter uptime zero per record, or -1 when unknown.
    With ``uptime_now_ms`` (the header's uptime, NetFlow v5) the 32-bit uptime
    wrap is undone the way Cisco IOS and nfdump do it.
    """
    out = empty_columns(count)
    get = values.get

    src4, dst4, src6, dst6 = get(SRC_IPV4), get(DST_IPV4), get(SRC_IPV6), get(DST_IPV6)
    if src4 is not None or dst4 is not None:
        out["family"][:] = 4
        if src4 is not None:
            out["src4"][:] = src4
        if dst4 is not None:
            out["dst4"][:] = dst4
    if src6 is not None or dst6 is not None:
        fam6 = np.ones(count, dtype=bool)
        version = get(IP_VERSION)
        if (src4 is not None or dst4 is not None) and version is not None:
            fam6 = version == 6
        out["family"][fam6] = 6
        if src6 is not None:
            out["src6_hi"][fam6] = src6[fam6, 0]
            out["src6_lo"][fam6] = src6[fam6, 1]
        if dst6 is not None:
            out["dst6_hi"][fam6] = dst6[fam6, 0]
            out["dst6_lo"][fam6] = dst6[fam6, 1]

    for column, element in (("sport", SRC_PORT), ("dport", DST_PORT), ("proto", PROTOCOL)):
        col = get(element)
        if col is not None:
            out[column][:] = col
    flags = get(TCP_FLAGS)
    if flags is not None:
        out["tcp_flags"][:] = flags
    _icmp_into_dport(values, out)

    for column, elements in (
        ("packets", (PACKET_DELTA, PACKET_TOTAL)),
        ("bytes", (OCTET_DELTA, OCTET_TOTAL)),
    ):
        for element in elements:
            col = get(element)
            if col is not None:
                out[column][:] = col
                break

    out["start_ns"][:] = _time_ns(values, True, export_s, uptime_base_ms, count)
    out["end_ns"][:] = _time_ns(values, False, export_s, uptime_base_ms, count)
    first, last = values.get(START_SYSUPTIME), values.get(END_SYSUPTIME)
    if uptime_now_ms is not None and first is not None and last is not None:
        _unwrap_uptime(out, first.astype(np.int64), last.astype(np.int64), uptime_now_ms)
    return out


_WRAP_MS = 1 << 32


def _unwrap_uptime(
    out: dict[str, np.ndarray], first: np.ndarray, last: np.ndarray, now: np.ndarray
) -> None:
    """Undo the 32-bit millisecond uptime wrap between start, end and export.

    A start above the end wrapped before the end; an end far above the header's
    uptime (more than 100 s, allowing for a known IOS clock bug) ended before the
    export counter wrapped.
    """
    out["start_ns"] -= np.where(first > last, _WRAP_MS * MS, 0)
    late = (last > now) & (last - now > 100_000)
    out["start_ns"] -= np.where(late, _WRAP_MS * MS, 0)
    out["end_ns"] -= np.where(late, _WRAP_MS * MS, 0)


def _icmp_into_dport(values: Mapping[int, np.ndarray], out: dict[str, np.ndarray]) -> None:
    """ICMP type and code go into ``dport`` (type * 256 + code), as NetFlow v5 does."""
    proto = out["proto"]
    icmp = (proto == 1) | (proto == 58)
    if not icmp.any():
        return
    code = values.get(ICMP_TYPE_CODE_V4)
    if code is None:
        code = values.get(ICMP_TYPE_CODE_V6)
    if code is None:
        for type_el, code_el in ((ICMP_TYPE_V4, ICMP_CODE_V4), (ICMP_TYPE_V6, ICMP_CODE_V6)):
            t, c = values.get(type_el), values.get(code_el)
            if t is not None:
                code = t * 256 + (c if c is not None else 0)
                break
    if code is not None:
        out["dport"][icmp] = code[icmp]


def _time_ns(
    values: Mapping[int, np.ndarray],
    start: bool,
    export_s: np.ndarray,
    uptime_base_ms: np.ndarray,
    count: int,
) -> np.ndarray:
    """The best timestamp the record carries, in ns since the epoch (0 if none)."""
    pick = 0 if start else 1
    get = values.get
    ntp = get((START_NANOSECONDS, END_NANOSECONDS)[pick])
    if ntp is None:
        ntp = get((START_MICROSECONDS, END_MICROSECONDS)[pick])
    if ntp is not None:
        secs = (ntp >> np.uint64(32)).astype(np.int64) - NTP_UNIX_OFFSET
        frac = ntp & np.uint64(0xFFFFFFFF)
        return secs * SECOND + ((frac * np.uint64(SECOND)) >> np.uint64(32)).astype(np.int64)
    ms = get((START_MILLISECONDS, END_MILLISECONDS)[pick])
    if ms is not None:
        return ms.astype(np.int64) * MS
    seconds = get((START_SECONDS, END_SECONDS)[pick])
    if seconds is not None:
        return seconds.astype(np.int64) * SECOND
    uptime = get((START_SYSUPTIME, END_SYSUPTIME)[pick])
    if uptime is not None:
        known = uptime_base_ms >= 0
        return np.where(known, (uptime_base_ms + uptime.astype(np.int64)) * MS, 0)
    delta = get((START_DELTA_MICROSECONDS, END_DELTA_MICROSECONDS)[pick])
    if delta is not None:
        return export_s.astype(np.int64) * SECOND - delta.astype(np.int64) * 1000
    return np.zeros(count, dtype=np.int64)
