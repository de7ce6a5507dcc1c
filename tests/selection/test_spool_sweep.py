"""Spool files left by a killed process are removed; nothing else is touched."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from mamori.selection.spool import SpoolFile, spool_stream, sweep_orphans

CHILD = """
import os, signal, sys
from pathlib import Path
from mamori.selection.spool import SpoolFile
spool = SpoolFile(Path(sys.argv[1]))
spool.write(b"staged by a process about to die")
spool._out.flush()
print(spool.path.name, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_only_files_of_dead_processes_are_swept(tmp_path: Path) -> None:
    child = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)],
                           capture_output=True, text=True, timeout=60)
    assert child.returncode == -signal.SIGKILL
    orphan = tmp_path / child.stdout.strip()
    assert orphan.exists() and b"about to die" not in orphan.read_bytes()
    live = spool_stream([b"ours"], tmp_path)
    unfinished = SpoolFile(tmp_path)
    foreign = [tmp_path / "notes.spool", tmp_path / "abc-def.spool", tmp_path / "123.spool"]
    for path in foreign:
        path.write_bytes(b"not ours")

    assert sweep_orphans(tmp_path) == 1
    assert not orphan.exists()
    assert live.path.exists() and unfinished.path.exists()
    assert all(path.exists() for path in foreign)
    assert live.open().read() == b"ours"
    live.shred()
    unfinished.shred()
    assert sweep_orphans(tmp_path) == 0
    assert sweep_orphans(tmp_path / "absent") == 0
