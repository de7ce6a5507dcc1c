"""MITRE ATT&CK (Enterprise and ICS v18.1) in a compact form, for the scope rules.

The full STIX bundles are tens of megabytes; reporting needs only technique ids,
names, tactics and links. ``compact_bundle`` derives the vendored files in
``data/`` from MITRE's bundles (a test checks they agree); ``catalogue`` loads them.
MITRE's licence is in ``data/LICENSE.txt`` and must travel with every copy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
VERSION = "18.1"
DOMAINS: dict[str, str] = {"enterprise": "enterprise-attack", "ics": "ics-attack"}
TECHNIQUE_ID = re.compile(r"^T\d{4}(?:\.\d{3})?$")
COPYRIGHT = (
    "© 2025 The MITRE Corporation. This work is reproduced and distributed with the "
    "permission of The MITRE Corporation."
)


@dataclass(frozen=True)
class Tactic:
    id: str
    shortname: str
    name: str
    domain: str


@dataclass(frozen=True)
class Technique:
    id: str
    stix_id: str
    name: str
    domain: str
    tactics: tuple[str, ...]
    url: str

    @property
    def is_subtechnique(self) -> bool:
        return "." in self.id


def _mitre_id(obj: Mapping[str, Any]) -> tuple[str, str]:
    for ref in obj.get("external_references", ()):
        if ref.get("source_name") == "mitre-attack" and ref.get("external_id"):
            return str(ref["external_id"]), str(ref.get("url", ""))
    return "", ""


def _current(obj: Mapping[str, Any]) -> bool:
    return not obj.get("revoked") and not obj.get("x_mitre_deprecated")


def compact_bundle(bundle: Mapping[str, Any], domain: str) -> dict[str, Any]:
    """The compact form of one MITRE STIX bundle: current tactics and techniques only."""
    objects: Iterable[Mapping[str, Any]] = bundle.get("objects", ())
    tactics: list[dict[str, str]] = []
    techniques: list[dict[str, Any]] = []
    for obj in objects:
        if not _current(obj):
            continue
        if obj.get("type") == "x-mitre-tactic":
            tid, _ = _mitre_id(obj)
            tactics.append(
                {"id": tid, "shortname": str(obj["x_mitre_shortname"]), "name": str(obj["name"])}
            )
        elif obj.get("type") == "attack-pattern":
            tid, url = _mitre_id(obj)
            if not tid:
                continue
            phases = sorted(
                {str(p["phase_name"]) for p in obj.get("kill_chain_phases", ())}
            )
            techniques.append(
                {"id": tid, "stix_id": str(obj["id"]), "name": str(obj["name"]),
                 "tactics": phases, "url": url}
            )
    return {
        "domain": DOMAINS[domain],
        "version": VERSION,
        "copyright": COPYRIGHT,
        "tactics": sorted(tactics, key=lambda t: t["id"]),
        "techniques": sorted(techniques, key=lambda t: t["id"]),
    }


def data_file(domain: str) -> Path:
    return DATA_DIR / f"attack-{domain}-{VERSION}.json"


@dataclass(frozen=True)
class AttackCatalogue:
    """Techniques and tactics of both domains, looked up by ATT&CK id."""

    techniques: Mapping[str, Technique]
    tactics: Mapping[str, Tactic]

    def technique(self, technique_id: str) -> Technique | None:
        return self.techniques.get(technique_id)

    def tactics_of(self, technique_id: str) -> frozenset[str]:
        """Tactic short names of a technique (a sub-technique falls back to its parent's)."""
        found = self.techniques.get(technique_id)
        if found is None:
            return frozenset()
        if not found.tactics and found.is_subtechnique:
            return self.tactics_of(technique_id.split(".", 1)[0])
        return frozenset(found.tactics)

    def search(self, text: str, limit: int = 20) -> list[Technique]:
        """Techniques whose id or name contains ``text`` (case-insensitive)."""
        needle = text.strip().lower()
        if not needle:
            return []
        hits = [t for t in self.techniques.values()
                if needle in t.id.lower() or needle in t.name.lower()]
        return sorted(hits, key=lambda t: (not t.id.lower().startswith(needle), t.id))[:limit]


def _load(domain: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(data_file(domain).read_text(encoding="utf-8"))
    return data


@lru_cache(maxsize=1)
def catalogue() -> AttackCatalogue:
    techniques: dict[str, Technique] = {}
    tactics: dict[str, Tactic] = {}
    for domain in DOMAINS:
        data = _load(domain)
        for t in data["tactics"]:
            tactics[t["id"]] = Tactic(t["id"], t["shortname"], t["name"], domain)
        for t in data["techniques"]:
            techniques[t["id"]] = Technique(
                id=t["id"], stix_id=t["stix_id"], name=t["name"], domain=domain,
                tactics=tuple(t["tactics"]), url=t["url"],
            )
    return AttackCatalogue(techniques=techniques, tactics=tactics)


def build_data_files(source_dir: Path) -> list[Path]:
    """Regenerate ``data/`` from MITRE's bundles in ``source_dir`` (maintainers only)."""
    written = []
    for domain, name in DOMAINS.items():
        bundle = json.loads((source_dir / f"{name}-{VERSION}.json").read_text(encoding="utf-8"))
        path = data_file(domain)
        path.write_text(
            json.dumps(compact_bundle(bundle, domain), ensure_ascii=False, indent=0) + "\n",
            encoding="utf-8",
        )
        written.append(path)
    return written


if __name__ == "__main__":  # python -m mamori.reporting.attack ../shared/data/attack
    import sys

    for written_path in build_data_files(Path(sys.argv[1])):
        print(written_path)
