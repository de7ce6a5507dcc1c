"""The vendored compact ATT&CK data is exactly what MITRE's bundles give, with the licence."""

from __future__ import annotations

import json

import pytest

from mamori.reporting import attack


@pytest.mark.parametrize("domain", sorted(attack.DOMAINS))
def test_vendored_data_matches_mitre_bundle(domain: str, shared_data) -> None:
    source = shared_data / "attack" / f"{attack.DOMAINS[domain]}-{attack.VERSION}.json"
    if not source.is_file():
        pytest.skip("shared/data/attack is not beside the project")
    expected = attack.compact_bundle(json.loads(source.read_text(encoding="utf-8")), domain)
    vendored = json.loads(attack.data_file(domain).read_text(encoding="utf-8"))
    assert vendored == expected


def test_licence_travels_with_the_data() -> None:
    licence = (attack.DATA_DIR / "LICENSE.txt").read_text(encoding="utf-8")
    assert "The MITRE Corporation" in licence
    assert attack.COPYRIGHT.split(".")[0] in licence


def test_catalogue_knows_both_domains() -> None:
    cat = attack.catalogue()
    assert cat.technique("T1190").name == "Exploit Public-Facing Application"
    assert cat.technique("T1190").domain == "enterprise"
    assert cat.technique("T0866").domain == "ics"
    assert "initial-access" in cat.tactics_of("T1190")
    assert "command-and-control" in cat.tactics_of("T1071.001")
    assert cat.technique("T9999") is None
    assert len([t for t in cat.techniques.values() if t.domain == "ics"]) > 80
    assert cat.search("T1190")[0].id == "T1190"
