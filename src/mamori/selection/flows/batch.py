"""Columnar flow records: the common output of every flow reader.

Column names follow :class:`mamori.selection.readers.PacketBatch` so one matcher
serves packets and flows: IPv4 addresses are ``uint32`` (``src4``/``dst4``,
valid where ``family == 4``), IPv6 addresses two ``uint64`` halves (valid where
``family == 6``). Zeek logs add optional per-record text columns (DNS query
name, TLS SNI, JA3, JA4) as object arrays holding ``str`` or ``None``.
``repr`` shows counts only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields

import numpy as np

NUMERIC_COLUMNS: dict[str, np.dtype] = {
    "start_ns": np.dtype(np.int64),
    "end_ns": np.dtype(np.int64),
    "family": np.dtype(np.uint8),
    "src4": np.dtype(np.uint32),
    "dst4": np.dtype(np.uint32),
    "src6_hi": np.dtype(np.uint64),
    "src6_lo": np.dtype(np.uint64),
    "dst6_hi": np.dtype(np.uint64),
    "dst6_lo": np.dtype(np.uint64),
    "sport": np.dtype(np.uint16),
    "dport": np.dtype(np.uint16),
    "proto": np.dtype(np.uint8),
    "packets": np.dtype(np.uint64),
    "bytes": np.dtype(np.uint64),
    "tcp_flags": np.dtype(np.uint16),
}
"""Every batch has these columns, in this order, with these types."""

TEXT_COLUMNS: tuple[str, ...] = ("qname", "sni", "ja3", "ja4")
"""Optional object columns; ``None`` in a batch that has none of them."""


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class FlowBatch:
    """Up to ``batch_size`` flow records of one source, one NumPy column per field."""

    source: str
    """The format the records came from: ``ipfix``, ``netflow5``, ``netflow9``, ``zeek-conn`` ..."""
    count: int
    start_ns: np.ndarray
    """Flow start, nanoseconds since the Unix epoch (0 when the source gives none)."""
    end_ns: np.ndarray
    family: np.ndarray
    """0 (no address), 4 or 6: which address columns hold values."""
    src4: np.ndarray
    dst4: np.ndarray
    src6_hi: np.ndarray
    src6_lo: np.ndarray
    dst6_hi: np.ndarray
    dst6_lo: np.ndarray
    sport: np.ndarray
    dport: np.ndarray
    """Destination port; for ICMP records ``type * 256 + code`` as NetFlow exporters write it."""
    proto: np.ndarray
    packets: np.ndarray
    bytes: np.ndarray
    tcp_flags: np.ndarray
    qname: np.ndarray | None = None
    sni: np.ndarray | None = None
    ja3: np.ndarray | None = None
    ja4: np.ndarray | None = None

    def __len__(self) -> int:
        return self.count

    def __repr__(self) -> str:
        return f"FlowBatch(source={self.source!r}, count={self.count})"

    def columns(self) -> dict[str, np.ndarray]:
        """All present columns by name (numeric first, then text)."""
        out = {name: getattr(self, name) for name in NUMERIC_COLUMNS}
        for name in TEXT_COLUMNS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


def empty_columns(count: int) -> dict[str, np.ndarray]:
    """Zero-filled numeric columns for ``count`` records."""
    return {name: np.zeros(count, dtype=dtype) for name, dtype in NUMERIC_COLUMNS.items()}


class BatchAccumulator:
    """Collects column chunks and hands out batches of exactly ``batch_size`` records.

    Holds at most one batch worth of records plus the chunk being added, so memory
    stays bounded by the batch size and the reader's chunk size.
    """

    def __init__(self, source: str, batch_size: int) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.source = source
        self.batch_size = batch_size
        self._parts: list[dict[str, np.ndarray]] = []
        self._pending = 0

    @property
    def pending(self) -> int:
        return self._pending

    def add(self, chunk: Mapping[str, np.ndarray]) -> Iterator[FlowBatch]:
        """Add one chunk of columns (all the same length); yield every full batch."""
        n = len(chunk["start_ns"])
        if n == 0:
            return
        self._parts.append(dict(chunk))
        self._pending += n
        while self._pending >= self.batch_size:
            yield self._take(self.batch_size)

    def flush(self) -> Iterator[FlowBatch]:
        """Yield what is left as a final, shorter batch."""
        if self._pending:
            yield self._take(self._pending)

    def _take(self, n: int) -> FlowBatch:
        merged = _concat(self._parts)
        head = {name: col[:n] for name, col in merged.items()}
        rest = {name: col[n:] for name, col in merged.items()}
        self._pending -= n
        self._parts = [rest] if self._pending else []
        return make_batch(self.source, head)


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    if len(parts) == 1:
        return parts[0]
    names: list[str] = list(NUMERIC_COLUMNS)
    for name in TEXT_COLUMNS:
        if any(name in part for part in parts):
            names.append(name)
    out: dict[str, np.ndarray] = {}
    for name in names:
        pieces = []
        for part in parts:
            if name in part:
                pieces.append(part[name])
            else:
                pieces.append(np.full(len(part["start_ns"]), None, dtype=object))
        out[name] = np.concatenate(pieces)
    return out


def make_batch(source: str, columns: Mapping[str, np.ndarray]) -> FlowBatch:
    """A read-only batch from a mapping of columns of equal length."""
    count = len(columns["start_ns"])
    values: dict[str, object] = {}
    for name, dtype in NUMERIC_COLUMNS.items():
        col = np.ascontiguousarray(columns[name], dtype=dtype)
        col.flags.writeable = False
        values[name] = col
    for name in TEXT_COLUMNS:
        text = columns.get(name)
        if text is not None:
            text = np.asarray(text, dtype=object)
            text.flags.writeable = False
        values[name] = text
    return FlowBatch(source=source, count=count, **values)  # type: ignore[arg-type]


def concat_batches(batches: list[FlowBatch]) -> FlowBatch:
    """One batch from several of the same source (for tests and small files)."""
    if not batches:
        return make_batch("empty", empty_columns(0))
    parts = [b.columns() for b in batches]
    return make_batch(batches[0].source, _concat(parts))


FLOW_FIELDS = tuple(f.name for f in fields(FlowBatch))
