"""Pulling a partner's TAXII 2.1 collection from a real server: ``medallion`` (the OASIS
reference server, memory backend) on a loopback port, read with taxii2-client."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from mamori.errors import Conflict, Forbidden, InvalidInput
from mamori.intel import service
from mamori.intel.ingest.taxii import SourceUnavailable

from .conftest import ANALYST, OPERATOR, SYSTEM, indicator, sid

COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
USER, PASSWORD = "partner", "correct horse"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def taxii_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("medallion")
    folder = tmp_path_factory.mktemp("medallion")
    port = _free_port()
    root = f"http://127.0.0.1:{port}/api1/"
    (folder / "data.json").write_text(json.dumps({
        "/discovery": {"title": "partner", "default": root, "api_roots": [root]},
        "api1": {"information": {"title": "partner feed",
                                 "versions": ["application/taxii+json;version=2.1"],
                                 "max_content_length": 10_000_000},
                 "status": [],
                 "collections": [{"id": COLLECTION, "title": "indicators", "can_read": True,
                                  "can_write": True,
                                  "media_types": ["application/stix+json;version=2.1"],
                                  "objects": [], "manifest": []}]},
    }), "utf-8")
    (folder / "config.json").write_text(json.dumps({
        "backend": {"module": "medallion.backends.memory_backend",
                    "module_class": "MemoryBackend", "filename": str(folder / "data.json")},
        "users": {USER: PASSWORD}, "taxii": {"max_page_size": 3}}), "utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "medallion.scripts.run", "--host", "127.0.0.1", "--port",
         str(port), str(folder / "config.json")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.1)
    try:
        yield f"{root}collections/{COLLECTION}/"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _publish(url: str, objects: list[dict]) -> None:  # type: ignore[type-arg]
    from taxii2client.v21 import Collection

    status = Collection(url, user=USER, password=PASSWORD).add_objects({"objects": objects})
    assert status.success_count == len(objects)
    time.sleep(0.01)  # the next objects get a later date_added


def test_pull_is_incremental_and_resumable(session: Session, taxii_server: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNER_TAXII_PASSWORD", PASSWORD)
    prefix = f"{session.get_bind().dialect.name}-"
    first = [indicator(f"{prefix}{n}", f"[ipv4-addr:value = '198.51.100.{n}']")
             for n in range(5)]
    _publish(taxii_server, first)
    name = f"partner-{session.get_bind().dialect.name}"
    source = service.add_source(session=session, principal=ANALYST, name=name,
                                url=taxii_server, username=USER,
                                password_env="PARTNER_TAXII_PASSWORD",
                                consent=["administrative_body"])
    assert source.labels.names == {"SECRET", "ATTRIBUTED"}
    with pytest.raises(Conflict):
        service.add_source(session=session, principal=ANALYST, name=name, url=taxii_server)
    session.commit()
    commits: list[int] = []
    (result,) = [r for r in service.pull_all(session=session, principal=SYSTEM,
                                             checkpoint=lambda: commits.append(1))
                 if r.source == name]
    assert result.stored >= 5 and result.pages >= 2 and len(commits) == result.pages
    assert result.added_after is not None
    session.commit()
    record = service.get_object(session=session, principal=ANALYST,
                                stix_id=sid("indicator", f"{prefix}0"))
    assert record.labels.attributed[0].source == f"taxii:{name}"
    assert record.provenance[0].kind == "taxii"
    later = [indicator(f"{prefix}late", "[domain-name:value = 'late.example']")]
    _publish(taxii_server, later)
    again = service.pull_source(session=session, principal=SYSTEM, name=name)
    assert (again.objects, again.stored, again.merged) == (1, 1, 0)
    assert again.added_after is not None and again.added_after > result.added_after  # type: ignore[operator]
    assert service.pull_source(session=session, principal=SYSTEM, name=name).objects == 0


def test_source_errors(session: Session, taxii_server: str,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_PASSWORD", raising=False)
    with pytest.raises(InvalidInput):
        service.add_source(session=session, principal=ANALYST, name="Bad Name!", url="x")
    with pytest.raises(InvalidInput):
        service.add_source(session=session, principal=ANALYST, name="ok", url="ftp://x/")
    with pytest.raises(InvalidInput):
        service.add_source(session=session, principal=ANALYST, name="ok", url=taxii_server,
                           labels=["COMMS"])
    with pytest.raises(Forbidden):
        service.list_sources(session=session, principal=OPERATOR)
    service.add_source(session=session, principal=ANALYST, name="locked", url=taxii_server,
                       username=USER, password_env="NO_SUCH_PASSWORD")
    service.add_source(session=session, principal=ANALYST, name="down",
                       url=f"http://127.0.0.1:{_free_port()}/api1/collections/x/")
    with pytest.raises(SourceUnavailable, match="NO_SUCH_PASSWORD"):
        service.pull_source(session=session, principal=SYSTEM, name="locked")
    results = service.pull_all(session=session, principal=SYSTEM)
    assert [r.objects for r in results] == [0, 0]
    statuses = {s.name: s.last_status for s in service.list_sources(session=session,
                                                                    principal=ANALYST)}
    assert "did not answer" in (statuses["down"] or "")
