"""Everything provision asks of other domains, in one place: products (the tier outputs),
intel (contributions and provenance), vulns (a supplier's own cases) and governance
(the decision on selected communications information)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.dissemination.models import RecipientRecord

COMMS = "COMMS"
CONTRIBUTION_IMPORTER = Principal.system("dissemination-contribution")


@dataclass(frozen=True)
class ProductRef:
    product_id: str
    version: int
    title_ja: str
    title_en: str


def audience_for(recipient: RecipientRecord) -> Any:
    from mamori.products.audience import Audience

    return Audience(category=recipient.category, organisation_id=recipient.organisation_id)


def product(session: Session, principal: Principal, product_id: str) -> ProductRef:
    """The current version of a product (authorized by products)."""
    from mamori.products import service as products

    found = products.get_product(session=session, principal=principal, product_id=product_id)
    return ProductRef(product_id=found.id, version=found.version, title_ja=found.title_ja,
                      title_en=found.title_en)


def build(session: Session, principal: Principal, product_id: str, tier: int,
          recipient: RecipientRecord) -> Any:
    """The sanitised tier output for this recipient, and the lint's fresh verdict on it."""
    from mamori.products import service as products

    audience = audience_for(recipient)
    output = products.build_tier(session=session, principal=principal, product_id=product_id,
                                 tier=tier, audience=audience)
    verdict = products.lint(output=output, tier=tier, audience=audience)
    return output, verdict


def comms_objects(output: Any) -> list[dict[str, Any]]:
    """The output objects whose content is derived from selected communications information."""
    found = []
    for obj in output.objects:
        origin = output.origins.get(obj.get("id"))
        if origin is not None and (COMMS in origin.labels or origin.comms_lineage):
            found.append(obj)
    return found


_CATEGORY_OF_TYPE = {"ipv4-addr": "ip_address", "ipv6-addr": "ip_address",
                     "network-traffic": "ip_address", "domain-name": "domain_name",
                     "url": "url"}


def selected_info_ref(session: Session, principal: Principal, output: Any,
                      found: list[dict[str, Any]]) -> Any:
    """Which selected information a tier-1 output carries, as governance names it."""
    from mamori.governance.service import SelectedInfoRef

    bases: set[str] = set()
    batches: set[str] = set()
    categories: set[str] = set()
    for obj in found:
        kind = str(obj.get("type", ""))
        if kind in _CATEGORY_OF_TYPE:
            categories.add(_CATEGORY_OF_TYPE[kind])
        for item in _selection_facts(session, principal, output, obj):
            if isinstance(item.get("measure_id"), str):
                bases.add(item["measure_id"])
            if isinstance(item.get("batch_id"), str):
                batches.add(item["batch_id"])
    if not categories:
        categories.add("ip_address")
    return [SelectedInfoRef(basis_id=basis, batch_ids=tuple(sorted(batches)),
                            categories=tuple(sorted(categories))) for basis in sorted(bases)]


def _selection_facts(session: Session, principal: Principal, output: Any,
                     obj: dict[str, Any]) -> list[dict[str, Any]]:
    facts = []
    if isinstance(obj.get("x_mamori_selection"), dict):
        facts.append(obj["x_mamori_selection"])
    origin = output.origins.get(obj.get("id"))
    if origin is None:
        return facts
    from mamori.intel import service as intel

    for source_id in origin.sources:
        record = intel.get_object(session=session, principal=principal, stix_id=source_id)
        if isinstance(record.object.get("x_mamori_selection"), dict):
            facts.append(record.object["x_mamori_selection"])
        for provenance in record.provenance:
            if isinstance(provenance.context, dict):
                facts.append(provenance.context)
    return facts


def _vulnerability_keys(obj: dict[str, Any]) -> frozenset[str]:
    names = {str(obj.get("name", "")).upper()}
    for ref in obj.get("external_references") or ():
        if isinstance(ref, dict) and isinstance(ref.get("external_id"), str):
            names.add(ref["external_id"].upper())
    return frozenset(n for n in names if n)


def own_vulnerabilities(session: Session, principal: Principal, output: Any,
                        recipient: RecipientRecord) -> bool:
    """Tier 2 to a supplier (Art 42, R-5.2-14): the output holds at least one of the
    supplier's own coordination cases, and nothing confidential besides them."""
    from mamori.vulns import service as vulns

    if recipient.organisation_id is None:
        return False
    suppliers = {s.id for s in vulns.list_suppliers(session=session, principal=principal)
                 if s.organisation_id == recipient.organisation_id}
    own = {c.vulnerability_key.upper() for c in vulns.list_cases(session=session,
                                                                 principal=principal)
           if c.supplier_id in suppliers}
    found_own = False
    for obj in output.objects:
        is_own = obj.get("type") == "vulnerability" and bool(_vulnerability_keys(obj) & own)
        found_own = found_own or is_own
        origin = output.origins.get(obj.get("id"))
        if origin is not None and "SECRET" in origin.labels and not is_own:
            return False
    return found_own


def contribute(session: Session, principal: Principal, *, objects: list[dict[str, Any]],
               source: str, consent: list[str]) -> Any:
    """Store contributed STIX objects in intel, SECRET and attributed to their source with
    the consent it recorded (R-5.4-3). The contribution was authorized by provision
    (``provision.contribute``); the platform itself writes it to the store."""
    from mamori.intel import service as intel

    del principal  # authorized by the caller; the import runs as the platform
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
    return intel.import_bundle(session=session, principal=CONTRIBUTION_IMPORTER, bundle=bundle,
                               source=source, labels=["SECRET"], attributed_to=source,
                               consent=consent)
