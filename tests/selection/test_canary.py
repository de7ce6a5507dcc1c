"""The canary test: communications content never leaves the sealed zone.

Payloads, HTTP URIs and header values, DNS TXT records and YARA-matched payloads carry
planted canary strings, in selected and unselected traffic alike. The CLI runs end to
end (a capture file, the same capture through standard input, and a truncated capture
that fails), with logging at DEBUG (SQL statements included) into a file and TMPDIR
pointed at a test folder, then exports in all three formats. Afterwards the canary is
searched for in the database files (SQLite with its -wal/-shm) or a ``pg_dump``, the
log, the temporary folder, the spool, the exports and everything printed.
"""

from __future__ import annotations

import json
import logging
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from mamori.db import utcnow
from mamori.selection import samples

from .conftest import C2_V4, DELEGATED, SELECTORS, make_measure

NOW_NS = int(utcnow().timestamp() * 1e9)
YARA = b"""rule canary_bot { meta: command_token = true
  strings: $cmd = "!ddos" nocase
  condition: $cmd }
"""


def _traffic(token: str) -> list:
    canary = token.encode()

    def c(where: str) -> bytes:
        return f"{where}-{token}".encode()

    http = samples.http_request(
        "www.evil.example", f"/login?user={token}&next=/{token}",
        [("User-Agent", f"bot/{token}"), ("Cookie", f"session={token}"),
         ("Authorization", f"Bearer {token}")],
    ) + c("body")
    txt = samples.dns_txt_response("cfg.evil.example", [c("txt1"), canary])
    txt_unselected = samples.dns_txt_response("benign.example", [canary])
    benign = samples.http_request(
        "benign.example", f"/q={token}", [("Cookie", token)]) + c("unselected-body")
    hosted = samples.http_request(f"{token}.example", "/", [("X-Secret", token)])
    packets = []
    for src in ("8.8.4.4", "100.64.1.2"):
        packets += [
            samples.tcp(src, C2_V4, 41000, 80, http),              # selected by address
            samples.tcp(C2_V4, src, 80, 41000, c("response") * 3),  # selected by address
            samples.tcp(src, C2_V4, 41001, 80, hosted),            # Host header canary
            samples.udp("9.9.9.9", src, 53, 5353, txt),             # selected by name
            samples.tcp(src, "9.9.9.9", 41002, 6667,
                        b"PRIVMSG #x :!DDOS " + canary),            # selected by YARA
            samples.tcp(src, "9.9.9.9", 41003, 80, benign),         # unselected
            samples.udp("9.9.9.9", src, 53, 5353, txt_unselected),  # unselected DNS
            samples.tcp("2001:db8:beef::7", "2001:db8:dead::1", 41004, 443, c("v6")),
            samples.tcp(src, "9.9.9.10", 41005, 25, c("smtp") * 5),    # unselected
        ]
    return packets


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


@pytest.fixture
def logged(tmp_path: Path):
    """DEBUG logging of everything (SQL statements and parameters too) into a file."""
    path = tmp_path / "mamori.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    sql = logging.getLogger("sqlalchemy.engine")
    sql_level = sql.level
    sql.setLevel(logging.DEBUG)
    yield path
    sql.setLevel(sql_level)
    root.removeHandler(handler)
    root.setLevel(previous)
    handler.close()


def test_no_canary_anywhere(mamori, session: Session, engine: Engine, env: Path,
                            tmp_path: Path, logged: Path, monkeypatch: pytest.MonkeyPatch,
                            require_tool) -> None:
    token = "cnry" + uuid.uuid4().hex
    needle = token.encode()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)
    work = tmp_path / "work"
    work.mkdir()
    (work / "apnic").write_bytes(DELEGATED)
    (work / "c2.txt").write_bytes(SELECTORS)
    (work / "bot.yar").write_bytes(YARA)
    printed: list[str] = []

    def run(*args: str, stdin: bytes = b"", ok: bool = True) -> str:
        code, out, err = mamori(*args, stdin=stdin)
        printed.extend([out, err])
        assert (code == 0) == ok, err
        return out

    run("--as", "demo-admin", "select", "prefixes", "import", str(work / "apnic"))
    run("--as", "demo-analyst", "selectors", "import", "c2", str(work / "c2.txt"),
        str(work / "bot.yar"))
    measure = make_measure(session)
    capture = samples.write_capture(work / "link.pcap", _traffic(token), NOW_NS - 9_000_000_000)
    assert needle in capture.read_bytes()  # the canary is really in the input

    handler = ("--as", "demo-comms_handler")
    receipt = json.loads(run(*handler, "select", "run", "--measure", measure, "--selectors",
                             "c2", "--json", str(capture)))
    assert receipt["counts"]["records_out"] >= 8 and receipt["counts"]["discarded"] >= 4
    staged = json.loads(run(*handler, "select", "run", "--measure", measure, "--selectors",
                            "c2", "--json", "-", stdin=capture.read_bytes()))
    assert staged["counts"]["records_out"] == receipt["counts"]["records_out"]
    broken = work / "broken.pcap"
    broken.write_bytes(capture.read_bytes()[:-40])
    run(*handler, "select", "run", "--measure", measure, "--selectors", "c2", str(broken),
        ok=False)
    assert "offset" in printed[-1]

    exports = tmp_path / "exports"
    exports.mkdir()
    for fmt in ("csv", "parquet", "stix"):
        run(*handler, "--purpose", "specified_damage_prevention", "select", "export",
            "--format", fmt, "--out", str(exports / f"records.{fmt}"))
    assert b"!ddos" in (exports / "records.csv").read_bytes()  # the declared token left

    places: dict[str, bytes] = {"printed": "".join(printed).encode()}
    places["log"] = logged.read_bytes()
    assert b"INSERT INTO selection_record" in places["log"]  # SQL really was logged
    spool = env / "spool"
    assert spool.is_dir() and _files(spool) == []  # staged input was shredded
    for path in _files(scratch):
        places[f"tmp:{path}"] = path.read_bytes()
    for path in _files(exports):
        places[f"export:{path.name}"] = path.read_bytes()
    if engine.dialect.name == "sqlite":
        database = Path(engine.url.database or "")
        for suffix in ("", "-wal", "-shm"):
            target = database.with_name(database.name + suffix)
            if target.exists():
                places[f"sqlite{suffix}"] = target.read_bytes()
        assert places["sqlite"]
    else:
        pg_dump = require_tool("pg_dump")
        url = engine.url
        dump = subprocess.run(
            [pg_dump, "--data-only", "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
             "-U", url.username or "postgres", url.database or ""],
            capture_output=True, check=True, timeout=120,
        )
        places["pg_dump"] = dump.stdout
        assert b"selection_record" in dump.stdout and b"COMMS" in dump.stdout
    leaks = sorted(name for name, data in places.items() if needle in data)
    assert leaks == []
