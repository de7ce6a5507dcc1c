"""A scenario across every source, made through the other domains' real services.

- さくら電力 (electricity) and ひかり鉄道 (railway) both report intrusions naming the
  address 198.51.100.7 and the same living-off-the-land techniques;
- ひかり鉄道's router runs TP-Link Archer AX21 firmware 1.1.2, and the KEV entry
  CVE-2023-1389 with its CVE record is imported by the vulnerability domain;
- a partner's bundle says that an indicator of 198.51.100.7 indicates malware that
  exploits CVE-2023-1389;
- a selection run under an approved measure selects a bot→C2 chain: six bots talk to
  two tier-1 C2 servers that both talk to 198.51.100.7, and a second C2 server with its
  own bots shares one bot with the first botnet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.registry.entries import ComponentEntry, ComputerEntry

from .conftest import HANDLER, bundle, sdo, sid

DATA = Path(__file__).parent / "data"
TIER2 = "198.51.100.7"
TIER1 = ("203.0.113.66", "203.0.113.67")
OTHER_C2 = "203.0.113.99"
BOTS = [f"192.0.2.{n}" for n in range(1, 10)]
KEV_CVE = "CVE-2023-1389"
LOTL = ["T1059.001", "T1047", "T1003.003"]
DELEGATED = b"""2|apnic|20261126|2|19830613|20261125|+1000
apnic|*|ipv4|*|1|summary
apnic|JP|ipv4|133.0.0.0|16777216|19970101|allocated
"""
SELECTORS = "\n".join([TIER2, *TIER1, OTHER_C2]).encode() + b"\n"


@dataclass
class World:
    orgs: dict[str, int] = field(default_factory=dict)
    people: dict[str, Principal] = field(default_factory=dict)
    operators: dict[str, int] = field(default_factory=dict)
    computers: dict[str, int] = field(default_factory=dict)
    incidents: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Principal:
        return self.people[name]


def _person(name: str, role: str, org: int, kind: str, **extra: Any) -> Principal:
    return Principal(username=f"sc-{name}", roles=frozenset({role}), organisation_id=org,
                     organisation_kind=kind, mfa=True, **extra)


def _report(title: str, indicators: list[dict[str, Any]], techniques: list[str],
            detected_days_ago: int) -> dict[str, Any]:
    detected = utcnow() - timedelta(days=detected_days_ago)
    return {
        "format": "mamori.incident-report/1", "regulation": "art5", "kind": "preliminary",
        "title": title, "detected_at": detected.isoformat(),
        "aware_at": (detected + timedelta(hours=1)).isoformat(),
        "stage": {"value": "detected_inside"},
        "fields": {"summary": {"value": "Suspicious outbound connections"}},
        "techniques": techniques, "computers": [], "indicators": indicators,
    }


def build_registry_and_reports(session: Session) -> World:
    from mamori.access import service as access
    from mamori.registry import service as registry
    from mamori.reporting import service as reporting

    world = World()
    boot = access.bootstrap_principal(session=session)
    orgs = [("cabinet_office", "内閣府", "Cabinet Office", "cabinet_office", None),
            ("meti", "経済産業省", "METI", "supervising_ministry", None),
            ("mlit", "国土交通省", "MLIT", "supervising_ministry", None),
            ("sakura", "さくら電力", "Sakura Electric", "operator", "electricity"),
            ("hikari", "ひかり鉄道", "Hikari Railway", "operator", "railway"),
            ("committee", "監理委員会", "Oversight Committee", "oversight_committee", None)]
    kinds = {}
    for code, ja, en, kind, sector in orgs:
        org = access.create_organisation(session=session, principal=boot, code=code,
                                         name_ja=ja, name_en=en, kind=kind, sector=sector)
        world.orgs[code] = int(org.id)
        kinds[code] = kind
    for name, role, org in (("admin", "admin", "cabinet_office"),
                            ("analyst", "analyst", "cabinet_office"),
                            ("sakura", "operator", "sakura"), ("hikari", "operator", "hikari"),
                            ("inspector", "committee_inspector", "committee")):
        world.people[name] = _person(name, role, world.orgs[org], kinds[org],
                                     purpose="specified_damage_prevention"
                                     if role == "analyst" else None)
    world.people["handler"] = HANDLER
    for key, name, sector in (("sakura", "さくら電力株式会社", "electricity"),
                              ("hikari", "ひかり鉄道株式会社", "railway")):
        operator = registry.add_operator(session=session, principal=world["admin"], name=name,
                                         name_en=key.title(), sector=sector, organisation=key)
        world.operators[key] = operator.id
    for key, operator, name, category, components in (
        ("plc", "sakura", "PLC-1", "plc", []),
        ("router", "hikari", "router-01", "router", [
            ComponentEntry(name="Archer AX21 firmware", version="1.1.2",
                           cpe="cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.2:*:*:*:*:*:*:*"),
            ComponentEntry(name="Archer AX21",
                           cpe="cpe:2.3:h:tp-link:archer_ax21:3.0:*:*:*:*:*:*:*")]),
    ):
        computer = registry.create_computer(
            session=session, principal=world["admin"], operator_id=world.operators[operator],
            entry=ComputerEntry(name=name, device_category=category, components=components))
        world.computers[key] = computer.id
    session.flush()
    for key, domain, days in (("sakura", "update.sakura-c2.example", 6),
                              ("hikari", "cdn.hikari-c2.example", 3)):
        document = _report(
            f"Intrusion at {key}",
            [{"type": "ipv4-addr", "value": TIER2}, {"type": "domain-name", "value": domain}],
            [*LOTL, "T1021.001" if key == "hikari" else "T1105"], days)
        incident = reporting.file_report(session=session, principal=world[key],
                                         document=document, operator_id=world.operators[key])
        world.incidents[key] = incident.id
    session.flush()
    return world


def import_vulnerabilities(session: Session, world: World, tmp_path: Path,
                           shared_data: Path) -> None:
    from mamori.vulns import service as vulns

    document = json.loads((shared_data / "kev" / "known_exploited_vulnerabilities.json")
                          .read_text("utf-8"))
    entries = [v for v in document["vulnerabilities"] if v["cveID"] == KEV_CVE]
    document.update(vulnerabilities=entries, count=len(entries))
    kev = tmp_path / "kev.json"
    kev.write_text(json.dumps(document), "utf-8")
    vulns.import_path(session=session, principal=world["analyst"], path=kev)
    vulns.import_path(session=session, principal=world["analyst"],
                      path=DATA / f"{KEV_CVE}.json")
    session.flush()


def partner_bundle() -> dict[str, Any]:
    return bundle(
        sdo("indicator", "partner-1", name="C2 of Demo RAT",
            pattern=f"[ipv4-addr:value = '{TIER2}']", pattern_type="stix",
            valid_from="2026-11-01T00:00:00Z"),
        sdo("malware", "demo-rat", name="Demo RAT", is_family=True),
        sdo("vulnerability", "partner-cve", name=KEV_CVE,
            external_references=[{"source_name": "cve", "external_id": KEV_CVE}]),
        sdo("relationship", "p-1", relationship_type="indicates",
            source_ref=sid("indicator", "partner-1"), target_ref=sid("malware", "demo-rat")),
        sdo("relationship", "p-2", relationship_type="exploits",
            source_ref=sid("malware", "demo-rat"), target_ref=sid("vulnerability", "partner-cve")),
    )


def select_traffic(session: Session, world: World, tmp_path: Path) -> str:
    from mamori.governance import service as governance
    from mamori.selection import samples
    from mamori.selection import service as selection
    from mamori.selection.inputs import InputSource

    selection.import_prefixes(session=session, principal=world["admin"],
                              files=[("delegated-apnic-latest", DELEGATED)])
    selection.import_selectors(session=session, principal=world["analyst"], name="c2",
                               files=[("c2.txt", SELECTORS)])
    start = utcnow() - timedelta(days=1)
    measure = governance.request_measure(
        session=session, principal=world["analyst"], article=17, grounds="botnet C2 abroad",
        target_act="C2 relay", carrier="Example Telecom", facilities=["gw-1"],
        starts_at=start, ends_at=start + timedelta(days=30))
    governance.approve_measure(session=session, principal=world["inspector"],
                               measure_id=measure.id)
    session.commit()
    packets = []
    port = 40000
    for n, bot in enumerate(BOTS[:6]):
        c2 = TIER1[n % 2]
        port += 1
        packets.append(samples.tcp(bot, c2, port, 6667, b"NICK bot", flags=0x002))
        packets.append(samples.tcp(c2, bot, 6667, port, b"PING", flags=0x012))
    for c2 in TIER1:
        port += 1
        packets.append(samples.tcp(c2, TIER2, port, 443, b"\x16\x03\x01", flags=0x002))
    for bot in [*BOTS[6:], BOTS[0]]:
        port += 1
        packets.append(samples.tcp(bot, OTHER_C2, port, 6667, b"NICK bot", flags=0x002))
    now_ns = int(utcnow().timestamp() * 1e9) - 120_000_000_000
    path = samples.write_capture(tmp_path / "link.pcap", packets, now_ns)
    session.commit()
    receipt = selection.run(session=session, principal=world["handler"], measure_id=measure.id,
                            selector_set="c2", inputs=[InputSource.from_path(path)],
                            batch_id="intel-scenario-1")
    session.commit()
    return receipt.batch_id
