"""Demo step "one product composed in three tiers".

Stores a small, self-contained story in the intel store (public C2 indicators, a
confidential staging host and technique, an indicator reported by an operator that
consented to be named to administrative bodies only, and one selected-communications
aggregate that a designated handler determines to be releasable), composes the product
from them and builds tier 1 for an administrative body, tier 2 for a council member and
tier 3 for the public — printing what the sanitiser did in each. Safe to run twice.
"""

from __future__ import annotations

import uuid
from typing import Any

from rich.console import Console
from sqlalchemy.orm import Session

from mamori.access import service as access
from mamori.access.principal import Principal
from mamori.config import get_settings
from mamori.errors import InvalidInput, NotFound
from mamori.intel import service as intel
from mamori.products import criteria
from mamori.products.audience import Audience
from mamori.products.compose import compose_product, list_products
from mamori.products.tiers import build_tier

TITLE_EN = "Demo: attack infrastructure targeting control systems"
NS = uuid.UUID("3f6f0e1c-2f0d-5c47-9b7a-6b0c7d6a5e21")
T0 = "2026-04-01T00:00:00.000Z"
SOURCE = "demo:products"


def _id(kind: str, name: str) -> str:
    return f"{kind}--{uuid.uuid5(NS, f'products/{name}')}"


def _indicator(name: str, title: str, value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "indicator", "spec_version": "2.1", "id": _id("indicator", name),
            "created": T0, "modified": T0, "name": title,
            "pattern": f"[ipv4-addr:value = '{value}']", "pattern_type": "stix",
            "valid_from": T0, **extra}


OPERATOR = {"type": "identity", "spec_version": "2.1", "id": _id("identity", "sakura"),
            "created": T0, "modified": T0, "name": "さくら電力株式会社 (Sakura Electric Power)",
            "identity_class": "organization", "sectors": ["utilities"]}
PUBLIC = [_indicator(f"c2-{n}", f"C2 server {n} (demo)", f"192.0.2.{n}") for n in (10, 11, 12)]
TECHNIQUE = {"type": "attack-pattern", "spec_version": "2.1",
             "id": _id("attack-pattern", "exploit"), "created": T0, "modified": T0,
             "name": "Exploit of the engineering workstation's remote service (demo detail)",
             "external_references": [{"source_name": "mitre-attack", "external_id": "T1210"}]}
SECRET = [_indicator("staging", "Staging host (demo, confidential)", "203.0.113.200"),
          TECHNIQUE,
          {"type": "relationship", "spec_version": "2.1", "id": _id("relationship", "uses"),
           "created": T0, "modified": T0, "relationship_type": "indicates",
           "source_ref": _id("indicator", "staging"), "target_ref": TECHNIQUE["id"]}]
REPORTED = _indicator("reported", "Scanner seen by an operator (demo)", "198.51.100.23",
                      created_by_ref=OPERATOR["id"])
SELECTED = _indicator("selected", "Bot fan-in seen in selected communications (demo)",
                      "198.51.100.77")


def _principal(session: Session, username: str, purpose: str | None = None) -> Principal:
    principal = access.principal_for_user(session=session, username=username, via="system")
    if purpose:
        principal = access.declare_purpose(session=session, login_token=None,
                                           principal=principal, purpose=purpose)
    return principal


def _import(session: Session, principal: Principal, objects: list[dict[str, Any]],
            labels: list[str], **attribution: Any) -> None:
    intel.import_bundle(session=session, principal=principal, source=SOURCE, labels=labels,
                        bundle={"type": "bundle", "id": _id("bundle", objects[0]["id"]),
                                "objects": objects}, **attribution)


def seed(*, session: Session, console: Console) -> None:
    if not get_settings().demo:
        raise InvalidInput("the demo runs only in demo mode (MAMORI_DEMO=1)")
    try:
        analyst = _principal(session, "demo-analyst", "specified_damage_prevention")
        handler = _principal(session, "demo-comms_handler", "specified_damage_prevention")
    except Exception as exc:  # the access demo step has not run
        raise NotFound("run the access demo step first (demo-analyst, demo-comms_handler)") \
            from exc
    existing = [p for p in list_products(session=session, principal=analyst, limit=1000)
                if p.title_en == TITLE_EN]
    if existing:
        console.print(f"product {existing[0].id} v{existing[0].version} is already composed")
        return
    _import(session, analyst, PUBLIC, ["PUBLIC"])
    _import(session, analyst, SECRET, ["SECRET"])
    _import(session, analyst, [OPERATOR, REPORTED], ["SECRET"],
            attributed_to="operator:sakura_electric", consent=["administrative_body"])
    _import(session, handler, [SELECTED], ["COMMS"])
    answers = {item["key"]: True for item in criteria.in_force(session).items}
    criteria.determine(session=session, principal=handler, stix_id=SELECTED["id"],
                       answers=answers, decision_ref="Demo determination under the default "
                                                     "criteria")
    ids = [*(o["id"] for o in PUBLIC), *(o["id"] for o in SECRET), OPERATOR["id"],
           REPORTED["id"], SELECTED["id"]]
    product = compose_product(
        session=session, principal=analyst,
        title_ja="デモ：制御システムを狙う攻撃基盤", title_en=TITLE_EN,
        narrative_ja="制御システムを狙う攻撃の指令サーバを確認しました。"
                     "\n[SECRET]\n中継拠点の詳細は提供先を限ります。\n[/SECRET]",
        narrative_en="Command-and-control servers of an attack on control systems were "
                     "identified.\n[SECRET]\nDetails of the staging host are restricted."
                     "\n[/SECRET]",
        use="tactical", readers=["administrative_body", "council_member",
                                 "computer_user_public", "security_team"],
        object_ids=ids, actions_ja="記載の宛先への通信を遮断してください。",
        actions_en="Block traffic to the listed addresses.")
    for tier, category in ((1, "administrative_body"), (2, "council_member"),
                           (3, "computer_user_public")):
        output = build_tier(session=session, principal=analyst, product_id=product.id,
                            tier=tier, audience=Audience(category))
        changes = ", ".join(f"{k} x{v}" for k, v in output.report.counts().items()) or "none"
        console.print(f"{product.id} tier {tier} for {category}: {len(output.objects)} "
                      f"objects, lint {'passed' if output.lint.passed else 'FAILED'}; "
                      f"sanitised: {changes}")
