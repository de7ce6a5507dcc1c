"""Flow-record readers: IPFIX, NetFlow v5/v9 and Zeek logs as NumPy-columnar batches.

``iter_flow_batches(path)`` detects the format (a file of concatenated export
messages, a pcap/pcapng of UDP export packets, or a Zeek ``conn``/``dns``/``ssl``
log in TSV or JSON lines) and streams :class:`FlowBatch` objects whose columns
match the packet readers' names, so one selector matches both.
"""

from __future__ import annotations

from .batch import NUMERIC_COLUMNS, TEXT_COLUMNS, FlowBatch, concat_batches
from .errors import FlowFormatError, FlowSourceError
from .export import ExportDecoder, ExportStats
from .reader import (
    FlowReader,
    FlowReadStats,
    detect_format,
    iter_flow_batches,
    read_flows,
)

__all__ = [
    "NUMERIC_COLUMNS",
    "TEXT_COLUMNS",
    "ExportDecoder",
    "ExportStats",
    "FlowBatch",
    "FlowFormatError",
    "FlowReadStats",
    "FlowReader",
    "FlowSourceError",
    "concat_batches",
    "detect_format",
    "iter_flow_batches",
    "read_flows",
]
