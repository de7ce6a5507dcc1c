"""Correlation: containment of addresses in networks, parent domains, URL hosts, hashes,
CVEs, techniques, JA4; hops; the fan-out cap and the exclusion list."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from mamori.errors import InvalidInput, NotFound
from mamori.intel import service, stix
from mamori.intel import settings as intel_settings

from .conftest import ANALYST, bundle, indicator, relationship, sdo, sid

JA4 = "t13d1516h2_8daaf6152771_b186095e22b6"
SHA = "a" * 64


@pytest.fixture
def store(session: Session) -> Session:
    objects = [
        indicator(1, "[ipv4-addr:value = '203.0.113.5']"),
        indicator(2, "[ipv4-addr:value ISSUBSET '203.0.113.0/24']"),
        indicator(3, "[domain-name:value = 'c2.example.net']"),
        indicator(4, "[url:value = 'HTTPS://Sub.C2.Example.net:443/gate.php']"),
        indicator(5, f"[file:hashes.'SHA-256' = '{SHA.upper()}']"),
        indicator(6, f"[network-traffic:x_mamori_ja4 = '{JA4}']"),
        indicator(7, "[ipv6-addr:value = '2001:db8::/32']"),
        stix.make_sco("ipv6-addr", value="2001:db8:1::5"),
        stix.make_sco("file", hashes={"SHA-256": SHA}),
        sdo("vulnerability", 1, name="CVE-2024-3400",
            external_references=[{"source_name": "cve", "external_id": "CVE-2024-3400"}]),
        sdo("attack-pattern", 1, name="PowerShell", external_references=[
            {"source_name": "mitre-attack", "external_id": "T1059.001"}]),
        sdo("malware", 1, name="demo", is_family=True),
        relationship(1, sid("indicator", 2), "indicates", sid("malware", 1)),
        relationship(2, sid("malware", 1), "exploits", sid("vulnerability", 1)),
    ]
    result = service.import_bundle(session=session, principal=ANALYST, bundle=bundle(*objects),
                                   source="fixture")
    assert result.rejected == [] and result.warnings == []
    session.commit()
    return session


def _ids(result: service.RelatedResult, hop: int | None = None) -> set[str]:
    return {n.stix_id for n in result.nodes if hop is None or n.hop == hop}


def _related(session: Session, value: str, hops: int = 1) -> service.RelatedResult:
    return service.related(session=session, principal=ANALYST, value_or_id=value, hops=hops)


def test_addresses_and_networks(store: Session) -> None:
    assert _ids(_related(store, "203.0.113.5")) == {sid("indicator", 1), sid("indicator", 2)}
    # a network finds what lies inside it, an address the networks around it
    assert _ids(_related(store, "203.0.113.0/25")) == {sid("indicator", 1),
                                                       sid("indicator", 2)}
    assert _ids(_related(store, "203.0.114.1")) == set()
    v6 = stix.make_sco("ipv6-addr", value="2001:db8:1::5")["id"]
    assert _ids(_related(store, "2001:db8:1::5")) == {sid("indicator", 7), v6}
    assert _ids(_related(store, "::ffff:203.0.113.5")) == {sid("indicator", 1),
                                                           sid("indicator", 2)}


def test_domains_urls_hashes_and_the_rest(store: Session) -> None:
    # a sub-domain finds its parent domain; the URL's host is a sub-domain
    assert _ids(_related(store, "x.c2.example.net")) == {sid("indicator", 3)}
    assert _ids(_related(store, "c2.example.net")) == {sid("indicator", 3), sid("indicator", 4)}
    assert _ids(_related(store, "https://sub.c2.example.net/gate.php")) == {sid("indicator", 4)}
    file_id = stix.make_sco("file", hashes={"SHA-256": SHA})["id"]
    assert _ids(_related(store, SHA)) == {sid("indicator", 5), file_id}
    assert _ids(_related(store, "cve-2024-3400")) == {sid("vulnerability", 1)}
    assert _ids(_related(store, "T1059.001")) == {sid("attack-pattern", 1)}
    assert _ids(_related(store, JA4)) == {sid("indicator", 6)}


def test_hops_follow_relationships_as_edges(store: Session) -> None:
    result = _related(store, "203.0.113.5", hops=2)
    assert _ids(result, 1) == {sid("indicator", 1), sid("indicator", 2)}
    assert sid("malware", 1) in _ids(result, 2)
    assert any(e.via == "relationship" and e.detail == "indicates" for e in result.edges)
    assert sid("vulnerability", 1) not in _ids(result)
    three = _related(store, "203.0.113.5", hops=3)
    assert sid("vulnerability", 1) in _ids(three, 3)
    from_id = service.related(session=store, principal=ANALYST, value_or_id=sid("malware", 1),
                              hops=1)
    assert _ids(from_id, 0) == {sid("malware", 1)}
    assert _ids(from_id, 1) == {sid("indicator", 2), sid("vulnerability", 1)}


def test_fan_out_cap_marks_ubiquitous_values(session: Session,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMORI_INTEL_FANOUT_CAP", "3")
    intel_settings.reset()
    objects = [indicator(n, "[ipv4-addr:value = '198.51.100.1'] AND "
                            f"[domain-name:value = 'host{n}.example']") for n in range(5)]
    objects.append(indicator(9, "[domain-name:value = 'host0.example']"))
    service.import_bundle(session=session, principal=ANALYST, bundle=bundle(*objects),
                          source="t")
    ubiquitous = _related(session, "198.51.100.1", hops=2)
    assert ubiquitous.nodes == [] and ubiquitous.ubiquitous == ["ipv4:198.51.100.1"]
    result = _related(session, "host0.example", hops=2)
    # host0 links indicator 0 and 9; the shared address is not followed
    assert _ids(result) == {sid("indicator", 0), sid("indicator", 9)}
    assert "ipv4:198.51.100.1" in result.ubiquitous


def test_exclusion_list(session: Session, tmp_path: Path,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    exclusions = tmp_path / "exclusions.txt"
    exclusions.write_text("# resolvers\n8.8.8.0/24\ncdn.example\n", "utf-8")
    monkeypatch.setenv("MAMORI_INTEL_EXCLUSIONS", str(exclusions))
    intel_settings.reset()
    objects = [indicator(1, "[ipv4-addr:value = '8.8.8.8'] AND [domain-name:value = 'a.bad']"),
               indicator(2, "[ipv4-addr:value = '8.8.8.8'] AND "
                            "[domain-name:value = 'x.cdn.example']"),
               indicator(3, "[domain-name:value = 'y.cdn.example']")]
    service.import_bundle(session=session, principal=ANALYST, bundle=bundle(*objects),
                          source="t")
    result = _related(session, "a.bad", hops=3)
    assert _ids(result) == {sid("indicator", 1)}
    assert "ipv4:8.8.8.8" in result.excluded
    direct = _related(session, "8.8.8.8", hops=2)
    assert _ids(direct) == {sid("indicator", 1), sid("indicator", 2)}  # seen, not followed
    exclusions.write_text("not a value at all\n", "utf-8")
    with pytest.raises(InvalidInput, match="line 1"):
        _related(session, "a.bad")


def test_search_and_errors(store: Session) -> None:
    found = service.search(session=store, principal=ANALYST, query="demo")
    assert [r.stix_id for r in found] == [sid("malware", 1)]
    by_value = service.search(session=store, principal=ANALYST, query="203.0.113.77",
                              types=["indicator"])
    assert [r.stix_id for r in by_value] == [sid("indicator", 2)]
    assert service.get_objects(session=store, principal=ANALYST,
                               ids=[sid("malware", 1), sid("malware", 404)])[0].name == "demo"
    with pytest.raises(InvalidInput):
        _related(store, "not a value!")
    with pytest.raises(InvalidInput):
        _related(store, "203.0.113.5", hops=9)
    with pytest.raises(NotFound):
        _related(store, sid("malware", 404))
