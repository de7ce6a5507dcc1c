"""The governance commands as the acceptance checks use them, with the demo accounts
through the real authorize(): one-line errors with exit code 2 that change nothing."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.db import get_engine, utcnow
from mamori.governance.models import Measure

from .conftest import Mamori


def _measures() -> int:
    with Session(get_engine()) as session:
        return int(session.scalar(select(func.count()).select_from(Measure)) or 0)


def test_commands(mamori: Mamori) -> None:
    """One story, so that the demo accounts are seeded once per database."""
    _measure_commands(mamori)
    _agreement_consent_and_use(mamori)


def _measure_commands(mamori: Mamori) -> None:
    start = (utcnow() + timedelta(days=1)).isoformat()
    end = (utcnow() + timedelta(days=31)).isoformat()
    code, out, err = mamori("measure", "request", "--article", "17", "--grounds",
                            "C2 servers abroad", "--start", start, "--end", end, "--json",
                            "--as", "demo-analyst")
    assert code == 0, err
    measure = json.loads(out)
    mid = measure["id"]
    assert mid.startswith("M-") and measure["status"] == "requested"

    code, _, err = mamori("--as", "demo-analyst", "measure", "approve", mid)
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1
    code, out, err = mamori("measure", "approve", mid, "--as", "demo-committee_inspector")
    assert code == 0, err
    code, out, _ = mamori("--as", "demo-committee_inspector", "measure", "list", "--json")
    assert [(m["id"], m["status"]) for m in json.loads(out)] == [(mid, "approved")]

    code, out, _ = mamori("--as", "demo-comms_handler", "measure", "check", mid, "--at",
                          (utcnow() + timedelta(days=2)).isoformat(), "--json")
    assert code == 0 and json.loads(out)["directions"] == ["foreign_foreign"]
    code, out, _ = mamori("--as", "demo-analyst", "measure", "check", mid, "--json")
    assert code == 1 and json.loads(out)["reason"] == "not_yet_in_force"

    before = _measures()
    for args, message in (
        (("--article", "18", "--grounds", "g"), "Art 17, 32 or 33"),
        (("--article", "17", "--grounds", "g", "--start", end, "--end", start), "reversed"),
        (("--article", "17", "--grounds", "g", "--start", "yesterday"), "ISO 8601"),
    ):
        code, _, err = mamori("--as", "demo-analyst", "measure", "request", *args)
        assert code == 2 and message in err, err
    code, _, err = mamori("--as", "demo-committee_inspector", "measure", "approve",
                          "M-2000-0001")
    assert code == 2 and "does not exist" in err
    code, _, err = mamori("--as", "demo-committee_inspector", "measure", "refuse", mid)
    assert code == 2 and "no request awaiting" in err
    assert _measures() == before

    code, out, err = mamori("--as", "demo-analyst", "measure", "request", "--article", "32",
                            "--grounds", "g", "--json")
    assert code == 0, err
    other = json.loads(out)["id"]
    code, _, err = mamori("measure", "refuse", other, "--note", "not justified",
                          "--as", "demo-committee_inspector")
    assert code == 0, err

    year = str(utcnow().year)
    code, out, err = mamori("--as", "demo-committee_inspector", "oversight", "report",
                            "--year", year, "--format", "csv")
    assert code == 0, err
    rows = {(r["section"], r["item"]): int(r["count"]) for r in csv.DictReader(io.StringIO(out))}
    if utcnow().astimezone().year == int(year):  # the measures were requested this year
        assert rows[("approvals", "Art 17")] == 1
        assert rows[("refusals", "Art 32")] == 1
        assert rows[("approval_requests", "Art 32")] == 1
    code, _, err = mamori("--as", "demo-analyst", "oversight", "report", "--year", year,
                          "--format", "csv")
    assert code == 2 and err.startswith("error: ")

    code, out, err = mamori("retention", "purge", "--json")
    assert code == 0, err
    assert {r["data_class"] for r in json.loads(out)["purged"]} >= {"committee_notification"}
    code, _, err = mamori("--as", "demo-analyst", "retention", "purge")
    assert code == 2


def _agreement_consent_and_use(mamori: Mamori) -> None:
    def ok(*args: str) -> str:
        code, out, err = mamori(*args)
        assert code == 0, (args, err)
        return out

    draft = json.loads(ok("--as", "demo-analyst", "agreement", "draft", "--party",
                          "Sakura Electric", "--org", "sakura_electric", "--scope",
                          "control network uplinks", "--identifier", "192.0.2.0/24",
                          "--json"))
    aid = draft["id"]
    template = json.loads(ok("--as", "demo-analyst", "agreement", "template", "--json"))
    items = [f"--item={i['key']}=agreed" for i in template["items"]]
    ok("--as", "demo-analyst", "agreement", "update", aid, *items)
    ok("--as", "demo-analyst", "agreement", "note", aid, "second meeting")
    code, _, err = mamori("--as", "demo-analyst", "agreement", "conclude", aid, "--from",
                          "2025-01-01", "--digest", "ab" * 32)
    assert code == 2 and "error:" in err
    ok("--as", "demo-admin", "agreement", "conclude", aid, "--from", "2025-01-01",
       "--digest", "ab" * 32)
    shown = json.loads(ok("--as", "demo-committee_inspector", "agreement", "show", aid,
                          "--json"))
    assert shown["status"] == "in_force" and shown["notes"][0]["note"] == "second meeting"

    consent = json.loads(ok("--as", "demo-analyst", "consent", "record", "--agreement", aid,
                            "--batch", "B-1", "--category", "ip_address", "--body", "meti",
                            "--purpose", "other_purpose_consented", "--purpose-text",
                            "joint analysis", "--json"))
    cid = consent["id"]
    code, _, err = mamori("--as", "demo-admin", "consent", "activate", cid)
    assert code == 2 and "document digest" in err and "examination" in err
    ok("--as", "demo-analyst", "consent", "amend", cid, "--digest", "cd" * 32)
    ok("--as", "demo-analyst", "consent", "examine", cid, "--text", "examined")
    ok("--as", "demo-admin", "consent", "activate", cid)
    ok("--as", "demo-analyst", "consent", "arrangement", "--body", "meti", "--purpose",
       "other_purpose_consented", "--scope", "analysis", "--digest", "ef" * 32)

    check = ("consent", "check", "--basis", aid, "--batch", "B-1", "--category",
             "ip_address", "--body", "meti", "--purpose", "other_purpose_consented",
             "--purpose-text", "joint analysis", "--json")
    code, _, err = mamori("--as", "demo-comms_handler", *check)
    assert code == 2 and "purpose" in err  # no declared purpose for this invocation
    code, out, err = mamori("--as", "demo-comms_handler", "--purpose",
                            "other_purpose_consented", *check)
    assert code == 0, err
    assert json.loads(out)["granted"] is True
    criminal = [*check[:10], "--purpose", "criminal_investigation", "--json"]
    code, out, _ = mamori("--as", "demo-comms_handler", "--purpose",
                          "other_purpose_consented", *criminal)
    assert code == 1 and json.loads(out)["reason"] == "criminal_investigation_forbidden"
