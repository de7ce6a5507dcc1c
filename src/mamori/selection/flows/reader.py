"""One entry point for flow records: detect the format, stream :class:`FlowBatch` objects.

Formats: a file of concatenated NetFlow v5/v9 or IPFIX messages (as written by a
collector that saves datagrams), a pcap or pcapng capture of UDP export
packets, and Zeek ``conn``/``dns``/``ssl`` logs in TSV or JSON lines; any of
them optionally gzip-compressed. Memory stays bounded by ``chunk_size`` plus
one batch per source.

A broken structure in a file of messages or a Zeek log raises
:class:`FlowFormatError`; in a capture, a datagram that does not decode is
counted in ``stats.malformed_datagrams`` and skipped, because a capture may
carry other UDP traffic.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

from .batch import BatchAccumulator, FlowBatch, concat_batches
from .errors import FlowFormatError, FlowSourceError
from .export import DEFAULT_MAX_TEMPLATES, ExportDecoder, ExportStats, split_messages

FlowFormat = Literal["export", "capture", "zeek"]
DEFAULT_BATCH_SIZE = 65_536
DEFAULT_CHUNK_SIZE = 4 << 20
_PCAP_MAGICS = (
    b"\xa1\xb2\xc3\xd4",
    b"\xd4\xc3\xb2\xa1",
    b"\xa1\xb2\x3c\x4d",
    b"\x4d\x3c\xb2\xa1",
    b"\x0a\x0d\x0d\x0a",
)
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class FlowReadStats:
    """What a read saw: structure counters only, never record content."""

    format: str = ""
    export: ExportStats = field(default_factory=ExportStats)
    records: int = 0
    skipped_datagrams: int = 0
    """Truncated or fragmented export datagrams in a capture."""
    malformed_datagrams: int = 0
    """Export datagrams in a capture whose structure is broken."""


class FlowReader:
    """Iterable over the flow batches of one file; ``stats`` fills as it is read."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        format: FlowFormat | None = None,
        log: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        ports: Collection[int] | None = None,
        max_templates: int = DEFAULT_MAX_TEMPLATES,
    ) -> None:
        if batch_size < 1 or chunk_size < 1:
            raise ValueError("batch_size and chunk_size must be positive")
        self.path = Path(path)
        self.format = format
        self.log = log
        self.batch_size = batch_size
        self.chunk_size = chunk_size
        self.ports = ports
        self.max_templates = max_templates
        self.stats = FlowReadStats()

    def __iter__(self) -> Iterator[FlowBatch]:
        fmt = self.format or detect_format(self.path)
        self.stats.format = fmt
        if fmt == "export":
            batches = self._export()
        elif fmt == "capture":
            batches = self._capture()
        elif fmt == "zeek":
            batches = self._zeek()
        else:
            raise ValueError(f"unknown flow format {fmt!r}")
        for batch in batches:
            self.stats.records += batch.count
            yield batch

    def _export(self) -> Iterator[FlowBatch]:
        decoder = ExportDecoder(max_templates=self.max_templates)
        self.stats.export = decoder.stats
        accumulators: dict[str, BatchAccumulator] = {}
        with _open(self.path) as stream:
            pending = b""
            position = 0  # file offset of pending[0]
            while True:
                data = _read(stream, self.chunk_size)
                final = not data
                buf = pending + data if pending else data
                view = memoryview(buf)
                spans, consumed = split_messages(view, 0, final=final, base_offset=position)
                for start, end in spans:
                    decoder.feed(view[start:end], offset=position + start)
                yield from _emit(decoder, accumulators, self.batch_size)
                view.release()
                pending = buf[consumed:]
                position += consumed
                if final:
                    break
        for accumulator in accumulators.values():
            yield from accumulator.flush()

    def _capture(self) -> Iterator[FlowBatch]:
        from .capture import iter_export_payloads

        decoder = ExportDecoder(max_templates=self.max_templates)
        self.stats.export = decoder.stats
        accumulators: dict[str, BatchAccumulator] = {}
        skipped = [0]
        for messages in iter_export_payloads(self.path, ports=self.ports, skipped=skipped):
            for exporter, payload, offset in messages:
                try:
                    decoder.feed(payload, exporter=exporter, offset=offset)
                except FlowFormatError:
                    self.stats.malformed_datagrams += 1
            yield from _emit(decoder, accumulators, self.batch_size)
            self.stats.skipped_datagrams = skipped[0]
        self.stats.skipped_datagrams = skipped[0]
        for accumulator in accumulators.values():
            yield from accumulator.flush()

    def _zeek(self) -> Iterator[FlowBatch]:
        from .zeek import MAX_LINE, iter_zeek

        def lines(stream: BinaryIO) -> Iterator[bytes]:
            # A bounded readline: a line beyond MAX_LINE is cut and rejected, never buffered.
            while line := stream.readline(MAX_LINE + 1):
                yield line

        accumulators: dict[str, BatchAccumulator] = {}
        with _open(self.path) as stream:
            records = iter_zeek(lines(stream), log=self.log, batch_size=self.batch_size)
            for source, columns in records:
                accumulator = accumulators.get(source)
                if accumulator is None:
                    accumulator = accumulators[source] = BatchAccumulator(source, self.batch_size)
                yield from accumulator.add(columns)
        for accumulator in accumulators.values():
            yield from accumulator.flush()


def _emit(
    decoder: ExportDecoder, accumulators: dict[str, BatchAccumulator], batch_size: int
) -> Iterator[FlowBatch]:
    for source, columns in decoder.drain():
        accumulator = accumulators.get(source)
        if accumulator is None:
            accumulator = accumulators[source] = BatchAccumulator(source, batch_size)
        yield from accumulator.add(columns)


def iter_flow_batches(
    path: str | os.PathLike[str],
    *,
    format: FlowFormat | None = None,
    log: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    ports: Collection[int] | None = None,
) -> Iterator[FlowBatch]:
    """Stream the flow records of one file as batches of at most ``batch_size``."""
    return iter(FlowReader(path, format=format, log=log, batch_size=batch_size, ports=ports))


def read_flows(path: str | os.PathLike[str], **options: object) -> FlowBatch:
    """All records of a (small) file as one batch; for tests and tools."""
    return concat_batches(list(iter_flow_batches(path, **options)))  # type: ignore[arg-type]


def detect_format(path: str | os.PathLike[str]) -> FlowFormat:
    """``export``, ``capture`` or ``zeek`` from the first bytes of the file."""
    with _open(Path(path)) as stream:
        head = _read(stream, 4)
    if len(head) < 2:
        raise FlowFormatError(0, "file too short to be a flow source")
    if head in _PCAP_MAGICS:
        return "capture"
    if head[:1] in (b"#", b"{"):
        return "zeek"
    if (head[0] << 8 | head[1]) in (5, 9, 10):
        return "export"
    raise FlowFormatError(0, "not a flow export, capture or Zeek log")


def _open(path: Path) -> BinaryIO:
    try:
        stream: BinaryIO = open(path, "rb")  # noqa: SIM115
        magic = stream.read(2)
        stream.seek(0)
    except OSError as exc:
        raise FlowSourceError(exc.strerror or type(exc).__name__) from None
    if magic == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]
    return stream


def _read(stream: BinaryIO, size: int) -> bytes:
    try:
        return stream.read(size)
    except (OSError, EOFError, zlib.error) as exc:
        raise FlowSourceError(f"read failed: {type(exc).__name__}") from None
