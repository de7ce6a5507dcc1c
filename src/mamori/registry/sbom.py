"""CycloneDX SBOMs in and out (JSON and XML, via cyclonedx-python-lib).

Which computer an SBOM describes: the importer names it (``--computer``, the form's
computer field); otherwise the SBOM's ``metadata.component`` does — its property
``mamori:computer`` if present, else its ``name``. Further properties
``mamori:<field>`` (``mamori:device_category``, ``mamori:zone``, ``mamori:site``, ...)
fill the computer's notification fields; the metadata component's supplier or
manufacturer, name and version become the product fields. Every component in the
SBOM, nested ones included, becomes a component of that computer, replacing its list.

XML is parsed with defusedxml first: a document type declaration, entity or external
reference is refused before anything else reads the file. Both formats are validated
against the CycloneDX schema of their declared version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component as CdxComponent
from cyclonedx.model.component import ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.output.json import BY_SCHEMA_VERSION as JSON_OUTPUTTERS
from cyclonedx.schema import OutputFormat, SchemaVersion
from cyclonedx.validation import make_schemabased_validator
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree
from packageurl import PackageURL

from mamori.registry.entries import (
    BOOL_FIELDS,
    DATE_FIELDS,
    TEXT_FIELDS,
    ComputerEntry,
    Submission,
    clean_text,
    component,
    computer_name,
    parse_bool,
    parse_date,
)
from mamori.registry.messages import N_, RegistryInputError

MAX_COMPONENTS = 100_000
PROPERTY_PREFIX = "mamori:"
_XML_NS = re.compile(r"^\{http://cyclonedx\.org/schema/bom/(\d+\.\d+)\}bom$")
SUPPORTED = {f"{v.value[0]}.{v.value[1]}": v for v in SchemaVersion if v.value >= (1, 2)}


@cache
def _validator(fmt: OutputFormat, version: SchemaVersion) -> Any:
    """The schema validator of a format and version (loading a schema is slow)."""
    return make_schemabased_validator(fmt, version)


def _version(text: str | None) -> SchemaVersion:
    version = SUPPORTED.get(text or "")
    if version is None:
        raise RegistryInputError(
            N_("unsupported CycloneDX version; supported: %(versions)s"),
            field="specVersion", versions=", ".join(sorted(SUPPORTED)),
        )
    return version


def _json_problem(error: Any) -> RegistryInputError:
    """A schema violation: where it is and which rule, never the offending value."""
    path = getattr(error.data, "json_path", "$")
    rule = getattr(error.data, "validator", "schema")
    return RegistryInputError(
        N_("the SBOM does not follow the CycloneDX schema at %(path)s (rule: %(rule)s)"),
        field="sbom", path=str(path)[:200], rule=str(rule)[:40],
    )


def read_json(data: bytes) -> Bom:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise RegistryInputError(N_("the file is not valid JSON"), field="sbom") from None
    if not isinstance(document, dict) or document.get("bomFormat") != "CycloneDX":
        raise RegistryInputError(
            N_("the JSON is not a CycloneDX SBOM (bomFormat is not \"CycloneDX\")"),
            field="bomFormat",
        )
    version = _version(document.get("specVersion"))
    error = _validator(OutputFormat.JSON, version).validate_str(
        json.dumps(document)
    )
    if error is not None:
        raise _json_problem(error)
    try:
        return Bom.from_json(document)  # type: ignore[attr-defined]
    except Exception:  # the library raises many kinds for documents the schema allows
        raise RegistryInputError(
            N_("the SBOM follows the schema but cannot be read (an invalid purl or reference)"),
            field="sbom",
        ) from None


def read_xml(data: bytes) -> Bom:
    try:
        root = SafeElementTree.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException:
        raise RegistryInputError(
            N_("the XML declares a document type or entities, which are refused"), field="sbom"
        ) from None
    except SafeElementTree.ParseError as error:
        line = getattr(error, "position", (0, 0))[0]
        raise RegistryInputError(
            N_("the file is not well-formed XML (line %(line)s)"), field="sbom", line=line
        ) from None
    match = _XML_NS.match(root.tag)
    if match is None:
        raise RegistryInputError(
            N_("the XML is not a CycloneDX SBOM (its root is not a CycloneDX bom element)"),
            field="sbom",
        )
    version = _version(match.group(1))
    problem = _validator(OutputFormat.XML, version).validate_str(
        data.decode("utf-8", errors="replace")
    )
    if problem is not None:
        line = getattr(problem.data, "line", 0)
        raise RegistryInputError(
            N_("the SBOM does not follow the CycloneDX schema (line %(line)s)"),
            field="sbom", line=line,
        )
    try:
        return Bom.from_xml(root)  # type: ignore[attr-defined]
    except Exception:  # the library raises many kinds for documents the schema allows
        raise RegistryInputError(
            N_("the SBOM follows the schema but cannot be read (an invalid purl or reference)"),
            field="sbom",
        ) from None


def _walk(components: Any) -> Iterator[CdxComponent]:
    for item in components:
        yield item
        yield from _walk(item.components)


def _supplier(item: CdxComponent) -> str | None:
    for entity in (item.supplier, getattr(item, "manufacturer", None)):
        if entity is not None and entity.name:
            return str(entity.name)
    if item.publisher:
        return str(item.publisher)
    return None


def _properties(item: CdxComponent | None) -> dict[str, str]:
    if item is None:
        return {}
    return {
        str(p.name)[len(PROPERTY_PREFIX):]: str(p.value or "")
        for p in item.properties
        if str(p.name).startswith(PROPERTY_PREFIX)
    }


def _computer_fields(entry: ComputerEntry, meta: CdxComponent | None) -> None:
    props = _properties(meta)
    for name, raw in props.items():
        if name in BOOL_FIELDS:
            setattr(entry, name, parse_bool(raw, field=name))
        elif name in DATE_FIELDS:
            setattr(entry, name, parse_date(raw, field=name))
        elif name in TEXT_FIELDS:
            setattr(entry, name, clean_text(raw, field=name, limit=TEXT_FIELDS[name]))
    if meta is not None:
        if entry.product_vendor is None:
            supplier = _supplier(meta)
            entry.product_vendor = clean_text(supplier, field="product_vendor", limit=200)
        if entry.product_name is None:
            entry.product_name = clean_text(meta.name, field="product_name", limit=200)
        if entry.product_version is None:
            entry.product_version = clean_text(meta.version, field="product_version", limit=200)


def submission(bom: Bom, *, computer: str | None = None) -> Submission:
    """The computer an SBOM describes and its components."""
    meta = bom.metadata.component
    name = computer or _properties(meta).get("computer") or (meta.name if meta else None)
    if not name:
        raise RegistryInputError(
            N_("the SBOM does not say which computer it describes: name the computer, or "
               "set metadata.component in the SBOM"),
            field="computer",
        )
    entry = ComputerEntry(name=computer_name(name), components=[])
    _computer_fields(entry, meta)
    parts = entry.components = []
    for index, item in enumerate(_walk(bom.components), start=1):
        if index > MAX_COMPONENTS:
            raise RegistryInputError(
                N_("the SBOM has more than %(limit)s components"), limit=MAX_COMPONENTS
            )
        try:
            parts.append(component(
                name=item.name,
                version=item.version,
                supplier=_supplier(item),
                component_type=item.type.value if item.type else None,
                bom_ref=item.bom_ref.value if item.bom_ref else None,
                cpe=item.cpe,
                purl=item.purl.to_string() if item.purl else None,
            ))
        except RegistryInputError as error:
            raise error.located(item=index) from None
    return Submission(computers=[entry])


def to_bom(
    *,
    computer: str,
    device_category: str | None,
    product_vendor: str | None,
    product_name: str | None,
    product_version: str | None,
    components: list[dict[str, Any]],
) -> Bom:
    """A CycloneDX BOM of one computer (for export and for the demo's SBOMs)."""
    bom = Bom()
    properties = [Property(name="mamori:computer", value=computer)]
    if device_category:
        properties.append(Property(name="mamori:device_category", value=device_category))
    meta = CdxComponent(
        name=product_name or computer,
        version=product_version,
        type=ComponentType.DEVICE,
        bom_ref="computer",
        supplier=OrganizationalEntity(name=product_vendor) if product_vendor else None,
        properties=properties,
    )
    bom.metadata.component = meta
    parts: list[CdxComponent] = []
    for index, item in enumerate(components, start=1):
        kind = item.get("component_type")
        parts.append(CdxComponent(
            name=item["name"],
            version=item.get("version"),
            type=ComponentType(kind) if kind in {t.value for t in ComponentType}
            else ComponentType.LIBRARY,
            bom_ref=item.get("bom_ref") or f"component-{index}",
            supplier=OrganizationalEntity(name=item["supplier"]) if item.get("supplier") else None,
            cpe=item.get("cpe"),
            purl=PackageURL.from_string(item["purl"]) if item.get("purl") else None,
        ))
    for part in parts:
        bom.components.add(part)
    bom.register_dependency(meta, parts)
    return bom


def bom_json(bom: Bom, version: SchemaVersion = SchemaVersion.V1_6) -> str:
    """The BOM as CycloneDX JSON of ``version``."""
    return str(JSON_OUTPUTTERS[version](bom).output_as_string(indent=2))


def detect(data: bytes) -> str:
    """``cyclonedx-json``, ``cyclonedx-xml`` or ``csv``, from the first characters."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"{":
        return "cyclonedx-json"
    if head == b"<":
        return "cyclonedx-xml"
    return "csv"
