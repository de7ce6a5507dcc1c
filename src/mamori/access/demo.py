"""Demo step "organisations and accounts": the organisations of the story and one
account per role, ``demo-<role>`` with the password equal to the name.

Demo accounts are flagged ``demo`` and refused unless the platform runs in demo mode.
Demo accounts of roles that need a second factor get a deterministic TOTP secret
(``totp.demo_secret``: base32 of the first 20 bytes of
SHA-256("mamori-demo-totp/<username>")), so that the demo login page can show the
current code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access import auditing, roster, totp
from mamori.access.accounts import create_user, designate_handler
from mamori.access.models import OrganisationRecord
from mamori.access.organisations import create_organisation
from mamori.access.principal import Principal
from mamori.access.principals import BOOTSTRAP, admin_exists, find_user, principal_of
from mamori.access.roles import ROLE_LABELS, TOTP_ROLES
from mamori.config import get_settings
from mamori.errors import Conflict, InvalidInput


@dataclass(frozen=True)
class DemoOrganisation:
    code: str
    name_ja: str
    name_en: str
    kind: str
    sector: str | None = None


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    organisation: str
    display_name: str


ORGANISATIONS: tuple[DemoOrganisation, ...] = (
    DemoOrganisation("cabinet_office", "内閣府", "Cabinet Office", "cabinet_office"),
    DemoOrganisation(
        "nco", "内閣官房国家サイバー統括室", "National Cybersecurity Office",
        "national_cybersecurity_office",
    ),
    DemoOrganisation(
        "meti", "経済産業省", "Ministry of Economy, Trade and Industry", "supervising_ministry"
    ),
    DemoOrganisation(
        "mlit", "国土交通省", "Ministry of Land, Infrastructure, Transport and Tourism",
        "supervising_ministry",
    ),
    DemoOrganisation(
        "sakura_electric", "さくら電力株式会社", "Sakura Electric Power Co., Inc.", "operator",
        "electricity",
    ),
    DemoOrganisation(
        "hikari_railway", "ひかり鉄道株式会社", "Hikari Railway Co., Ltd.", "operator", "railway"
    ),
    DemoOrganisation(
        "tsubasa_systems", "つばさシステムズ株式会社", "Tsubasa Systems Co., Ltd.", "supplier"
    ),
    DemoOrganisation(
        "oversight_committee", "サイバー通信情報監理委員会",
        "Cyber Communications Information Oversight Committee", "oversight_committee",
    ),
    DemoOrganisation("aoba_security", "あおばセキュリティ株式会社", "Aoba Security Inc.",
                     "council_member"),
)

_HOME = {
    "analyst": "cabinet_office",
    "comms_handler": "cabinet_office",
    "operator": "sakura_electric",
    "council_member": "aoba_security",
    "supplier": "tsubasa_systems",
    "committee_inspector": "oversight_committee",
    "ministry_liaison": "meti",
    "admin": "cabinet_office",
    "recipient": "aoba_security",
}

ACCOUNTS: tuple[DemoAccount, ...] = (
    # demo-admin first: it creates the others.
    DemoAccount("demo-admin", "admin", "cabinet_office", "デモ管理者 / Demo administrator"),
    *(
        DemoAccount(
            f"demo-{role}", role, org,
            f"デモ{ROLE_LABELS[role]['ja']} / Demo {ROLE_LABELS[role]['en'].lower()}",
        )
        for role, org in _HOME.items()
        if role != "admin"
    ),
    DemoAccount("demo-analyst-nco", "analyst", "nco", "デモ分析担当者（NCO） / Demo NCO analyst"),
    DemoAccount("demo-operator-railway", "operator", "hikari_railway",
                "デモ事業者担当者（鉄道） / Demo railway operator"),
    DemoAccount("demo-ministry_liaison-mlit", "ministry_liaison", "mlit",
                "デモ所管省庁連絡担当（国交省） / Demo MLIT liaison"),
)

TOTP_ACCOUNTS: frozenset[str] = frozenset(a.username for a in ACCOUNTS if a.role in TOTP_ROLES)


def demo_totp_code(username: str) -> str | None:
    """The current one-time code of a demo account, for the demo login page (demo mode only)."""
    if not get_settings().demo or username not in TOTP_ACCOUNTS:
        return None
    return totp.current_code(totp.demo_secret(username))


def _seeder(session: Session) -> Principal:
    admin = find_user(session, "demo-admin")
    if admin is not None:
        return principal_of(session, admin, mfa=True, via="system")
    if admin_exists(session):
        raise Conflict("this database has administrators of its own; run the demo on a fresh one")
    return Principal.system(BOOTSTRAP.removeprefix("system:"))


def seed(*, session: Session, console: Console) -> None:
    """Create the demo organisations and accounts; safe to run again."""
    if not get_settings().demo:
        raise InvalidInput("demo accounts are created only in demo mode (MAMORI_DEMO=1)")
    seeder = _seeder(session)
    for org in ORGANISATIONS:
        exists = session.scalars(
            select(OrganisationRecord.id).where(OrganisationRecord.code == org.code)
        ).first()
        if exists is None:
            create_organisation(
                session=session, principal=seeder, code=org.code, name_ja=org.name_ja,
                name_en=org.name_en, kind=org.kind, sector=org.sector,
            )
    org_ids = dict(session.execute(select(OrganisationRecord.code, OrganisationRecord.id)).all())
    for account in ACCOUNTS:
        user = find_user(session, account.username)
        if user is None:
            create_user(
                session=session, principal=seeder, username=account.username,
                display_name=account.display_name, roles=[account.role],
                organisation_id=org_ids[account.organisation], password=account.username,
                language="ja", demo=True,
            )
            user = find_user(session, account.username)
            assert user is not None
        if account.username in TOTP_ACCOUNTS and user.totp_secret is None:
            user.totp_secret = totp.demo_secret(account.username)
            auditing.record(
                session, actor=seeder.username, action="user.totp_enrolled",
                object_type="user", object_id=account.username, details={"demo": True},
            )
        if account.username == "demo-admin" and seeder.is_system:
            session.flush()
            seeder = principal_of(session, user, mfa=True, via="system")
    handler = find_user(session, "demo-comms_handler")
    assert handler is not None
    if not roster.is_designated(session, handler.id):
        trained = roster.today() - timedelta(days=30)
        designate_handler(
            session=session, principal=seeder, username=handler.username,
            training_completed_on=trained, valid_from=trained,
        )
    session.flush()
    console.print(
        f"demo accounts (password = name): {', '.join(a.username for a in ACCOUNTS)}"
    )
