"""The queued batch: a small clear header of ids and counts, then the capture, encrypted.

Layout of a message body::

    MAGIC (4) || header length (u32 BE) || header (canonical JSON) || ciphertext

The header holds only what a worker needs to route, log and audit a batch —
ids, the pinned selector-set version, the format hint, counts and the wrapped
data key — never a byte of the capture. The capture is sealed with AES-256-GCM
under a fresh data key with the header as associated data, so a header cannot be
moved onto another batch's ciphertext; the data key is sealed under the zone
transport key (:mod:`.keys`) with the batch id as associated data. The broker,
its disk and its replicas therefore hold ciphertext only.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import struct
from dataclasses import asdict, dataclass, replace
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mamori.errors import InvalidInput

from .keys import TransportKey

MAGIC = b"MQB1"
HEADER_MAX = 8 * 1024
OVERHEAD = len(MAGIC) + 4 + HEADER_MAX + 16
"""Upper bound of a message's bytes besides the capture itself (AES-GCM tag included)."""
FORMATS = ("pcap", "pcapng")
BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,99}$")
_SHORT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/\-]{0,199}$")
_LEN = struct.Struct(">I")
_WRAP_AAD = b"mamori.selection.batch-key.v1:"
_NONCE = 12


class BatchMessageError(InvalidInput):
    """A queued message is not a well-formed, authentic mamori batch."""


@dataclass(frozen=True)
class BatchHeader:
    """What travels in clear beside a batch: ids, counts and the wrapped data key."""

    batch_id: str
    measure_id: str
    selectors: str
    """The selector set pinned at submission: ``NAME@VERSION``."""
    input_format: str
    source: str
    """The input's name for the receipt (file name and part number)."""
    part: int
    parts: int
    packets: int
    size: int
    """Plaintext bytes of the capture."""
    submitted_by: str
    submitted_at: str
    key_id: str
    wrapped_key: bytes
    nonce: bytes

    def to_bytes(self) -> bytes:
        data = asdict(self)
        data["wrapped_key"] = base64.b64encode(self.wrapped_key).decode("ascii")
        data["nonce"] = base64.b64encode(self.nonce).decode("ascii")
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_bytes(cls, raw: bytes) -> BatchHeader:
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise BatchMessageError("queued batch: the header is not JSON") from None
        if not isinstance(data, dict) or set(data) != set(cls.__dataclass_fields__):
            raise BatchMessageError("queued batch: the header does not have the expected fields")
        return cls(**_checked(data))

    def log_fields(self) -> dict[str, Any]:
        """Ids and counts for a log line or an audit entry."""
        return {"batch_id": self.batch_id, "measure_id": self.measure_id,
                "selectors": self.selectors, "part": self.part, "parts": self.parts,
                "packets": self.packets, "bytes": self.size}  # fmt: skip


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    texts = ("batch_id", "measure_id", "selectors", "input_format", "source",
             "submitted_by", "submitted_at", "key_id")  # fmt: skip
    for name in texts:
        if not isinstance(data[name], str) or not data[name]:
            raise BatchMessageError(f"queued batch: header field {name} is not a text")
    for name in ("part", "parts", "packets", "size"):
        value = data[name]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise BatchMessageError(f"queued batch: header field {name} is not a count")
    if not BATCH_ID.match(data["batch_id"]):
        raise BatchMessageError("queued batch: header field batch_id is not a batch id")
    for name in ("measure_id", "selectors", "submitted_by"):
        if not _SHORT.match(data[name]):
            raise BatchMessageError(f"queued batch: header field {name} is not an id")
    if data["input_format"] not in FORMATS:
        raise BatchMessageError("queued batch: header field input_format is unknown")
    if data["part"] >= max(data["parts"], 1):
        raise BatchMessageError("queued batch: header field part is beyond parts")
    for name in ("wrapped_key", "nonce"):
        try:
            data[name] = base64.b64decode(str(data[name]), validate=True)
        except (binascii.Error, ValueError):
            raise BatchMessageError(f"queued batch: header field {name} is not base64") from None
    if len(data["nonce"]) != _NONCE or len(data["wrapped_key"]) != _NONCE + 32 + 16:
        raise BatchMessageError("queued batch: the header's key material has the wrong length")
    return data


def _split(body: bytes) -> tuple[bytes, bytes]:
    """Header bytes and ciphertext of a message body, structure checked."""
    if len(body) < len(MAGIC) + _LEN.size or body[: len(MAGIC)] != MAGIC:
        raise BatchMessageError("queued message is not a mamori selection batch")
    (length,) = _LEN.unpack_from(body, len(MAGIC))
    start = len(MAGIC) + _LEN.size
    if length > HEADER_MAX or start + length > len(body):
        raise BatchMessageError("queued batch: the header length is impossible")
    return body[start : start + length], body[start + length :]


def read_header(body: bytes) -> BatchHeader:
    """The clear header of a message (no key needed): for routing, logs and dead letters."""
    raw, _ = _split(body)
    return BatchHeader.from_bytes(raw)


def seal(header: BatchHeader, plaintext: bytes, key: TransportKey) -> bytes:
    """A message body for ``plaintext`` under a fresh data key wrapped by ``key``.

    The ``key_id``, ``wrapped_key`` and ``nonce`` fields of ``header`` are filled here.
    """
    data_key = AESGCM.generate_key(bit_length=256)
    wrap_nonce = secrets.token_bytes(_NONCE)
    wrapped = wrap_nonce + AESGCM(key.secret).encrypt(
        wrap_nonce, data_key, _WRAP_AAD + header.batch_id.encode("ascii")
    )
    header = replace(
        header, key_id=key.key_id, wrapped_key=wrapped,
        nonce=secrets.token_bytes(_NONCE), size=len(plaintext),
    )  # fmt: skip
    raw = header.to_bytes()
    if len(raw) > HEADER_MAX:
        raise InvalidInput("queued batch: the header is too long (shorten the ids)")
    framed = MAGIC + _LEN.pack(len(raw)) + raw
    return framed + AESGCM(data_key).encrypt(header.nonce, plaintext, framed)


def open_sealed(body: bytes, key: TransportKey) -> tuple[BatchHeader, bytes]:
    """The header and the capture bytes; raises if the key differs or anything was altered."""
    raw, sealed = _split(body)
    header = BatchHeader.from_bytes(raw)
    if header.key_id != key.key_id:
        raise BatchMessageError(
            f"batch {header.batch_id} was sealed under transport key {header.key_id}; "
            f"this worker holds {key.key_id}"
        )
    aad = _WRAP_AAD + header.batch_id.encode("ascii")
    try:
        data_key = AESGCM(key.secret).decrypt(
            header.wrapped_key[:_NONCE], header.wrapped_key[_NONCE:], aad
        )
        plaintext = AESGCM(data_key).decrypt(
            header.nonce, sealed, MAGIC + _LEN.pack(len(raw)) + raw
        )
    except InvalidTag:
        raise BatchMessageError(f"batch {header.batch_id} does not authenticate") from None
    if len(plaintext) != header.size:
        raise BatchMessageError(f"batch {header.batch_id}: its size differs from its header")
    return header, plaintext
