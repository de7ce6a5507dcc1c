"""``mamori select`` and ``mamori selectors`` end to end, as the demo accounts."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session

from mamori.db import utcnow
from mamori.selection import samples

from .conftest import C2_V4, DELEGATED, SELECTORS, make_measure

NOW_NS = int(utcnow().timestamp() * 1e9)
HANDLER = ("--as", "demo-comms_handler")


def _configure(mamori, tmp_path: Path) -> None:
    (tmp_path / "apnic").write_bytes(DELEGATED)
    (tmp_path / "override.txt").write_text("198.18.0.0/15 domestic\n")
    (tmp_path / "c2.txt").write_bytes(SELECTORS)
    code, out, err = mamori("--as", "demo-admin", "select", "prefixes", "import",
                            str(tmp_path / "apnic"), str(tmp_path / "override.txt"))
    assert code == 0, err
    assert "New version: 1" in out
    code, out, err = mamori("--as", "demo-analyst", "selectors", "import", "c2",
                            str(tmp_path / "c2.txt"), "--json")
    assert code == 0, err
    assert json.loads(out)["version"] == 1


def test_configure_run_and_list(mamori, session: Session, tmp_path: Path) -> None:
    _configure(mamori, tmp_path)
    code, out, _ = mamori("--as", "demo-analyst", "selectors", "import", "c2",
                          str(tmp_path / "c2.txt"))
    assert code == 0 and "Unchanged" in out
    code, out, _ = mamori("--as", "demo-analyst", "selectors", "list", "--json")
    assert code == 0 and json.loads(out)[0]["counts"]["ip"] == 3
    code, out, _ = mamori("--as", "demo-committee_inspector", "selectors", "show", "c2@1")
    assert code == 0 and json.loads(out)["digest"] == json.loads(
        mamori("--as", "demo-analyst", "selectors", "list", "--json")[1])[0]["digest"]
    measure = make_measure(session)
    capture = samples.write_capture(tmp_path / "link.pcap", [
        samples.tcp("8.8.4.4", C2_V4, 1000, 443, b"x"),
        samples.tcp("8.8.4.4", "9.9.9.9", 1001, 443, b"y"),
    ], NOW_NS - 5_000_000_000)
    code, out, err = mamori(*HANDLER, "select", "run", "--measure", measure, "--selectors",
                            "c2", "--batch-id", "cli-1", "--json", str(capture))
    assert code == 0, err
    receipt = json.loads(out)
    assert receipt["counts"]["records_out"] == 1 and receipt["counts"]["discarded"] == 1
    code, out, _ = mamori(*HANDLER, "select", "run", "--measure", measure, "--selectors",
                          "c2", "--batch-id", "cli-1", str(capture), "--consume")
    assert code == 0 and "already committed" in out and capture.exists()
    code, out, _ = mamori(*HANDLER, "select", "receipts", "--json")
    assert code == 0 and json.loads(out)[0]["batch_id"] == "cli-1"
    code, out, _ = mamori("--as", "demo-admin", "select", "items", "list", "--json")
    assert code == 0 and json.loads(out)["active"]["version"] == 0
    code, out, _ = mamori("--as", "demo-admin", "select", "prefixes", "list", "--json")
    assert code == 0 and json.loads(out)[0]["counts"]["ipv4_ranges"] == 3


def test_stdin_is_staged_and_the_run_consumes_files(mamori, session: Session,
                                                     tmp_path: Path, env: Path) -> None:
    _configure(mamori, tmp_path)
    measure = make_measure(session)
    capture = samples.write_capture(tmp_path / "in.pcap", [
        samples.tcp("8.8.4.4", C2_V4, 1000, 443, b"x")], NOW_NS - 5_000_000_000)
    code, out, err = mamori(*HANDLER, "select", "run", "--measure", measure, "--selectors",
                            "c2", "--json", "-", stdin=capture.read_bytes())
    assert code == 0, err
    assert json.loads(out)["inputs"][0]["name"] == "stdin"
    assert list((env / "spool").iterdir()) == []
    code, out, err = mamori(*HANDLER, "select", "run", "--measure", measure, "--selectors",
                            "c2", "--consume", str(capture))
    assert code == 0, err
    assert "Records out" in out and not capture.exists()


def test_errors_are_one_line_with_exit_code_2(mamori, session: Session, tmp_path: Path) -> None:
    _configure(mamori, tmp_path)
    capture = samples.write_capture(tmp_path / "in.pcap", [
        samples.tcp("8.8.4.4", C2_V4, 1000, 443, b"x")], NOW_NS)
    code, _, err = mamori(*HANDLER, "select", "run", "--measure", "M-2026-0404",
                          "--selectors", "c2", str(capture))
    assert code == 2 and err.startswith("error: selection refused")
    assert err.count("\n") == 1
    code, _, err = mamori("--as", "demo-operator", "select", "run", "--measure",
                          "M-2026-0404", "--selectors", "c2", str(capture))
    assert code == 2 and "may not selection.run" in err
    code, _, err = mamori("--as", "demo-analyst", "select", "items", "set", "packets",
                          "--public-comment", "PC-1", "--consultation", "OC-1")
    assert code == 2 and "may not" in err
    code, _, err = mamori("--as", "demo-admin", "select", "items", "set", "packets",
                          "--public-comment", "", "--consultation", "OC-1")
    assert code == 2 and "public comment" in err
    code, _, err = mamori("--as", "demo-analyst", "selectors", "import", "bad",
                          str(tmp_path / "missing.txt"))
    assert code == 2 and "cannot be read" in err
