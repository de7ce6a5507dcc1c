"""The registry domain's public API: operators, sites, specified critical computers and
their components, imports and exports, the transition, consultations and settings.

Other domains call these keyword-only functions and never read the registry's tables.
Every function authorizes through ``mamori.access.service.authorize`` and every change
writes one audit entry in the caller's transaction.
"""

from __future__ import annotations

from mamori.registry.computers import (
    computer_history,
    create_computer,
    find_computers,
    get_computer,
    list_components,
    notify_computer,
    update_computer,
    withdraw_computer,
)
from mamori.registry.consultations import (
    CONCLUSIONS,
    answer,
    ask,
    get_consultation,
    list_consultations,
    open_consultations,
)
from mamori.registry.csv_template import template as csv_template
from mamori.registry.entries import ComponentEntry, ComputerEntry
from mamori.registry.exports import export_csv, export_sbom
from mamori.registry.imports import FORMATS, import_file
from mamori.registry.models import (
    Component,
    Computer,
    ComputerVersion,
    Consultation,
    ImportResult,
    Operator,
    OperatorTransition,
    SectorSummary,
    Site,
    SupervisingMinistry,
    TransitionItem,
)
from mamori.registry.operators import (
    add_operator,
    add_site,
    get_operator,
    link_operator,
    list_operators,
    list_sites,
    operator_supervising_ministry,
)
from mamori.registry.overview import operator_transition, transition_overview
from mamori.registry.settings import configure, device_categories, registry_settings

__all__ = [
    "CONCLUSIONS",
    "FORMATS",
    "Component",
    "ComponentEntry",
    "Computer",
    "ComputerEntry",
    "ComputerVersion",
    "Consultation",
    "ImportResult",
    "Operator",
    "OperatorTransition",
    "SectorSummary",
    "Site",
    "SupervisingMinistry",
    "TransitionItem",
    "add_operator",
    "add_site",
    "answer",
    "ask",
    "computer_history",
    "configure",
    "create_computer",
    "csv_template",
    "device_categories",
    "export_csv",
    "export_sbom",
    "find_computers",
    "get_computer",
    "get_consultation",
    "get_operator",
    "import_file",
    "link_operator",
    "list_components",
    "list_consultations",
    "list_operators",
    "list_sites",
    "notify_computer",
    "open_consultations",
    "operator_supervising_ministry",
    "operator_transition",
    "registry_settings",
    "transition_overview",
    "update_computer",
    "withdraw_computer",
]
