"""Demo step "one product delivered in three tiers to one recipient of each category".

Creates one recipient per category with a demo account each (password = name, usable
only in demo mode): ``demo-agency`` (administrative body), ``demo-foreign`` (foreign
government), ``demo-council`` (council member), ``demo-sio`` (special infrastructure
operator), ``demo-public`` (computer users and the public) and ``demo-vendor``
(supplier), plus the public site. Records what the law needs first — the agency's
provision basis, the council member's consent and safeguards, the two foreign checks —
and provides one product: tier 1 to the agency, tier 2 to the foreign government and
the council member, tier 3 to the operator, the public user, the supplier and the public
site. Each reads it in the portal (``/provisions``) and over TAXII (``/taxii2/``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access import service as access_service
from mamori.access.principal import ROLES, Principal
from mamori.config import get_settings
from mamori.dissemination import foreign, provisions, recipients, safeguards
from mamori.dissemination.models import ProvisionRecord, RecipientRecord
from mamori.errors import InvalidInput, NotFound

TITLE_EN = "Demo: attack infrastructure targeting control systems"
PURPOSE = "damage_prevention"


@dataclass(frozen=True)
class DemoRecipient:
    username: str
    category: str
    organisation: str
    role: str
    tier: int
    name_ja: str
    name_en: str


def _role(natural: str) -> str:
    """The role of a receive-only account: "recipient" where the platform has it."""
    return "recipient" if "recipient" in ROLES else natural


RECIPIENTS: tuple[DemoRecipient, ...] = (
    DemoRecipient("demo-agency", "administrative_body", "npa", _role("ministry_liaison"), 1,
                  "警察庁", "National Police Agency"),
    DemoRecipient("demo-foreign", "foreign_government", "allied_cert", _role("supplier"), 2,
                  "同盟国サイバー機関（架空）", "Allied cyber agency (fictional)"),
    DemoRecipient("demo-council", "council_member", "aoba_security", "council_member", 2,
                  "あおばセキュリティ株式会社", "Aoba Security Inc."),
    DemoRecipient("demo-sio", "special_infrastructure_operator", "sakura_electric",
                  "operator", 3, "さくら電力株式会社", "Sakura Electric Power Co., Inc."),
    DemoRecipient("demo-public", "computer_user_public", "midori_clinic", _role("supplier"), 3,
                  "みどりクリニック", "Midori Clinic"),
    DemoRecipient("demo-vendor", "supplier", "tsubasa_systems", "supplier", 3,
                  "つばさシステムズ株式会社", "Tsubasa Systems Co., Ltd."),
)
# Organisations the access demo does not create: (code, kind, preferred kind).
NEW_ORGANISATIONS = {
    "npa": ("administrative_body", "administrative_body"),
    "allied_cert": ("administrative_body", "foreign_government"),
    "midori_clinic": ("contractor", "computer_user"),
}
ACCOUNTS = tuple(r.username for r in RECIPIENTS)


def _as(session: Session, username: str, purpose: str | None = None) -> Principal:
    principal = access_service.principal_for_user(session=session, username=username,
                                                  via="system")
    return principal.with_purpose(purpose) if purpose else principal


def _organisations(session: Session, admin: Principal) -> dict[str, int]:
    from mamori.access.organisations import ORGANISATION_KINDS

    ids = {o.code: o.id for o in access_service.list_organisations(session=session,
                                                                   principal=admin)}
    for code, (fallback, preferred) in NEW_ORGANISATIONS.items():
        if code in ids:
            continue
        spec = next(r for r in RECIPIENTS if r.organisation == code)
        made = access_service.create_organisation(
            session=session, principal=admin, code=code, name_ja=spec.name_ja,
            name_en=spec.name_en, kind=preferred if preferred in ORGANISATION_KINDS else fallback)
        ids[code] = made.id
    return ids


def _accounts(session: Session, admin: Principal, orgs: dict[str, int]) -> None:
    from mamori.access.principals import find_user

    for spec in RECIPIENTS:
        if find_user(session, spec.username) is None:
            access_service.create_user(
                session=session, principal=admin, username=spec.username,
                display_name=f"デモ受領者 {spec.name_ja} / Demo recipient {spec.name_en}",
                roles=[spec.role], organisation_id=orgs[spec.organisation],
                password=spec.username, language="ja", demo=True)


def _recipients(session: Session, analyst: Principal) -> None:
    for spec in RECIPIENTS:
        if recipients.find(session, spec.username.removeprefix("demo-")) is None:
            recipients.create_recipient(
                session=session, principal=analyst, code=spec.username.removeprefix("demo-"),
                category=spec.category, name_ja=spec.name_ja, name_en=spec.name_en,
                organisation=spec.organisation,
                attribution_consent=["council_member"] if spec.category == "council_member"
                else [])
    if recipients.find(session, "public-site") is None:
        recipients.create_recipient(
            session=session, principal=analyst, code="public-site",
            category="computer_user_public", name_ja="公開サイト", name_en="Public site",
            publishes=True)
    from mamori.dissemination.safeguards import current_basis, safeguards_on_record

    agency = recipients.find(session, "agency")
    council = recipients.find(session, "council")
    assert agency is not None and council is not None
    if current_basis(session, agency.id) is None:
        safeguards.record_provision_basis(
            session=session, principal=analyst, recipient="agency", trigger="d",
            reference="Demo: request for information supporting neutralisation")
    if not safeguards_on_record(session, council.id):
        safeguards.record_council_safeguards(
            session=session, principal=analyst, recipient="council",
            consent_on=safeguards.today() - timedelta(days=30),
            consent_reference="Demo consent to council membership (Art 45(2))",
            safeguards_reference="Demo information-management attestation (Art 45(4))")


def _product(session: Session, analyst: Principal) -> tuple[str, int]:
    """The demo product: the one the products demo made, else one made here."""
    from mamori.intel import service as intel
    from mamori.products import service as products

    for found in products.list_products(session=session, principal=analyst, limit=100):
        if found.title_en == TITLE_EN:
            return found.id, found.version
    ns = "3f6f0e1c-2f0d-5c47-9b7a-6b0c7d6a5e21"
    indicators = [
        {"type": "indicator", "spec_version": "2.1",
         "id": f"indicator--{_uuid(ns, f'demo-{n}')}", "created": "2026-04-01T00:00:00.000Z",
         "modified": "2026-04-01T00:00:00.000Z", "name": f"C2 server {n} (demo)",
         "pattern": f"[ipv4-addr:value = '192.0.2.{n}']", "pattern_type": "stix",
         "valid_from": "2026-04-01T00:00:00.000Z"} for n in (10, 11, 12)]
    detail = {"type": "indicator", "spec_version": "2.1",
              "id": f"indicator--{_uuid(ns, 'demo-secret')}", "created": "2026-04-01T00:00:00.000Z",
              "modified": "2026-04-01T00:00:00.000Z", "name": "Staging host (demo, confidential)",
              "pattern": "[ipv4-addr:value = '203.0.113.200']", "pattern_type": "stix",
              "valid_from": "2026-04-01T00:00:00.000Z"}
    intel.import_bundle(session=session, principal=analyst, source="demo:dissemination",
                        labels=["PUBLIC"], bundle={"type": "bundle",
                                                   "id": f"bundle--{_uuid(ns, 'public')}",
                                                   "objects": indicators})
    intel.import_bundle(session=session, principal=analyst, source="demo:dissemination",
                        labels=["SECRET"], bundle={"type": "bundle",
                                                   "id": f"bundle--{_uuid(ns, 'secret')}",
                                                   "objects": [detail]})
    made = products.compose_product(
        session=session, principal=analyst,
        title_ja="デモ：制御システムを狙う攻撃基盤", title_en=TITLE_EN,
        narrative_ja="制御システムを狙う攻撃の指令サーバを確認しました。"
                     "\n[SECRET]\n中継拠点の詳細は提供先を限ります。\n[/SECRET]",
        narrative_en="Command-and-control servers of an attack on control systems were "
                     "identified.\n[SECRET]\nDetails of the staging host are restricted."
                     "\n[/SECRET]",
        use="tactical", readers=["administrative_body", "council_member",
                                 "computer_user_public"],
        object_ids=[*(i["id"] for i in indicators), detail["id"]],
        actions_ja="記載の宛先への通信を遮断してください。",
        actions_en="Block traffic to the listed addresses.")
    return made.id, made.version


def _uuid(namespace: str, name: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.UUID(namespace), name))


def _provide(session: Session, analyst: Principal, product_id: str, version: int) -> int:
    made = 0
    plan = [(s.username.removeprefix("demo-"), s.tier) for s in RECIPIENTS]
    plan.append(("public-site", 3))
    for code, tier in plan:
        row = recipients.find(session, code)
        assert row is not None
        done = session.scalars(select(ProvisionRecord.id).where(
            ProvisionRecord.recipient_id == row.id, ProvisionRecord.product_id == product_id,
            ProvisionRecord.tier == tier)).first()
        if done is not None:
            continue
        if row.category == "foreign_government":
            checks = foreign.checks_for(session, row.id, product_id, version, tier)
            for kind, finding in (
                    (foreign.PURPOSE_CONFORMITY,
                     "Demo: provided for damage prevention only, within Art 28 limits."),
                    (foreign.EQUIVALENT_SAFEGUARDS,
                     "Demo: equivalent handling measures confirmed in writing.")):
                if kind not in checks:
                    foreign.record_foreign_check(
                        session=session, principal=analyst, recipient=code,
                        product_id=product_id, product_version=version, tier=tier, kind=kind,
                        finding=finding, reference="DEMO-MOU-1")
        provisions.provide(session=session, principal=analyst, product_id=product_id,
                           tier=tier, recipient=code, purpose=PURPOSE)
        made += 1
    return made


def seed(*, session: Session, console: Console) -> None:
    """Create the recipients and their accounts, and provide the demo product; idempotent."""
    if not get_settings().demo:
        raise InvalidInput("the demo runs only in demo mode (MAMORI_DEMO=1)")
    try:
        admin = _as(session, "demo-admin")
        analyst = _as(session, "demo-analyst", "specified_damage_prevention")
    except Exception as exc:  # the access demo step has not run
        raise NotFound("run the access demo step first (demo-admin, demo-analyst)") from exc
    orgs = _organisations(session, admin)
    _accounts(session, admin, orgs)
    _recipients(session, analyst)
    product_id, version = _product(session, analyst)
    made = _provide(session, analyst, product_id, version)
    session.flush()
    count = session.scalars(select(RecipientRecord.code)).all()
    console.print(f"recipients: {', '.join(sorted(count))}; {made} provision(s) of "
                  f"{product_id} v{version}")
    console.print(f"recipient accounts (password = name): {', '.join(ACCOUNTS)}")
