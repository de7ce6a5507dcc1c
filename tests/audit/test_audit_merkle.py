"""Properties of the Merkle tree and proofs, against a literal reading of RFC 9162 §2.1."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.audit.verify import (
    MerkleTree,
    ProofError,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)


def reference_mth(data: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as §2.1.1 defines it (recursive, slow)."""
    n = len(data)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + reference_mth(data[:k]) + reference_mth(data[k:])).digest()


leaves = st.lists(st.binary(max_size=8), min_size=1, max_size=40)


def _tree(data: list[bytes]) -> MerkleTree:
    return MerkleTree(leaf_hash(d) for d in data)


def _flip(value: bytes, bit: int) -> bytes:
    changed = bytearray(value)
    changed[bit // 8 % len(changed)] ^= 1 << (bit % 8)
    return bytes(changed)


@settings(max_examples=150, deadline=None)
@given(data=st.lists(st.binary(max_size=8), max_size=40))
def test_root_of_every_prefix_matches_the_definition(data: list[bytes]) -> None:
    tree = _tree(data)
    for size in range(len(data) + 1):
        assert tree.root(size) == reference_mth(data[:size])


@settings(max_examples=150, deadline=None)
@given(data=leaves, pick=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=255))
def test_inclusion_proofs_verify_and_tampering_fails(
    data: list[bytes], pick: int, bit: int
) -> None:
    tree = _tree(data)
    size = len(data)
    index = pick % size
    proof = tree.inclusion_path(index, size)
    root = tree.root()
    verify_inclusion(index=index, size=size, leaf=tree.leaf(index), proof=proof, root=root)
    with pytest.raises(ProofError):
        verify_inclusion(index=index, size=size, leaf=_flip(tree.leaf(index), bit),
                         proof=proof, root=root)
    if proof:
        broken = list(proof)
        broken[pick % len(broken)] = _flip(broken[pick % len(broken)], bit)
        with pytest.raises(ProofError):
            verify_inclusion(index=index, size=size, leaf=tree.leaf(index), proof=broken,
                             root=root)
        with pytest.raises(ProofError):
            verify_inclusion(index=index, size=size, leaf=tree.leaf(index), proof=proof[:-1],
                             root=root)
    with pytest.raises(ProofError):
        verify_inclusion(index=index, size=size, leaf=tree.leaf(index), proof=[*proof, root],
                         root=root)
    if len(set(data)) == size and size > 1:  # distinct leaves: another index must fail
        other = (index + 1) % size
        with pytest.raises(ProofError):
            verify_inclusion(index=other, size=size, leaf=tree.leaf(index), proof=proof,
                             root=root)


@settings(max_examples=150, deadline=None)
@given(data=leaves, a=st.integers(min_value=1), bit=st.integers(min_value=0, max_value=255))
def test_consistency_proofs_verify_and_tampering_fails(data: list[bytes], a: int, bit: int) -> None:
    tree = _tree(data)
    second = len(data)
    first = (a - 1) % second + 1
    proof = tree.consistency_path(first, second)
    roots = {"first_root": tree.root(first), "second_root": tree.root(second)}
    verify_consistency(first=first, second=second, proof=proof, **roots)
    if first == second:
        assert proof == []
        return
    for i in range(len(proof)):
        broken = list(proof)
        broken[i] = _flip(broken[i], bit)
        with pytest.raises(ProofError):
            verify_consistency(first=first, second=second, proof=broken, **roots)
    with pytest.raises(ProofError):
        verify_consistency(first=first, second=second, proof=proof[:-1], **roots)
    with pytest.raises(ProofError):
        verify_consistency(first=first, second=second, proof=[*proof, proof[0]], **roots)
    with pytest.raises(ProofError):
        verify_consistency(first=first, second=second, proof=proof,
                           first_root=_flip(roots["first_root"], bit),
                           second_root=roots["second_root"])


def test_a_rewritten_history_is_not_consistent() -> None:
    old = _tree([b"a", b"b", b"c"])
    new = _tree([b"a", b"B", b"c", b"d"])
    with pytest.raises(ProofError):
        verify_consistency(first=3, second=4, first_root=old.root(),
                           second_root=new.root(), proof=new.consistency_path(3, 4))


def test_out_of_range_requests_are_refused() -> None:
    tree = _tree([b"a", b"b"])
    with pytest.raises(ProofError):
        tree.root(3)
    with pytest.raises(ProofError):
        tree.inclusion_path(2, 2)
    with pytest.raises(ProofError):
        tree.consistency_path(0, 2)
    with pytest.raises(ProofError):
        tree.consistency_path(2, 1)


def test_node_hash_is_domain_separated_from_leaf_hash() -> None:
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(left, right) != leaf_hash(left + right)
