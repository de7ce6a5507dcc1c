"""``mamori report file`` and ``mamori report export`` as the acceptance checks run them."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from mamori.cli.context import state
from mamori.cli.main import app

from .conftest import example
from .test_stix_export import assert_valid_stix


def _run(monkeypatch, web_world, who: str, *args: str):
    monkeypatch.setenv("MAMORI_TOKEN", web_world.tokens[who])
    from mamori.config import reset_settings_cache

    reset_settings_cache()
    try:
        return CliRunner().invoke(app, ["--as", web_world.world[who].username, *args],
                                  catch_exceptions=False, standalone_mode=False)
    except Exception as exc:  # MamoriError: main() prints it and exits 2
        return exc
    finally:
        state.acting_as = None


def test_file_and_export(monkeypatch, web_world, tmp_path) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps(example("preliminary",
                                         computers=[web_world.world.computers["plc"]])),
                      encoding="utf-8")
    operator = str(web_world.world.operators["sakura"])
    result = _run(monkeypatch, web_world, "sakura", "report", "file", "--operator", operator,
                  str(report), "--json")
    filed = json.loads(result.output)
    assert filed["current_version"] == 1
    result = _run(monkeypatch, web_world, "sakura", "report", "export", str(filed["id"]),
                  "--format", "stix")
    assert_valid_stix(json.loads(result.output))
    result = _run(monkeypatch, web_world, "meti", "report", "export", str(filed["id"]),
                  "--format", "personal_information_leak")
    assert json.loads(result.output)["form"] == "personal_information_leak"


def test_errors_are_one_line_and_exit_2(web_world, tmp_path) -> None:
    import os
    import subprocess
    import sys

    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "mamori.incident-report/1", "kind": "soon"}', encoding="utf-8")
    env = {**os.environ, "MAMORI_TOKEN": web_world.tokens["sakura"]}
    done = subprocess.run(
        [sys.executable, "-m", "mamori.cli.main", "--as", web_world.world["sakura"].username,
         "report", "file", "--operator", str(web_world.world.operators["sakura"]), str(bad)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: ")
    assert len(done.stderr.strip().splitlines()) == 1
