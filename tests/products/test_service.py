"""Composing, versioning, reading and building products through the service, on SQLite
and PostgreSQL, with store objects imported through the intel service."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.audit.models import AuditEntry
from mamori.errors import Conflict, Forbidden, InvalidInput, NotFound
from mamori.products import service
from mamori.products.audience import Audience
from mamori.products.models import ProductRecord, TierBuild

from .conftest import (
    ANALYST,
    HANDLER,
    INSPECTOR,
    OPERATOR,
    attack_pattern,
    identity,
    indicator,
    relationship,
    store,
)

PUBLIC_IND = indicator("public", "192.0.2.10")
SECRET_IND = indicator("secret", "192.0.2.20", description="attacker detail SECRETMARK01")
COMMS_IND = indicator("comms", "198.51.100.99", name="C2 COMMSMARK01")
OPERATOR_ID = identity("sakura", "Sakura Electric OPNAME01", sectors=["utilities"])
REPORTED = indicator("reported", "192.0.2.30", created_by_ref=OPERATOR_ID["id"])
TECHNIQUE = attack_pattern("ps", "T1059.001", "Secret use of PowerShell SECRETMARK02")
USES = relationship("uses", PUBLIC_IND["id"], TECHNIQUE["id"])


def _world(session: Session) -> None:
    store(session, ANALYST, [PUBLIC_IND, USES], labels=["PUBLIC"])
    store(session, ANALYST, [SECRET_IND, TECHNIQUE], labels=["SECRET"])
    store(session, HANDLER, [COMMS_IND], labels=["COMMS"])
    store(session, ANALYST, [OPERATOR_ID, REPORTED], labels=["SECRET"],
          attributed_to="operator:sakura", consent=["administrative_body"])


def _compose(session: Session, principal=ANALYST, **changes):  # type: ignore[no-untyped-def]
    values = dict(
        title_ja="国内で観測された攻撃", title_en="Attacks observed in Japan",
        narrative_ja="概要。\n[SECRET]\n攻撃者の詳細 SECRETMARK03\n[/SECRET]",
        narrative_en="Summary.\n[SECRET]\nAttacker detail SECRETMARK03\n[/SECRET]",
        use="tactical", readers=["administrative_body", "security_team"],
        object_ids=[PUBLIC_IND["id"], SECRET_IND["id"], TECHNIQUE["id"], USES["id"],
                    OPERATOR_ID["id"], REPORTED["id"]],
        actions_ja="パッチを適用する。", actions_en="Apply the patch.")
    values.update(changes)
    return service.compose_product(session=session, principal=principal, **values)


def test_compose_version_and_one_voice(session: Session) -> None:
    _world(session)
    first = _compose(session)
    assert first.id.startswith("PRD-") and first.version == 1 and first.is_current
    assert set(first.labels) == {"SECRET"}
    second = _compose(session, title_en="Attacks observed in Japan (update)",
                      supersedes=first.id)
    assert (second.id, second.version, second.current_version) == (first.id, 2, 2)
    old = service.get_product(session=session, principal=ANALYST, product_id=first.id,
                              version=1)
    assert old.superseded and old.current_version == 2 and old.superseded_at is not None
    current = service.get_product(session=session, principal=ANALYST, product_id=first.id)
    assert current.version == 2 and current.title_en.endswith("(update)")
    listed = service.list_products(session=session, principal=ANALYST)
    assert [(p.id, p.version) for p in listed] == [(first.id, 2)]
    assert len(service.list_products(session=session, principal=ANALYST,
                                     include_superseded=True)) == 2
    versions = service.list_versions(session=session, principal=ANALYST, product_id=first.id)
    assert [v.version for v in versions] == [1, 2]
    actions = session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_id == first.id)).all()
    assert "product.composed" in actions and "product.superseded" in actions


def test_invalid_input_changes_nothing(session: Session) -> None:
    _world(session)
    bad = [
        {"use": "poetry"},
        {"readers": []},
        {"readers": ["everyone"]},
        {"title_en": "  "},
        {"object_ids": ["indicator--not-a-uuid"]},
        {"object_ids": [indicator("missing", "192.0.2.99")["id"]]},
        {"narrative_en": "[SECRET]\nnever closed"},
        {"narrative_en": "[COMMS]\n[SECRET]\nnested\n[/SECRET]\n[/COMMS]"},
        {"supersedes": "PRD-2026-9999"},
    ]
    for change in bad:
        with pytest.raises((InvalidInput, NotFound)) as caught:
            _compose(session, **change)
        assert "SECRETMARK" not in caught.value.detail
    assert session.scalar(select(func.count()).select_from(ProductRecord)) == 0


def test_communications_content_is_behind_the_gate(session: Session) -> None:
    _world(session)
    with pytest.raises(InvalidInput):  # the analyst cannot even see the COMMS object
        _compose(session, object_ids=[COMMS_IND["id"]])
    with pytest.raises(Forbidden):  # nor write a COMMS passage
        _compose(session, narrative_en="[COMMS]\nwhat selection showed\n[/COMMS]")
    product = _compose(session, principal=HANDLER,
                       object_ids=[COMMS_IND["id"], PUBLIC_IND["id"]])
    assert "COMMS" in product.labels
    with pytest.raises(Forbidden):
        service.get_product(session=session, principal=ANALYST, product_id=product.id)
    with pytest.raises(Forbidden):
        service.build_tier(session=session, principal=ANALYST, product_id=product.id, tier=2,
                           audience=Audience("council_member"))
    assert service.list_products(session=session, principal=ANALYST) == []
    assert [p.id for p in service.list_products(session=session, principal=HANDLER)] \
        == [product.id]
    tier2 = service.build_tier(session=session, principal=HANDLER, product_id=product.id,
                               tier=2, audience=Audience("council_member"))
    text = json.dumps(tier2.bundle)
    assert "COMMSMARK01" not in text and "198.51.100.99" not in text
    assert tier2.lint.passed
    assert [(i.reason, i.action) for i in tier2.report.items] == [("comms", "removed")]


def test_build_tier_sanitises_and_records(session: Session) -> None:
    _world(session)
    product = _compose(session)
    agency = Audience("administrative_body")
    council = Audience("council_member", organisation_id=5)
    outputs = {(tier, audience.category): service.build_tier(
        session=session, principal=ANALYST, product_id=product.id, tier=tier,
        audience=audience) for tier in (1, 2, 3) for audience in (agency, council)}
    for (tier, category), output in outputs.items():
        text = json.dumps(output.bundle, ensure_ascii=False) + json.dumps(output.texts)
        assert output.lint.passed, output.lint.findings
        assert ("OPNAME01" in text) == (category == "administrative_body" and tier < 3)
        assert ("SECRETMARK" in text) == (tier < 3)
        assert len(output.digest) == 64
    tier3 = outputs[(3, "council_member")]
    names = {o.get("name") for o in tier3.objects}
    assert "PowerShell" in names  # the secret technique, generalised to the public one
    assert not any(o.get("type") == "indicator" and "192.0.2.20" in o.get("pattern", "")
                   for o in tier3.objects)
    assert session.scalar(select(func.count()).select_from(TierBuild)) == 6
    records = service.list_builds(session=session, principal=INSPECTOR, product_id=product.id)
    assert {r.tier for r in records} == {1, 2, 3}
    assert all("SECRETMARK" not in json.dumps(r.report) for r in records)
    again = service.build_tier(session=session, principal=ANALYST, product_id=product.id,
                               tier=3, audience=council)
    assert again.digest == tier3.digest  # the same product, tier and audience: same content


def test_audience_consent_names_the_operator(session: Session) -> None:
    _world(session)
    product = _compose(session, object_ids=[REPORTED["id"]], narrative_en="Seen by "
                       "Sakura Electric OPNAME01.", narrative_ja="")
    consented = Audience("council_member", attribution_consents=frozenset({"operator:sakura"}))
    named = service.build_tier(session=session, principal=ANALYST, product_id=product.id,
                               tier=2, audience=consented)
    hidden = service.build_tier(session=session, principal=ANALYST, product_id=product.id,
                                tier=2, audience=Audience("council_member"))
    assert "OPNAME01" in json.dumps(named.bundle) and "OPNAME01" in named.narrative_en
    assert "OPNAME01" not in json.dumps(hidden.bundle) + hidden.narrative_en
    assert "Reporting operator" in hidden.narrative_en


def test_errors_and_permissions(session: Session) -> None:
    _world(session)
    product = _compose(session)
    with pytest.raises(InvalidInput):
        service.build_tier(session=session, principal=ANALYST, product_id=product.id, tier=4,
                           audience=Audience("council_member"))
    with pytest.raises(InvalidInput):
        Audience("martians")
    with pytest.raises(Forbidden):
        service.build_tier(session=session, principal=OPERATOR, product_id=product.id, tier=3,
                           audience=Audience("computer_user_public"))
    with pytest.raises(Forbidden):
        _compose(session, principal=INSPECTOR)
    with pytest.raises(NotFound):
        service.get_product(session=session, principal=ANALYST, product_id="PRD-2026-0404")
    output = service.build_tier(session=session, principal=ANALYST, product_id=product.id,
                                tier=2, audience=Audience("council_member"))
    assert not service.lint(output=output, tier=3, audience=output.audience).passed
    assert not service.lint(output=output, tier=2, audience=Audience("supplier")).passed
    with pytest.raises(Conflict):
        service.render(output=output.__class__(**{**output.__dict__,
                                                  "lint": service.LintResult(False)}),
                       format="stix")
