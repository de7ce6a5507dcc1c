"""Providing product tiers within the entitlement matrix, on SQLite and PostgreSQL: what
each category may receive, what must be on record first, and refusals that are audited
and change nothing else."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.audit.models import AuditEntry
from mamori.dissemination import service
from mamori.dissemination.models import ProvisionRecord, ServedObjectRecord
from mamori.dissemination.provisions import ProvisionRefused, refusals_recorded
from mamori.errors import Forbidden, InvalidInput

from .conftest import World


def _refusals(session: Session, recipient: str) -> list[dict[str, object]]:
    session.rollback()
    rows = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "dissemination.provision.refused",
        AuditEntry.object_id == recipient).order_by(AuditEntry.seq)).all()
    return [json.loads(r.details) if isinstance(r.details, str) else r.details for r in rows]


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ProvisionRecord)) or 0


def test_each_category_receives_exactly_its_tiers(world: World) -> None:
    world.entitle()
    allowed = {("administrative_body", 1), ("administrative_body", 2),
               ("administrative_body", 3), ("council_member", 2), ("council_member", 3),
               ("special_infrastructure_operator", 3), ("computer_user_public", 3),
               ("supplier", 3)}
    for category in world.recipients:
        if category == "foreign_government":
            continue
        for tier in (1, 2, 3):
            if (category, tier) in allowed:
                made = world.provide(category, tier)
                assert made.tier == tier and made.category == category
                world.session.commit()
            else:
                with pytest.raises(ProvisionRefused):
                    world.provide(category, tier)
                world.session.rollback()
    assert _count(world.session) == len(allowed)


def test_provision_records_purpose_basis_matrix_and_objects(world: World) -> None:
    world.entitle()
    made = world.provide("council_member", 2, purpose="damage_prevention")
    world.session.commit()
    assert made.legal_basis == "Art 45(3)" and made.purpose == "damage_prevention"
    assert made.matrix_version == 1 and len(made.matrix_sha256) == 64
    assert made.object_count > 0 and len(made.digest) == 64
    stored = world.session.scalars(select(ServedObjectRecord).where(
        ServedObjectRecord.provision_id == made.id)).all()
    assert {r.stix_id for r in stored} >= set(world.objects)
    entry = world.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "dissemination.provision.delivered")).one()
    assert entry.legal_basis == "Art 45(3)" and entry.purpose == "damage_prevention"


def test_tier_three_has_no_secret_object(world: World) -> None:
    world.entitle()
    made = world.provide("computer_user_public", 3)
    texts = [json.dumps(o) for o in service.provision_objects(
        session=world.session, principal=world.analyst, provision_id=made.id)]
    assert not any("attacker detail" in t or "203.0.113.7" in t for t in texts)


def test_foreign_provision_needs_both_checks_and_refusals_are_audited(world: World) -> None:
    product = world.product
    with pytest.raises(ProvisionRefused, match="purpose-conformity"):
        world.provide("foreign_government", 2)
    refused = _refusals(world.session, "allied")
    assert refused and refused[-1]["reason"] == "foreign_checks"
    assert _count(world.session) == 0
    service.record_foreign_check(
        session=world.session, principal=world.analyst, recipient="allied", product_id=product,
        product_version=1, tier=2, kind="purpose_conformity",
        finding="Shared for damage prevention only; within Art 28 purpose limits.")
    world.session.commit()
    with pytest.raises(ProvisionRefused):
        world.provide("foreign_government", 2)
    world.session.rollback()
    service.record_foreign_check(
        session=world.session, principal=world.analyst, recipient="allied", product_id=product,
        product_version=1, tier=2, kind="equivalent_safeguards",
        finding="Written confirmation of equivalent handling measures received.",
        reference="MOU-2026-3")
    made = world.provide("foreign_government", 2)
    assert len(made.foreign_check_ids) == 2
    # The checks are for that provision: tier 3 needs its own.
    world.session.commit()
    with pytest.raises(ProvisionRefused):
        world.provide("foreign_government", 3)


def test_council_member_needs_consent_and_safeguards(world: World) -> None:
    with pytest.raises(ProvisionRefused, match="consent"):
        world.provide("council_member", 3)
    assert _refusals(world.session, "aoba")[-1]["reason"] == "council_safeguards"
    world.entitle()
    assert world.provide("council_member", 3).tier == 3


def test_operator_in_the_council_receives_tier_two(world: World) -> None:
    world.entitle()
    with pytest.raises(ProvisionRefused):
        world.provide("special_infrastructure_operator", 2)
    world.session.rollback()
    service.create_recipient(session=world.session, principal=world.analyst,
                             code="sakura-council", category="council_member",
                             name_ja="さくら（協議会）", name_en="Sakura (council)",
                             organisation="sakura")
    world.session.commit()
    with pytest.raises(ProvisionRefused):  # a member without consent on record does not count
        world.provide("special_infrastructure_operator", 2)
    world.session.rollback()
    from datetime import date

    service.record_council_safeguards(session=world.session, principal=world.analyst,
                                      recipient="sakura-council", consent_on=date.today(),
                                      consent_reference="C-2", safeguards_reference="S-2")
    assert world.provide("special_infrastructure_operator", 2).tier == 2


def test_supplier_tier_two_only_for_its_own_vulnerabilities(world: World) -> None:
    from mamori.products import service as products
    from mamori.vulns import service as vulns

    from .conftest import _import, vulnerability

    supplier = vulns.add_supplier(session=world.session, principal=world.analyst,
                                  name="つばさ", name_en="Tsubasa", business_ministry="meti",
                                  organisation="tsubasa", cpe_vendors=["tsubasa"])
    vulns.open_case(session=world.session, principal=world.analyst, supplier_id=supplier.id,
                    title="Unauthenticated write", summary="Undisclosed.",
                    product_cpe="cpe:2.3:a:tsubasa:gateway:1.0:*:*:*:*:*:*:*",
                    cve_id="CVE-2026-90001")
    own = vulnerability("own", "CVE-2026-90001")
    other = vulnerability("other", "CVE-2026-90002")
    _import(world.session, world.analyst, [own, other], ["SECRET"])

    def compose(ids: list[str]) -> str:
        return products.compose_product(
            session=world.session, principal=world.analyst, title_ja="脆弱性",
            title_en="Vulnerability", narrative_ja="概要。", narrative_en="Summary.",
            use="operational", readers=["supplier"], object_ids=ids).id

    mine, mixed = compose([own["id"]]), compose([own["id"], other["id"]])
    world.session.commit()
    made = service.provide(session=world.session, principal=world.analyst, product_id=mine,
                           tier=2, recipient="tsubasa", purpose="vulnerability_handling")
    assert made.tier == 2 and made.legal_basis == "Art 42"
    world.session.commit()
    for product in (mixed, world.product):
        with pytest.raises(ProvisionRefused, match="own products"):
            service.provide(session=world.session, principal=world.analyst, product_id=product,
                            tier=2, recipient="tsubasa", purpose="vulnerability_handling")
        world.session.rollback()


def test_only_permitted_people_provide_and_bad_input_changes_nothing(world: World) -> None:
    world.entitle()
    operator = world.member("sakura")
    with pytest.raises(Forbidden):
        service.provide(session=world.session, principal=operator, product_id=world.product,
                        tier=3, recipient="sakura", purpose="damage_prevention")
    world.session.rollback()
    with pytest.raises(InvalidInput):
        world.provide("council_member", 4)
    with pytest.raises(InvalidInput):
        world.provide("council_member", 3, purpose="criminal_investigation")
    world.session.rollback()
    assert _count(world.session) == 0


def test_a_refusal_after_the_output_was_built_is_still_audited(world: World) -> None:
    """Post-build refusals (here: a supplier's tier 2) are recorded by the transaction's
    owner after the rollback, on both databases."""
    with pytest.raises(ProvisionRefused), refusals_recorded(world.session):
        world.provide("supplier", 2)
    assert any(r["reason"] == "own_vulnerabilities" for r in _refusals(world.session, "tsubasa"))
    assert _count(world.session) == 0


def test_a_changed_matrix_under_the_same_version_is_refused(world: World, env) -> None:
    world.entitle()
    world.provide("council_member", 3)
    world.session.commit()
    from mamori.dissemination.entitlements import PACKAGED

    override = env / "dissemination" / "entitlements.toml"
    override.parent.mkdir()
    text = PACKAGED.read_text()
    council = 'conditions = { "2" = ["council_safeguards"], "3" = ["council_safeguards"] }'
    assert council in text
    override.write_text(text.replace(
        'tiers = [2, 3]\nlegal_basis = "Art 45(3)"', 'tiers = [3]\nlegal_basis = "Art 45(3)"')
        .replace(council, 'conditions = { "3" = ["council_safeguards"] }'))
    from mamori.errors import Conflict

    with pytest.raises(Conflict, match="raise its version"):
        world.provide("council_member", 3)
    world.session.rollback()
    override.write_text(override.read_text().replace("version = 1", "version = 2"))
    assert world.provide("council_member", 3).matrix_version == 2
    with pytest.raises(ProvisionRefused):
        world.provide("council_member", 2)


def test_tier_one_with_selected_information_goes_through_governance(world: World) -> None:
    from mamori.access.principal import Principal
    from mamori.governance.models import UseDecision

    from .conftest import agreement_in_force, comms_handler, selected_product

    world.entitle()
    made_id = selected_product(world, agreement_in_force(world))
    handler = comms_handler(world)
    # An analyst may not provide communications-derived content; a designated handler may.
    with pytest.raises(Forbidden):
        service.provide(session=world.session, principal=world.analyst, product_id=made_id,
                        tier=1, recipient="npa", purpose="damage_prevention")
    world.session.rollback()
    with pytest.raises(ProvisionRefused, match="cannot carry"):
        service.provide(session=world.session, principal=handler, product_id=made_id, tier=1,
                        recipient="npa", purpose="vulnerability_handling")
    world.session.rollback()
    provided = service.provide(session=world.session, principal=handler, product_id=made_id,
                               tier=1, recipient="npa", purpose="damage_prevention")
    assert provided.use_decision_id is not None
    decision = world.session.get(UseDecision, provided.use_decision_id)
    assert decision is not None and decision.granted and decision.provision
    assert decision.user_body_id == world.orgs["npa"]
    # Inside the Cabinet Office the provision stays communications-derived: analysts do not
    # see it, the receiving body does.
    world.session.commit()
    with pytest.raises(Forbidden):
        service.get_provision(session=world.session, principal=world.analyst,
                              provision_id=provided.id)
    world.session.rollback()
    npa = world.member("npa", role="ministry_liaison")
    seen = service.get_provision(session=world.session, principal=npa, provision_id=provided.id)
    assert seen.id == provided.id
    # Retention (Art 25): after the period the provided objects go, the record stays.
    from datetime import timedelta

    from mamori.db import utcnow
    from mamori.dissemination.retention import DATA_CLASS
    from mamori.governance import service as governance

    public = world.provide("council_member", 3)
    world.session.commit()
    reports = governance.purge_expired(session=world.session,
                                       principal=Principal.system("retention"),
                                       at=utcnow() + timedelta(days=731), classes=[DATA_CLASS])
    assert reports[0].outcome.count == provided.object_count
    world.session.commit()
    remaining = world.session.scalars(select(ServedObjectRecord.provision_id)).all()
    assert provided.id not in remaining and public.id in remaining
    assert world.session.get(ProvisionRecord, provided.id) is not None
