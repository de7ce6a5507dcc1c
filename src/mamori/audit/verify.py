"""RFC 9162 Merkle tree, proofs and audit-log verification, in one self-contained file.

The oversight committee copies this single file to its own machine and runs
``python verify.py EXPORT.json``: it depends on the standard library and
``cryptography`` only and imports nothing else from mamori. The platform
imports the same functions, so the log and its verifier cannot drift apart.

Hashing follows RFC 9162 §2.1 (SHA-256, leaf prefix 0x00, node prefix 0x01).
A signed tree head signs the TLS encoding of ``TreeHeadDataV2`` (§4.10) with
Ed25519. An audit entry's leaf is the canonical JSON of its fields, in which
the free-form details appear only as their SHA-256 digest.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import json
import struct
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

HASH_SIZE = 32
EXPORT_FORMAT = "mamori-audit-export/1"
LEAF_FIELDS = (
    "seq",
    "time",
    "actor",
    "action",
    "object_type",
    "object_id",
    "legal_basis",
    "purpose",
    "details_digest",
)


class ProofError(ValueError):
    """A proof, a root or a tree size does not verify."""


# --- RFC 9162 §2.1: hashes ------------------------------------------------------------


def empty_root() -> bytes:
    """MTH({}) — the hash of the empty string."""
    return hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """All perfect subtrees of a list of leaf hashes, so that any root or proof for
    any tree size up to ``size`` costs O(log² n) instead of O(n)."""

    def __init__(self, leaf_hashes: Iterable[bytes]) -> None:
        level = list(leaf_hashes)
        self._levels: list[list[bytes]] = [level]
        while len(level) > 1:
            level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            self._levels.append(level)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def leaf(self, index: int) -> bytes:
        return self._levels[0][index]

    def _mth(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]); ``start`` is a multiple of every split below it."""
        n = end - start
        if n == 0:
            return empty_root()
        if n & (n - 1) == 0 and start % n == 0:
            return self._levels[n.bit_length() - 1][start // n]
        k = _split(n)
        return node_hash(self._mth(start, start + k), self._mth(start + k, end))

    def _check_size(self, size: int | None) -> int:
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ProofError(f"tree size {size} is outside 0..{self.size}")
        return size

    def root(self, size: int | None = None) -> bytes:
        return self._mth(0, self._check_size(size))

    def inclusion_path(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(m, D[n]) of RFC 9162 §2.1.3.1."""
        size = self._check_size(size)
        if not 0 <= index < size:
            raise ProofError(f"leaf index {index} is outside tree size {size}")
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                path.append(self._mth(start + k, end))
                end = start + k
            else:
                path.append(self._mth(start, start + k))
                start += k
        path.reverse()
        return path

    def consistency_path(self, first: int, second: int | None = None) -> list[bytes]:
        """PROOF(m, D[n]) of RFC 9162 §2.1.4.1 (0 < first <= second)."""
        second = self._check_size(second)
        if not 0 < first <= second:
            raise ProofError(f"consistency needs 0 < first <= second, got {first}, {second}")
        path: list[bytes] = []
        start, end, complete = 0, second, True
        while end != first:
            k = _split(end - start)
            if first - start <= k:
                path.append(self._mth(start + k, end))
                end = start + k
            else:
                path.append(self._mth(start, start + k))
                start, complete = start + k, False
        if not complete:
            path.append(self._mth(start, end))
        path.reverse()
        return path


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} has {len(value)} bytes, expected {HASH_SIZE}")


def verify_inclusion(
    *, index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: raise ProofError unless ``leaf`` is at ``index`` under ``root``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside tree size {size}")
    _check_hash(leaf, "leaf hash")
    _check_hash(root, "root hash")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        _check_hash(p, "proof element")
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    if r != root:
        raise ProofError("inclusion proof does not lead to the root hash")


def verify_consistency(
    *, first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: raise ProofError unless tree ``first`` is a prefix of ``second``."""
    if first <= 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if first > second:
        raise ProofError(f"first tree size {first} exceeds second tree size {second}")
    if first == second:
        if proof:
            raise ProofError("equal tree sizes need an empty consistency proof")
        if first_root != second_root:
            raise ProofError("equal tree sizes but different root hashes")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    _check_hash(first_root, "first root hash")
    _check_hash(second_root, "second root hash")
    for p in proof:
        _check_hash(p, "proof element")
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != first_root or sr != second_root:
        raise ProofError("consistency proof does not lead to both root hashes")


# --- audit entries and signed tree heads ----------------------------------------------


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: one byte string per JSON value."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def details_digest(details: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(details)).hexdigest()


def entry_leaf(entry: Mapping[str, Any]) -> bytes:
    """The leaf hash of an entry given its fields (``time`` as the UTC ISO string)."""
    return leaf_hash(canonical_json({name: entry[name] for name in LEAF_FIELDS}))


def tree_head_message(*, timestamp_ms: int, tree_size: int, root: bytes) -> bytes:
    """TLS encoding of RFC 9162 TreeHeadDataV2 with no extensions: the signed bytes."""
    if not 0 < len(root) < 256:
        raise ProofError("root hash length does not fit TreeHeadDataV2")
    return struct.pack(">QQB", timestamp_ms, tree_size, len(root)) + root + b"\x00\x00"


def key_id(public_raw: bytes) -> str:
    """SHA-256 of the raw Ed25519 public key, hex."""
    return hashlib.sha256(public_raw).hexdigest()


def verify_tree_head_signature(
    *, public_raw: bytes, timestamp_ms: int, tree_size: int, root: bytes, signature: bytes
) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(
            signature, tree_head_message(timestamp_ms=timestamp_ms, tree_size=tree_size, root=root)
        )
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of a full check; ``first_bad_seq`` is the earliest entry that cannot be
    trusted (None when the problem is a tree head alone)."""

    ok: bool
    tree_size: int
    root_hash: str
    tree_heads_checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
    problems: tuple[str, ...] = field(default_factory=tuple)


def _unhex(value: Any) -> bytes | None:
    try:
        return bytes.fromhex(value) if isinstance(value, str) else None
    except ValueError:
        return None


def verify_log_records(
    *,
    entries: Iterable[Mapping[str, Any]],
    tree_heads: Sequence[Mapping[str, Any]],
    public_key: bytes | None,
) -> tuple[VerifyResult, MerkleTree]:
    """Check a whole log: every leaf from its fields, contiguous sequence numbers, and
    every tree head's signature and root. Entries must come in stored order by seq;
    each carries the leaf fields plus ``details`` and, if stored, ``leaf_hash``."""
    entry_problem: tuple[int, str] | None = None
    leaves: list[bytes] = []
    for position, entry in enumerate(entries):
        problem = _entry_problem(position, entry)
        if problem:
            entry_problem = (position, problem)
            break
        leaves.append(entry_leaf(entry))
    tree = MerkleTree(leaves)

    problems: list[tuple[int | None, str]] = []
    if entry_problem:
        problems.append(entry_problem)
    wanted_key = key_id(public_key) if public_key else None
    checked = 0
    good_prefix = 0
    by_time = sorted(tree_heads, key=lambda h: (int(h["timestamp_ms"]), int(h["tree_size"])))
    for earlier, later in itertools.pairwise(by_time):
        if int(later["tree_size"]) < int(earlier["tree_size"]):
            problems.append((None, f"{_head_name(later)} is smaller than an earlier tree head"))
    for head in sorted(tree_heads, key=lambda h: (int(h["tree_size"]), int(h["timestamp_ms"]))):
        checked += 1
        size = int(head["tree_size"])
        root = _unhex(head.get("root_hash"))
        signature = _unhex(head.get("signature"))
        if root is None or signature is None:
            problems.append((None, f"{_head_name(head)} is malformed"))
            continue
        if wanted_key is None or head.get("key_id") != wanted_key:
            problems.append((None, f"{_head_name(head)} is not signed by the log's key"))
            continue
        if not verify_tree_head_signature(
            public_raw=public_key or b"",
            timestamp_ms=int(head["timestamp_ms"]),
            tree_size=size,
            root=root,
            signature=signature,
        ):  # a forged head says nothing about the entries
            problems.append((None, f"{_head_name(head)} has an invalid signature"))
            continue
        if size > tree.size:
            if not entry_problem:
                problems.append((tree.size, f"entry {tree.size} is missing: "
                                 f"{_head_name(head)} covers {size} entries"))
            continue
        if tree.root(size) != root:
            problems.append((good_prefix, f"entries {good_prefix}..{size - 1} differ from "
                             f"those signed by {_head_name(head)}"))
        else:
            good_prefix = max(good_prefix, size)

    root_hex = tree.root().hex()
    if not problems:
        return VerifyResult(True, tree.size, root_hex, checked), tree
    with_seq = [(seq, why) for seq, why in problems if seq is not None]
    first_seq, reason = min(with_seq, key=lambda p: p[0]) if with_seq else problems[0]
    return (
        VerifyResult(
            ok=False,
            tree_size=tree.size,
            root_hash=root_hex,
            tree_heads_checked=checked,
            first_bad_seq=first_seq,
            reason=reason,
            problems=tuple(p[1] for p in problems),
        ),
        tree,
    )


def _head_name(head: Mapping[str, Any]) -> str:
    issued = head.get("issued_at") or f"{head.get('timestamp_ms')} ms"
    return f"tree head of size {head.get('tree_size')} issued at {issued}"


def _entry_problem(position: int, entry: Any) -> str | None:
    if not isinstance(entry, Mapping):
        return f"entry {position} is not a JSON object"
    seq = entry.get("seq")
    if type(seq) is not int or seq != position:
        if type(seq) is int and seq > position:
            return f"entry {position} is missing (the next stored entry is {seq})"
        return f"entry {position} is out of order (stored as {seq!r})"
    details = entry.get("details")
    if not isinstance(details, Mapping):
        return f"entry {position}: details are not a JSON object"
    try:
        digest = details_digest(details)
        leaf = entry_leaf(entry)
    except (KeyError, TypeError, ValueError):
        return f"entry {position}: fields are missing or malformed"
    if digest != entry.get("details_digest"):
        return f"entry {position}: details do not match their digest"
    stored = entry.get("leaf_hash")
    if stored is not None and stored != leaf.hex():
        return f"entry {position}: fields do not match the stored leaf hash"
    return None


# --- the export file ------------------------------------------------------------------


def _public_key_raw(text: Any) -> bytes:
    """A public key from a PEM file's text or base64 of the 32 raw bytes."""
    if not isinstance(text, str):
        raise ValueError("a public key is text")
    if "BEGIN PUBLIC KEY" in text:
        key = serialization.load_pem_public_key(text.encode("ascii"))
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    raw = base64.b64decode(text.strip(), validate=True)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key has 32 bytes")
    return raw


def check_export(export: Any, *, pinned_key: bytes | None = None) -> Iterator[str]:
    """Verify an export file's content; yield report lines, the last one the verdict.

    The key in the file is only trusted if it matches ``pinned_key`` (the key id the
    platform publishes); without a pin its id is printed for comparison.
    """
    if not isinstance(export, Mapping) or export.get("format") != EXPORT_FORMAT:
        yield f"FAIL: not a {EXPORT_FORMAT} file"
        return
    try:
        file_key = _public_key_raw(export["public_key"]["raw"])
    except (KeyError, TypeError, ValueError):
        yield "FAIL: the file's public key is malformed"
        return
    yield f"key id: {key_id(file_key)}"
    if pinned_key is not None and pinned_key != file_key:
        yield "FAIL: the file's public key is not the pinned key"
        return
    entries = export.get("entries")
    heads = export.get("tree_heads")
    if not isinstance(entries, list) or not isinstance(heads, list):
        yield "FAIL: entries or tree heads are missing"
        return
    try:
        result, tree = verify_log_records(entries=entries, tree_heads=heads, public_key=file_key)
    except (KeyError, TypeError, ValueError, AttributeError):
        yield "FAIL: tree heads are malformed"
        return
    if result.ok:
        yield from _proof_lines(tree, heads)
        covered = max((int(h["tree_size"]) for h in heads), default=0)
        if covered < result.tree_size:
            yield f"note: entries {covered}..{result.tree_size - 1} are not yet covered " \
                  "by a signed tree head"
        yield f"OK: {result.tree_size} entries, root {result.root_hash}, " \
              f"{result.tree_heads_checked} signed tree heads verified"
    else:
        for problem in result.problems:
            if problem != result.reason:
                yield f"also: {problem}"
        yield f"FAIL: first bad entry {result.first_bad_seq}: {result.reason}" \
            if result.first_bad_seq is not None else f"FAIL: {result.reason}"


def _proof_lines(tree: MerkleTree, heads: Sequence[Mapping[str, Any]]) -> Iterator[str]:
    """Inclusion of each tree head's newest entries and consistency between consecutive
    heads, proved from the file's leaves and checked against the signed roots."""
    previous: Mapping[str, Any] | None = None
    for head in sorted(heads, key=lambda h: (int(h["tree_size"]), int(h["timestamp_ms"]))):
        size, root = int(head["tree_size"]), bytes.fromhex(head["root_hash"])
        first_new = int(previous["tree_size"]) if previous else 0
        for index in sorted({first_new, size - 1}):
            if 0 <= index < size:
                verify_inclusion(index=index, size=size, leaf=tree.leaf(index),
                                 proof=tree.inclusion_path(index, size), root=root)
                yield f"inclusion: entry {index} in tree head of size {size}: ok"
        if previous is not None and int(previous["tree_size"]) > 0:
            old = int(previous["tree_size"])
            verify_consistency(first=old, second=size,
                               first_root=bytes.fromhex(previous["root_hash"]),
                               second_root=root, proof=tree.consistency_path(old, size))
            yield f"consistency: tree head {old} -> {size}: ok"
        previous = head


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mamori.audit.verify",
        description="Verify a mamori audit-log export on its own (exit 0 intact, 1 not).",
    )
    parser.add_argument("file", help="the JSON file written by `mamori audit export`")
    parser.add_argument("--public-key", help="PEM file or base64 raw key to pin")
    args = parser.parse_args(argv)
    try:
        with open(args.file, encoding="utf-8") as handle:
            export = json.load(handle)
        pinned = None
        if args.public_key:
            with open(args.public_key, encoding="ascii") as handle:
                pinned = _public_key_raw(handle.read())
    except (OSError, ValueError) as exc:
        print(f"error: cannot read input: {type(exc).__name__}", file=sys.stderr)
        return 2
    verdict = ""
    for line in check_export(export, pinned_key=pinned):
        print(line)
        verdict = line
    return 0 if verdict.startswith("OK") else 1


if __name__ == "__main__":
    sys.exit(main())
