"""Secret files created on first use: many threads and processes asking at once all get
the same whole secret (never a part of one being written), and a file others can read
is refused."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mamori.config import reset_settings_cache
from mamori.db.keyfiles import key_path, read_secret
from mamori.errors import InvalidInput

READ = "from mamori.db.keyfiles import read_secret; import sys; " \
       "sys.stdout.write(read_secret('race.key', what='test key').hex())"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MAMORI_HOME", str(tmp_path))
    reset_settings_cache()
    yield tmp_path
    reset_settings_cache()


@pytest.mark.parametrize("round_", range(5))
def test_concurrent_first_use_yields_one_whole_secret(home: Path, round_: int) -> None:
    name = f"race-{round_}.key"
    with ThreadPoolExecutor(max_workers=8) as pool:
        seen = set(pool.map(lambda _: read_secret(name, what="test key"), range(32)))
    assert len(seen) == 1 and len(seen.pop()) == 32
    assert [p.name for p in key_path(name).parent.iterdir() if p.name.startswith(".")] == []


def test_processes_agree_on_the_secret(home: Path) -> None:
    runs = [subprocess.Popen([sys.executable, "-c", READ], stdout=subprocess.PIPE, text=True)
            for _ in range(4)]
    outputs = {run.communicate(timeout=60)[0] for run in runs}
    assert len(outputs) == 1 and len(bytes.fromhex(outputs.pop())) == 32


def test_refused_when_others_can_read_or_too_short(home: Path) -> None:
    read_secret("a.key", what="test key")
    key_path("a.key").chmod(0o640)
    with pytest.raises(InvalidInput, match="chmod 600"):
        read_secret("a.key", what="test key")
    key_path("b.key").parent.mkdir(exist_ok=True)
    key_path("b.key").write_bytes(b"short")
    key_path("b.key").chmod(0o600)
    with pytest.raises(InvalidInput, match="shorter than 32 bytes"):
        read_secret("b.key", what="test key")
    with pytest.raises(InvalidInput, match=r"no test key c\.key"):
        read_secret("c.key", what="test key", create=False)
