"""Reading vulnerability feeds: which kind a file is (by its content, not its name), and
the units an import stores all-or-nothing — a file, or each record of a folder or of
the cvelistV5 bulk zip (whose release zip holds ``cves.zip`` inside).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mamori.vulns.ingest import csaf, cve5, jvn, kev
from mamori.vulns.ingest.records import FeedError, ParsedFeed

MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_MEMBER_BYTES = 32 * 1024 * 1024
MAX_MEMBERS = 2_000_000
SUFFIXES = (".json", ".xml", ".zip")


@dataclass(frozen=True)
class Unit:
    """One thing to parse: its name for messages and provenance, and its bytes."""

    name: str
    data: bytes


def parse_json(data: bytes, name: str) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FeedError(name, f"not UTF-8 text (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise FeedError(name, f"not valid JSON (line {exc.lineno}, column {exc.colno})") from exc
    except RecursionError as exc:
        raise FeedError(name, "JSON nested too deeply") from exc


def detect(data: bytes, name: str) -> str:
    """``kev``, ``cve5``, ``jvn``, ``csaf`` or ``zip``, judged by the content."""
    if data[:4] == b"PK\x03\x04":
        return "zip"
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        if jvn.looks_like_xml(data):
            return "jvn"
        raise FeedError(name, "XML that is not a JVN VULDEF document")
    document = parse_json(data, name)
    for kind, test in (("kev", kev.looks_like), ("cve5", cve5.looks_like),
                       ("csaf", csaf.looks_like), ("jvn", jvn.looks_like_json)):
        if test(document):
            return kind
    raise FeedError(name, "not a KEV catalogue, a CVE JSON 5 record, a JVN VULDEF document "
                          "or a CSAF 2.0 advisory")


def parse_unit(unit: Unit) -> ParsedFeed:
    """Parse one file completely (nothing is stored yet)."""
    kind = detect(unit.data, unit.name)
    if kind == "jvn" and unit.data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return jvn.parse(jvn.read_xml(unit.data, unit.name), unit.name)
    if kind == "zip":
        raise FeedError(unit.name, "a zip inside a record is not a feed")
    document = parse_json(unit.data, unit.name)
    parser = {"kev": kev.parse, "cve5": cve5.parse, "csaf": csaf.parse, "jvn": jvn.parse}[kind]
    return parser(document, unit.name)


def _zip_units(archive: zipfile.ZipFile, prefix: str, depth: int) -> Iterator[Unit]:
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise FeedError(prefix, f"more than {MAX_MEMBERS} members")
    for info in sorted(members, key=lambda i: i.filename):
        if info.is_dir():
            continue
        name = f"{prefix}!{info.filename}"
        leaf = info.filename.rsplit("/", 1)[-1]
        if leaf.endswith(".zip") and depth == 0:
            with archive.open(info) as handle, zipfile.ZipFile(handle) as inner:
                yield from _zip_units(inner, name, depth + 1)
            continue
        if not (leaf.startswith("CVE-") and leaf.endswith(".json")):
            continue  # delta logs and indexes of the bulk layout are not records
        if info.file_size > MAX_MEMBER_BYTES:
            raise FeedError(name, f"larger than {MAX_MEMBER_BYTES // (1024 * 1024)} MiB")
        with archive.open(info) as handle:
            data = handle.read(MAX_MEMBER_BYTES + 1)
        if len(data) > MAX_MEMBER_BYTES:
            raise FeedError(name, "larger than its zip header says")
        yield Unit(name, data)


def zip_units(data: bytes, name: str) -> Iterator[Unit]:
    """The CVE records of a cvelistV5 bulk zip (nested ``cves.zip`` included)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise FeedError(name, "not a readable zip archive") from exc
    with archive:
        yield from _zip_units(archive, name, 0)


def read_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise FeedError(path.name, f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        return path.read_bytes()
    except OSError:
        raise FeedError(path.name, "cannot be read") from None


def fetched_at(path: Path) -> datetime:
    """When the file was fetched, as far as the file system says (its modification time)."""
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


def files_under(path: Path) -> list[Path]:
    """The feed files under a folder, in a stable order (hidden files skipped)."""
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                  and not any(part.startswith(".") for part in p.relative_to(path).parts))


__all__ = ["FeedError", "ParsedFeed", "Unit", "detect", "fetched_at", "files_under",
           "parse_json", "parse_unit", "read_file", "zip_units"]
