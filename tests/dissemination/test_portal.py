"""The public site and its feeds, the portal and JSON API of provision, feedback, the
feedback loop to contributors, the counts for the annual report and the UI catalogues."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mamori.audit.models import AuditEntry
from mamori.dissemination import service
from mamori.dissemination.taxii.params import TAXII_MEDIA
from mamori.dissemination.taxii.server import collection_id
from mamori.errors import Forbidden, InvalidInput
from mamori.web.app import create_app

from .conftest import World, indicator

HTML = "text/html"


def _bearer(token: str, accept: str = "application/json") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": accept}


def test_public_site_and_feeds_without_login(world: World) -> None:
    world.entitle()
    advisory = service.provide(session=world.session, principal=world.analyst,
                               product_id=world.product, tier=3, recipient="public-site",
                               purpose="public_awareness")
    private = world.provide("council_member", 3)
    world.session.commit()
    assert advisory.published and not private.published
    client = TestClient(create_app())
    page = client.get("/public?lang=ja", headers={"Accept": HTML})
    assert page.status_code == 200 and "国内で観測された攻撃" in page.text
    assert "/vulns/catalogue" in page.text and "/public/feed.atom" in page.text
    english = client.get("/public?lang=en", headers={"Accept": HTML})
    assert "Attacks observed in Japan" in english.text
    detail = client.get(f"/public/advisories/{advisory.id}?lang=en", headers={"Accept": HTML})
    assert detail.status_code == 200 and "Block them." in detail.text
    assert "attacker detail" not in detail.text
    assert client.get(f"/public/advisories/{private.id}", headers={"Accept": HTML}
                      ).status_code == 404
    bundle = client.get(f"/public/advisories/{advisory.id}/stix").json()
    assert bundle["type"] == "bundle" and bundle["objects"]
    atom = client.get("/public/feed.atom?lang=en")
    assert atom.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(atom.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)
    assert [e.findtext("a:title", namespaces=ns) for e in entries] == [
        "Attacks observed in Japan"]
    link = entries[0].find("a:link", ns)
    assert link is not None and link.get("href", "").endswith(
        f"/public/advisories/{advisory.id}?lang=en")
    rss = ET.fromstring(client.get("/public/feed.rss?lang=ja").content)
    assert [i.findtext("title") for i in rss.iter("item")] == ["国内で観測された攻撃"]
    assert rss.findtext("channel/language") == "ja"


def test_api_provides_refuses_with_an_audited_problem_and_takes_feedback(
        world: World) -> None:
    world.account("ana", "analyst", "cao")
    world.account("kaori", "council_member", "aoba")
    world.account("ichiro", "operator", "sakura")
    tokens = {u: world.token(u) for u in ("ana", "kaori", "ichiro")}
    world.session.commit()
    client = TestClient(create_app())
    analyst = _bearer(tokens["ana"])
    body = {"product_id": world.product, "tier": 2, "recipient": "aoba",
            "purpose": "damage_prevention"}
    refused = client.post("/api/v1/dissemination/provisions", headers=analyst, json=body)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["reason"] == "council_safeguards"
    world.session.rollback()
    audited = world.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "dissemination.provision.refused")).all()
    assert [e.object_id for e in audited] == ["aoba"]
    world.entitle()
    world.session.commit()
    made = client.post("/api/v1/dissemination/provisions", headers=analyst, json=body)
    assert made.status_code == 201, made.text
    provision = made.json()["id"]
    member = _bearer(tokens["kaori"])
    received = client.get("/api/v1/dissemination/received", headers=member).json()
    assert [p["id"] for p in received] == [provision]
    # Another organisation sees nothing of it and cannot rate it.
    operator = _bearer(tokens["ichiro"])
    assert client.get("/api/v1/dissemination/received", headers=operator).json() == []
    assert client.get(f"/api/v1/dissemination/provisions/{provision}",
                      headers=operator).status_code == 403
    assert client.post(f"/api/v1/dissemination/provisions/{provision}/feedback",
                       headers=operator, json={"rating": 5, "action_taken": "x"}
                       ).status_code == 403
    bad = client.post(f"/api/v1/dissemination/provisions/{provision}/feedback",
                      headers=member, json={"rating": 9, "action_taken": "Blocked"})
    assert bad.status_code == 422
    given = client.post(f"/api/v1/dissemination/provisions/{provision}/feedback",
                        headers=member,
                        json={"rating": 4, "action_taken": "Blocked the addresses."})
    assert given.status_code == 201
    summary = client.get(f"/api/v1/dissemination/products/{world.product}/feedback",
                         headers=analyst).json()
    assert summary["acknowledged"] == 1 and summary["average_rating"] == 4.0
    assert summary["entries"][0]["feedback"][0]["action_taken"] == "Blocked the addresses."
    assert client.get(f"/api/v1/dissemination/products/{world.product}/feedback",
                      headers=member).status_code == 403
    # The portal pages, in both languages.
    page = client.get(f"/provisions/{provision}?lang=en", headers=_bearer(tokens["kaori"], HTML))
    assert page.status_code == 200 and "Blocked the addresses." in page.text
    listing = client.get("/provisions?lang=ja", headers=_bearer(tokens["kaori"], HTML))
    assert "受領した情報" in listing.text and "国内で観測された攻撃" in listing.text
    overview = client.get("/dissemination?lang=en", headers=_bearer(tokens["ana"], HTML))
    assert overview.status_code == 200 and "Entitlement matrix" in overview.text
    recipient = client.get("/dissemination/recipients/allied?lang=en",
                           headers=_bearer(tokens["ana"], HTML))
    assert "Checks before a foreign provision" in recipient.text


def test_feedback_rules_and_the_loop_back_to_contributors(world: World) -> None:
    world.entitle()
    made = world.provide("council_member", 3)
    world.session.commit()
    member = world.member("aoba", role="council_member")
    with pytest.raises(InvalidInput):
        service.give_feedback(session=world.session, principal=member, provision_id=made.id,
                              rating=0, action_taken="x")
    with pytest.raises(InvalidInput):
        service.give_feedback(session=world.session, principal=member, provision_id=made.id,
                              rating=3, action_taken="  ")
    with pytest.raises(Forbidden):
        service.acknowledge(session=world.session, principal=world.member("sakura"),
                            provision_id=made.id)
    world.session.rollback()
    first = service.acknowledge(session=world.session, principal=member, provision_id=made.id)
    assert service.acknowledge(session=world.session, principal=member,
                               provision_id=made.id) == first
    # The operator contributes over TAXII; its indicator goes into a product; the product
    # reaches council members; the operator sees that — not who the members are.
    world.account("ichiro", "operator", "sakura")
    token = world.token("ichiro")
    world.session.commit()
    client = TestClient(create_app())
    shared = indicator("from-sakura", "203.0.113.9")
    raw = base64.b64encode(f"ichiro:{token}".encode()).decode()
    posted = client.post(
        f"/taxii2/mamori/collections/{collection_id('special_infrastructure_operator')}"
        "/objects/", content=json.dumps({"objects": [shared]}),
        headers={"Authorization": f"Basic {raw}", "Accept": TAXII_MEDIA,
                 "Content-Type": TAXII_MEDIA})
    assert posted.status_code == 202, posted.text
    from mamori.products import service as products

    world.session.rollback()
    used = products.compose_product(
        session=world.session, principal=world.analyst, title_ja="共有された指標",
        title_en="Shared indicator", narrative_ja="共有。", narrative_en="Shared.",
        use="tactical", readers=["council_member"], object_ids=[shared["id"]])
    service.provide(session=world.session, principal=world.analyst, product_id=used.id,
                    tier=2, recipient="aoba", purpose="damage_prevention")
    world.session.commit()
    outcomes = service.report_outcomes(session=world.session,
                                       principal=world.member("sakura"))
    assert [(o.product_id, o.provided_to) for o in outcomes] == [
        (used.id, {"council_member": [2]})]
    assert service.report_outcomes(session=world.session,
                                   principal=world.member("tsubasa", role="supplier")) == []
    with pytest.raises(Forbidden):
        service.report_outcomes(session=world.session, principal=world.analyst)


def test_provisions_are_counted_for_the_annual_report(world: World) -> None:
    world.entitle()
    start = datetime.now(UTC) - timedelta(hours=1)
    world.provide("council_member", 2)
    world.provide("council_member", 3)
    world.provide("computer_user_public", 3)
    counts = dict(service.provision_counts(session=world.session, start=start,
                                           end=start + timedelta(days=1)))
    assert counts["council_member tier 2"] == 1 and counts["council_member tier 3"] == 1
    assert counts["computer_user_public tier 3"] == 1
    assert sum(counts.values()) == 3 and len(counts) == 18
    earlier = dict(service.provision_counts(session=world.session,
                                            start=start - timedelta(days=2), end=start))
    assert sum(earlier.values()) == 0
    # None carried selected information, so no usage attestation was asked (counted in
    # tests/dissemination/test_usage.py).
    asked = dict(service.attestation_counts(session=world.session, start=start,
                                            end=start + timedelta(days=1)))
    assert asked["usage attestations requested"] == 0 and len(asked) == 6


def test_every_text_of_the_domain_is_in_both_catalogues() -> None:
    from pathlib import Path

    import mamori.dissemination as domain
    from mamori.web.catalogue_check import missing, python_uses, template_uses

    root = Path(domain.__file__).parent
    uses = [*template_uses([root / "templates"]), *python_uses(root)]
    assert uses
    catalogues = {lang: [root / "locale" / f"{lang}.po"] for lang in ("ja", "en")}
    assert missing(uses, catalogues) == {"ja": [], "en": []}


def test_an_operator_sees_the_products_made_from_its_incident_reports(world: World) -> None:
    """The intel store keeps, for each reported object, the incident and the reporting
    organisation (as its reporting ingest writes them); provision traces them."""
    from mamori.dissemination.outcomes import incident_of
    from mamori.intel.ingest.bundle import import_objects
    from mamori.intel.labels import build_labels
    from mamori.products import service as products

    reported = indicator("reported", "203.0.113.66")
    result = import_objects(
        session=world.session, principal=world.analyst, objects=[reported],
        source="reporting:incident/41/v2", kind="reporting",
        labels=build_labels(["SECRET"], source="operator:sakura", consent=[]),
        context={"incident_id": 41, "organisation_id": world.orgs["sakura"]})
    assert not result.rejected
    used = products.compose_product(
        session=world.session, principal=world.analyst, title_ja="報告に基づく注意喚起",
        title_en="Alert from a report", narrative_ja="注意。", narrative_en="Alert.",
        use="operational", readers=["council_member"], object_ids=[reported["id"]])
    world.entitle()
    service.provide(session=world.session, principal=world.analyst, product_id=used.id,
                    tier=2, recipient="aoba", purpose="damage_prevention")
    world.session.commit()
    [outcome] = service.report_outcomes(session=world.session,
                                        principal=world.member("sakura"))
    assert outcome.product_id == used.id and outcome.public_advisory is None
    assert outcome.provided_to == {"council_member": [2]}
    assert service.report_outcomes(session=world.session, principal=world.member("aoba")) == []
    assert incident_of("reporting:incident/41/v2") == 41 == incident_of("incident-41-v2")
