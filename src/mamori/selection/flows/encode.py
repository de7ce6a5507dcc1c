"""Writers of NetFlow v5, NetFlow v9 and IPFIX messages from flow columns.

They exist to make synthetic exports for round-trip tests, benchmarks and the
demo, exercising the same layouts real exporters use (sysUpTime-relative
times in v5/v9, absolute milliseconds in IPFIX, an optional variable-length
and an enterprise-specific field). They never see captured traffic.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping

import numpy as np

from . import elements as el

MS = 1_000_000

# (element, length) of the data templates; enterprise fields are added separately.
V9_FIELDS_V4 = (
    (el.SRC_IPV4, 4), (el.DST_IPV4, 4), (el.START_SYSUPTIME, 4), (el.END_SYSUPTIME, 4),
    (el.OCTET_DELTA, 8), (el.PACKET_DELTA, 8), (el.SRC_PORT, 2), (el.DST_PORT, 2),
    (el.PROTOCOL, 1), (el.TCP_FLAGS, 1), (el.IP_VERSION, 1),
)  # fmt: skip
V9_FIELDS_V6 = (
    (el.SRC_IPV6, 16), (el.DST_IPV6, 16), (el.START_SYSUPTIME, 4), (el.END_SYSUPTIME, 4),
    (el.OCTET_DELTA, 8), (el.PACKET_DELTA, 8), (el.SRC_PORT, 2), (el.DST_PORT, 2),
    (el.PROTOCOL, 1), (el.TCP_FLAGS, 1), (el.IP_VERSION, 1),
)  # fmt: skip
IPFIX_FIELDS_V4 = (
    (el.SRC_IPV4, 4), (el.DST_IPV4, 4), (el.START_MILLISECONDS, 8), (el.END_MILLISECONDS, 8),
    (el.OCTET_DELTA, 8), (el.PACKET_DELTA, 8), (el.SRC_PORT, 2), (el.DST_PORT, 2),
    (el.PROTOCOL, 1), (el.TCP_FLAGS, 2),
)  # fmt: skip
IPFIX_FIELDS_V6 = (
    (el.SRC_IPV6, 16), (el.DST_IPV6, 16), (el.START_MILLISECONDS, 8), (el.END_MILLISECONDS, 8),
    (el.OCTET_DELTA, 8), (el.PACKET_DELTA, 8), (el.SRC_PORT, 2), (el.DST_PORT, 2),
    (el.PROTOCOL, 1), (el.TCP_FLAGS, 2),
)  # fmt: skip
PEN = 32473  # the documentation enterprise number (RFC 5612)


def _values(
    columns: Mapping[str, np.ndarray], fields: tuple[tuple[int, int], ...], base_ms: int
) -> list[np.ndarray]:
    start_ms = columns["start_ns"].astype(np.int64) // MS
    end_ms = columns["end_ns"].astype(np.int64) // MS
    src6 = np.stack([columns["src6_hi"], columns["src6_lo"]], axis=1).astype(np.uint64)
    dst6 = np.stack([columns["dst6_hi"], columns["dst6_lo"]], axis=1).astype(np.uint64)
    by_element = {
        el.SRC_IPV4: columns["src4"], el.DST_IPV4: columns["dst4"],
        el.SRC_IPV6: src6, el.DST_IPV6: dst6,
        el.START_SYSUPTIME: start_ms - base_ms, el.END_SYSUPTIME: end_ms - base_ms,
        el.START_MILLISECONDS: start_ms, el.END_MILLISECONDS: end_ms,
        el.OCTET_DELTA: columns["bytes"], el.PACKET_DELTA: columns["packets"],
        el.SRC_PORT: columns["sport"], el.DST_PORT: columns["dport"],
        el.PROTOCOL: columns["proto"], el.TCP_FLAGS: columns["tcp_flags"],
        el.IP_VERSION: columns["family"],
    }  # fmt: skip
    return [by_element[element] for element, _ in fields]


def _records(
    columns: Mapping[str, np.ndarray],
    fields: tuple[tuple[int, int], ...],
    base_ms: int,
    extra: int = 0,
) -> np.ndarray:
    """Fixed-length record bytes, one row per record (``extra`` zero bytes appended)."""
    formats = [(">u8", (2,)) if length == 16 else f">u{length}" for _, length in fields]
    names = [f"f{i}" for i in range(len(fields))]
    if extra:
        names.append("pad")
        formats.append(f"V{extra}")
    dtype = np.dtype({"names": names, "formats": formats})
    out = np.zeros(len(columns["start_ns"]), dtype=dtype)
    for name, value in zip(names, _values(columns, fields, base_ms), strict=False):
        out[name] = value
    return out.view(np.uint8).reshape(len(out), dtype.itemsize)


def _clock(columns: Mapping[str, np.ndarray]) -> tuple[int, int, int]:
    """(export seconds, base ms at uptime zero, uptime ms) covering every record."""
    end = int(columns["end_ns"].max()) if len(columns["end_ns"]) else 0
    start = int(columns["start_ns"].min()) if len(columns["start_ns"]) else 0
    export_s = -(-end // 1_000_000_000)
    uptime = export_s * 1000 - start // MS
    if not 0 <= uptime < 1 << 32:
        raise ValueError("records span more than the 32-bit uptime range")
    return export_s, export_s * 1000 - uptime, uptime


def _split(n: int, per_message: int) -> Iterator[slice]:
    for start in range(0, n, per_message):
        yield slice(start, min(n, start + per_message))


def _subset(columns: Mapping[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
    return {name: np.asarray(col)[mask] for name, col in columns.items()}


def encode_v5(columns: Mapping[str, np.ndarray], *, per_message: int = 30) -> list[bytes]:
    """NetFlow v5 messages (IPv4 only; counters truncated to 32 bits)."""
    export_s, base, uptime = _clock(columns)
    n = len(columns["start_ns"])
    start_ms = columns["start_ns"].astype(np.int64) // MS - base
    end_ms = columns["end_ns"].astype(np.int64) // MS - base
    rec = np.zeros(n, dtype=np.dtype([
        ("src", ">u4"), ("dst", ">u4"), ("nexthop", ">u4"), ("input", ">u2"), ("output", ">u2"),
        ("packets", ">u4"), ("bytes", ">u4"), ("first", ">u4"), ("last", ">u4"),
        ("sport", ">u2"), ("dport", ">u2"), ("pad1", "u1"), ("flags", "u1"), ("proto", "u1"),
        ("tos", "u1"), ("src_as", ">u2"), ("dst_as", ">u2"), ("src_mask", "u1"),
        ("dst_mask", "u1"), ("pad2", ">u2"),
    ]))  # fmt: skip
    rec["src"], rec["dst"] = columns["src4"], columns["dst4"]
    rec["packets"] = columns["packets"].astype(np.uint64) & 0xFFFFFFFF
    rec["bytes"] = columns["bytes"].astype(np.uint64) & 0xFFFFFFFF
    rec["first"], rec["last"] = start_ms, end_ms
    rec["sport"], rec["dport"] = columns["sport"], columns["dport"]
    rec["flags"] = columns["tcp_flags"].astype(np.uint16) & 0xFF
    rec["proto"] = columns["proto"]
    raw = rec.view(np.uint8).reshape(n, 48)
    out = []
    for seq, part in enumerate(_split(n, per_message)):
        count = part.stop - part.start
        header = struct.pack(
            "!HHIIIIBBH", 5, count, uptime, export_s, 0, seq * per_message, 0, 0, 0
        )
        out.append(header + raw[part].tobytes())
    return out


def encode_v9(
    columns: Mapping[str, np.ndarray],
    *,
    per_message: int = 30,
    source_id: int = 0,
    template_every: int = 20,
) -> list[bytes]:
    """NetFlow v9 messages: templates 256 (IPv4) and 257 (IPv6), sysUpTime times."""
    export_s, base, uptime = _clock(columns)
    templates = b"".join(
        struct.pack("!HH", tid, len(fields)) + b"".join(struct.pack("!HH", *f) for f in fields)
        for tid, fields in ((256, V9_FIELDS_V4), (257, V9_FIELDS_V6))
    )
    template_set = struct.pack("!HH", 0, 4 + len(templates)) + templates
    sets = _data_sets(columns, ((256, V9_FIELDS_V4, 4), (257, V9_FIELDS_V6, 6)), base, per_message)
    out = []
    for seq, data in enumerate(sets):
        body = (template_set if seq % template_every == 0 else b"") + data
        header = struct.pack("!HHIIII", 9, 0, uptime, export_s, seq, source_id)
        out.append(header + body)
    return out


def encode_ipfix(
    columns: Mapping[str, np.ndarray],
    *,
    per_message: int = 30,
    domain: int = 0,
    template_every: int = 20,
    enterprise_field: bool = False,
    variable_field: bool = False,
) -> list[bytes]:
    """IPFIX messages: templates 256/257, absolute millisecond times.

    ``enterprise_field`` adds a 4-byte enterprise-specific field and
    ``variable_field`` a variable-length one (zero-filled, lengths 0 to 300),
    which the reader must skip.
    """
    export_s, _, _ = _clock(columns)
    extra_specs = b""
    if enterprise_field:
        extra_specs += struct.pack("!HHI", 0x8000 | 1, 4, PEN)
    if variable_field:
        extra_specs += struct.pack("!HH", 82, 0xFFFF)  # interfaceName
    extra_count = int(enterprise_field) + int(variable_field)
    templates = b"".join(
        struct.pack("!HH", tid, len(fields) + extra_count)
        + b"".join(struct.pack("!HH", *f) for f in fields)
        + extra_specs
        for tid, fields in ((256, IPFIX_FIELDS_V4), (257, IPFIX_FIELDS_V6))
    )
    template_set = struct.pack("!HH", 2, 4 + len(templates)) + templates
    sets = _data_sets(
        columns,
        ((256, IPFIX_FIELDS_V4, 4), (257, IPFIX_FIELDS_V6, 6)),
        0,
        per_message,
        enterprise=4 if enterprise_field else 0,
        variable=variable_field,
    )
    out = []
    for seq, data in enumerate(sets):
        body = (template_set if seq % template_every == 0 else b"") + data
        header = struct.pack("!HHIII", 10, 16 + len(body), export_s, seq, domain)
        out.append(header + body)
    return out


def _data_sets(
    columns: Mapping[str, np.ndarray],
    layouts: tuple[tuple[int, tuple[tuple[int, int], ...], int], ...],
    base_ms: int,
    per_message: int,
    *,
    enterprise: int = 0,
    variable: bool = False,
) -> list[bytes]:
    """One data set per template per message, as exporters write them.

    Within a message the records of the first layout come first; see
    :func:`record_order` for the resulting order.
    """
    family = np.asarray(columns["family"])
    n = len(family)
    rows = {
        fam: _records(_subset(columns, family == fam), fields, base_ms, enterprise)
        for _, fields, fam in layouts
    }
    # Position of each record among the records of its family.
    rank = {fam: np.cumsum(family == fam) for _, _, fam in layouts}
    out = []
    for part in _split(n, per_message):
        sets = []
        for tid, _, fam in layouts:
            lo = int(rank[fam][part.start - 1]) if part.start else 0
            hi = int(rank[fam][part.stop - 1])
            if hi == lo:
                continue
            chunk = rows[fam][lo:hi]
            if variable:
                body = b"".join(
                    r.tobytes() + _varfield((k * 37) % 301) for k, r in enumerate(chunk, lo)
                )
            else:
                body = chunk.tobytes()
            pad = -len(body) % 4
            sets.append(struct.pack("!HH", tid, 4 + len(body) + pad) + body + b"\0" * pad)
        out.append(b"".join(sets))
    return out


def record_order(family: np.ndarray, per_message: int = 30) -> np.ndarray:
    """The order in which a reader sees the records written by the v9/IPFIX writers."""
    family = np.asarray(family)
    order = []
    for part in _split(len(family), per_message):
        idx = np.arange(part.start, part.stop)
        order.append(np.concatenate([idx[family[part] == 4], idx[family[part] == 6]]))
    return np.concatenate(order) if order else np.zeros(0, dtype=np.int64)


def _varfield(length: int) -> bytes:
    if length < 255:
        return bytes([length]) + b"\0" * length
    return b"\xff" + struct.pack("!H", length) + b"\0" * length
