"""The export file and the standalone verifier the oversight committee runs on its own
machine: it needs nothing of mamori, accepts an intact export, prints the proofs between
consecutive tree heads, and names the first bad entry of a tampered one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

import mamori.audit.verify as verify_module
from mamori.audit import keys, service
from mamori.audit.verify import (
    EXPORT_FORMAT,
    MerkleTree,
    check_export,
    details_digest,
    entry_leaf,
    key_id,
    tree_head_message,
    verify_log_records,
)
from mamori.config import get_settings

# Runs a copy of verify.py with every ``mamori`` import made impossible.
ISOLATED = (
    "import runpy, sys; sys.modules['mamori'] = None; sys.argv = sys.argv[1:]; "
    "runpy.run_path(sys.argv[0], run_name='__main__')"
)


def _export(session: Session, path: Path, *, sizes: tuple[int, ...] = (2, 5, 9)) -> dict[str, Any]:
    for i in range(max(sizes)):
        service.record(session=session, actor="analyst", action="report.update",
                       object_type="IncidentReport", object_id=str(i),
                       legal_basis="Art. 35", details={"stage": "final", "i": i})
        if i + 1 in sizes:
            service.issue_tree_head(session=session)
    session.commit()
    assert service.export_log(session=session, path=path) == max(sizes)
    return json.loads(path.read_text(encoding="utf-8"))


def _run_copy(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    copy = tmp_path / "committee" / "verify.py"
    copy.parent.mkdir(exist_ok=True)
    shutil.copy(verify_module.__file__, copy)
    return subprocess.run(
        [sys.executable, "-I", "-c", ISOLATED, str(copy), *args],
        capture_output=True, text=True, timeout=120, check=False, cwd=copy.parent,
    )


def test_the_verifier_imports_only_the_standard_library_and_cryptography() -> None:
    import ast

    tree = ast.parse(Path(verify_module.__file__).read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            roots.add((node.module or "").split(".")[0])
    assert roots - set(sys.stdlib_module_names) == {"cryptography"}


def test_an_intact_export_verifies_on_its_own(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    export = _export(session, path)
    assert export["format"] == EXPORT_FORMAT and len(export["entries"]) == 9
    assert [h["tree_size"] for h in export["tree_heads"]] == [2, 5, 9]
    settings = get_settings()
    assert export["public_key"]["key_id"] == keys.key_id(settings=settings)
    pem = tmp_path / "published.pem"
    pem.write_text(keys.public_key_pem(settings=settings) or "")

    done = _run_copy(tmp_path, str(path), "--public-key", str(pem))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"key id: {export['public_key']['key_id']}"
    assert "consistency: tree head 2 -> 5: ok" in lines
    assert "consistency: tree head 5 -> 9: ok" in lines
    assert "inclusion: entry 5 in tree head of size 9: ok" in lines
    assert lines[-1].startswith("OK: 9 entries, root ")
    assert export["tree_heads"][-1]["root_hash"] in lines[-1]


def _rewrite(path: Path, change: Any) -> Path:
    export = json.loads(path.read_text(encoding="utf-8"))
    change(export)
    out = path.with_name("tampered.json")
    out.write_text(json.dumps(export), encoding="utf-8")
    return out


def _set(index: int, field: str, value: Any) -> Any:
    return lambda e: e["entries"][index].__setitem__(field, value)


def _swap(a: int, b: int) -> Any:
    def change(e: dict[str, Any]) -> None:
        e["entries"][a], e["entries"][b] = e["entries"][b], e["entries"][a]
    return change


def _rehash(index: int, field: str, value: Any) -> Any:
    def change(e: dict[str, Any]) -> None:
        entry = e["entries"][index]
        entry[field] = value
        entry["details_digest"] = details_digest(entry["details"])
        entry["leaf_hash"] = entry_leaf(entry).hex()
    return change


FILE_CASES = [
    ("altered field", _set(6, "actor", "mallory"), "FAIL: first bad entry 6"),
    ("altered details", _set(3, "details", {"stage": "draft", "i": 3}),
     "FAIL: first bad entry 3"),
    ("altered and rehashed", _rehash(7, "actor", "mallory"), "FAIL: first bad entry 5"),
    ("removed entry", lambda e: e["entries"].pop(4), "FAIL: first bad entry 4"),
    ("removed newest entry", lambda e: e["entries"].pop(), "FAIL: first bad entry 8"),
    ("reordered", _swap(1, 2), "FAIL: first bad entry 1"),
    ("forged tree head", lambda e: e["tree_heads"][1].__setitem__("tree_size", 4),
     "invalid signature"),
    ("other key", lambda e: e["public_key"].__setitem__(
        "raw", "Mf/2Mt0sja4fog1g8h0c4kzQzCPMYt2fLSSLTVKjI1Q="), "not signed by the log's key"),
]


@pytest.mark.parametrize(("name", "change", "verdict"), FILE_CASES,
                         ids=[c[0] for c in FILE_CASES])
def test_a_tampered_export_fails(
    session: Session, tmp_path: Path, name: str, change: Any, verdict: str
) -> None:
    path = tmp_path / "audit.json"
    _export(session, path)
    done = _run_copy(tmp_path, str(_rewrite(path, change)))
    assert done.returncode == 1, name
    assert verdict in done.stdout.splitlines()[-1], done.stdout


def test_a_pinned_key_must_match(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    _export(session, path, sizes=(3,))
    other = Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    pem = tmp_path / "other.pem"
    pem.write_bytes(other)
    done = _run_copy(tmp_path, str(path), "--public-key", str(pem))
    assert done.returncode == 1
    assert "not the pinned key" in done.stdout


def test_unreadable_input_exits_2(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{ not json", encoding="utf-8")
    assert _run_copy(tmp_path, str(tmp_path / "broken.json")).returncode == 2
    assert _run_copy(tmp_path, str(tmp_path / "absent.json")).returncode == 2


def test_export_into_a_missing_folder_is_refused(session: Session, tmp_path: Path) -> None:
    from mamori.errors import InvalidInput

    with pytest.raises(InvalidInput, match="does not exist"):
        service.export_log(session=session, path=tmp_path / "absent" / "audit.json")
    assert list(tmp_path.iterdir()) == [tmp_path / "audit-home"]


def _signed_heads(entries: list[dict[str, Any]], plan: list[tuple[int, int]]) -> tuple[
        bytes, list[dict[str, Any]]]:
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    tree = MerkleTree(entry_leaf(e) for e in entries)
    heads = []
    for size, stamp in plan:
        root = tree.root(size)
        message = tree_head_message(timestamp_ms=stamp, tree_size=size, root=root)
        heads.append({"tree_size": size, "root_hash": root.hex(), "timestamp_ms": stamp,
                      "key_id": key_id(public), "signature": private.sign(message).hex()})
    return public, heads


def _entries(n: int) -> list[dict[str, Any]]:
    entries = []
    for seq in range(n):
        entry: dict[str, Any] = {
            "seq": seq, "time": f"2025-11-26T00:00:0{seq}.000000Z", "actor": "a",
            "action": "x.y", "object_type": "T", "object_id": str(seq), "legal_basis": None,
            "purpose": None, "details": {}, "details_digest": details_digest({}),
        }
        entries.append(entry)
    return entries


def test_a_later_smaller_tree_head_means_the_log_was_cut_back() -> None:
    entries = _entries(4)
    public, heads = _signed_heads(entries, [(4, 1000), (2, 2000)])
    result, _ = verify_log_records(entries=entries, tree_heads=heads, public_key=public)
    assert not result.ok
    assert "smaller than an earlier tree head" in (result.reason or "")
    public, heads = _signed_heads(entries, [(2, 1000), (4, 2000)])
    result, _ = verify_log_records(entries=entries, tree_heads=heads, public_key=public)
    assert result.ok and result.tree_heads_checked == 2


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=4),
    max_leaves=12,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=st.lists(st.dictionaries(
        st.sampled_from(["seq", "time", "actor", "details", "details_digest", "leaf_hash",
                         "action", "object_type", "object_id", "legal_basis", "purpose"]),
        json_values), max_size=4),
    heads=st.lists(st.dictionaries(
        st.sampled_from(["tree_size", "root_hash", "timestamp_ms", "key_id", "signature"]),
        json_values), max_size=3),
    key=json_values,
)
def test_malformed_exports_are_rejected_never_crash(entries: Any, heads: Any, key: Any) -> None:
    export = {"format": EXPORT_FORMAT, "public_key": {"raw": key}, "entries": entries,
              "tree_heads": heads}
    lines = list(check_export(export))
    assert lines and lines[-1].startswith(("FAIL", "OK"))
    if entries or heads:  # garbage never verifies
        assert lines[-1].startswith("FAIL")


@settings(max_examples=100, deadline=None)
@given(junk=json_values)
def test_files_that_are_not_exports_are_rejected(junk: Any) -> None:
    lines = list(check_export(junk if isinstance(junk, dict) else {"format": junk}))
    assert lines[-1].startswith("FAIL")
