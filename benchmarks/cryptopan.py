"""IPv4 addresses per second of batch Crypto-PAn, against yacryptopan in the same run.

Two batches of 1,000,000 addresses: uniformly random (nearly all distinct, the
worst case) and a flow-like mix (200,000 distinct addresses clustered in a few
thousand /24s). yacryptopan does one address at a time, so it is timed on a
20,000-address sample of the same batch and its rate extrapolated; a sample of
its outputs is also checked against ours. Both wall-clock and CPU rates are
printed; on a shared machine the CPU figure is the one-core rate.

Run: ``.venv/bin/python benchmarks/cryptopan.py [--addresses N]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mamori.selection.pseudonymise import CryptoPAn

KEY = bytes(range(32))


def batches(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    random = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    nets = rng.integers(0, 2**24, 4000, dtype=np.uint64).astype(np.uint32) << np.uint32(8)
    hosts = nets[rng.integers(0, len(nets), 200_000)] | rng.integers(0, 256, 200_000).astype(
        np.uint32
    )
    flowlike = hosts[rng.zipf(1.3, n) % len(hosts)]
    return {"random": random, "flow-like": flowlike}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=1_000_000)
    args = parser.parse_args()
    ours = CryptoPAn(KEY)
    start = time.perf_counter()
    CryptoPAn(KEY)
    print(f"key setup (16-bit prefix table): {1000 * (time.perf_counter() - start):.1f} ms")
    try:
        import yacryptopan
    except ImportError:
        yacryptopan = None
        print("yacryptopan not installed: peer skipped (pip install yacryptopan)")
    for name, addresses in batches(args.addresses).items():
        ours.ipv4(addresses[:1000])  # warm-up
        wall, cpu = time.perf_counter(), time.process_time()
        result = ours.ipv4(addresses)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rate = len(addresses) / wall
        distinct = len(np.unique(addresses))
        print(f"{name}: {len(addresses):,} addresses ({distinct:,} distinct)")
        print(f"  mamori      {rate / 1e6:7.2f} M addresses/s wall, "
              f"{len(addresses) / cpu / 1e6:7.2f} M addresses/s CPU")  # fmt: skip
        if yacryptopan is None:
            continue
        peer = yacryptopan.CryptoPAn(KEY)
        sample = [int(a) for a in addresses[:20_000]]
        begin = time.perf_counter()
        outputs = [peer.anonymize_bin(a, 4) for a in sample]
        peer_rate = len(sample) / (time.perf_counter() - begin)
        assert outputs[:2000] == [int(x) for x in result[:2000]], "outputs differ"
        print(f"  yacryptopan {peer_rate / 1e6:7.4f} M addresses/s wall (20,000-address sample)")
        print(f"  ratio mamori/yacryptopan: {rate / peer_rate:,.0f}x")


if __name__ == "__main__":
    main()
