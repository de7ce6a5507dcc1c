"""Packets per second of the capture readers, with peers for scale.

Generates a 200,000-packet classic pcap (mixed IPv4/IPv6, TCP/UDP/ICMP, some
802.1Q and QinQ tags, payload sizes from a small/medium/full-size mix), then
times, after a warm-up run that also compiles the walker:

* the reader alone (header walk and decode into NumPy columns);
* the reader followed by a ``searchsorted`` of source and destination IPv4
  addresses against 100,000 sorted selector addresses (the matcher's core step);
* a pure-Python ``struct`` loop extracting the same 5-tuple and looking the
  addresses up in a set of the same 100,000 addresses;
* dpkt's full decode, when dpkt is importable.

CPU seconds of this process are reported beside wall-clock time: on a shared
machine they are the better measure of what one core does.

Run: ``.venv/bin/python benchmarks/readers.py [--packets N]``.
"""

from __future__ import annotations

import argparse
import random
import struct
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from mamori.selection.readers import CaptureReader
from mamori.selection.readers.synthetic import (
    ICMP,
    ICMPV6,
    TCP,
    UDP,
    Record,
    SyntheticPacket,
    build_frame,
    write_pcap,
)


def _packets(count: int, rng: random.Random) -> Iterator[Record]:
    filler = bytes(1500)
    ts = 1_700_000_000_000_000_000
    for _ in range(count):
        family = 6 if rng.random() < 0.3 else 4
        roll = rng.random()
        proto = TCP if roll < 0.7 else UDP if roll < 0.97 else (ICMP if family == 4 else ICMPV6)
        size_roll = rng.random()
        size = (
            rng.randint(0, 60) if size_roll < 0.4
            else rng.randint(500, 600) if size_roll < 0.7
            else 1400
        )  # fmt: skip
        tag_roll = rng.random()
        vlans = () if tag_roll < 0.8 else (rng.randint(1, 4094),) if tag_roll < 0.95 else (
            rng.randint(1, 4094), rng.randint(1, 4094))  # fmt: skip
        bits = 32 if family == 4 else 128
        pkt = SyntheticPacket(
            family=family,
            src=rng.getrandbits(bits),
            dst=rng.getrandbits(bits),
            proto=proto,
            sport=rng.randint(1024, 65535),
            dport=rng.choice((53, 80, 443, 8080, 123)),
            payload=filler[:size],
            vlans=vlans,
        )
        ts += rng.randint(1_000, 20_000)
        yield Record(build_frame(pkt), ts)


def _timed(fn: Callable[[Path], int], path: Path, repeat: int) -> tuple[float, float]:
    """Best wall-clock and CPU seconds over ``repeat`` runs (CPU time is robust to load)."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn(path)
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall, cpu


def read_only(path: Path) -> int:
    return sum(batch.count for batch in CaptureReader(path))


SELECTOR_RNG = random.Random(7)
SELECTOR = np.unique(
    np.array([SELECTOR_RNG.getrandbits(32) for _ in range(100_000)], dtype=np.uint32)
)
SELECTOR_SET = {int(a).to_bytes(4, "big") for a in SELECTOR}


def read_and_match(path: Path) -> int:
    hits = 0
    top = len(SELECTOR) - 1
    for batch in CaptureReader(path):
        v4 = batch.family == 4
        for column in (batch.src4, batch.dst4):
            found = SELECTOR[np.minimum(np.searchsorted(SELECTOR, column), top)] == column
            hits += int(np.count_nonzero(v4 & found))
    return hits


def python_struct(path: Path) -> int:
    """A plain ``struct`` walk: Ethernet, VLAN tags, addresses, ports, a set lookup."""
    hits = 0
    with open(path, "rb") as fh:
        fh.read(24)
        head = struct.Struct("<IIII")
        while True:
            header = fh.read(16)
            if len(header) < 16:
                break
            _sec, _frac, caplen, _wire = head.unpack(header)
            frame = fh.read(caplen)
            off = 12
            (etype,) = struct.unpack_from(">H", frame, off)
            off += 2
            while etype in (0x8100, 0x88A8):
                (etype,) = struct.unpack_from(">H", frame, off + 2)
                off += 4
            if etype == 0x0800:
                proto = frame[off + 9]
                src, dst = frame[off + 12 : off + 16], frame[off + 16 : off + 20]
                l4 = off + (frame[off] & 15) * 4
            elif etype == 0x86DD:
                proto = frame[off + 6]
                src, dst = frame[off + 8 : off + 24], frame[off + 24 : off + 40]
                l4 = off + 40
            else:
                continue
            _ports = struct.unpack_from(">HH", frame, l4) if proto in (6, 17) else (0, 0)
            hits += (src in SELECTOR_SET) + (dst in SELECTOR_SET)
    return hits


def dpkt_decode(path: Path) -> int:
    import dpkt

    count = 0
    with open(path, "rb") as fh:
        for _ts, buf in dpkt.pcap.Reader(fh):
            eth = dpkt.ethernet.Ethernet(buf)
            ip = eth.data
            if isinstance(ip, dpkt.ip.IP | dpkt.ip6.IP6):
                _ = (ip.src, ip.dst, getattr(ip.data, "sport", 0))
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=200_000)
    args = parser.parse_args()
    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.pcap"
        with open(path, "wb") as fh:
            write_pcap(fh, _packets(args.packets, rng))
        size_mb = path.stat().st_size / 1e6
        print(f"capture: {args.packets:,} packets, {size_mb:.1f} MB")
        start = time.perf_counter()
        read_only(path)  # warm-up: numba compile or cache load, page cache
        print(f"warm-up (compile or cache load): {time.perf_counter() - start:.2f} s")
        peers: list[tuple[str, Callable[[Path], int], int]] = [
            ("reader (header walk + decode)", read_only, 5),
            ("reader + match 100k IPv4 selectors", read_and_match, 5),
            ("pure-Python struct loop + set", python_struct, 1),
        ]
        try:
            import dpkt  # noqa: F401

            peers.append(("dpkt full decode", dpkt_decode, 1))
        except ImportError:
            print("dpkt not installed: skipping that peer")
        rates: dict[str, tuple[float, float]] = {}
        for name, fn, repeat in peers:
            wall, cpu = _timed(fn, path, repeat)
            rates[name] = (args.packets / wall, args.packets / cpu)
        base = rates["reader (header walk + decode)"][1]
        print(f"{'':38s} {'M pkt/s wall':>13s} {'M pkt/s CPU':>12s} {'vs reader':>10s}")
        for name, (wall_rate, cpu_rate) in rates.items():
            print(
                f"{name:38s} {wall_rate / 1e6:13.2f} {cpu_rate / 1e6:12.2f} {cpu_rate / base:9.2f}x"
            )


if __name__ == "__main__":
    main()
