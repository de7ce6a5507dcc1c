"""The versioned device-category taxonomy (機器の分類, R-1.5-6).

Notification contents are organised by device category (R-4.2-5). The ICS categories
are the asset types of MITRE ATT&CK for ICS; IT and cloud categories complete them.
Each version is a file ``data/device-categories-v<N>.json`` that never changes once
shipped: a computer keeps the taxonomy version it was notified under, so an old
notification still reads the same after a new version is published.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
_FILE = re.compile(r"^device-categories-v(\d+)\.json$")


@dataclass(frozen=True)
class DeviceCategory:
    """One category: its stable code, group (ics, it, cloud, other) and names."""

    code: str
    group: str
    name_ja: str
    name_en: str
    description_en: str = ""
    attack_id: str | None = None
    attack_url: str | None = None
    platforms: tuple[str, ...] = ()
    related_assets: tuple[str, ...] = ()

    def name(self, language: str) -> str:
        return self.name_ja if language == "ja" else self.name_en


@dataclass(frozen=True)
class Taxonomy:
    """One published version of the taxonomy."""

    version: int
    published: str
    groups: dict[str, dict[str, str]]
    categories: dict[str, DeviceCategory]
    sources: tuple[dict[str, str], ...] = field(default_factory=tuple)

    def get(self, code: str) -> DeviceCategory | None:
        return self.categories.get(code)

    def group_name(self, group: str, language: str) -> str:
        names = self.groups.get(group, {})
        return names.get(language) or names.get("en") or group


def _load(path: Path) -> Taxonomy:
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    categories = {
        item["code"]: DeviceCategory(
            code=item["code"],
            group=item["group"],
            name_ja=item["name_ja"],
            name_en=item["name_en"],
            description_en=item.get("description_en", ""),
            attack_id=item.get("attack_id"),
            attack_url=item.get("attack_url"),
            platforms=tuple(item.get("platforms", ())),
            related_assets=tuple(item.get("related_assets", ())),
        )
        for item in raw["categories"]
    }
    return Taxonomy(
        version=int(raw["version"]),
        published=str(raw.get("published", "")),
        groups=raw["groups"],
        categories=categories,
        sources=tuple(raw.get("sources", ())),
    )


@cache
def versions() -> dict[int, Taxonomy]:
    """Every shipped version, by number."""
    found: dict[int, Taxonomy] = {}
    for path in sorted(DATA_DIR.glob("device-categories-v*.json")):
        match = _FILE.match(path.name)
        if match:
            found[int(match.group(1))] = _load(path)
    return found


def newest() -> Taxonomy:
    shipped = versions()
    return shipped[max(shipped)]


def taxonomy(version: int | None = None) -> Taxonomy | None:
    """A shipped version (the newest when ``version`` is None), or None if unknown."""
    if version is None:
        return newest()
    return versions().get(version)
