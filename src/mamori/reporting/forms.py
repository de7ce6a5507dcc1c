"""Export a report as the fields another law's form needs (R-4.2-25).

Each form is a mapping file ``mappings/<name>.toml``: an ordered list of target
fields, each with Japanese and English labels and the report item it is filled from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mamori.config import get_settings
from mamori.errors import InvalidInput
from mamori.reporting.attack import catalogue
from mamori.reporting.configuration import PACKAGED, read_toml

_REPORT_ITEMS = ("title", "kind", "version", "submitted_at", "detected_at", "aware_at", "stage")
_SOURCES = frozenset(
    {f"report.{i}" for i in _REPORT_ITEMS}
    | {"operator.name", "operator.ministry", "incident.id", "incident.regulation",
       "techniques", "indicators.count", "computers.count"}
)


@dataclass(frozen=True)
class FormField:
    key: str
    label_ja: str
    label_en: str
    source: str


@dataclass(frozen=True)
class FormMapping:
    name: str
    name_ja: str
    name_en: str
    fields: tuple[FormField, ...]


def _valid_source(source: str) -> bool:
    from mamori.reporting.workflows import FIELD_KEYS

    return source in _SOURCES or (source.startswith("fields.") and
                                  source.removeprefix("fields.") in FIELD_KEYS)


def mapping_files() -> dict[str, Path]:
    """Every form by name; a file in ``$MAMORI_HOME/reporting/mappings`` wins."""
    found = {p.stem: p for p in sorted((PACKAGED / "mappings").glob("*.toml"))}
    override = get_settings().home / "reporting" / "mappings"
    if override.is_dir():
        found.update({p.stem: p for p in sorted(override.glob("*.toml"))})
    return found


def load_mapping(name: str) -> FormMapping:
    files = mapping_files()
    if name not in files:
        raise InvalidInput(f"unknown form {name!r}; forms: {', '.join(sorted(files))}",
                           field="format")
    data, _ = read_toml(files[name])
    fields = []
    for i, raw in enumerate(data.get("field", [])):
        field = FormField(str(raw.get("key", "")), str(raw.get("label_ja", "")),
                          str(raw.get("label_en", "")), str(raw.get("source", "")))
        if not (field.key and field.label_ja and field.label_en and _valid_source(field.source)):
            raise InvalidInput(f"mapping {name}, field {i + 1}: key, labels and a known "
                               "source are required", field="format")
        fields.append(field)
    return FormMapping(name, str(data.get("name_ja", name)), str(data.get("name_en", name)),
                       tuple(fields))


def fill(mapping: FormMapping, *, context: dict[str, Any]) -> dict[str, Any]:
    """The form's fields filled from one report version (``context`` as built by
    ``exports``): value, and whether it is uncertain or not obtainable."""
    doc = context["document"]
    attack = catalogue()
    out = []
    for field in mapping.fields:
        uncertain, not_obtainable, value = False, None, None
        if field.source.startswith("fields."):
            entry = doc.get("fields", {}).get(field.source.removeprefix("fields."))
            if entry:
                value = entry.get("value")
                uncertain = bool(entry.get("uncertain"))
                not_obtainable = entry.get("not_obtainable")
        elif field.source == "techniques":
            value = [f"{t['id']} {attack.techniques[t['id']].name}"
                     for t in doc.get("techniques", []) if t["id"] in attack.techniques]
            uncertain = any(t.get("uncertain") for t in doc.get("techniques", []))
        elif field.source in ("indicators.count", "computers.count"):
            value = len(doc.get(field.source.split(".")[0], []))
        elif field.source == "report.stage":
            value = doc["stage"]["value"]
            uncertain = bool(doc["stage"].get("uncertain"))
        elif field.source.startswith("report."):
            item = field.source.removeprefix("report.")
            value = context["version"][item] if item in context["version"] else doc.get(item)
        else:
            value = context[field.source]
        out.append({"key": field.key, "label_ja": field.label_ja, "label_en": field.label_en,
                    "value": value, "uncertain": uncertain, "not_obtainable": not_obtainable})
    return {"form": mapping.name, "name_ja": mapping.name_ja, "name_en": mapping.name_en,
            "incident": context["incident.id"], "version": context["version"]["version"],
            "fields": out}
