"""The TAXII server as it runs: two uvicorn processes of the app in front of one database,
read by the real ``taxii2-client`` with pages alternating between them; the same
conversation against a local ``medallion`` holding the same objects (a differential
test); every STIX object served checked with ``stix2-validator``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, select, text
from stix2validator import ValidationOptions, validate_parsed_json
from taxii2client.v21 import Collection, Server, as_pages

from mamori.db.base import Base
from mamori.dissemination.models import RecipientRecord, ServedObjectRecord
from mamori.dissemination.taxii.params import STIX_MEDIA, TAXII_MEDIA, format_timestamp
from mamori.dissemination.taxii.server import collection_id

from .conftest import World, build_world

PAGE = 3


@pytest.fixture
def engine(_pg_engine: Engine) -> Iterator[Engine]:
    """These tests are about several processes in front of one PostgreSQL database."""
    yield _pg_engine
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with _pg_engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{what} did not start listening")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _uvicorn(env_home: Path, count: int) -> list[tuple[str, subprocess.Popen[bytes]]]:
    """``count`` server processes of the app, started side by side."""
    environment = {**os.environ, "MAMORI_HOME": str(env_home)}
    started = []
    for _ in range(count):
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "mamori.web.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
             "--timeout-graceful-shutdown", "1"],
            env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append((port, process))
    for port, process in started:
        _wait(port, process, "uvicorn")
    return [(f"http://127.0.0.1:{port}", process) for port, process in started]


@pytest.fixture
def taxii_world(session: Any, env: Path) -> Iterator[tuple[World, str, list[str]]]:
    """A council member that received three provisions at three moments (each more
    objects than a page, one a new version of a product), and two server processes."""
    from mamori.products import service as products

    from .conftest import _import, indicator

    world = build_world(session, indicators=5)
    world.entitle()
    world.provide("council_member", 2)
    world.provide("council_member", 3)
    revised = {**indicator("public-0", "192.0.2.1"), "modified": "2026-05-01T00:00:00.000Z"}
    added = [indicator(f"later-{n}", f"198.51.100.{n + 1}") for n in range(4)]
    _import(world.session, world.analyst, [revised, *added], ["PUBLIC"])
    products.compose_product(
        session=world.session, principal=world.analyst, title_ja="続報", title_en="Update",
        narrative_ja="続報。", narrative_en="Update.", use="tactical",
        readers=["council_member"], supersedes=world.product,
        object_ids=[*world.objects, *(o["id"] for o in added)])
    world.provide("council_member", 3)
    world.account("kaori", "council_member", "aoba")
    world.account("pub", "operator", "midori")
    token = world.token("kaori")
    world.provide("computer_user_public", 3)
    world.public_token = world.token("pub")  # type: ignore[attr-defined]
    world.session.commit()
    servers = _uvicorn(env, 2)
    try:
        yield world, token, [url for url, _ in servers]
    finally:
        for _, process in servers:
            _stop(process)


def _collection(url: str, token: str, category: str, user: str = "kaori") -> Collection:
    return Collection(f"{url}/taxii2/mamori/collections/{collection_id(category)}/",
                      user=user, password=token)


def _key(obj: dict[str, Any]) -> tuple[str, str]:
    return obj["id"], obj.get("modified", obj.get("created", ""))


def _page_alternately(world: World, a: str, b: str, user: str, token: str,
                      category: str, code: str) -> int:
    """Page 1 from server A, follow ``next`` against B, then A, …: every object once."""
    expected = world.session.scalars(select(ServedObjectRecord).join(
        RecipientRecord, RecipientRecord.id == ServedObjectRecord.recipient_id).where(
        RecipientRecord.code == code)).all()
    assert len(expected) > PAGE
    turns = 0
    for version in ("all", "last"):
        clients = [_collection(a, token, category, user), _collection(b, token, category, user)]
        page = clients[0].get_objects(limit=PAGE, version=version)
        got = list(page["objects"])
        turn = 1
        while page.get("more"):
            page = clients[turn % 2].get_objects(limit=PAGE, next=page["next"], version=version)
            got.extend(page["objects"])
            turn += 1
        keys = [_key(o) for o in got]
        assert len(keys) == len(set(keys)), "an object came twice"
        if version == "all":
            assert set(keys) == {(r.stix_id, r.version) for r in expected}
        else:
            assert sorted(k[0] for k in keys) == sorted({r.stix_id for r in expected})
        turns = max(turns, turn)
    return turns


def test_two_processes_serve_one_paging_conversation(taxii_world: Any) -> None:
    world, token, (a, b) = taxii_world
    server = Server(f"{a}/taxii2/", user="kaori", password=token)
    roots = server.api_roots
    assert [r.url for r in roots] == [f"{a}/taxii2/mamori/"]
    listed = roots[0].collections
    assert [c.id for c in listed] == [collection_id("council_member")]
    # Every collection, each read by its recipient, with a page smaller than it.
    assert _page_alternately(world, a, b, "kaori", token, "council_member", "aoba") > 2
    assert _page_alternately(world, a, b, "pub", world.public_token, "computer_user_public",
                             "midori") > 1
    # The real client's own pager works against either process too.
    for url in (a, b):
        pages = list(as_pages(_collection(url, token, "council_member").get_objects,
                              per_request=PAGE))
        assert len(pages) > 1
    _every_served_object_is_valid_stix(a, token)
    _posting_and_wrong_credentials(world, token, a, b)


def _every_served_object_is_valid_stix(url: str, token: str) -> None:
    got: list[dict[str, Any]] = []
    for page in as_pages(_collection(url, token, "council_member").get_objects,
                         per_request=50, version="all"):
        got.extend(page.get("objects", []))
    assert got
    options = ValidationOptions(version="2.1")
    for obj in got:
        result = validate_parsed_json(obj, options)
        assert result.is_valid, (obj["id"], [str(e) for e in result.errors])


def _posting_and_wrong_credentials(world: World, token: str, a: str, b: str) -> None:
    from .conftest import indicator

    shared = indicator("via-client", "203.0.113.80")
    status = _collection(a, token, "council_member").add_objects(
        {"objects": [shared]}, wait_for_completion=False)
    assert status.status == "complete" and status.success_count == 1
    again = requests.get(f"{b}/taxii2/mamori/status/{status.id}/", auth=("kaori", token),
                         headers={"Accept": TAXII_MEDIA}, timeout=10)
    assert again.status_code == 200 and again.json()["id"] == status.id
    wrong = requests.get(f"{a}/taxii2/mamori/collections/{collection_id('council_member')}"
                         "/objects/", auth=("kaori", "not-the-token"),
                         headers={"Accept": TAXII_MEDIA}, timeout=10)
    assert wrong.status_code == 401 and "objects" not in wrong.json()
    pub_token = world.public_token
    other = requests.get(f"{b}/taxii2/mamori/collections/{collection_id('council_member')}"
                         "/objects/", auth=("pub", pub_token),
                         headers={"Accept": TAXII_MEDIA}, timeout=10)
    assert other.status_code == 403 and "objects" not in other.json()


def _medallion(tmp: Path, world: World, token: str) -> tuple[str, subprocess.Popen[bytes]]:
    """medallion's memory backend with the council member's collection, as stored."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    rows = world.session.scalars(select(ServedObjectRecord).join(
        RecipientRecord, RecipientRecord.id == ServedObjectRecord.recipient_id).where(
        RecipientRecord.code == "aoba").order_by(ServedObjectRecord.date_added,
                                                 ServedObjectRecord.id)).all()
    collection = {
        "id": collection_id("council_member"), "title": "council", "can_read": True,
        "can_write": False, "media_types": [STIX_MEDIA],
        "objects": [json.loads(r.body) for r in rows],
        "manifest": [{"id": r.stix_id, "date_added": format_timestamp(r.date_added),
                      "version": r.version, "media_type": STIX_MEDIA} for r in rows],
    }
    data = {"/discovery": {"title": "medallion", "default": f"{url}/mamori/",
                           "api_roots": [f"{url}/mamori/"]},
            "mamori": {"information": {"title": "mamori", "versions": [TAXII_MEDIA],
                                       "max_content_length": 10_000_000},
                       "status": [], "collections": [collection]}}
    (tmp / "data.json").write_text(json.dumps(data), encoding="utf-8")
    config = {"backend": {"module": "medallion.backends.memory_backend",
                          "module_class": "MemoryBackend",
                          "filename": str(tmp / "data.json")},
              "users": {"kaori": token}, "taxii": {"max_page_size": 100}}
    (tmp / "config.json").write_text(json.dumps(config), encoding="utf-8")
    medallion = Path(sys.executable).with_name("medallion")
    process = subprocess.Popen(
        [str(medallion), "--host", "127.0.0.1", "--port", str(port), str(tmp / "config.json")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(port, process, "medallion")
    return url, process


def _conversation(discovery_url: str, token: str) -> dict[str, Any]:
    """discovery → API root → collection → objects: paged, added_after, match[type]."""
    server = Server(discovery_url, user="kaori", password=token)
    collection = server.api_roots[0].collections[0]
    paged = [o for p in as_pages(collection.get_objects, per_request=PAGE)
             for o in p.get("objects", [])]
    every = [o for p in as_pages(collection.get_objects, per_request=PAGE, version="all")
             for o in p.get("objects", [])]
    manifest = [m for p in as_pages(collection.get_manifest, per_request=100, version="all")
                for m in p.get("objects", [])]
    middle = sorted({m["date_added"] for m in manifest})[0]
    after = [o for p in as_pages(collection.get_objects, per_request=PAGE, added_after=middle)
             for o in p.get("objects", [])]
    typed = [o for p in as_pages(collection.get_objects, per_request=PAGE, type="indicator")
             for o in p.get("objects", [])]
    return {"collection": collection.id, "paged": paged, "every": every, "after": after,
            "typed": typed}


def test_the_same_conversation_with_medallion_gives_the_same_objects(
        taxii_world: Any, tmp_path: Path) -> None:
    world, token, (a, _) = taxii_world
    url, process = _medallion(tmp_path, world, token)
    try:
        theirs = _conversation(f"{url}/taxii2/", token)
    finally:
        _stop(process)
    ours = _conversation(f"{a}/taxii2/", token)
    assert ours["collection"] == theirs["collection"]
    for name in ("paged", "every", "after", "typed"):
        assert ours[name], name
        assert ours[name] == theirs[name], name
