"""A small world for the provision tests: organisations and accounts through the access
service, one recipient per category, store objects imported through the intel service
and a product composed through the products service. Every call goes through the real
Cedar policies."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from mamori.access import passwords
from mamori.access import service as access
from mamori.access.principal import Principal
from mamori.access.principals import find_user, principal_of
from mamori.dissemination import service
from mamori.dissemination.settings import reset_delivery_settings
from mamori.intel import service as intel
from mamori.products import service as products

PASSWORD = "correct horse battery"
T0 = "2026-04-01T00:00:00.000Z"
NS = uuid.UUID("0b3c7a52-2b43-5f1e-9c55-2a4f7b1d9e10")

# (organisation code, kind, recipient code, category)
ORGANISATIONS = (
    ("npa", "administrative_body", "npa", "administrative_body"),
    ("allied", "administrative_body", "allied", "foreign_government"),
    ("aoba", "council_member", "aoba", "council_member"),
    ("sakura", "operator", "sakura", "special_infrastructure_operator"),
    ("midori", "contractor", "midori", "computer_user_public"),
    ("tsubasa", "supplier", "tsubasa", "supplier"),
)


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Real argon2id with small parameters: the tests create many accounts."""
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    passwords._dummy_hash.cache_clear()
    reset_delivery_settings()
    yield
    passwords._dummy_hash.cache_clear()
    reset_delivery_settings()


def sid(kind: str, *parts: object) -> str:
    return f"{kind}--{uuid.uuid5(NS, '/'.join(str(p) for p in (kind, *parts)))}"


def indicator(key: str, value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "indicator", "spec_version": "2.1", "id": sid("indicator", key),
            "created": T0, "modified": T0, "name": f"Indicator {key}",
            "pattern": f"[ipv4-addr:value = '{value}']", "pattern_type": "stix",
            "valid_from": T0, **extra}


def vulnerability(key: str, cve: str) -> dict[str, Any]:
    return {"type": "vulnerability", "spec_version": "2.1", "id": sid("vulnerability", key),
            "created": T0, "modified": T0, "name": cve,
            "external_references": [{"source_name": "cve", "external_id": cve}]}


@dataclass
class World:
    session: Session
    root: Principal
    analyst: Principal
    orgs: dict[str, int]
    recipients: dict[str, str] = field(default_factory=dict)
    product: str = ""
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)

    def account(self, username: str, role: str, org: str) -> Principal:
        access.create_user(session=self.session, principal=self.root, username=username,
                           display_name=username.title(), roles=[role],
                           organisation_id=self.orgs[org], password=PASSWORD)
        user = find_user(self.session, username)
        assert user is not None
        return principal_of(self.session, user, mfa=False, via="web")

    def token(self, username: str) -> str:
        return access.issue_api_token(session=self.session, principal=self.root,
                                      username=username, name="taxii")

    def member(self, org: str, role: str = "operator") -> Principal:
        """A value principal of an organisation (no account)."""
        return Principal(username=f"t-{org}", roles=frozenset({role}),
                         organisation_id=self.orgs[org], organisation_kind="operator",
                         via="web")

    def entitle(self) -> None:
        """What must be on record: a provision basis, council consent and safeguards."""
        service.record_provision_basis(session=self.session, principal=self.analyst,
                                       recipient="npa", trigger="a", reference="NPA-2026-1")
        service.record_council_safeguards(
            session=self.session, principal=self.analyst, recipient="aoba",
            consent_on=date.today() - timedelta(days=1), consent_reference="CNS-1",
            safeguards_reference="SAFE-1")

    def provide(self, category: str, tier: int, purpose: str = "damage_prevention"
                ) -> service.Provision:
        return service.provide(session=self.session, principal=self.analyst,
                               product_id=self.product, tier=tier,
                               recipient=self.recipients[category], purpose=purpose)


def comms_handler(world: World) -> Principal:
    """A designated communications handler of the Cabinet Office (value principal)."""
    return Principal(username="t-handler", roles=frozenset({"comms_handler"}),
                     organisation_id=world.orgs["cao"], organisation_kind="cabinet_office",
                     designated_handler=True, mfa=True, purpose="specified_damage_prevention",
                     via="web")


def agreement_in_force(world: World) -> str:
    """A concluded party agreement in force: the basis selected information came from."""
    from mamori.db import utcnow
    from mamori.governance import service as governance

    admin = world.root.with_purpose("system_administration")
    _, template = governance.agreement_template(session=world.session)
    draft = governance.create_agreement(
        session=world.session, principal=world.analyst, party_name="Sakura Electric",
        party_organisation_id=world.orgs["sakura"], comm_scope="Control-network traffic",
        party_identifiers=["198.51.100.0/24"], delivery_method="portal",
        items={t["key"]: "As in the template" for t in template}, deviations="None")
    governance.conclude_agreement(
        session=world.session, principal=admin, agreement_id=draft.id,
        signed_digest="sha256:" + "ab" * 32, effective_from=utcnow() - timedelta(days=1),
        effective_until=utcnow() + timedelta(days=30))
    return draft.id


def selected_product(world: World, basis: str) -> str:
    """A product whose content is one selected-communications aggregate under ``basis``:
    its tier 1 carries selected communications information (SCI)."""
    handler = comms_handler(world)
    selected = {"type": "observed-data", "spec_version": "2.1", "id": sid("observed-data", 1),
                "created": "2026-04-02T00:00:00.000Z", "modified": "2026-04-02T00:00:00.000Z",
                "first_observed": "2026-04-02T00:00:00.000Z",
                "last_observed": "2026-04-02T00:00:00.000Z", "number_observed": 1,
                "object_refs": [sid("ipv4-addr", 1)],
                "x_mamori_selection": {"batch_id": "B-1", "seq": 1, "measure_id": basis}}
    address = {"type": "ipv4-addr", "spec_version": "2.1", "id": sid("ipv4-addr", 1),
               "value": "198.51.100.77"}
    _import(world.session, handler, [address, selected], ["COMMS"])
    made = products.compose_product(
        session=world.session, principal=handler, title_ja="通信情報", title_en="Selected",
        narrative_ja="概要。", narrative_en="Summary.", use="operational",
        readers=["administrative_body"], object_ids=[selected["id"], address["id"]])
    world.session.commit()
    return made.id


def _import(session: Session, principal: Principal, objects: list[dict[str, Any]],
            labels: list[str], **extra: Any) -> None:
    result = intel.import_bundle(
        session=session, principal=principal,
        bundle={"type": "bundle", "id": sid("bundle", *(o["id"] for o in objects)),
                "objects": objects}, source="test", labels=labels, **extra)
    assert not result.rejected, result.rejected


def build_world(session: Session, *, indicators: int = 4) -> World:
    boot = access.bootstrap_principal(session=session)
    orgs = {"cao": access.create_organisation(
        session=session, principal=boot, code="cao", name_ja="内閣府", name_en="Cabinet Office",
        kind="cabinet_office").id}
    for code, kind, _, _ in ORGANISATIONS:
        orgs[code] = access.create_organisation(
            session=session, principal=boot, code=code, name_ja=f"{code} 組織",
            name_en=f"{code} organisation", kind=kind).id
    access.create_user(session=session, principal=boot, username="root", display_name="Root",
                       roles=["admin"], organisation_id=orgs["cao"], password=PASSWORD)
    root_user = find_user(session, "root")
    assert root_user is not None
    root = principal_of(session, root_user, mfa=True, via="web")
    analyst = Principal(username="t-analyst", roles=frozenset({"analyst"}),
                        organisation_id=orgs["cao"], organisation_kind="cabinet_office",
                        purpose="specified_damage_prevention", via="web")
    world = World(session=session, root=root, analyst=analyst, orgs=orgs)
    for org, _, code, category in ORGANISATIONS:
        service.create_recipient(session=session, principal=analyst, code=code,
                                 category=category, name_ja=f"{code} 受領者",
                                 name_en=f"{code} recipient", organisation=org)
        world.recipients[category] = code
    service.create_recipient(session=session, principal=analyst, code="public-site",
                             category="computer_user_public", name_ja="公開サイト",
                             name_en="Public site", publishes=True)
    public = [indicator(f"public-{n}", f"192.0.2.{n + 1}") for n in range(indicators)]
    secret = indicator("secret", "203.0.113.7", description="attacker detail")
    _import(session, analyst, public, ["PUBLIC"])
    _import(session, analyst, [secret], ["SECRET"])
    world.objects = {o["id"]: o for o in [*public, secret]}
    made = products.compose_product(
        session=session, principal=analyst, title_ja="国内で観測された攻撃",
        title_en="Attacks observed in Japan", narrative_ja="概要です。",
        narrative_en="A summary.", use="tactical",
        readers=["administrative_body", "council_member", "computer_user_public"],
        object_ids=list(world.objects), actions_ja="遮断する。", actions_en="Block them.")
    world.product = made.id
    session.commit()
    return world


@pytest.fixture
def world(session: Session, env: Path) -> World:
    return build_world(session)


def run_cli(monkeypatch: pytest.MonkeyPatch, token: str, who: str, *args: str) -> Any:
    """``mamori --as WHO ARGS`` with WHO's API token: the result, or the error that
    ``main()`` would print in one line and exit 2 with."""
    from typer.testing import CliRunner

    from mamori.cli.context import state
    from mamori.cli.main import app
    from mamori.config import reset_settings_cache
    from mamori.errors import MamoriError

    monkeypatch.setenv("MAMORI_TOKEN", token)
    reset_settings_cache()
    try:
        return CliRunner().invoke(app, ["--as", who, *args], catch_exceptions=False,
                                  standalone_mode=False)
    except MamoriError as exc:
        return exc
    finally:
        state.acting_as = None
