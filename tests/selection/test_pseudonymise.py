"""Crypto-PAn: bit-exact with the reference sample and yacryptopan; keys stay in memory."""

from __future__ import annotations

import ipaddress
import pickle
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.errors import InvalidInput
from mamori.selection.pseudonymise import (
    CryptoPAn,
    KeyEpoch,
    PseudonymisationError,
    RotationPeriod,
    epoch_label,
)

yacryptopan = pytest.importorskip("yacryptopan", reason="yacryptopan is in the test extra")

# The sample key of the Crypto-PAn reference distribution and the address pairs of its
# sample_trace_raw.dat / sample_trace_sanitized.dat.
REFERENCE_KEY = bytes(
    [21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16,
     216, 152, 143, 131, 121, 121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2]
)  # fmt: skip
REFERENCE_IPV4 = [
    ("128.11.68.132", "135.242.180.132"), ("129.118.74.4", "134.136.186.123"),
    ("130.132.252.244", "133.68.164.234"), ("141.223.7.43", "141.167.8.160"),
    ("141.233.145.108", "141.129.237.235"), ("152.163.225.39", "151.140.114.167"),
    ("156.29.3.236", "147.225.12.42"), ("165.247.96.84", "162.9.99.234"),
    ("166.107.77.190", "160.132.178.185"), ("192.102.249.13", "252.138.62.131"),
    ("192.215.32.125", "252.43.47.189"), ("192.233.80.103", "252.25.108.8"),
    ("192.41.57.43", "252.222.221.184"), ("193.150.244.223", "253.169.52.216"),
    ("195.205.63.100", "255.186.223.5"), ("198.200.171.101", "249.199.68.213"),
    ("198.26.132.101", "249.36.123.202"), ("198.36.213.5", "249.7.21.132"),
    ("198.51.77.238", "249.18.186.254"), ("199.217.79.101", "248.38.184.213"),
    ("202.49.198.20", "245.206.7.234"), ("203.12.160.252", "244.248.163.4"),
    ("204.184.162.189", "243.192.77.90"), ("204.202.136.230", "243.178.4.198"),
    ("204.29.20.4", "243.33.20.123"), ("205.178.38.67", "242.108.198.51"),
    ("205.188.147.153", "242.96.16.101"), ("205.188.248.25", "242.96.88.27"),
    ("205.245.121.43", "242.21.121.163"), ("207.105.49.5", "241.118.205.138"),
    ("207.135.65.238", "241.202.129.222"), ("207.155.9.214", "241.220.250.22"),
    ("207.188.7.45", "241.255.249.220"), ("207.25.71.27", "241.33.119.156"),
    ("207.33.151.131", "241.1.233.131"), ("208.147.89.59", "227.237.98.191"),
    ("208.234.120.210", "227.154.67.17"), ("208.28.185.184", "227.39.94.90"),
    ("208.52.56.122", "227.8.63.165"), ("209.12.231.7", "226.243.167.8"),
    ("209.238.72.3", "226.6.119.243"), ("209.246.74.109", "226.22.124.76"),
    ("209.68.60.238", "226.184.220.233"), ("209.85.249.6", "226.170.70.6"),
    ("212.120.124.31", "228.135.163.231"), ("212.146.8.236", "228.19.4.234"),
    ("212.186.227.154", "228.59.98.98"), ("212.204.172.118", "228.71.195.169"),
    ("212.206.130.201", "228.69.242.193"), ("216.148.237.145", "235.84.194.111"),
    ("216.157.30.252", "235.89.31.26"), ("216.184.159.48", "235.96.225.78"),
    ("216.227.10.221", "235.28.253.36"), ("216.254.18.172", "235.7.16.162"),
    ("216.32.132.250", "235.192.139.38"), ("216.35.217.178", "235.195.157.81"),
    ("24.0.250.221", "100.15.198.226"), ("24.13.62.231", "100.2.192.247"),
    ("24.14.213.138", "100.1.42.141"), ("24.5.0.80", "100.9.15.210"),
    ("24.7.198.88", "100.10.6.25"), ("24.94.26.44", "100.88.228.35"),
    ("38.15.67.68", "64.3.66.187"), ("4.3.88.225", "124.60.155.63"),
    ("63.14.55.111", "95.9.215.7"), ("63.195.241.44", "95.179.238.44"),
    ("63.97.7.140", "95.97.9.123"), ("64.14.118.196", "0.255.183.58"),
    ("64.34.154.117", "0.221.154.117"), ("64.39.15.238", "0.219.7.41"),
    ("10.185.25.118", "117.161.29.118"),
]  # fmt: skip
# IPv6 vectors for the same key, as published with the Go port of Crypto-PAn.
REFERENCE_IPV6 = [
    ("::1", "78ff:f001:9fc0:20df:8380:b1f1:704:ed"),
    ("::2", "78ff:f001:9fc0:20df:8380:b1f1:704:ef"),
    ("::ffff", "78ff:f001:9fc0:20df:8380:b1f1:704:f838"),
    ("2001:db8::1", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e"),
    ("2001:db8::2", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1c"),
]


def _v4(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def _split6(text: str) -> tuple[int, int]:
    value = int(ipaddress.IPv6Address(text))
    return value >> 64, value & (2**64 - 1)


@pytest.fixture(scope="module")
def reference() -> CryptoPAn:
    return CryptoPAn(REFERENCE_KEY)


def test_reference_ipv4_sample_batch(reference: CryptoPAn) -> None:
    raw = np.array([_v4(a) for a, _ in REFERENCE_IPV4], dtype=np.uint32)
    expected = np.array([_v4(b) for _, b in REFERENCE_IPV4], dtype=np.uint32)
    np.testing.assert_array_equal(reference.ipv4(raw), expected)


@pytest.mark.parametrize(("raw", "expected"), REFERENCE_IPV4[:5] + REFERENCE_IPV6)
def test_reference_single_addresses(reference: CryptoPAn, raw: str, expected: str) -> None:
    assert ipaddress.ip_address(reference.address(raw)) == ipaddress.ip_address(expected)


def test_reference_ipv6_batch(reference: CryptoPAn) -> None:
    pairs = [_split6(a) for a, _ in REFERENCE_IPV6]
    hi = np.array([p[0] for p in pairs], dtype=np.uint64)
    lo = np.array([p[1] for p in pairs], dtype=np.uint64)
    out_hi, out_lo = reference.ipv6(hi, lo)
    for (_, expected), h, low in zip(REFERENCE_IPV6, out_hi, out_lo, strict=True):
        assert (int(h), int(low)) == _split6(expected)


def test_ipv4_on_top_of_ipv6_gives_the_ipv4_pseudonym(reference: CryptoPAn) -> None:
    raw = np.array([_v4(a) for a, _ in REFERENCE_IPV4], dtype=np.uint64)
    hi, _ = reference.ipv6(raw << np.uint64(32), np.zeros(len(raw), dtype=np.uint64))
    expected = np.array([_v4(b) for _, b in REFERENCE_IPV4], dtype=np.uint64)
    np.testing.assert_array_equal(hi >> np.uint64(32), expected)


@settings(max_examples=25, deadline=None)
@given(
    key=st.binary(min_size=32, max_size=32),
    addresses=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=64),
)
def test_ipv4_matches_yacryptopan(key: bytes, addresses: list[int]) -> None:
    ours = CryptoPAn(key).ipv4(np.array(addresses, dtype=np.uint32))
    theirs = yacryptopan.CryptoPAn(key)
    for raw, pseudonym in zip(addresses, ours, strict=True):
        assert int(pseudonym) == theirs.anonymize_bin(raw, 4)


@settings(max_examples=10, deadline=None)
@given(
    key=st.binary(min_size=32, max_size=32),
    addresses=st.lists(st.integers(0, 2**128 - 1), min_size=1, max_size=12),
)
def test_ipv6_matches_yacryptopan(key: bytes, addresses: list[int]) -> None:
    hi = np.array([a >> 64 for a in addresses], dtype=np.uint64)
    lo = np.array([a & (2**64 - 1) for a in addresses], dtype=np.uint64)
    out_hi, out_lo = CryptoPAn(key).ipv6(hi, lo)
    theirs = yacryptopan.CryptoPAn(key)
    for raw, h, low in zip(addresses, out_hi, out_lo, strict=True):
        assert (int(h) << 64) | int(low) == theirs.anonymize_bin(raw, 6)


def test_large_batch_with_shared_prefixes_matches_yacryptopan() -> None:
    """Exercises both the regrouping and the encrypt-all branches of the batch walk."""
    key = bytes(range(32))
    rng = np.random.default_rng(7)
    clustered = np.uint32(0x0A000000) | rng.integers(0, 4096, 3000).astype(np.uint32)
    spread = rng.integers(0, 2**32, 3000, dtype=np.uint64).astype(np.uint32)
    batch = np.concatenate([clustered, spread, clustered[:100]])
    ours = CryptoPAn(key).ipv4(batch)
    theirs = yacryptopan.CryptoPAn(key)
    sample = rng.choice(len(batch), 300, replace=False)
    for i in sample:
        assert int(ours[i]) == theirs.anonymize_bin(int(batch[i]), 4)
    # Equal inputs give equal pseudonyms within a batch.
    np.testing.assert_array_equal(ours[-100:], ours[:100])


@settings(max_examples=30, deadline=None)
@given(a=st.integers(0, 2**32 - 1), b=st.integers(0, 2**32 - 1))
def test_prefix_preserving(reference: CryptoPAn, a: int, b: int) -> None:
    pa, pb = (int(x) for x in reference.ipv4(np.array([a, b], dtype=np.uint32)))
    shared = 32 - (a ^ b).bit_length()
    assert 32 - (pa ^ pb).bit_length() == shared


def test_shape_is_kept_and_empty_batches_work(reference: CryptoPAn) -> None:
    grid = np.arange(12, dtype=np.uint32).reshape(3, 4)
    assert reference.ipv4(grid).shape == (3, 4)
    assert reference.ipv4(np.zeros(0, dtype=np.uint32)).shape == (0,)
    hi, lo = reference.ipv6(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.uint64))
    assert hi.shape == lo.shape == (0,)


@pytest.mark.parametrize("bad", [b"", b"x" * 16, b"x" * 33, "x" * 32])
def test_key_must_be_32_bytes(bad: object) -> None:
    with pytest.raises(PseudonymisationError):
        CryptoPAn(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "batch",
    [np.array([-1, 2]), np.array([2**32], dtype=np.int64), np.array([1.5]), ["10.0.0.1"]],
)
def test_bad_address_batches_are_user_errors(reference: CryptoPAn, batch: object) -> None:
    with pytest.raises(InvalidInput):
        reference.ipv4(batch)


def test_bad_text_address(reference: CryptoPAn) -> None:
    with pytest.raises(PseudonymisationError) as info:
        reference.address("not-an-address")
    assert "not-an-address" not in str(info.value)


MASTER = bytes(range(100, 148))


def test_key_epoch_derivation_is_deterministic_and_per_epoch() -> None:
    first = KeyEpoch.derive(master_secret=MASTER, epoch="2026-11")
    again = KeyEpoch.derive(master_secret=MASTER, epoch="2026-11")
    other = KeyEpoch.derive(master_secret=MASTER, epoch="2026-12")
    addresses = np.array([_v4("192.0.2.1"), _v4("198.51.100.7")], dtype=np.uint32)
    same = first.pseudonymiser().ipv4(addresses)
    np.testing.assert_array_equal(same, again.pseudonymiser().ipv4(addresses))
    assert not np.array_equal(same, other.pseudonymiser().ipv4(addresses))
    assert first.key_id == again.key_id != other.key_id
    record = first.anonymisation_record()
    assert record == {
        "method_id": "crypto-pan-aes128",
        "anonymization_technique": 7,
        "epoch": "2026-11",
        "key_id": first.key_id,
    }


def test_keys_stay_in_memory() -> None:
    epoch = KeyEpoch.derive(master_secret=MASTER, epoch="2026-11")
    assert "2026-11" in repr(epoch)
    assert epoch._key.hex() not in repr(epoch)
    assert "key hidden" in repr(epoch.pseudonymiser())
    with pytest.raises(TypeError):
        pickle.dumps(epoch)
    with pytest.raises(TypeError):
        pickle.dumps(epoch.pseudonymiser())


@pytest.mark.parametrize(
    ("secret", "epoch"), [(b"short", "2026-11"), (MASTER, ""), (MASTER, "x\n"), (MASTER, "e" * 65)]
)
def test_key_epoch_rejects_weak_secrets_and_bad_labels(secret: bytes, epoch: str) -> None:
    with pytest.raises(PseudonymisationError):
        KeyEpoch.derive(master_secret=secret, epoch=epoch)


def test_epoch_labels() -> None:
    moment = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)
    assert epoch_label(moment, RotationPeriod.DAILY) == "2026-11-26"
    assert epoch_label(moment, "weekly") == "2026-W48"
    assert epoch_label(moment, "monthly") == "2026-11"
    assert epoch_label(moment, "quarterly") == "2026-Q4"
    assert epoch_label(moment, "yearly") == "2026"
    tokyo = moment.astimezone(timezone(timedelta(hours=9)))  # already 27 Nov in Tokyo
    assert epoch_label(tokyo, "daily") == "2026-11-26"
    epoch = KeyEpoch.for_moment(master_secret=MASTER, moment=moment, period="monthly")
    assert epoch.epoch == "2026-11"
    with pytest.raises(PseudonymisationError):
        epoch_label(datetime(2026, 1, 1), "monthly")
    with pytest.raises(PseudonymisationError):
        epoch_label(moment, "hourly")
