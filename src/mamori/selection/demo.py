"""Demo step "automatic selection": a domestic-prefix table, a selector set for the demo
botnet, and one selection run on a small generated capture under the demo's approved
Art 17 measure. The capture is written to a temporary folder and consumed.

Safe to run again: configuration imports of identical content create nothing, and the
run uses a fixed batch id, so a second run returns the committed receipt.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from rich.console import Console
from sqlalchemy.orm import Session

from mamori.access import service as access_service
from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.governance import service as governance
from mamori.governance.demo import DEMO_BATCH, MEASURE_GROUNDS

from . import samples, service
from .inputs import InputSource

PREFIXES = b"""# Demo excerpt in the RIR delegated-statistics format (the real table comes from
# delegated-apnic-latest).
2|apnic|20261126|4|19830613|20261125|+1000
apnic|JP|ipv4|133.0.0.0|16777216|19970101|allocated
apnic|JP|ipv4|153.128.0.0|4194304|20090501|allocated
apnic|JP|ipv6|2001:200::|23|19990813|allocated
apnic|KR|ipv4|1.11.0.0|65536|20100701|allocated
"""
OVERRIDES = b"""# local overrides: the demo agreement party's network is domestic
198.51.100.0/24 domestic
"""
C2 = ("203.0.113.66", "203.0.113.67")
SELECTORS = b"""# Demo botnet: command-and-control servers abroad, their domains and control port
203.0.113.66
203.0.113.67
*.c2.example
port tcp/6667
"""
YARA = b"""rule demo_bot_command {
  meta: command_token = true
        description = "IRC bot commands of the demo botnet"
  strings: $ddos = "!ddos" nocase $scan = "!scan" nocase
  condition: any of them
}
"""


def _as(session: Session, username: str) -> Principal:
    return access_service.principal_for_user(session=session, username=username, via="system")


def _measure(session: Session, analyst: Principal) -> str | None:
    for measure in governance.list_measures(session=session, principal=analyst):
        if getattr(measure, "grounds", None) == MEASURE_GROUNDS:
            return str(measure.id)
    return None


def _capture(folder: Path) -> Path:
    rng = random.Random(2026)
    bots = [f"100.{rng.randint(64, 127)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            for _ in range(6)]  # fmt: skip
    packets = []
    for bot in bots:
        c2 = rng.choice(C2)
        packets.append(samples.udp(bot, "8.8.8.8", 5353, 53,
                                   samples.dns_query("cmd.c2.example")))
        packets.append(samples.tcp(bot, c2, 40000 + len(packets), 6667,
                                   b"NICK bot\r\nJOIN #ops\r\n", flags=0x002))
        packets.append(samples.tcp(c2, bot, 6667, 40000 + len(packets) - 1,
                                   b":c2 PRIVMSG #ops :!ddos 192.0.2.80 60\r\n"))
    for _ in range(40):  # unrelated traffic, discarded
        packets.append(samples.tcp(f"100.64.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                                   f"192.0.2.{rng.randint(1, 254)}", rng.randint(1024, 65535),
                                   443, b"\x17\x03\x03" + bytes(rng.randint(0, 200))))
    start = int(utcnow().timestamp() * 1e9) - len(packets) * 1_000_000
    return samples.write_capture(folder / "demo-link.pcap", packets, start)


def seed(*, session: Session, console: Console) -> None:
    admin, analyst = _as(session, "demo-admin"), _as(session, "demo-analyst")
    service.import_prefixes(
        session=session, principal=admin,
        files=[("delegated-apnic-demo", PREFIXES), ("overrides.txt", OVERRIDES)],
    )
    service.import_selectors(
        session=session, principal=analyst, name="demo-botnet",
        files=[("c2.txt", SELECTORS), ("bot.yar", YARA)],
        description="Demo botnet C2 servers, domains and commands",
    )
    measure = _measure(session, analyst)
    if measure is None:
        console.print("no approved demo measure: selection skipped")
        return
    session.commit()
    handler = _as(session, "demo-comms_handler")
    with tempfile.TemporaryDirectory(prefix="mamori-demo-") as folder:
        path = _capture(Path(folder))
        receipt = service.run(
            session=session, principal=handler, measure_id=measure,
            selector_set="demo-botnet", inputs=[InputSource.from_path(path)],
            batch_id=DEMO_BATCH, consume=True,
        )
    counts = receipt.counts
    console.print(
        f"selection batch {receipt.batch_id} under {measure}: {counts.packets.received} packets "
        f"in, {counts.packets.matched} matched, {counts.records_out} records out, "
        f"{counts.discarded} discarded (receipt = audit entry {receipt.audit_seq})"
    )
