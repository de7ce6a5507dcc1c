"""A computer's components as a CycloneDX SBOM, and an operator's register in the CSV
template's layout, so that what was notified can be read back and amended."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.registry import csv_template, sbom
from mamori.registry.computers import find_computers, get_computer
from mamori.registry.entries import ComponentEntry, ComputerEntry
from mamori.registry.models import Computer
from mamori.registry.notifications import COMPONENT_FIELDS
from mamori.registry.operators import list_sites


def export_sbom(*, session: Session, principal: Principal, computer_id: int) -> str:
    """The computer as CycloneDX 1.6 JSON; importing it again changes nothing."""
    computer = get_computer(session=session, principal=principal, computer_id=computer_id)
    return sbom.bom_json(sbom.to_bom(
        computer=computer.name,
        device_category=computer.device_category,
        product_vendor=computer.product_vendor,
        product_name=computer.product_name,
        product_version=computer.product_version,
        components=[
            {name: getattr(part, name) for name in COMPONENT_FIELDS}
            for part in computer.components
        ],
    ))


def _entry(computer: Computer, sites: dict[int, str], names: dict[int, str]) -> ComputerEntry:
    return ComputerEntry(
        name=computer.name,
        device_category=computer.device_category,
        site=sites.get(computer.site_id) if computer.site_id else None,
        facility=computer.facility,
        zone=computer.zone,
        directly_managed=computer.directly_managed,
        manager_name=computer.manager_name,
        manager_contact=computer.manager_contact,
        cloud_form=computer.cloud_form,
        cloud_provider=computer.cloud_provider,
        product_vendor=computer.product_vendor,
        product_name=computer.product_name,
        product_version=computer.product_version,
        custom_designed=computer.custom_designed,
        exemption_reason=computer.exemption_reason,
        existing=computer.existing,
        in_service_since=computer.in_service_since if isinstance(
            computer.in_service_since, date) else None,
        linked_to=names.get(computer.linked_to_id) if computer.linked_to_id else None,
        notes=computer.notes,
        components=[
            ComponentEntry(**{name: getattr(part, name) for name in COMPONENT_FIELDS})
            for part in computer.components
        ],
    )


def export_csv(*, session: Session, principal: Principal, operator_id: int) -> str:
    """The operator's computers (not withdrawn ones) in the CSV template's layout."""
    computers = find_computers(session=session, principal=principal, operator_id=operator_id)
    sites = {s.id: s.name for s in list_sites(
        session=session, principal=principal, operator_id=operator_id)}
    names = {c.id: c.name for c in computers}
    return csv_template.write_csv(
        _entry(c, sites, names) for c in computers if c.status != "withdrawn"
    )
