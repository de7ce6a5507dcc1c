"""Records per second of the flow readers (IPFIX and NetFlow v9), with nfdump for scale.

Generates 1,000,000 synthetic flow records (80 % IPv4, 20 % IPv6), writes them
as a file of IPFIX messages and one of NetFlow v9 messages (30 records per
message, templates repeated every 100 messages, as exporters do), and times
``FlowReader`` over each after a warm-up read. Both wall-clock and process CPU
time are printed: on a shared machine the CPU figure is the one-core rate.

If ``nfcapd`` and ``nfdump`` are installed, the same messages are replayed over
loopback UDP to ``nfcapd`` and ``nfdump -r FILE -o csv`` is timed on the file it
wrote (nfdump reads its own pre-decoded format, so the ratio favours it).

Run: ``.venv/bin/python benchmarks/flows.py [--records N]``.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from mamori.selection.flows import FlowReader, encode
from mamori.selection.flows.batch import empty_columns


def synthetic(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    columns = empty_columns(n)
    columns["family"][:] = np.where(rng.random(n) < 0.8, 4, 6)
    v4 = columns["family"] == 4
    columns["src4"][v4] = rng.integers(0, 2**32, v4.sum())
    columns["dst4"][v4] = rng.integers(0, 2**32, v4.sum())
    for name in ("src6_hi", "src6_lo", "dst6_hi", "dst6_lo"):
        columns[name][~v4] = rng.integers(0, 2**64, (~v4).sum(), dtype=np.uint64)
    columns["sport"][:] = rng.integers(1024, 65536, n)
    columns["dport"][:] = rng.choice([53, 80, 443, 8080, 123], n)
    columns["proto"][:] = rng.choice([6, 17], n)
    columns["packets"][:] = rng.integers(1, 10_000, n)
    columns["bytes"][:] = columns["packets"] * rng.integers(40, 1500, n)
    columns["tcp_flags"][:] = rng.integers(0, 64, n)
    start_ms = 1_790_000_000_000 + np.sort(rng.integers(0, 3_600_000, n))
    columns["start_ns"][:] = start_ms * 1_000_000
    columns["end_ns"][:] = (start_ms + rng.integers(0, 120_000, n)) * 1_000_000
    return columns


def time_reader(path: Path) -> tuple[int, float, float]:
    sum(b.count for b in FlowReader(path))  # warm-up: page cache, NumPy first calls
    wall, cpu = time.perf_counter(), time.process_time()
    count = sum(b.count for b in FlowReader(path))
    return count, time.perf_counter() - wall, time.process_time() - cpu


def nfdump_peer(messages: list[bytes], workdir: Path) -> tuple[int, dict[str, float]] | None:
    nfcapd, nfdump = shutil.which("nfcapd"), shutil.which("nfdump")
    if not (nfcapd and nfdump):
        print("  nfdump peer skipped: nfcapd/nfdump not installed")
        return None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outdir = workdir / f"nfcapd-{port}"
    outdir.mkdir()
    command = [nfcapd, "-w", str(outdir), "-p", str(port), "-b", "127.0.0.1", "-t", "3600",
               "-B", str(8 << 20)]  # fmt: skip
    daemon = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for i, message in enumerate(messages):
                sender.sendto(message, ("127.0.0.1", port))
                if i % 200 == 199:
                    time.sleep(0.002)  # loopback drops bursts beyond the socket buffer
        time.sleep(2.0)
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
    files = sorted(outdir.glob("nfcapd.*"))
    if not files:
        print("  nfdump peer skipped: nfcapd wrote no file")
        return None
    rates = {}
    for label, options in (("-s proto", ["-s", "proto"]), ("-o csv", ["-o", "csv"])):
        wall = time.perf_counter()
        subprocess.run([nfdump, "-r", str(files[0]), "-q", *options], capture_output=True,
                       check=True)  # fmt: skip
        rates[label] = time.perf_counter() - wall
    info = subprocess.run([nfdump, "-r", str(files[0]), "-I"], capture_output=True, text=True)
    flows = [line.split()[1] for line in info.stdout.splitlines() if line.startswith("Flows:")]
    seen = int(flows[0]) if flows else 0
    return seen, rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()
    columns = synthetic(args.records)
    with tempfile.TemporaryDirectory(prefix="mamori-bench-flows-") as tmp:
        workdir = Path(tmp)
        for name, writer in (("IPFIX", encode.encode_ipfix), ("NetFlow v9", encode.encode_v9)):
            messages = writer(columns, per_message=30, template_every=100)
            path = workdir / f"{name.replace(' ', '')}.bin"
            path.write_bytes(b"".join(messages))
            count, wall, cpu = time_reader(path)
            size = path.stat().st_size / 1e6
            print(f"{name}: {count:,} records in {len(messages):,} messages ({size:.1f} MB)")
            print(f"  mamori  {count / wall / 1e6:6.2f} M records/s wall, "
                  f"{count / cpu / 1e6:6.2f} M records/s CPU")  # fmt: skip
            peer = nfdump_peer(messages, workdir)
            if peer is not None:
                seen, elapsed = peer
                print(f"  ({seen:,} records reached nfcapd over loopback)")
                for label, seconds in elapsed.items():
                    rate = seen / seconds
                    print(f"  nfdump {label:9s} {rate / 1e6:6.2f} M records/s wall, "
                          f"ratio mamori/nfdump {(count / wall) / rate:5.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
