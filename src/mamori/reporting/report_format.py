"""The incident-report JSON format (``mamori.incident-report/1``) and its parser.

One document is one submission: a preliminary report (速報), an update or a final
report. Facts known only uncertainly are flagged per field (R-4.2-21); facts about
computers the operator does not manage directly may be "not obtainable" with a reason
(R-4.2-22). The JSON Schema in ``schema/incident-report.schema.json`` describes the
same format for other tools; this parser is the authority. Error messages name the
JSON path and never repeat submitted values.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mamori.errors import InvalidInput
from mamori.reporting.attack import catalogue
from mamori.reporting.workflows import FIELD_KEYS, KINDS, Workflow

FORMAT = "mamori.incident-report/1"
STAGES: tuple[str, ...] = ("attempt_blocked", "detected_inside", "confirmed_compromise", "impact")
MAX_BYTES = 1024 * 1024
MAX_TEXT = 4000
MAX_TITLE = 200
MAX_REASON = 500
MAX_ITEMS = {"techniques": 100, "computers": 500, "indicators": 1000, "data_items": 50}

TEXT_FIELDS = frozenset({"summary", "impact", "cause", "measures_taken", "secondary_damage",
                         "publication", "contact"})
BOOL_FIELDS = frozenset({"service_disruption", "personal_data_affected"})
INT_FIELDS = frozenset({"records_affected"})
TIME_FIELDS = frozenset({"started_at"})
LIST_FIELDS = frozenset({"data_items"})

# Mechanical information only: addresses, names and digests. URLs, e-mail contents and
# other communications content are refused (the privacy rule of ARCHITECTURE.md).
INDICATOR_TYPES: tuple[str, ...] = (
    "ipv4-addr", "ipv6-addr", "domain-name", "file-sha256", "file-sha1", "file-md5",
    "autonomous-system",
)
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))+$"
)
_HASH_LENGTH = {"file-sha256": 64, "file-sha1": 40, "file-md5": 32}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_TOP_KEYS = frozenset({"format", "regulation", "kind", "incident", "title", "detected_at",
                       "aware_at", "stage", "fields", "techniques", "computers", "indicators"})


class ReportFormatError(InvalidInput):
    """The document does not follow ``mamori.incident-report/1``."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem, field=path or "document")


@dataclass(frozen=True)
class FieldEntry:
    value: Any = None
    uncertain: bool = False
    not_obtainable: str | None = None

    def to_json(self) -> dict[str, Any]:
        if self.not_obtainable is not None:
            return {"not_obtainable": self.not_obtainable}
        value = self.value.isoformat() if isinstance(self.value, datetime) else self.value
        if isinstance(value, tuple):
            value = list(value)
        return {"value": value, "uncertain": self.uncertain}


@dataclass(frozen=True)
class TechniqueEntry:
    id: str
    uncertain: bool = False


@dataclass(frozen=True)
class ComputerEntry:
    id: int
    uncertain: bool = False
    not_obtainable: str | None = None


@dataclass(frozen=True)
class IndicatorEntry:
    type: str
    value: str
    uncertain: bool = False
    first_seen: datetime | None = None
    last_seen: datetime | None = None


@dataclass(frozen=True)
class ReportDocument:
    """One parsed submission."""

    regulation: str
    kind: str
    incident: int | None
    title: str
    detected_at: datetime
    aware_at: datetime
    stage: str
    stage_uncertain: bool = False
    fields: Mapping[str, FieldEntry] = field(default_factory=dict)
    techniques: tuple[TechniqueEntry, ...] = ()
    computers: tuple[ComputerEntry, ...] = ()
    indicators: tuple[IndicatorEntry, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The canonical form stored with the version (and accepted again by the parser)."""
        return {
            "format": FORMAT,
            "regulation": self.regulation,
            "kind": self.kind,
            "incident": self.incident,
            "title": self.title,
            "detected_at": self.detected_at.isoformat(),
            "aware_at": self.aware_at.isoformat(),
            "stage": {"value": self.stage, "uncertain": self.stage_uncertain},
            "fields": {k: v.to_json() for k, v in sorted(self.fields.items())},
            "techniques": [{"id": t.id, "uncertain": t.uncertain} for t in self.techniques],
            "computers": [
                {"id": c.id, "not_obtainable": c.not_obtainable} if c.not_obtainable is not None
                else {"id": c.id, "uncertain": c.uncertain}
                for c in self.computers
            ],
            "indicators": [
                {k: v for k, v in {
                    "type": i.type, "value": i.value, "uncertain": i.uncertain,
                    "first_seen": i.first_seen.isoformat() if i.first_seen else None,
                    "last_seen": i.last_seen.isoformat() if i.last_seen else None,
                }.items() if v is not None}
                for i in self.indicators
            ],
        }


# --- primitives ------------------------------------------------------------------------


def _kind_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _object(value: Any, path: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ReportFormatError(path, f"must be an object, not {_kind_name(value)}")
    unknown = sorted(k for k in value if k not in allowed)
    if unknown:
        names = ", ".join(repr(k) for k in unknown[:5] if len(k) <= 40)
        raise ReportFormatError(path, f"unknown keys {names or '(long key)'}; "
                                      f"allowed: {', '.join(sorted(allowed))}")
    return value


def _text(value: Any, path: str, limit: int, *, required: bool = True) -> str:
    if not isinstance(value, str):
        raise ReportFormatError(path, f"must be a string, not {_kind_name(value)}")
    text = value.strip()
    if required and not text:
        raise ReportFormatError(path, "must not be empty")
    if len(text) > limit:
        raise ReportFormatError(path, f"must have at most {limit} characters")
    if any(ord(ch) < 32 and ch not in "\n\t\r" for ch in text):
        raise ReportFormatError(path, "contains control characters")
    return text


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ReportFormatError(path, f"must be true or false, not {_kind_name(value)}")
    return value


def _time(value: Any, path: str) -> datetime:
    if not isinstance(value, str):
        raise ReportFormatError(path, "must be an ISO 8601 time with a time zone")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ReportFormatError(path, "must be an ISO 8601 time with a time zone, "
                                      "e.g. 2026-04-01T09:30:00+09:00") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ReportFormatError(path, "needs a time zone, e.g. +09:00 or Z")
    return parsed


def _int(value: Any, path: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ReportFormatError(path, f"must be a whole number, not {_kind_name(value)}")
    if value < minimum or value > 2**53:
        raise ReportFormatError(path, f"must be a whole number of at least {minimum}")
    return value


def _list(value: Any, path: str, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise ReportFormatError(path, f"must be a list, not {_kind_name(value)}")
    if len(value) > MAX_ITEMS[name]:
        raise ReportFormatError(path, f"may have at most {MAX_ITEMS[name]} entries")
    return value


# --- fields ----------------------------------------------------------------------------


def _field_value(key: str, value: Any, path: str) -> Any:
    if key in TEXT_FIELDS:
        return _text(value, path, MAX_TEXT)
    if key in BOOL_FIELDS:
        return _bool(value, path)
    if key in INT_FIELDS:
        return _int(value, path)
    if key in TIME_FIELDS:
        return _time(value, path)
    items = _list(value, path, "data_items")
    return tuple(_text(item, f"{path}[{i}]", MAX_TITLE) for i, item in enumerate(items))


def _field(key: str, raw: Any, path: str) -> FieldEntry:
    if isinstance(raw, dict) and ("value" in raw or "not_obtainable" in raw or "uncertain" in raw):
        entry = _object(raw, path, frozenset({"value", "uncertain", "not_obtainable"}))
        if "not_obtainable" in entry:
            if "value" in entry or entry.get("uncertain"):
                raise ReportFormatError(path, "give either a value or not_obtainable, not both")
            reason = _text(entry["not_obtainable"], f"{path}.not_obtainable", MAX_REASON)
            return FieldEntry(not_obtainable=reason)
        if "value" not in entry:
            raise ReportFormatError(f"{path}.value", "is missing")
        uncertain = _bool(entry.get("uncertain", False), f"{path}.uncertain")
        return FieldEntry(_field_value(key, entry["value"], f"{path}.value"), uncertain)
    return FieldEntry(_field_value(key, raw, path))


def _technique(raw: Any, path: str) -> TechniqueEntry:
    if isinstance(raw, str):
        technique_id, uncertain = raw, False
    else:
        entry = _object(raw, path, frozenset({"id", "uncertain"}))
        if "id" not in entry:
            raise ReportFormatError(f"{path}.id", "is missing")
        technique_id = entry["id"]
        uncertain = _bool(entry.get("uncertain", False), f"{path}.uncertain")
        path = f"{path}.id"
    if not isinstance(technique_id, str) or catalogue().technique(technique_id) is None:
        raise ReportFormatError(path, "is not a technique id of ATT&CK v18.1 "
                                      "(Enterprise or ICS), e.g. T1190 or T0866")
    return TechniqueEntry(technique_id, uncertain)


def _computer(raw: Any, path: str) -> ComputerEntry:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return ComputerEntry(_int(raw, path, 1))
    entry = _object(raw, path, frozenset({"id", "uncertain", "not_obtainable"}))
    if "id" not in entry:
        raise ReportFormatError(f"{path}.id", "is missing")
    computer_id = _int(entry["id"], f"{path}.id", 1)
    if "not_obtainable" in entry:
        if entry.get("uncertain"):
            raise ReportFormatError(path, "give either uncertain or not_obtainable, not both")
        reason = _text(entry["not_obtainable"], f"{path}.not_obtainable", MAX_REASON)
        return ComputerEntry(computer_id, not_obtainable=reason)
    return ComputerEntry(computer_id, _bool(entry.get("uncertain", False), f"{path}.uncertain"))


def indicator_value(kind: str, value: Any, path: str) -> str:
    """The normalised value of an indicator, or an error that does not repeat it."""
    if kind == "autonomous-system":
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 11:
            value = int(value)
        number = _int(value, path, 1)
        if number > 4_294_967_295:
            raise ReportFormatError(path, "is not a 32-bit AS number")
        return str(number)
    if not isinstance(value, str) or not value or len(value) > 253:
        raise ReportFormatError(path, "must be a non-empty string of at most 253 characters")
    text = value.strip()
    try:
        if kind == "ipv4-addr":
            return str(ipaddress.IPv4Network(text, strict=False)).removesuffix("/32")
        if kind == "ipv6-addr":
            return str(ipaddress.IPv6Network(text, strict=False)).removesuffix("/128")
    except ValueError:
        raise ReportFormatError(path, f"is not a valid {kind} address") from None
    if kind == "domain-name":
        if not _DOMAIN.match(text):
            raise ReportFormatError(path, "is not a valid domain name (ASCII or punycode)")
        return text.lower().rstrip(".")
    if not _HEX.match(text) or len(text) != _HASH_LENGTH[kind]:
        raise ReportFormatError(path, f"must be {_HASH_LENGTH[kind]} hexadecimal digits")
    return text.lower()


def _indicator(raw: Any, path: str) -> IndicatorEntry:
    entry = _object(raw, path, frozenset({"type", "value", "uncertain", "first_seen",
                                          "last_seen"}))
    kind = entry.get("type")
    if kind == "url":
        raise ReportFormatError(f"{path}.type", "URLs are communications content and are not "
                                                "accepted; report the domain-name instead")
    if kind not in INDICATOR_TYPES:
        raise ReportFormatError(f"{path}.type", f"must be one of {', '.join(INDICATOR_TYPES)}")
    if "value" not in entry:
        raise ReportFormatError(f"{path}.value", "is missing")
    first = _time(entry["first_seen"], f"{path}.first_seen") if "first_seen" in entry else None
    last = _time(entry["last_seen"], f"{path}.last_seen") if "last_seen" in entry else None
    if first and last and last < first:
        raise ReportFormatError(f"{path}.last_seen", "is before first_seen")
    return IndicatorEntry(
        type=kind, value=indicator_value(kind, entry["value"], f"{path}.value"),
        uncertain=_bool(entry.get("uncertain", False), f"{path}.uncertain"),
        first_seen=first, last_seen=last,
    )


def _stage(raw: Any) -> tuple[str, bool]:
    uncertain = False
    if isinstance(raw, dict):
        entry = _object(raw, "stage", frozenset({"value", "uncertain"}))
        uncertain = _bool(entry.get("uncertain", False), "stage.uncertain")
        raw = entry.get("value")
    if raw not in STAGES:
        raise ReportFormatError("stage", f"must be one of {', '.join(STAGES)}")
    return str(raw), uncertain


# --- the document ----------------------------------------------------------------------


def load_json(data: bytes | str) -> Any:
    """JSON text → value, with a size limit and a message that shows no content."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_BYTES:
        raise ReportFormatError("", f"the file is larger than {MAX_BYTES // 1024} KiB")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ReportFormatError("", "the file is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ReportFormatError("", f"not valid JSON (line {exc.lineno}, column {exc.colno})"
                                ) from None
    except RecursionError:
        raise ReportFormatError("", "the JSON is nested too deeply") from None


def parse_report(data: bytes | str | Mapping[str, Any]) -> ReportDocument:
    """Parse and check one submission; raises ``ReportFormatError`` naming the JSON path."""
    raw = load_json(data) if isinstance(data, bytes | str) else data
    doc = _object(raw, "", _TOP_KEYS)
    if doc.get("format") != FORMAT:
        raise ReportFormatError("format", f"must be {FORMAT!r}")
    for key in ("kind", "title", "detected_at", "aware_at", "stage"):
        if key not in doc:
            raise ReportFormatError(key, "is missing")
    regulation = _text(doc.get("regulation", "art5"), "regulation", 64)
    if doc["kind"] not in KINDS:
        raise ReportFormatError("kind", f"must be one of {', '.join(KINDS)}")
    incident = doc.get("incident")
    if incident is not None:
        incident = _int(incident, "incident", 1)
    detected_at = _time(doc["detected_at"], "detected_at")
    aware_at = _time(doc["aware_at"], "aware_at")
    if aware_at < detected_at:
        raise ReportFormatError("aware_at", "cannot be before detected_at")
    stage, stage_uncertain = _stage(doc["stage"])
    raw_fields = _object(doc.get("fields", {}), "fields", frozenset(FIELD_KEYS))
    fields = {k: _field(k, v, f"fields.{k}") for k, v in raw_fields.items()}
    techniques = tuple(_technique(t, f"techniques[{i}]")
                       for i, t in enumerate(_list(doc.get("techniques", []), "techniques",
                                                   "techniques")))
    computers = tuple(_computer(c, f"computers[{i}]")
                      for i, c in enumerate(_list(doc.get("computers", []), "computers",
                                                  "computers")))
    seen: set[int] = set()
    for i, c in enumerate(computers):
        if c.id in seen:
            raise ReportFormatError(f"computers[{i}].id", "names a computer twice")
        seen.add(c.id)
    indicators = tuple(_indicator(x, f"indicators[{i}]")
                       for i, x in enumerate(_list(doc.get("indicators", []), "indicators",
                                                   "indicators")))
    return ReportDocument(
        regulation=regulation, kind=doc["kind"], incident=incident,
        title=_text(doc["title"], "title", MAX_TITLE), detected_at=detected_at,
        aware_at=aware_at, stage=stage, stage_uncertain=stage_uncertain, fields=fields,
        techniques=techniques, computers=computers, indicators=indicators,
    )


def check_required(doc: ReportDocument, workflow: Workflow) -> None:
    """Each field the workflow requires for this kind has a value or a not-obtainable reason."""
    if doc.kind not in workflow.kinds:
        raise ReportFormatError(
            "kind", f"{workflow.key} has the kinds {', '.join(workflow.kinds)}"
        )
    missing = [f for f in workflow.required_fields.get(doc.kind, ()) if f not in doc.fields]
    if missing:
        raise ReportFormatError(
            "fields", f"a {doc.kind} report needs {', '.join(missing)} (a value, a value "
                      "marked uncertain, or not_obtainable with a reason)"
        )
