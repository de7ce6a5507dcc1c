"""The portal's computer form: field labels in both languages, and the posted form as
a :class:`ComputerEntry` (the same path the API and the importers take)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData

from mamori.registry.entries import (
    BOOL_FIELDS,
    DATE_FIELDS,
    TEXT_FIELDS,
    ComponentEntry,
    ComputerEntry,
    clean_text,
    component,
    parse_date,
)
from mamori.registry.messages import N_, RegistryInputError
from mamori.registry.models import Computer

FIELD_LABELS: dict[str, str] = {
    "name": N_("Computer name"),
    "computer": N_("Computer name"),
    "device_category": N_("Device category"),
    "site": N_("Site"),
    "facility": N_("Critical facility it serves"),
    "zone": N_("Zone"),
    "directly_managed": N_("Managed by the operator itself"),
    "manager_name": N_("Who manages it"),
    "manager_contact": N_("Manager's contact"),
    "cloud_form": N_("Cloud service form"),
    "cloud_provider": N_("Cloud provider"),
    "product_vendor": N_("Product vendor"),
    "product_name": N_("Product name"),
    "product_version": N_("Product version"),
    "custom_designed": N_("Designed for this operator only (exempt)"),
    "exemption_reason": N_("Reason for the exemption"),
    "existing": N_("In place when the law took effect"),
    "in_service_since": N_("In service since"),
    "linked_to": N_("Operated together with (existing computer)"),
    "notes": N_("Notes"),
    "status": N_("Status"),
    "components": N_("Components"),
    "component_name": N_("Component name"),
    "component_version": N_("Version"),
    "component_supplier": N_("Supplier"),
    "component_type": N_("Type"),
    "cpe": N_("CPE 2.3"),
    "purl": N_("Package URL (purl)"),
}
COMPONENT_INPUTS: tuple[str, ...] = (
    "component_name", "component_version", "component_supplier", "component_type", "cpe",
    "purl",
)
BLANK_COMPONENT_ROWS = 3


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


def entry_from_form(form: FormData) -> ComputerEntry:
    """The posted computer form → an entry; unchecked boxes mean false."""
    entry = ComputerEntry(name=_text(form, "name") or "")
    for name, limit in TEXT_FIELDS.items():
        setattr(entry, name, clean_text(_text(form, name), field=name, limit=limit))
    for name in BOOL_FIELDS:
        setattr(entry, name, _text(form, name) in ("on", "true", "1"))
    for name in DATE_FIELDS:
        setattr(entry, name, parse_date(_text(form, name), field=name))
    columns = {
        name: [v if isinstance(v, str) else "" for v in form.getlist(name)]
        for name in COMPONENT_INPUTS
    }
    rows = max((len(values) for values in columns.values()), default=0)
    parts: list[ComponentEntry] = []
    for index in range(rows):
        cells = {
            name: values[index] if index < len(values) else ""
            for name, values in columns.items()
        }
        if not any(cell.strip() for cell in cells.values()):
            continue
        try:
            parts.append(component(
                name=cells["component_name"], version=cells["component_version"],
                supplier=cells["component_supplier"], component_type=cells["component_type"],
                cpe=cells["cpe"], purl=cells["purl"],
            ))
        except RegistryInputError as error:
            raise error.located(item=len(parts) + 1) from None
    entry.components = parts
    return entry


def form_values(computer: Computer | None, form: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What the form shows: the posted values after an error, else the stored ones."""
    if form is not None:
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        return values
    if computer is None:
        return {"directly_managed": "on"}
    values = computer.model_dump()
    for name in BOOL_FIELDS:
        values[name] = "on" if values.get(name) else ""
    values["in_service_since"] = (
        computer.in_service_since.isoformat() if computer.in_service_since else ""
    )
    return values
