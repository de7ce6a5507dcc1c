"""Packet readers of the sealed selection zone: captures in, header columns out.

``iter_packet_batches(path)`` streams a classic pcap or pcapng file (optionally
gzip-compressed) as :class:`PacketBatch` objects whose NumPy columns hold the
mechanical fields of each packet; the payload stays in the batch's buffer and
is reachable only through offsets, for the application-layer parsers that run
on candidate packets.
"""

from __future__ import annotations

from .batch import PacketBatch
from .errors import CaptureError, CaptureFormatError, CaptureSourceError
from .layout import PacketFlag, PacketStatus
from .linktypes import SUPPORTED_LINKTYPES, linktype_name
from .reader import CaptureReader, ReadStats, iter_packet_batches

__all__ = [
    "SUPPORTED_LINKTYPES",
    "CaptureError",
    "CaptureFormatError",
    "CaptureReader",
    "CaptureSourceError",
    "PacketBatch",
    "PacketFlag",
    "PacketStatus",
    "ReadStats",
    "iter_packet_batches",
    "linktype_name",
]
