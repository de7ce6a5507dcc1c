"""Export messages carried in a packet capture: the UDP payloads of a pcap or pcapng.

The capture is read with the zone's packet readers (:mod:`mamori.selection.readers`);
each unfragmented, fully captured UDP payload that begins with a supported
export version is one message. The exporter is identified by its source
address and port, so templates of different exporters never mix.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterator
from pathlib import Path

import numpy as np

from mamori.selection.readers import PacketFlag, PacketStatus, iter_packet_batches

UDP = 17
UDP_HEADER = 8
EXPORT_VERSIONS = frozenset({5, 9, 10})


def iter_export_payloads(
    path: str | Path,
    *,
    ports: Collection[int] | None = None,
    batch_size: int = 65_536,
    skipped: list[int] | None = None,
) -> Iterator[list[tuple[Hashable, memoryview, int]]]:
    """Per packet batch, ``(exporter, payload, file_offset)`` of each export message.

    ``ports`` limits the UDP destination ports considered (default: any).
    Truncated or fragmented datagrams are skipped and, when ``skipped`` is given,
    counted in ``skipped[0]``. Payloads are views into the packet batch and are
    valid only until the next list is taken.
    """
    wanted = None if ports is None else np.array(sorted(set(ports)), dtype=np.uint16)
    for batch in iter_packet_batches(path, batch_size=batch_size):
        udp = (
            (batch.proto == UDP) & (batch.status == PacketStatus.OK) & batch.has(PacketFlag.PAYLOAD)
        )
        if wanted is not None:
            udp &= np.isin(batch.dport, wanted)
        fragment = batch.has(PacketFlag.FRAGMENT)
        expected = (
            batch.ip_len.astype(np.int64)
            - (batch.l4_offset.astype(np.int64) - batch.l3_offset.astype(np.int64))
            - UDP_HEADER
        )
        short = batch.payload_length.astype(np.int64) < expected
        bad = udp & (fragment | short | (batch.status != PacketStatus.OK))
        if skipped is not None and bad.any():
            skipped[0] += int(bad.sum())
        messages: list[tuple[Hashable, memoryview, int]] = []
        for i in np.flatnonzero(udp & ~bad):
            payload = batch.payload(int(i))
            if len(payload) < 2 or ((payload[0] << 8) | payload[1]) not in EXPORT_VERSIONS:
                continue
            exporter: Hashable
            if batch.family[i] == 6:
                exporter = (6, int(batch.src6_hi[i]), int(batch.src6_lo[i]), int(batch.sport[i]))
            else:
                exporter = (4, int(batch.src4[i]), int(batch.sport[i]))
            messages.append((exporter, payload, int(batch.record_offset[i])))
        if messages:
            yield messages
