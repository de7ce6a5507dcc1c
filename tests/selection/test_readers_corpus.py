"""Real captures: tcpdump's and Zeek's test corpora, read whole and checked against tshark.

tshark is authoritative for the fields both tools extract. Intentional differences,
each handled below where it applies:

* Tunnels and ICMP errors: we report the outer IP header; tshark lists inner ones
  too, so only its first occurrence (``-E occurrence=f``) is compared.
* IP reassembly is off in tshark (``ip.defragment:FALSE``), as we do not reassemble.
* AH: ``proto`` is the protocol after the AH header; tshark's ``ip.proto`` says 51.
* Jumbograms and offloaded lengths (IP length zero): we still read the transport
  header, tshark does not.
* An IP header whose fixed part was not captured whole yields no addresses here;
  tshark shows the ones it could read.
* Out-of-range pcap timestamp fractions: we add them arithmetically; tshark's
  display overflows, so those packets' times are not compared.
* Link types we do not decode (802.11 radiotap, Frame Relay, IPoIB, ...) and
  vendor tags (Arista AVSP) leave ``family == 0``; so do encrypted MACsec frames.
"""

from __future__ import annotations

import ipaddress
import random
import shutil
import struct
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mamori.selection.readers import (
    SUPPORTED_LINKTYPES,
    CaptureError,
    CaptureFormatError,
    CaptureReader,
    PacketFlag,
    PacketStatus,
)
from mamori.selection.readers.synthetic import (
    Record,
    SyntheticPacket,
    build_frame,
    write_pcap,
    write_pcapng,
)

MAGICS = {
    b"\xd4\xc3\xb2\xa1",
    b"\xa1\xb2\xc3\xd4",
    b"\x4d\x3c\xb2\xa1",
    b"\xa1\xb2\x3c\x4d",
    b"\x0a\x0d\x0d\x0a",
}
GZIP = b"\x1f\x8b"
TSHARK_FILES = 200
TSHARK_PACKETS = 500
FIELDS = [
    "frame.time_epoch", "frame.len", "frame.cap_len",
    "ip.src", "ip.dst", "ip.proto", "ip.ttl",
    "ipv6.src", "ipv6.dst", "ipv6.hlim",
    "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "tcp.flags",
]  # fmt: skip
# Files whose IP packets sit behind an encapsulation we deliberately do not follow.
NOT_FOLLOWED = {"arista_ether.pcap": "Arista AVSP vendor tag"}


def _all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(4)


@pytest.fixture(scope="module")
def corpus(shared_data: Path) -> list[Path]:
    root = shared_data / "pcaps"
    if not root.is_dir():
        pytest.skip(f"no capture corpus at {root}")
    return _all_files(root)


def test_every_shared_capture_is_read_without_a_crash(corpus: list[Path]) -> None:
    captures = [p for p in corpus if _head(p) in MAGICS or _head(p)[:2] == GZIP]
    assert len(captures) >= 1100
    packets = 0
    strict_failures: list[str] = []
    for path in corpus:
        is_capture = path in captures
        try:
            reader = CaptureReader(path)
            for batch in reader:
                packets += batch.count
        except CaptureFormatError as exc:
            assert not is_capture or "ends inside a record" in exc.reason, (path, exc.reason)
            if is_capture:
                strict_failures.append(path.name)
            continue
        assert is_capture, path
    # Tolerating a cut final record, every capture reads to the end.
    for name in strict_failures:
        path = next(p for p in captures if p.name == name)
        reader = CaptureReader(path, tolerate_truncated_tail=True)
        for _ in reader:
            pass
        assert reader.stats.truncated_tail_offset is not None
    assert packets > 30_000


def _tshark(path: Path) -> list[list[str]] | None:
    command = [
        "tshark", "-n", "-r", str(path), "-c", str(TSHARK_PACKETS),
        "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
        "-T", "fields", "-E", "occurrence=f", "-E", "separator=\t",
    ]  # fmt: skip
    for name in FIELDS:
        command += ["-e", name]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        return None  # tshark cannot read this file (unknown link type, damage)
    return [line.split("\t") for line in done.stdout.splitlines()]


def _ns(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    secs, _, frac = text.lstrip("-").partition(".")
    return sign * (int(secs) * 1_000_000_000 + int(frac.ljust(9, "0")[:9]))


def _ours(path: Path) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    raw = path.read_bytes()
    nano = raw[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    order = ">" if raw[:4] in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d") else "<"
    classic = raw[:4] != b"\x0a\x0d\x0d\x0a"
    for batch in CaptureReader(path):
        for i in range(batch.count):
            family = int(batch.family[i])
            if family == 4:
                src = str(ipaddress.IPv4Address(int(batch.src4[i])))
                dst = str(ipaddress.IPv4Address(int(batch.dst4[i])))
            elif family == 6:
                src = str(
                    ipaddress.IPv6Address((int(batch.src6_hi[i]) << 64) | int(batch.src6_lo[i]))
                )
                dst = str(
                    ipaddress.IPv6Address((int(batch.dst6_hi[i]) << 64) | int(batch.dst6_lo[i]))
                )
            else:
                src = dst = ""
            time_ok = True
            if classic:
                (frac,) = struct.unpack_from(order + "I", raw, int(batch.record_offset[i]) + 4)
                time_ok = frac < (1_000_000_000 if nano else 1_000_000)
            out.append(
                {
                    "ts": int(batch.ts_ns[i]),
                    "time_ok": time_ok,
                    "wire": int(batch.wire_len[i]),
                    "cap": int(batch.cap_len[i]),
                    "linktype": int(batch.linktype[i]),
                    "status": PacketStatus(int(batch.status[i])),
                    "family": family,
                    "src": src,
                    "dst": dst,
                    "proto": int(batch.proto[i]),
                    "ttl": int(batch.ttl[i]),
                    "ports": bool(batch.flags[i] & PacketFlag.PORTS),
                    "sport": int(batch.sport[i]),
                    "dport": int(batch.dport[i]),
                    "tcp_flags": int(batch.tcp_flags[i]),
                    "ip_len": int(batch.ip_len[i]),
                }
            )  # fmt: skip
            if len(out) == TSHARK_PACKETS:
                return out
    return out


def _compare(path: Path, ours: list[dict[str, object]], theirs: list[list[str]]) -> list[str]:
    """Disagreements with tshark, as readable strings; empty when all agree."""
    problems: list[str] = []
    if len(ours) != len(theirs):
        return [f"{path.name}: {len(ours)} packets, tshark {len(theirs)}"]
    for k, (row, t) in enumerate(zip(ours, theirs, strict=True)):
        f = dict(zip(FIELDS, t + [""] * (len(FIELDS) - len(t)), strict=True))
        where = f"{path.name}#{k + 1}"
        if row["time_ok"] and f["frame.time_epoch"] and row["ts"] != _ns(f["frame.time_epoch"]):
            problems.append(f"{where}: time {row['ts']} vs {f['frame.time_epoch']}")
        if row["linktype"] in SUPPORTED_LINKTYPES and (
            (str(row["wire"]), str(row["cap"])) != (f["frame.len"], f["frame.cap_len"])
        ):
            problems.append(f"{where}: lengths {row['wire']}/{row['cap']}")
        family = row["family"]
        if family == 4:
            if (row["src"], row["dst"]) != (f["ip.src"], f["ip.dst"]):
                problems.append(f"{where}: IPv4 {row['src']}>{row['dst']} vs {f['ip.src']}")
            if f["ip.proto"] not in ("", "51", str(row["proto"])):
                problems.append(f"{where}: proto {row['proto']} vs {f['ip.proto']}")
            if f["ip.ttl"] and f["ip.ttl"] != str(row["ttl"]):
                problems.append(f"{where}: ttl {row['ttl']} vs {f['ip.ttl']}")
        elif family == 6:
            if (row["src"], row["dst"]) != (f["ipv6.src"], f["ipv6.dst"]):
                problems.append(f"{where}: IPv6 {row['src']}>{row['dst']} vs {f['ipv6.src']}")
            if f["ipv6.hlim"] and f["ipv6.hlim"] != str(row["ttl"]):
                problems.append(f"{where}: hop limit {row['ttl']} vs {f['ipv6.hlim']}")
        elif f["ip.src"] or f["ipv6.src"]:
            if row["status"] not in (PacketStatus.UNSUPPORTED_LINK, PacketStatus.TRUNCATED) and (
                path.name not in NOT_FOLLOWED
            ):
                problems.append(f"{where}: tshark sees IP, we report {row['status'].name}")
            continue
        else:
            continue
        if row["ports"] and row["proto"] in (6, 17):
            kind = "tcp" if row["proto"] == 6 else "udp"
            theirs_ports = (f[f"{kind}.srcport"], f[f"{kind}.dstport"])
            zero_length = row["ip_len"] in (0, 40) if family == 6 else row["ip_len"] == 0
            if theirs_ports == ("", "") and zero_length:
                continue
            if theirs_ports != (str(row["sport"]), str(row["dport"])):
                problems.append(f"{where}: ports {row['sport']}>{row['dport']} vs {theirs_ports}")
            flags = f["tcp.flags"]
            checked = kind == "tcp" and flags and row["status"] is PacketStatus.OK
            if checked and int(flags, 16) != row["tcp_flags"]:
                problems.append(f"{where}: tcp flags {row['tcp_flags']:#x} vs {flags}")
    return problems


@pytest.mark.slow
def test_fields_agree_with_tshark(corpus: list[Path]) -> None:
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed (apt-get install tshark)")
    readable: list[Path] = []
    for path in corpus:
        if _head(path) not in MAGICS:
            continue
        try:
            for _ in CaptureReader(path):
                pass
        except CaptureError:
            continue
        readable.append(path)
    step = max(1, len(readable) // TSHARK_FILES)
    sample = readable[::step][:TSHARK_FILES]
    with ThreadPoolExecutor(max_workers=2) as pool:
        outputs = list(pool.map(_tshark, sample))
    compared = packets = 0
    problems: list[str] = []
    for path, theirs in zip(sample, outputs, strict=True):
        if theirs is None:
            continue
        ours = _ours(path)
        compared += 1
        packets += len(ours)
        problems += _compare(path, ours, theirs)
    assert compared >= TSHARK_FILES * 0.8 and packets >= 2_000
    assert problems == []


@pytest.mark.slow
def test_synthetic_captures_agree_with_tshark(tmp_path: Path) -> None:
    """The generator used by the round-trip tests writes what tshark reads too."""
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed (apt-get install tshark)")
    rng = random.Random(5)
    records = []
    for k in range(300):
        family = rng.choice([4, 6])
        pkt = SyntheticPacket(
            family=family,
            src=rng.getrandbits(32 if family == 4 else 128),
            dst=rng.getrandbits(32 if family == 4 else 128),
            proto=rng.choice([6, 17, 1 if family == 4 else 58]),
            sport=rng.randint(1, 65535),
            dport=rng.randint(1, 65535),
            tcp_flags=rng.choice([0x002, 0x012, 0x010, 0x018, 0x011]),
            ttl=rng.randint(1, 255),
            payload=bytes(rng.randint(0, 40)),
            vlans=tuple(rng.randint(1, 4094) for _ in range(rng.randint(0, 2))),
            ipv6_ext=tuple(rng.sample([0, 60], rng.randint(0, 1))) if family == 6 else (),
        )
        records.append(Record(build_frame(pkt), 1_700_000_000_000_000_000 + k * 1_234_567))
    for name, writer in (("s.pcap", write_pcap), ("s.pcapng", write_pcapng)):
        path = tmp_path / name
        with open(path, "wb") as out:
            writer(out, records)
        theirs = _tshark(path)
        assert theirs is not None
        ours = _ours(path)
        assert len(ours) == 300 and all(r["status"] is PacketStatus.OK for r in ours)
        assert _compare(path, ours, theirs) == []
