"""Every renderer against an independent oracle: stix2-validator for STIX, the csaf
package's CSAF 2.0 validator, MITRE's own ATT&CK bundle for the Navigator layer,
Chromium for the PDF; and the refusal to render what did not pass the lint."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import pytest
from csaf.csaf.v20._validator import validate as validate_csaf
from sqlalchemy.orm import Session
from stix2validator import ValidationOptions, validate_parsed_json

from mamori.errors import Conflict, InvalidInput
from mamori.products import service
from mamori.products.audience import Audience
from mamori.products.output import TierOutput

from .conftest import (
    ANALYST,
    attack_pattern,
    identity,
    indicator,
    relationship,
    store,
    vulnerability,
)

SOFTWARE = {"type": "software", "spec_version": "2.1",
            "id": "software--1f4e4a0e-4b59-5b6a-9f61-0c8f0d1d2c3e", "name": "Archer AX21",
            "vendor": "TP-Link", "version": "1.1.2",
            "cpe": "cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.2:*:*:*:*:*:*:*"}
VULN = vulnerability("ax21", "CVE-2023-1389", "CVE-2023-1389",
                     description="Command injection in the web management interface.")
AFFECTS = relationship("affects", VULN["id"], SOFTWARE["id"], "related-to")
TECH = attack_pattern("exploit", "T1190", "Exploit Public-Facing Application")
ICS = attack_pattern("ics", "T0883", "Internet Accessible Device")
IND = indicator("c2", "203.0.113.77")
USES = relationship("uses", IND["id"], TECH["id"])
OPERATOR = identity("hikari", "Hikari Railway RENDERNAME")
SEEN = indicator("seen", "203.0.113.78", created_by_ref=OPERATOR["id"])


def stix_errors(bundle: dict) -> list[str]:
    result = validate_parsed_json(bundle, ValidationOptions(version="2.1"))
    results = result if isinstance(result, list) else [result]
    return [str(e) for r in results for e in r.errors]


@lru_cache(maxsize=1)
def mitre_techniques(shared: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for domain, name in (("enterprise-attack", "enterprise-attack-18.1.json"),
                         ("ics-attack", "ics-attack-18.1.json")):
        bundle = json.loads((Path(shared) / "attack" / name).read_text(encoding="utf-8"))
        found[domain] = {ref["external_id"] for obj in bundle["objects"]
                         if obj.get("type") == "attack-pattern"
                         for ref in obj.get("external_references", ())
                         if ref.get("source_name", "").startswith("mitre") and
                         ref.get("external_id", "").startswith("T")}
    return found


@pytest.fixture
def outputs(session: Session) -> dict[int, TierOutput]:
    store(session, ANALYST, [SOFTWARE, VULN, AFFECTS, TECH, ICS, IND, USES], labels=["PUBLIC"])
    store(session, ANALYST, [OPERATOR, SEEN], labels=["SECRET"], attributed_to="operator:hikari",
          consent=[])
    product = service.compose_product(
        session=session, principal=ANALYST, title_ja="ルーターの脆弱性の悪用",
        title_en="Exploitation of a router vulnerability",
        narrative_ja="国内で悪用を確認。\n\n対策を急ぐこと。",
        narrative_en="Exploitation confirmed in Japan.\n\nAct quickly.", use="operational",
        readers=["special_infrastructure_operator", "executive"],
        object_ids=[SOFTWARE["id"], VULN["id"], AFFECTS["id"], TECH["id"], ICS["id"],
                    IND["id"], USES["id"], OPERATOR["id"], SEEN["id"]],
        actions_ja="ファームウェアを更新する。", actions_en="Update the firmware.")
    return {tier: service.build_tier(session=session, principal=ANALYST, product_id=product.id,
                                     tier=tier, audience=Audience("council_member"))
            for tier in (1, 2, 3)}


def test_stix_bundles_validate(outputs: dict[int, TierOutput]) -> None:
    for tier, output in outputs.items():
        bundle = json.loads(service.render(output=output, format="stix"))
        assert stix_errors(bundle) == [], tier
        assert bundle == output.bundle
        report = next(o for o in bundle["objects"] if o["type"] == "report")
        assert report["labels"] == [f"tier-{tier}", "use-operational"]
        translation = next(o for o in bundle["objects"] if o["type"] == "language-content"
                           and o["object_ref"] == report["id"])
        assert translation["contents"]["ja"]["name"] == "ルーターの脆弱性の悪用"
        assert "RENDERNAME" not in json.dumps(bundle, ensure_ascii=False)


def test_csaf_validates(outputs: dict[int, TierOutput]) -> None:
    for tier, output in outputs.items():
        document = json.loads(service.render(output=output, format="csaf"))
        report = validate_csaf(document)
        failures = [t for t in report.results if not t.passed and not t.skipped]
        assert report.overall_valid, failures
        assert document["vulnerabilities"][0]["cve"] == "CVE-2023-1389"
        assert document["document"]["distribution"]["tlp"]["label"] == \
            {1: "RED", 2: "AMBER", 3: "WHITE"}[tier]
        tree = document["product_tree"]["full_product_names"]
        assert tree[0]["product_identification_helper"]["cpe"] == SOFTWARE["cpe"]


def test_csaf_needs_a_vulnerability(session: Session) -> None:
    store(session, ANALYST, [TECH], labels=["PUBLIC"])
    product = service.compose_product(
        session=session, principal=ANALYST, title_ja="手口", title_en="Technique",
        narrative_ja="", narrative_en="", use="strategic", readers=["executive"],
        object_ids=[TECH["id"]])
    output = service.build_tier(session=session, principal=ANALYST, product_id=product.id,
                                tier=3, audience=Audience("computer_user_public"))
    with pytest.raises(InvalidInput):
        service.render(output=output, format="csaf")
    layer = json.loads(service.render(output=output, format="navigator"))
    assert layer["domain"] == "enterprise-attack"


def test_navigator_layers(outputs: dict[int, TierOutput], shared_data: Path) -> None:
    known = mitre_techniques(str(shared_data))
    layers = json.loads(service.render(output=outputs[2], format="navigator"))
    assert isinstance(layers, list) and {layer["domain"] for layer in layers} \
        == {"enterprise-attack", "ics-attack"}
    for layer in layers:
        assert layer["versions"]["layer"] == "4.5" and layer["name"]
        assert tuple(int(p) for p in layer["versions"]["navigator"].split(".")) >= (4, 9, 0)
        ids = {t["techniqueID"] for t in layer["techniques"]}
        assert ids <= known[layer["domain"]]
        assert all(t["score"] >= 1 for t in layer["techniques"])
    enterprise = next(layer for layer in layers if layer["domain"] == "enterprise-attack")
    assert {t["techniqueID"]: t["score"] for t in enterprise["techniques"]} == {"T1190": 1}


def test_html_and_pdf(outputs: dict[int, TierOutput], require_tool) -> None:  # type: ignore[no-untyped-def]
    page = service.render(output=outputs[3], format="html").decode()
    assert "周知等用総合整理分析情報" in page and "TLP:WHITE" in page
    assert "ルーターの脆弱性の悪用" in page and "Update the firmware." in page
    assert "CVE-2023-1389" in page and "RENDERNAME" not in page
    assert "The MITRE Corporation" in page
    require_tool("chromium")
    pdf = service.render(output=outputs[3], format="pdf")
    assert pdf.startswith(b"%PDF-") and b"/Type /Page" in pdf


def test_nothing_is_rendered_that_failed_the_lint(outputs: dict[int, TierOutput]) -> None:
    output = outputs[2]
    leaked = dict(output.bundle)
    leaked["objects"] = [*output.bundle["objects"], SEEN]  # a withheld object sneaks back
    tampered = replace(output, bundle=leaked)
    verdict = service.lint(output=tampered, tier=2, audience=output.audience)
    assert not verdict.passed
    assert {f.code for f in verdict.findings} >= {"unaccounted_object", "digest_mismatch"}
    for fmt in ("stix", "html", "csaf", "navigator"):
        with pytest.raises(Conflict):
            service.render(output=tampered, format=fmt)
    renamed = replace(output, narrative_en=output.narrative_en + " Hikari Railway RENDERNAME")
    assert "withheld_name" in {f.code for f in service.lint(
        output=renamed, tier=2, audience=output.audience).findings}
