"""The default scope rules on a table of cases (Basic Policy examples and beyond)."""

from __future__ import annotations

import pytest

from mamori.errors import InvalidInput
from mamori.reporting.scope import load_rules, parse_rules

CASES = [
    # zone, category, stage, techniques, decision, rule
    ("critical_equipment", "plc", "detected_inside", [], "reportable", "critical-zone-activity"),
    ("critical_equipment", "hmi", "confirmed_compromise", [], "reportable",
     "critical-zone-activity"),
    ("critical_equipment", "plc", "impact", ["T0831"], "reportable", "critical-zone-activity"),
    ("critical_equipment", "firewall", "attempt_blocked", ["T0886"], "reportable",
     "critical-zone-blocked-lateral"),
    ("critical_equipment", "firewall", "attempt_blocked", ["T1071.001"], "reportable",
     "critical-zone-blocked-lateral"),
    ("critical_equipment", "firewall", "attempt_blocked", ["T1190"], "ask",
     "critical-zone-blocked-other"),
    ("internet_boundary", "firewall", "attempt_blocked", ["T1190"], "not_reportable",
     "boundary-blocked"),
    ("internet_boundary", "vpn_server", "detected_inside", ["T1133"], "ask",
     "boundary-suspected"),
    ("internet_boundary", "vpn_server", "confirmed_compromise", ["T1133"], "reportable",
     "confirmed-intrusion"),
    ("internal", "firewall", "attempt_blocked", [], "not_reportable", "boundary-device-blocked"),
    ("internal", "security_appliance", "detected_inside", [], "ask",
     "boundary-device-suspected"),
    ("internal", "hmi", "detected_inside", ["T0855"], "reportable", "impact-techniques"),
    ("internal", "hmi", "detected_inside", ["T0816"], "reportable", "impact-techniques"),
    ("internal", "it_server", "detected_inside", ["T1486"], "reportable", "impact-techniques"),
    ("internal", "it_server", "detected_inside", ["T1059"], "ask", "default"),
    ("internal", "it_client", "attempt_blocked", ["T1566"], "not_reportable",
     "blocked-elsewhere"),
    ("internal", "it_server", "impact", ["T1078"], "reportable", "confirmed-intrusion"),
    (None, None, "detected_inside", [], "ask", "default"),
]


@pytest.mark.parametrize(("zone", "category", "stage", "techniques", "decision", "rule"), CASES)
def test_default_rules(zone, category, stage, techniques, decision, rule) -> None:
    found = load_rules().evaluate(zone=zone, category=category, stage=stage,
                                  techniques=techniques)
    assert (found.decision, found.rule_id) == (decision, rule)
    assert found.reason("ja") and found.reason("en")
    assert found.reason("ja") != found.reason("en")


def test_several_computers_take_the_strictest_answer() -> None:
    rules = load_rules()
    found = rules.evaluate_many(
        computers=[("internet_boundary", "firewall"), ("critical_equipment", "plc")],
        stage="detected_inside",
    )
    assert found.decision == "reportable"
    found = rules.evaluate_many(
        computers=[("internet_boundary", "firewall"), ("internal", "it_client")],
        stage="attempt_blocked",
    )
    assert found.decision == "not_reportable"


def test_unknown_technique_and_stage_are_refused() -> None:
    with pytest.raises(InvalidInput):
        load_rules().evaluate(zone=None, category=None, stage="detected_inside",
                              techniques=["T9999"])
    with pytest.raises(InvalidInput):
        load_rules().evaluate(zone=None, category=None, stage="maybe")


def test_a_rules_file_is_checked_when_loaded() -> None:
    good = {"rule": [{"decision": "reportable", "reason_ja": "r", "reason_en": "r",
                      "stages": ["impact"]}]}
    assert parse_rules(good).rules[0].decision == "reportable"
    for broken in (
        {"rule": [{"decision": "perhaps", "reason_ja": "r", "reason_en": "r"}]},
        {"rule": [{"decision": "ask", "reason_ja": "r"}]},
        {"rule": [{"decision": "ask", "reason_ja": "r", "reason_en": "r",
                   "techniques": ["T0000"]}]},
        {"rule": [{"decision": "ask", "reason_ja": "r", "reason_en": "r",
                   "zones": ["moon"]}]},
    ):
        with pytest.raises(InvalidInput):
            parse_rules(broken)


def test_an_override_file_replaces_the_packaged_rules(env) -> None:
    folder = env / "reporting"
    folder.mkdir()
    (folder / "scope_rules.toml").write_text(
        'version = "local-1"\n[[rule]]\ndecision = "reportable"\nreason_ja = "全部"\n'
        'reason_en = "everything"\n', encoding="utf-8")
    found = load_rules().evaluate(zone=None, category=None, stage="attempt_blocked")
    assert (found.decision, found.rules_version) == ("reportable", "local-1")
