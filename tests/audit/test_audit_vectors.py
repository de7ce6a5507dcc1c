"""RFC 9162 proofs against the transparency-dev/merkle probes: every valid proof is
accepted, every malformed one rejected, and our own proofs equal the published ones."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from mamori.audit.verify import (
    MerkleTree,
    ProofError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).parent / "vectors"
# The leaves behind the probes (RFC 6962 test data, as in transparency-dev/merkle).
LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]


def _probes(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json"))


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _b(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(VECTORS)) for p in paths]


def _check_inclusion(probe: dict[str, Any]) -> None:
    verify_inclusion(
        index=probe["leafIdx"],
        size=probe["treeSize"],
        leaf=_b(probe["leafHash"]),
        proof=[_b(p) for p in probe["proof"] or []],
        root=_b(probe["root"]),
    )


def _check_consistency(probe: dict[str, Any]) -> None:
    verify_consistency(
        first=probe["size1"],
        second=probe["size2"],
        first_root=_b(probe["root1"]),
        second_root=_b(probe["root2"]),
        proof=[_b(p) for p in probe["proof"] or []],
    )


def test_every_probe_family_is_present() -> None:
    inclusion, consistency = _probes("inclusion"), _probes("consistency")
    assert len(inclusion) > 80 and len(consistency) > 80
    for probes in (inclusion, consistency):
        wanted = {_load(p)["wantErr"] for p in probes}
        assert wanted == {True, False}


@pytest.mark.parametrize("path", _probes("inclusion"), ids=_ids(_probes("inclusion")))
def test_inclusion_probe(path: Path) -> None:
    probe = _load(path)
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            _check_inclusion(probe)
    else:
        _check_inclusion(probe)


@pytest.mark.parametrize("path", _probes("consistency"), ids=_ids(_probes("consistency")))
def test_consistency_probe(path: Path) -> None:
    probe = _load(path)
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            _check_consistency(probe)
    else:
        _check_consistency(probe)


def test_roots_of_the_reference_tree() -> None:
    tree = MerkleTree(leaf_hash(x) for x in LEAVES)
    assert tree.root(8).hex() == (
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    )
    assert tree.root(0).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


@pytest.mark.parametrize("folder", ["0", "1", "2", "3", "4"])
def test_our_proofs_equal_the_published_ones(folder: str) -> None:
    tree = MerkleTree(leaf_hash(x) for x in LEAVES)
    inclusion = _load(VECTORS / "inclusion" / folder / "happy-path.json")
    path = tree.inclusion_path(inclusion["leafIdx"], inclusion["treeSize"])
    assert [base64.b64encode(h).decode() for h in path] == (inclusion["proof"] or [])
    assert tree.root(inclusion["treeSize"]) == _b(inclusion["root"])
    consistency = _load(VECTORS / "consistency" / folder / "happy-path.json")
    path = tree.consistency_path(consistency["size1"], consistency["size2"])
    assert [base64.b64encode(h).decode() for h in path] == (consistency["proof"] or [])
