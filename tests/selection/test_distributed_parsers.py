"""Property tests of the queue's two parsers: the capture splitter and the batch envelope.

The splitter is checked against the capture reader: the pieces, each read on its
own, hold every packet of the capture in order, within the limits; a truncated
capture is refused by the splitter exactly when the reader refuses it; arbitrary
bytes raise only capture errors. The envelope round-trips, and any change to a
sealed body — one byte anywhere — is refused; arbitrary bodies raise only
envelope errors.
"""

from __future__ import annotations

import contextlib
import io
import json
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.errors import InvalidInput
from mamori.selection.distributed.keys import TransportKey
from mamori.selection.distributed.messages import (
    MAGIC,
    BatchHeader,
    BatchMessageError,
    open_sealed,
    read_header,
    seal,
)
from mamori.selection.distributed.split import MIN_BYTES, split_capture
from mamori.selection.readers import CaptureReader
from mamori.selection.readers.errors import CaptureError
from mamori.selection.readers.synthetic import (
    Interface,
    Record,
    SyntheticPacket,
    build_frame,
    write_pcap,
    write_pcapng,
)

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _packets(draw: st.DrawFn, interfaces: int) -> list[Record]:
    count = draw(st.integers(0, 60))
    sizes = draw(st.lists(st.integers(0, 1400), min_size=count, max_size=count))
    records = []
    ts = 1_700_000_000_000_000_000
    for i, size in enumerate(sizes):
        ts += draw(st.integers(1_000, 10_000_000)) // 1000 * 1000
        packet = SyntheticPacket(src=0x08080000 + i, dst=0xC6336407, sport=1024 + i,
                                 payload=bytes([i % 251]) * size)  # fmt: skip
        iface = draw(st.integers(0, interfaces - 1))
        records.append(Record(build_frame(packet), ts, interface=iface))
    return records


def _extra_block(big: bool, kind: int) -> bytes:
    """A block selection never reads (name resolution 4, statistics 5, custom 0xBAD)."""
    order = ">" if big else "<"
    body = b"\0" * 8
    return struct.pack(order + "II", kind, 12 + len(body)) + body + struct.pack(
        order + "I", 12 + len(body)
    )


@st.composite
def captures(draw: st.DrawFn) -> bytes:
    """A classic pcap, or a pcapng of one to three sections with extra blocks."""
    big = draw(st.booleans())
    if draw(st.booleans()):
        out = io.BytesIO()
        write_pcap(out, _packets(draw, 1), big_endian=big, nanosecond=draw(st.booleans()))
        return out.getvalue()
    data = b""
    for _ in range(draw(st.integers(1, 3))):
        interfaces = [Interface(tsresol=draw(st.sampled_from([6, 9])))
                      for _ in range(draw(st.integers(1, 3)))]  # fmt: skip
        out = io.BytesIO()
        write_pcapng(out, _packets(draw, len(interfaces)), interfaces=interfaces,
                     big_endian=big)  # fmt: skip
        section = out.getvalue()
        if draw(st.booleans()):  # one more interface described after some packets
            late = io.BytesIO()
            write_pcapng(late, _packets(draw, len(interfaces) + 1),
                         interfaces=[*interfaces, Interface(linktype=101)], big_endian=big)
            section += late.getvalue()[28 + 32 * len(interfaces):]
        if draw(st.booleans()):  # an extra block after the interface descriptions
            cut = 28 + 32 * len(interfaces)  # the writer's header and description sizes
            kind = draw(st.sampled_from([4, 5, 0xBAD]))
            section = section[:cut] + _extra_block(big, kind) + section[cut:]
        data += section
    return data


def _packets_of(data: bytes) -> list[tuple[int, int, int, int, int]]:
    rows = []
    for batch in CaptureReader(io.BytesIO(data)):
        rows += list(zip(batch.ts_ns.tolist(), batch.wire_len.tolist(), batch.cap_len.tolist(),
                         batch.linktype.tolist(), batch.interface.tolist(), strict=True))
    return rows


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "capture"
    path.write_bytes(data)
    return path


@SETTINGS
@given(data=captures(), max_packets=st.integers(1, 25),
       max_bytes=st.integers(MIN_BYTES, 40_000))
def test_pieces_hold_every_packet_in_order_within_the_limits(
    tmp_path: Path, data: bytes, max_packets: int, max_bytes: int
) -> None:
    pieces = list(split_capture(_write(tmp_path, data), max_packets=max_packets,
                                max_bytes=max_bytes))  # fmt: skip
    assert pieces
    joined = []
    for piece in pieces:
        assert len(piece.data) <= max_bytes and piece.packets <= max_packets
        rows = _packets_of(piece.data)  # each piece is a capture on its own
        assert len(rows) == piece.packets
        joined += rows
    assert joined == _packets_of(data)
    assert all(piece.packets for piece in pieces) or len(pieces) == 1


@SETTINGS
@given(data=captures(), cut=st.floats(0, 1))
def test_a_truncated_capture_is_refused_exactly_when_the_reader_refuses_it(
    tmp_path: Path, data: bytes, cut: float
) -> None:
    truncated = data[: int(len(data) * cut)]
    try:
        expected = len(_packets_of(truncated))
    except CaptureError:
        expected = None
    path = _write(tmp_path, truncated)
    if expected is None:
        with pytest.raises(CaptureError):
            list(split_capture(path, max_packets=7, max_bytes=MIN_BYTES))
    else:
        pieces = list(split_capture(path, max_packets=7, max_bytes=MIN_BYTES))
        assert sum(p.packets for p in pieces) == expected


@SETTINGS
@given(head=st.sampled_from([b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x0a\x0d\x0d\x0a",
                             b""]), tail=st.binary(max_size=400))  # fmt: skip
def test_arbitrary_bytes_raise_only_capture_errors(tmp_path: Path, head: bytes,
                                                   tail: bytes) -> None:  # fmt: skip
    with contextlib.suppress(InvalidInput):  # capture errors and the batch size limit
        list(split_capture(_write(tmp_path, head + tail), max_packets=3, max_bytes=MIN_BYTES))


def test_a_record_larger_than_a_batch_is_refused_with_its_offset(tmp_path: Path) -> None:
    out = io.BytesIO()
    write_pcap(out, [Record(build_frame(SyntheticPacket(payload=b"x" * 6000)), 10**18)])
    with pytest.raises(InvalidInput, match="byte offset 24 does not fit"):
        list(split_capture(_write(tmp_path, out.getvalue()), max_packets=5, max_bytes=MIN_BYTES))


# --- the envelope ----------------------------------------------------------------------------

IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,40}", fullmatch=True)


@st.composite
def headers(draw: st.DrawFn) -> BatchHeader:
    parts = draw(st.integers(1, 50))
    return BatchHeader(
        batch_id=draw(IDS), measure_id=draw(IDS), selectors=draw(IDS) + "@1",
        input_format=draw(st.sampled_from(["pcap", "pcapng"])),
        source=draw(st.text(min_size=1, max_size=40)), part=draw(st.integers(0, parts - 1)),
        parts=parts, packets=draw(st.integers(0, 10**6)), size=0, submitted_by=draw(IDS),
        submitted_at="2026-11-26T00:00:00+00:00", key_id="", wrapped_key=b"", nonce=b"",
    )  # fmt: skip


KEY = TransportKey.from_bytes(bytes(range(32)))


@SETTINGS
@given(header=headers(), plaintext=st.binary(max_size=2000), index=st.integers(0),
       flip=st.integers(1, 255))
def test_sealed_batches_round_trip_and_any_changed_byte_is_refused(
    header: BatchHeader, plaintext: bytes, index: int, flip: int
) -> None:
    body = seal(header, plaintext, KEY)
    opened, data = open_sealed(body, KEY)
    assert data == plaintext and opened.batch_id == header.batch_id
    assert read_header(body) == opened and opened.size == len(plaintext)
    changed = bytearray(body)
    changed[index % len(body)] ^= flip
    with pytest.raises(BatchMessageError):
        open_sealed(bytes(changed), KEY)
    with pytest.raises(BatchMessageError, match="transport key"):
        open_sealed(body, TransportKey.from_bytes(b"\x01" * 32))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                               max_size=3),
    max_leaves=8,
)


@SETTINGS
@given(fields=st.dictionaries(st.sampled_from(sorted(BatchHeader.__dataclass_fields__)),
                              JSON_VALUES), raw=st.binary(max_size=200))  # fmt: skip
def test_arbitrary_bodies_raise_only_envelope_errors(fields: dict[str, object],
                                                     raw: bytes) -> None:  # fmt: skip
    text = json.dumps(fields).encode()
    for body in (raw, MAGIC + raw, MAGIC + struct.pack(">I", len(text)) + text + raw):
        with contextlib.suppress(BatchMessageError):
            read_header(body)
        with contextlib.suppress(BatchMessageError):
            open_sealed(body, KEY)
