"""Prefix-preserving pseudonymisation of IP addresses: Crypto-PAn (Xu, Fan, Ammar, Moon 2002).

Two addresses that share a ``k``-bit prefix map to pseudonyms that share a
``k``-bit prefix, so network structure survives while hosts are not identified
(the non-identification measure, 非識別化措置, of Art 24). The mapping is
bit-exact with the reference implementation and with ``yacryptopan``: a
32-byte key, AES-128 under its first half, and the AES image of its second
half as the padding; output bit ``i`` flips when the first bit of
``AES(first i address bits || padding bits from i on)`` is set. IPv4 uses the
top 32 bits of the same 128-bit block as IPv6.

Batches are vectorised: the first 16 bit levels come from a 65,536-entry
table computed once per key (16 AES-ECB batches), and each remaining level
encrypts only the distinct prefixes of the batch's sorted distinct
addresses, in one AES-ECB call per level.

Keys never leave memory: :class:`KeyEpoch` derives a key per rotation epoch
from the zone master secret with HKDF-SHA256 and refuses to be serialised or
shown; only its ``method_id``, ``epoch`` and non-secret ``key_id`` go into the
RFC 6235-style anonymisation record.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NoReturn

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mamori.errors import InvalidInput

KEY_LENGTH = 32
METHOD_ID = "crypto-pan-aes128"
RFC6235_TECHNIQUE = 7
"""anonymizationTechnique "Structured Permutation" (RFC 6235 section 4.2.2)."""
HKDF_INFO_PREFIX = b"mamori/selection/crypto-pan/"
_TABLE_BITS = 16
_M32 = np.uint32(0xFFFFFFFF)
_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


class PseudonymisationError(InvalidInput):
    """A key or an address batch that the pseudonymiser cannot take."""


class CryptoPAn:
    """Crypto-PAn under one 32-byte key; vectorised over NumPy address arrays.

    An instance reuses one block buffer: use one instance per thread.
    """

    __slots__ = (
        "_blocks",
        "_encrypt",
        "_encrypt_into",
        "_out",
        "_pad",
        "_pad_hi",
        "_pad_lo",
        "_pad_words",
        "_table",
    )

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) != KEY_LENGTH:
            raise PseudonymisationError(f"Crypto-PAn key must be {KEY_LENGTH} bytes")
        encryptor = Cipher(algorithms.AES(bytes(key[:16])), modes.ECB()).encryptor()  # noqa: S305
        self._encrypt = encryptor.update
        self._encrypt_into = encryptor.update_into
        pad = self._encrypt(bytes(key[16:]))
        self._pad = np.frombuffer(pad, dtype=np.uint8)
        self._blocks = np.empty((0, 16), dtype=np.uint8)
        self._out = bytearray(15)
        self._pad_words = np.frombuffer(pad, dtype=">u4").astype(np.uint32)
        self._pad_hi = np.uint64(int.from_bytes(pad[:8], "big"))
        self._pad_lo = np.uint64(int.from_bytes(pad[8:], "big"))
        self._table = self._prefix_table()

    def __repr__(self) -> str:
        return "CryptoPAn(<key hidden>)"

    def __reduce__(self) -> NoReturn:
        raise TypeError("Crypto-PAn keys are not serialisable")

    # -- AES on blocks whose top bits vary ---------------------------------------

    def _block_buffer(self, count: int) -> np.ndarray:
        """A reusable ``(count, 16)`` block array, pre-filled with the padding."""
        if len(self._blocks) < count:
            capacity = max(count, 2 * len(self._blocks))
            self._blocks = np.empty((capacity, 16), dtype=np.uint8)
            self._blocks[:] = self._pad
            self._out = bytearray(16 * capacity + 15)  # update_into wants a block of slack
        return self._blocks[:count]

    def _first_bits(self, blocks: np.ndarray) -> np.ndarray:
        """First bit of each block's AES image (encrypted into a reused buffer)."""
        size = self._encrypt_into(blocks.data.cast("B"), self._out)
        out = np.frombuffer(self._out, dtype=np.uint8, count=size)
        return out[::16] >> 7

    def _first_bits_v4(self, words: np.ndarray) -> np.ndarray:
        """First output bit of AES over blocks ``word || pad[4:16]``."""
        blocks = self._block_buffer(len(words))
        blocks.view(">u4")[:, 0] = words
        return self._first_bits(blocks)

    def _first_bits_v6(self, hi: np.ndarray, lo: np.ndarray | None) -> np.ndarray:
        """First output bit of AES over blocks ``hi || lo`` (``lo`` None: the padding)."""
        blocks = self._block_buffer(len(hi))
        view = blocks.view(">u8")
        view[:, 0] = hi
        if lo is not None:
            view[:, 1] = lo
        bits = self._first_bits(blocks)
        blocks[:, 4:] = self._pad[4:]  # restore the padding the IPv4 path relies on
        return bits

    def _prefix_table(self) -> np.ndarray:
        """Flip bits 0..15 for every 16-bit prefix (shared by IPv4 and IPv6)."""
        index = np.arange(1 << _TABLE_BITS, dtype=np.uint32)
        table = np.zeros(1 << _TABLE_BITS, dtype=np.uint32)
        for level in range(_TABLE_BITS):
            prefixes = np.arange(1 << level, dtype=np.uint32)
            words = self._level_words(prefixes, level)
            bits = self._first_bits_v4(words).astype(np.uint32)
            table |= bits[index >> np.uint32(_TABLE_BITS - level)] << np.uint32(15 - level)
        return table

    def _level_words(self, prefixes: np.ndarray, level: int) -> np.ndarray:
        """First block word at ``level`` (< 32): the prefix bits, then padding bits."""
        pad = self._pad_words[0] & (_M32 >> np.uint32(level))
        if level == 0:
            return np.full(len(prefixes), pad, dtype=np.uint32)
        return (prefixes.astype(np.uint32) << np.uint32(32 - level)) | pad

    # -- public batch API ----------------------------------------------------------

    def ipv4(self, addresses: Any) -> np.ndarray:
        """Pseudonyms of IPv4 addresses given as ``uint32`` values (any shape)."""
        values = _as_unsigned(addresses, 32)
        flat = values.ravel()
        if flat.size == 0:
            return values.astype(np.uint32)
        unique, inverse = np.unique(flat, return_inverse=True)
        count = len(unique)
        low_bits = np.empty((32 - _TABLE_BITS, count), dtype=np.uint8)
        starts = np.empty(count, dtype=bool)
        starts[0] = True
        for row, level in enumerate(range(_TABLE_BITS, 32)):
            prefix = unique >> np.uint32(32 - level)
            np.not_equal(prefix[1:], prefix[:-1], out=starts[1:])
            heads = np.flatnonzero(starts)
            if len(heads) * 5 > count * 4:
                # Nearly every prefix is distinct: encrypting all beats regrouping.
                low_bits[row] = self._first_bits_v4(self._level_words(prefix, level))
                continue
            bits = self._first_bits_v4(self._level_words(prefix[heads], level))
            low_bits[row] = np.repeat(bits, np.diff(heads, append=count))
        packed = np.packbits(low_bits, axis=0).astype(np.uint32)
        high = self._table[unique >> np.uint32(16)] << np.uint32(16)
        flips = high | (packed[0] << np.uint32(8)) | packed[1]
        return (unique ^ flips)[inverse].reshape(values.shape)

    def ipv6(self, hi: Any, lo: Any) -> tuple[np.ndarray, np.ndarray]:
        """Pseudonyms of IPv6 addresses given as high and low ``uint64`` halves."""
        high = _as_unsigned(hi, 64).ravel()
        low = _as_unsigned(lo, 64).ravel()
        if high.shape != low.shape:
            raise PseudonymisationError("IPv6 high and low halves differ in length")
        shape = np.shape(hi)
        if high.size == 0:
            return high.reshape(shape), low.reshape(shape)
        pairs = np.empty(high.size, dtype=[("hi", np.uint64), ("lo", np.uint64)])
        pairs["hi"], pairs["lo"] = high, low
        unique, inverse = np.unique(pairs, return_inverse=True)
        uhi, ulo = unique["hi"].copy(), unique["lo"].copy()
        flip_hi = self._table[uhi >> np.uint64(48)].astype(np.uint64) << np.uint64(48)
        flip_lo = np.zeros(len(uhi), dtype=np.uint64)
        starts = np.empty(len(uhi), dtype=bool)
        starts[0] = True
        for level in range(_TABLE_BITS, 128):
            if level <= 64:
                prefix = uhi >> np.uint64(64 - level) if level < 64 else uhi
                np.not_equal(prefix[1:], prefix[:-1], out=starts[1:])
                head = uhi[starts]
                if level < 64:
                    keep = _M64 << np.uint64(64 - level)
                    block_hi = (head & keep) | (self._pad_hi & ~keep)
                else:
                    block_hi = head
                bits = self._first_bits_v6(block_hi, None)
            else:
                shift = np.uint64(128 - level)
                prefix = ulo >> shift
                np.not_equal(prefix[1:], prefix[:-1], out=starts[1:])
                starts[1:] |= uhi[1:] != uhi[:-1]
                keep = _M64 << shift
                block_lo = (ulo[starts] & keep) | (self._pad_lo & ~keep)
                bits = self._first_bits_v6(uhi[starts], block_lo)
            run = np.cumsum(starts) - 1
            bit = bits[run].astype(np.uint64)
            if level < 64:
                flip_hi |= bit << np.uint64(63 - level)
            else:
                flip_lo |= bit << np.uint64(127 - level)
        out_hi = (uhi ^ flip_hi)[inverse].reshape(shape)
        out_lo = (ulo ^ flip_lo)[inverse].reshape(shape)
        return out_hi, out_lo

    def address(self, text: str) -> str:
        """Pseudonym of one address in text form (for tools and tests)."""
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            raise PseudonymisationError("not an IP address") from None
        if address.version == 4:
            value = int(self.ipv4(np.array([int(address)], dtype=np.uint32))[0])
            return str(ipaddress.IPv4Address(value))
        number = int(address)
        hi, lo = self.ipv6(
            np.array([number >> 64], dtype=np.uint64),
            np.array([number & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64),
        )
        return str(ipaddress.IPv6Address((int(hi[0]) << 64) | int(lo[0])))


def _as_unsigned(values: Any, bits: int) -> np.ndarray:
    array = np.asarray(values)
    dtype = np.uint32 if bits == 32 else np.uint64
    if array.dtype == dtype:
        return array
    if array.size == 0:
        return array.astype(dtype)
    if array.dtype.kind not in "ui":
        raise PseudonymisationError(f"addresses must be unsigned {bits}-bit integers")
    if array.dtype.kind == "i" and int(array.min()) < 0:
        raise PseudonymisationError("addresses must not be negative")
    if int(array.max()) >= 1 << bits:
        raise PseudonymisationError(f"addresses must fit in {bits} bits")
    return array.astype(dtype)


class RotationPeriod(StrEnum):
    """How often the pseudonymisation key changes; the epoch label names the period."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


def epoch_label(moment: datetime, period: RotationPeriod | str) -> str:
    """The epoch label of a moment (UTC): ``2026-11-26``, ``2026-W48``, ``2026-11``, ``2026-Q4``."""
    if moment.tzinfo is None:
        raise PseudonymisationError("epoch moments must be timezone-aware")
    try:
        rotation = RotationPeriod(period)
    except ValueError:
        raise PseudonymisationError("unknown key rotation period") from None
    utc = moment.astimezone(UTC)
    if rotation is RotationPeriod.DAILY:
        return utc.strftime("%Y-%m-%d")
    if rotation is RotationPeriod.WEEKLY:
        year, week, _ = utc.isocalendar()
        return f"{year}-W{week:02d}"
    if rotation is RotationPeriod.MONTHLY:
        return utc.strftime("%Y-%m")
    if rotation is RotationPeriod.QUARTERLY:
        return f"{utc.year}-Q{(utc.month - 1) // 3 + 1}"
    return f"{utc.year}"


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class KeyEpoch:
    """The pseudonymisation key of one rotation epoch, held only in memory."""

    epoch: str
    _key: bytes
    method_id: str = METHOD_ID

    @classmethod
    def derive(cls, *, master_secret: bytes, epoch: str) -> KeyEpoch:
        """HKDF-SHA256 of the zone master secret, with the epoch label as context."""
        if not isinstance(master_secret, bytes) or len(master_secret) < 32:
            raise PseudonymisationError("the zone master secret must be at least 32 bytes")
        if not epoch or len(epoch) > 64 or not epoch.isprintable():
            raise PseudonymisationError("epoch label must be 1 to 64 printable characters")
        key = HKDF(
            algorithm=hashes.SHA256(),
            length=KEY_LENGTH,
            salt=None,
            info=HKDF_INFO_PREFIX + epoch.encode(),
        ).derive(master_secret)
        return cls(epoch=epoch, _key=key)

    @classmethod
    def for_moment(
        cls, *, master_secret: bytes, moment: datetime, period: RotationPeriod | str
    ) -> KeyEpoch:
        """The key epoch that covers ``moment`` under the configured rotation period."""
        return cls.derive(master_secret=master_secret, epoch=epoch_label(moment, period))

    @property
    def key_id(self) -> str:
        """A non-secret identifier of the key (HMAC-SHA256 of a fixed label, 16 hex)."""
        return hmac.new(self._key, b"key-id", hashlib.sha256).hexdigest()[:16]

    def pseudonymiser(self) -> CryptoPAn:
        return CryptoPAn(self._key)

    def anonymisation_record(self) -> dict[str, str | int]:
        """What receipts record about the method (RFC 6235 style), never the key."""
        return {
            "method_id": self.method_id,
            "anonymization_technique": RFC6235_TECHNIQUE,
            "epoch": self.epoch,
            "key_id": self.key_id,
        }

    def __repr__(self) -> str:
        return f"KeyEpoch(epoch={self.epoch!r}, method_id={self.method_id!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("key epochs are not serialisable")
