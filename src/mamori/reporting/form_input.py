"""The portal's report form: posted fields → a ``mamori.incident-report/1`` document,
with messages a person understands, in their language, beside the field they concern.

Marks in the form: an "uncertain" box per fact (R-4.2-21), a "cannot be obtained"
reason per fact and per computer not managed directly (R-4.2-22), and a trailing "?"
on a technique id or an indicator line that is not certain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from mamori.reporting.attack import TECHNIQUE_ID, catalogue
from mamori.reporting.report_format import FORMAT, INDICATOR_TYPES, STAGES
from mamori.reporting.workflows import Workflow
from mamori.web.i18n import N_

TEXT_FIELDS: tuple[str, ...] = ("summary", "impact", "cause", "measures_taken",
                                "secondary_damage", "publication")
YES_NO_FIELDS: tuple[str, ...] = ("service_disruption", "personal_data_affected")

FIELD_LABELS: dict[str, str] = {
    "title": N_("Title"),
    "detected_at": N_("Detected at"),
    "aware_at": N_("Became aware at"),
    "stage": N_("Stage of the event"),
    "summary": N_("Summary"),
    "impact": N_("Impact"),
    "cause": N_("Cause"),
    "measures_taken": N_("Measures taken"),
    "secondary_damage": N_("Secondary damage"),
    "publication": N_("Publication"),
    "service_disruption": N_("Service disrupted"),
    "personal_data_affected": N_("Personal data affected"),
    "records_affected": N_("Number of persons or records affected"),
    "data_items": N_("Items of personal data"),
    "techniques": N_("Attack techniques (ATT&CK)"),
    "computers": N_("Affected computers"),
    "indicators": N_("Indicators"),
    "kind": N_("Kind of report"),
    "regulation": N_("Regulation"),
    "operator_id": N_("Operator"),
    "started_at": N_("Started at"),
    "contact": N_("Contact"),
}
KIND_LABELS: dict[str, str] = {
    "preliminary": N_("Preliminary report"),
    "update": N_("Update"),
    "final": N_("Final report"),
}
STAGE_LABELS: dict[str, str] = {
    "attempt_blocked": N_("Attempt, blocked"),
    "detected_inside": N_("Suspicious activity or communication detected inside"),
    "confirmed_compromise": N_("Intrusion confirmed"),
    "impact": N_("Impact on functions"),
}
ENTER_TITLE = N_("Enter a title of at most 200 characters.")
ENTER_TIME = N_("Enter a date and time, e.g. 2026-04-01 09:30.")
AWARE_BEFORE = N_("The time you became aware cannot be before the time of detection.")
CHOOSE_STAGE = N_("Choose the stage of the event.")
NEEDED = N_("A %(kind)s needs this. Give what you know (mark it uncertain if need be) "
            "or the reason it cannot be obtained.")
BOTH = N_("Give either a value or the reason it cannot be obtained, not both.")
WHOLE_NUMBER = N_("Enter a whole number of 0 or more.")
UNKNOWN_TECHNIQUE = N_("%(id)s is not an ATT&CK technique id (e.g. T1190, T0866).")
INDICATOR_LINE = N_("Line %(line)s: write the type and the value, e.g. "
                    "ipv4-addr 203.0.113.5 (types: %(types)s).")
NO_URLS = N_("Line %(line)s: URLs are communications content and are not accepted; "
             "give the domain name instead.")
NOT_OBTAINABLE_MANAGED = N_("Only for computers you do not manage directly.")
CHECK_FIELD = N_("Please check this field: %(detail)s")


@dataclass
class FormResult:
    """The document built from the form, or the messages that stop it."""

    document: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)


def _checked(form: Mapping[str, Any], name: str) -> bool:
    return str(form.get(name, "")).lower() in ("on", "true", "1", "yes")


def _text(form: Mapping[str, Any], name: str) -> str:
    return str(form.get(name, "") or "").strip()


def _local_time(value: str, tz: ZoneInfo) -> str | None:
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.isoformat()


def _fact(form: Mapping[str, Any], name: str, value: Any, result: FormResult,
          gettext: Callable[[str], str]) -> Any:
    reason = _text(form, f"{name}_not_obtainable")
    if reason:
        if value not in (None, ""):
            result.add(name, gettext(BOTH))
        return {"not_obtainable": reason}
    if value in (None, ""):
        return None
    return {"value": value, "uncertain": _checked(form, f"{name}_uncertain")}


def _techniques(text: str, result: FormResult, gettext: Callable[[str], str]) -> list[Any]:
    found = []
    for raw in text.replace("、", ",").replace(" ", ",").split(","):
        token = raw.strip()
        if not token:
            continue
        uncertain = token.endswith("?")
        technique = token.rstrip("?").strip().upper()
        if not TECHNIQUE_ID.match(technique) or catalogue().technique(technique) is None:
            result.add("techniques", gettext(UNKNOWN_TECHNIQUE) % {"id": technique[:12]})
            continue
        found.append({"id": technique, "uncertain": uncertain})
    return found


def _indicators(text: str, result: FormResult, gettext: Callable[[str], str]) -> list[Any]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        uncertain = parts[-1] == "?"
        if uncertain:
            parts = parts[:-1]
        if parts and parts[0].lower() == "url":
            result.add("indicators", gettext(NO_URLS) % {"line": number})
            continue
        if len(parts) != 2 or parts[0] not in INDICATOR_TYPES:
            result.add("indicators", gettext(INDICATOR_LINE) % {
                "line": number, "types": ", ".join(INDICATOR_TYPES)})
            continue
        value: Any = parts[1]
        if parts[0] == "autonomous-system":
            value = value.upper().removeprefix("AS")
        found.append({"type": parts[0], "value": value, "uncertain": uncertain})
    return found


def document_from_form(
    form: Mapping[str, Any],
    *,
    workflow: Workflow,
    computers: Mapping[int, bool],
    tz: ZoneInfo,
    gettext: Callable[[str], str],
) -> FormResult:
    """Build the document; ``computers`` maps the operator's computer ids to whether each
    is managed directly."""
    result = FormResult(document={"format": FORMAT, "regulation": workflow.key})
    doc = result.document
    kind = _text(form, "kind")
    doc["kind"] = kind if kind in workflow.kinds else workflow.kinds[0]
    incident = _text(form, "incident")
    if incident.isdigit():
        doc["incident"] = int(incident)
    title = _text(form, "title")
    if not title or len(title) > 200:
        result.add("title", gettext(ENTER_TITLE))
    doc["title"] = title
    for name in ("detected_at", "aware_at"):
        value = _local_time(_text(form, name), tz)
        if value is None:
            result.add(name, gettext(ENTER_TIME))
        doc[name] = value
    if (doc["detected_at"] and doc["aware_at"] and
            datetime.fromisoformat(doc["aware_at"]) < datetime.fromisoformat(doc["detected_at"])):
        result.add("aware_at", gettext(AWARE_BEFORE))
    stage = _text(form, "stage")
    if stage not in STAGES:
        result.add("stage", gettext(CHOOSE_STAGE))
    doc["stage"] = {"value": stage, "uncertain": _checked(form, "stage_uncertain")}
    fields: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        fields[name] = _fact(form, name, _text(form, name), result, gettext)
    for name in YES_NO_FIELDS:
        answer = _text(form, name)
        fields[name] = _fact(form, name, {"yes": True, "no": False}.get(answer), result,
                             gettext)
    count = _text(form, "records_affected")
    if count and not count.isdigit():
        result.add("records_affected", gettext(WHOLE_NUMBER))
        count = ""
    fields["records_affected"] = _fact(form, "records_affected",
                                       int(count) if count else None, result, gettext)
    items = [i.strip() for i in _text(form, "data_items").replace("、", ",").split(",")
             if i.strip()]
    fields["data_items"] = _fact(form, "data_items", items or None, result, gettext)
    doc["fields"] = {k: v for k, v in fields.items() if v is not None}
    needed = workflow.required_fields.get(doc["kind"], ())
    for name in needed:
        if name not in doc["fields"]:
            label = KIND_LABELS[doc["kind"]]
            result.add(name, gettext(NEEDED) % {"kind": gettext(label)})
    doc["techniques"] = _techniques(_text(form, "techniques"), result, gettext)
    chosen = []
    for computer_id, managed in computers.items():
        if not _checked(form, f"computer_{computer_id}"):
            continue
        reason = _text(form, f"computer_{computer_id}_not_obtainable")
        if reason and managed:
            result.add("computers", gettext(NOT_OBTAINABLE_MANAGED))
        chosen.append({"id": computer_id, "not_obtainable": reason} if reason else
                      {"id": computer_id,
                       "uncertain": _checked(form, f"computer_{computer_id}_uncertain")})
    doc["computers"] = chosen
    doc["indicators"] = _indicators(_text(form, "indicators"), result, gettext)
    return result


def form_from_document(doc: Mapping[str, Any], tz: ZoneInfo) -> dict[str, str]:
    """The form's values for a stored document (to start an update from the last version)."""
    values: dict[str, str] = {"title": str(doc.get("title", ""))}
    for name in ("detected_at", "aware_at"):
        if doc.get(name):
            values[name] = datetime.fromisoformat(doc[name]).astimezone(tz).strftime(
                "%Y-%m-%dT%H:%M")
    stage = doc.get("stage") or {}
    values["stage"] = str(stage.get("value", ""))
    values["stage_uncertain"] = "on" if stage.get("uncertain") else ""
    for name, entry in (doc.get("fields") or {}).items():
        if "not_obtainable" in entry:
            values[f"{name}_not_obtainable"] = str(entry["not_obtainable"])
            continue
        value = entry.get("value")
        if isinstance(value, bool):
            values[name] = "yes" if value else "no"
        elif isinstance(value, list):
            values[name] = ", ".join(map(str, value))
        else:
            values[name] = "" if value is None else str(value)
        values[f"{name}_uncertain"] = "on" if entry.get("uncertain") else ""
    values["techniques"] = ", ".join(
        t["id"] + ("?" if t.get("uncertain") else "") for t in doc.get("techniques", []))
    for c in doc.get("computers", []):
        values[f"computer_{c['id']}"] = "on"
        if c.get("not_obtainable"):
            values[f"computer_{c['id']}_not_obtainable"] = str(c["not_obtainable"])
        if c.get("uncertain"):
            values[f"computer_{c['id']}_uncertain"] = "on"
    values["indicators"] = "\n".join(
        f"{i['type']} {i['value']}" + (" ?" if i.get("uncertain") else "")
        for i in doc.get("indicators", []))
    return values
