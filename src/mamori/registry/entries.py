"""What an import or a form says about a computer and its components, before the
register checks it against the configuration and stores it.

The CSV template and the CycloneDX reader both produce these; the service validates
them in one transaction, so a file is taken whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date

from packageurl import PackageURL

from mamori.registry.cpe import Cpe23, parse_cpe
from mamori.registry.messages import N_, RegistryInputError
from mamori.registry.models import CPE_MAX, NAME_MAX, PURL_MAX, TEXT_MAX

# Computer fields that hold text, and their limits.
TEXT_FIELDS: dict[str, int] = {
    "device_category": 64,
    "site": NAME_MAX,
    "facility": 300,
    "zone": 32,
    "manager_name": NAME_MAX,
    "manager_contact": NAME_MAX,
    "cloud_form": 16,
    "cloud_provider": NAME_MAX,
    "product_vendor": NAME_MAX,
    "product_name": NAME_MAX,
    "product_version": NAME_MAX,
    "exemption_reason": TEXT_MAX,
    "linked_to": NAME_MAX,
    "notes": TEXT_MAX,
}
BOOL_FIELDS: tuple[str, ...] = ("directly_managed", "custom_designed", "existing")
DATE_FIELDS: tuple[str, ...] = ("in_service_since",)

_TRUE = frozenset({"true", "yes", "y", "1", "はい", "○"})
_FALSE = frozenset({"false", "no", "n", "0", "いいえ", "×"})


@dataclass
class ComponentEntry:
    """One component as submitted; ``cpe`` and ``purl`` are already validated."""

    name: str
    version: str | None = None
    supplier: str | None = None
    component_type: str | None = None
    bom_ref: str | None = None
    cpe: str | None = None
    purl: str | None = None


@dataclass
class ComputerEntry:
    """One computer as submitted. ``None`` means "not said" (keep or default)."""

    name: str
    device_category: str | None = None
    site: str | None = None
    facility: str | None = None
    zone: str | None = None
    directly_managed: bool | None = None
    manager_name: str | None = None
    manager_contact: str | None = None
    cloud_form: str | None = None
    cloud_provider: str | None = None
    product_vendor: str | None = None
    product_name: str | None = None
    product_version: str | None = None
    custom_designed: bool | None = None
    exemption_reason: str | None = None
    existing: bool | None = None
    in_service_since: date | None = None
    linked_to: str | None = None
    notes: str | None = None
    # None: the submission says nothing about components (keep them);
    # a list (possibly empty): the complete new list.
    components: list[ComponentEntry] | None = None
    row: int | None = None
    item: int | None = None

    def said(self) -> dict[str, object]:
        """The computer fields the submission gave a value for."""
        skip = {"name", "components", "row", "item"}
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in skip and getattr(self, f.name) is not None
        }


@dataclass
class Submission:
    """A whole import: the computers it names, in file order."""

    computers: list[ComputerEntry] = field(default_factory=list)


def clean_text(value: str | None, *, field: str, limit: int) -> str | None:
    """Trimmed text, ``None`` when blank; too long or control characters are errors."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if len(text) > limit:
        raise RegistryInputError(
            N_("longer than %(limit)s characters"), field=field, limit=limit
        )
    if any(ord(c) < 32 and c not in "\t\n\r" for c in text):
        raise RegistryInputError(N_("contains control characters"), field=field)
    return text


def parse_bool(value: str | None, *, field: str) -> bool | None:
    text = (value or "").strip().lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RegistryInputError(N_("expected true or false (yes/no, 1/0)"), field=field)


def parse_date(value: str | None, *, field: str) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RegistryInputError(N_("expected a date such as 2026-04-01"), field=field) from None


def normalise_cpe(value: str | None, *, field: str = "cpe") -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    return parse_cpe(text, field=field).format()


def normalise_purl(value: str | None, *, field: str = "purl") -> str | None:
    """A package URL in canonical form (packageurl-python), or a clear error."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > PURL_MAX:
        raise RegistryInputError(
            N_("longer than %(limit)s characters"), field=field, limit=PURL_MAX
        )
    try:
        return str(PackageURL.from_string(text).to_string())
    except (ValueError, TypeError):
        raise RegistryInputError(
            N_("not a valid package URL (pkg:type/namespace/name@version)"), field=field
        ) from None


def purl_parts(purl: str) -> PackageURL:
    return PackageURL.from_string(purl)


def cpe_parts(cpe: str) -> Cpe23:
    return parse_cpe(cpe)


def computer_name(value: str | None) -> str:
    """A computer's name: what identifies it within its operator's register."""
    name = clean_text(value, field="computer", limit=NAME_MAX)
    if name is None:
        raise RegistryInputError(N_("a computer needs a name"), field="computer")
    if name.startswith("#"):
        raise RegistryInputError(N_("a computer name may not start with #"), field="computer")
    return name


def component(
    *,
    name: str | None,
    version: str | None = None,
    supplier: str | None = None,
    component_type: str | None = None,
    bom_ref: str | None = None,
    cpe: str | None = None,
    purl: str | None = None,
) -> ComponentEntry:
    """A validated component entry; errors name the field."""
    clean_name = clean_text(name, field="component_name", limit=300)
    if clean_name is None:
        raise RegistryInputError(N_("a component needs a name"), field="component_name")
    return ComponentEntry(
        name=clean_name,
        version=clean_text(version, field="component_version", limit=NAME_MAX),
        supplier=clean_text(supplier, field="component_supplier", limit=300),
        component_type=clean_text(component_type, field="component_type", limit=32),
        bom_ref=clean_text(bom_ref, field="bom_ref", limit=300),
        cpe=normalise_cpe(clean_text(cpe, field="cpe", limit=CPE_MAX)),
        purl=normalise_purl(purl),
    )
