"""SBOM and CSV import: a real SBOM made with cyclonedx-python-lib round-trips (JSON
and XML), and a malformed file is refused with a clear error and nothing half-imported."""

from __future__ import annotations

import json

import pytest
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.output.json import JsonV1Dot4, JsonV1Dot6
from cyclonedx.output.xml import XmlV1Dot5, XmlV1Dot6
from packageurl import PackageURL
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.errors import Conflict, InvalidInput
from mamori.registry import service
from mamori.registry.messages import RegistryInputError
from mamori.registry.models import ComponentRecord, ComputerRecord, ComputerVersionRecord

from .conftest import World, audit_count


def _library_bom() -> Bom:
    """An SBOM as a vendor's tooling makes it: nested components, suppliers, purls, CPEs."""
    bom = Bom()
    bom.metadata.component = Component(
        name="SCADA-HMI", version="7.1", type=ComponentType.DEVICE, bom_ref="device",
        supplier=OrganizationalEntity(name="Example Controls"),
    )
    openssl = Component(
        name="openssl", version="3.0.13", type=ComponentType.LIBRARY, bom_ref="openssl",
        supplier=OrganizationalEntity(name="OpenSSL"),
        cpe="cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*",
        purl=PackageURL.from_string("pkg:generic/openssl@3.0.13"),
    )
    zlib = Component(name="zlib", version="1.3.1", type=ComponentType.LIBRARY, bom_ref="zlib",
                     purl=PackageURL(type="generic", name="zlib", version="1.3.1"))
    openssl.components.add(zlib)
    log4j = Component(
        name="log4j-core", version="2.17.1", type=ComponentType.LIBRARY, bom_ref="log4j",
        group="org.apache.logging.log4j",
        purl=PackageURL(type="maven", namespace="org.apache.logging.log4j", name="log4j-core",
                        version="2.17.1"),
        cpe="cpe:2.3:a:apache:log4j:2.17.1:*:*:*:*:*:*:*",
    )
    windows = Component(name="Windows 10 IoT", version="21H2",
                        type=ComponentType.OPERATING_SYSTEM, bom_ref="os",
                        cpe="cpe:2.3:o:microsoft:windows_10_iot:21h2:*:*:*:*:*:*:*")
    for part in (openssl, log4j, windows):
        bom.components.add(part)
    bom.register_dependency(bom.metadata.component, [openssl, log4j, windows])
    return bom


def _expected(bom: Bom) -> set[tuple[str | None, ...]]:
    found = set()
    stack = list(bom.components)
    while stack:
        part = stack.pop()
        stack.extend(part.components)
        found.add((part.name, part.version, part.cpe,
                   part.purl.to_string() if part.purl else None))
    return found


def _stored(session: Session, computer_id: int) -> set[tuple[str | None, ...]]:
    rows = session.scalars(select(ComponentRecord).where(ComponentRecord.computer_id ==
                                                         computer_id))
    return {(r.name, r.version, r.cpe, r.purl) for r in rows}


def _count(session: Session, table: type) -> int:
    return int(session.scalar(select(func.count()).select_from(table)) or 0)


@pytest.mark.parametrize("writer", [JsonV1Dot6, JsonV1Dot4, XmlV1Dot6, XmlV1Dot5])
def test_a_real_sbom_round_trips(session: Session, world: World, writer: type) -> None:
    bom = _library_bom()
    data = writer(bom).output_as_string(indent=2).encode()
    result = service.import_file(session=session, principal=world["sakura"],
                                 operator_id=world.operators["sakura"], data=data,
                                 computer="hmi-01")
    session.commit()
    assert result.source == ("cyclonedx-json" if b"{" in data[:5] else "cyclonedx-xml")
    assert result.components == 4
    (computer,) = service.find_computers(session=session, principal=world["sakura"],
                                         operator_id=world.operators["sakura"])
    assert computer.name == "hmi-01"
    assert (computer.product_vendor, computer.product_name, computer.product_version) == (
        "Example Controls", "SCADA-HMI", "7.1")
    assert _stored(session, computer.id) == _expected(bom)
    log4j = next(c for c in computer.components if c.name == "log4j-core")
    assert (log4j.purl_type, log4j.purl_namespace, log4j.purl_name) == (
        "maven", "org.apache.logging.log4j", "log4j-core")
    assert (log4j.cpe_vendor, log4j.cpe_product) == ("apache", "log4j")
    # Exported again and re-imported: the same components, and no new version.
    exported = service.export_sbom(session=session, principal=world["sakura"],
                                   computer_id=computer.id)
    assert _expected(Bom.from_json(json.loads(exported))) == _expected(bom)  # type: ignore[attr-defined]
    service.import_file(session=session, principal=world["sakura"],
                        operator_id=world.operators["sakura"], data=exported.encode())
    again = service.get_computer(session=session, principal=world["sakura"],
                                 computer_id=computer.id)
    assert again.version == computer.version == 1
    assert audit_count(session, "registry.import") == 2


def test_metadata_component_names_the_computer_and_its_properties(
    session: Session, world: World
) -> None:
    from cyclonedx.model import Property

    bom = _library_bom()
    assert bom.metadata.component is not None
    bom.metadata.component.properties.update([
        Property(name="mamori:computer", value="boiler-hmi"),
        Property(name="mamori:device_category", value="hmi"),
        Property(name="mamori:zone", value="critical_equipment"),
        Property(name="mamori:existing", value="true"),
    ])
    service.import_file(session=session, principal=world["sakura"],
                        operator_id=world.operators["sakura"],
                        data=JsonV1Dot6(bom).output_as_string().encode())
    (computer,) = service.find_computers(session=session, principal=world["sakura"],
                                         operator_id=world.operators["sakura"])
    assert (computer.name, computer.device_category, computer.zone, computer.existing) == (
        "boiler-hmi", "hmi", "critical_equipment", True)
    assert computer.status == "draft"


def _bad_component_bom() -> bytes:
    bom = _library_bom()
    bom.components.add(Component(name="broken", version="1", type=ComponentType.LIBRARY,
                                 bom_ref="broken", cpe="cpe:2.3:a:vendor"))
    return JsonV1Dot6(bom).output_as_string().encode()


ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE bom [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><components>
<component type="library"><name>&b;</name></component></components></bom>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE bom [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><components>
<component type="library"><name>&x;</name></component></components></bom>"""


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (b"{not json", "sbom", "not valid JSON"),
        (b'{"bomFormat": "SPDX"}', "bomFormat", "not a CycloneDX"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "9.9"}', "specVersion", "unsupported"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": '
         b'[{"type": "gadget", "name": "x"}]}', "sbom", "$.components[0].type"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": '
         b'[{"type": "library", "name": "x", "purl": "pkg:x"}]}', "sbom", "cannot be read"),
        (ENTITY_BOMB, "sbom", "document type"),
        (EXTERNAL, "sbom", "document type"),
        (b"<bom><components>", "sbom", "well-formed"),
        (b'<other xmlns="urn:x"/>', "sbom", "not a CycloneDX"),
        (b'<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><components>'
         b'<component type="library"><nme>x</nme></component></components></bom>',
         "sbom", "schema"),
        (_bad_component_bom(), "cpe", "11 attributes"),
    ],
)
def test_malformed_sboms_are_refused_and_nothing_is_imported(
    session: Session, world: World, data: bytes, field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        service.import_file(session=session, principal=world["sakura"],
                            operator_id=world.operators["sakura"], data=data, computer="hmi")
    assert error.value.extra.get("field") == field
    assert words in error.value.detail
    assert "passwd" not in error.value.detail and "aaaa" not in error.value.detail
    assert _count(session, ComputerRecord) == 0
    assert _count(session, ComponentRecord) == 0


def _position(document: dict, name: str) -> int:
    """1-based position of a component in document order, nested ones after their parent."""
    order: list[str] = []

    def walk(items: list[dict]) -> None:
        for item in items:
            order.append(item["name"])
            walk(item.get("components", []))

    walk(document["components"])
    return order.index(name) + 1


def test_a_bad_component_is_named_by_its_position(session: Session, world: World) -> None:
    data = _bad_component_bom()
    with pytest.raises(RegistryInputError) as error:
        service.import_file(session=session, principal=world["sakura"],
                            operator_id=world.operators["sakura"], data=data, computer="hmi")
    position = _position(json.loads(data), "broken")
    assert error.value.item == position
    assert error.value.detail.startswith(f"component {position}, cpe:")


CSV = """computer,device_category,zone,existing,component_name,component_version,cpe,purl
plc-1,plc,critical_equipment,true,firmware,2.1,cpe:2.3:o:example:plc_firmware:2.1:*:*:*:*:*:*:*,
plc-1,,,,openssl,3.0.13,,pkg:generic/openssl@3.0.13
hmi-1,hmi,critical_equipment,true,,,,
fw-1,firewall,internet_boundary,false,fw os,9,,
"""


def test_a_csv_with_one_bad_row_imports_nothing(session: Session, world: World) -> None:
    service.import_file(session=session, principal=world["sakura"],
                        operator_id=world.operators["sakura"], data=CSV.encode())
    session.commit()
    before = (_count(session, ComputerRecord), _count(session, ComponentRecord),
              _count(session, ComputerVersionRecord))
    assert before == (3, 3, 3)
    bad = CSV.replace("hmi-1,hmi,", "hmi-1,hmi,").replace(
        "fw-1,firewall,internet_boundary", "fw-1,firewall,the_moon") + \
        "new-1,plc,internal,true,,,,\n"
    changed_plc = bad.replace("firmware,2.1", "firmware,2.2")
    with pytest.raises(RegistryInputError) as error:
        service.import_file(session=session, principal=world["sakura"],
                            operator_id=world.operators["sakura"], data=changed_plc.encode())
    assert (error.value.row, error.value.field) == (5, "zone")
    session.rollback()
    after = (_count(session, ComputerRecord), _count(session, ComponentRecord),
             _count(session, ComputerVersionRecord))
    assert after == before
    plc = next(c for c in service.find_computers(
        session=session, principal=world["sakura"], operator_id=world.operators["sakura"])
        if c.name == "plc-1")
    assert plc.components[0].version == "2.1"


def test_a_csv_names_its_computers_itself(session: Session, world: World) -> None:
    with pytest.raises(RegistryInputError, match="computer column"):
        service.import_file(session=session, principal=world["sakura"],
                            operator_id=world.operators["sakura"], data=CSV.encode(),
                            computer="plc-1")


def test_notifying_an_import_checks_completeness_first(session: Session, world: World) -> None:
    with pytest.raises(RegistryInputError) as error:
        service.import_file(session=session, principal=world["sakura"],
                            operator_id=world.operators["sakura"], data=CSV.encode(),
                            notify=True)
    assert error.value.row == 2 and error.value.field == "site"
    assert _count(session, ComputerRecord) == 0


def test_another_operators_computer_cannot_be_named(session: Session, world: World) -> None:
    other = service.import_file(session=session, principal=world["hikari"],
                                operator_id=world.operators["hikari"], data=CSV.encode())
    with pytest.raises(RegistryInputError, match="another operator"):
        service.import_file(session=session, principal=world["sakura"],
                            operator_id=world.operators["sakura"],
                            data=JsonV1Dot6(_library_bom()).output_as_string().encode(),
                            computer=str(other.computers[0]))


def test_a_duplicate_name_in_one_submission_is_refused(session: Session, world: World) -> None:
    csv = "computer,zone\nplc-1,internal\n"
    service.import_file(session=session, principal=world["sakura"],
                        operator_id=world.operators["sakura"], data=csv.encode())
    from mamori.registry.entries import ComputerEntry

    with pytest.raises(Conflict):
        service.create_computer(session=session, principal=world["sakura"],
                                operator_id=world.operators["sakura"],
                                entry=ComputerEntry(name="plc-1"))
