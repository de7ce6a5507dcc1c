"""The matching table: every known trap of CPE and purl matching, version ranges,
"running on" configurations, vendors' CSAF statements, name hints and suppressions.

Each case goes the whole way a real feed goes: a record in the feed's own format is
parsed, its statements are put in the index, and a registered component is matched.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

import pytest

from mamori.vulns.ingest import Unit, parse_unit
from mamori.vulns.ingest.records import VulnRecord
from mamori.vulns.matching import cpe as cpe_mod
from mamori.vulns.matching.applicability import (
    AFFECTED,
    DATABASE,
    HINT,
    UNAFFECTED,
    Group,
    Range,
)
from mamori.vulns.matching.index import ComponentView, Index, pairwise_match
from mamori.vulns.models import Suppression
from mamori.vulns.suppressions import identity_of, still_holds, version_of

CVE = "CVE-2024-6387"


def cve5(*, cna: dict[str, Any] | None = None, adp: dict[str, Any] | None = None,
         cve: str = CVE) -> dict[str, Any]:
    containers: dict[str, Any] = {"cna": {"providerMetadata": {"orgId": "x"}, **(cna or {})}}
    if adp is not None:
        containers["adp"] = [{"providerMetadata": {"shortName": "CISA-ADP"}, **adp}]
    return {"dataType": "CVE_RECORD", "dataVersion": "5.1",
            "cveMetadata": {"cveId": cve, "state": "PUBLISHED"}, "containers": containers}


def config(*matches: dict[str, Any], operator: str = "OR",
           platform: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    nodes = [{"operator": "OR", "negate": False, "cpeMatch": list(matches)}]
    if platform is not None:
        nodes.append({"operator": "OR", "negate": False, "cpeMatch": platform})
    return {"cpeApplicability": [{"operator": operator, "negate": False, "nodes": nodes}]}


def crit(criteria: str, vulnerable: bool = True, **bounds: str) -> dict[str, Any]:
    return {"vulnerable": vulnerable, "criteria": criteria, **bounds}


def affected(*versions: dict[str, Any], **item: Any) -> dict[str, Any]:
    return {"affected": [{**item, "versions": list(versions)}]}


def v(version: str, status: str = "affected", **extra: str) -> dict[str, Any]:
    return {"version": version, "status": status, **extra}


def csaf(status: dict[str, list[str]], products: list[dict[str, Any]],
         relationships: list[dict[str, Any]] | None = None, *, vendor: bool = True,
         cve: str = CVE) -> dict[str, Any]:
    return {
        "document": {"category": "csaf_security_advisory", "csaf_version": "2.0",
                     "title": "t", "publisher": {"category": "vendor" if vendor else "other",
                                                 "name": "v",
                                                 "namespace": "https://vendor.example"},
                     "tracking": {"id": "V-1", "current_release_date": "2026-01-01T00:00:00Z"}},
        "product_tree": {"full_product_names": products,
                         "relationships": relationships or []},
        "vulnerabilities": [{"cve": cve, "product_status": status}],
    }


def product(pid: str, cpe: str | None = None, purl: str | None = None) -> dict[str, Any]:
    helper = {"cpe": cpe} if cpe else {"purl": purl}
    return {"product_id": pid, "name": pid, "product_identification_helper": helper}


KEV_OPENSSL = {
    "catalogVersion": "2025.08.25", "dateReleased": "2025-08-25T17:04:19.9796Z", "count": 1,
    "vulnerabilities": [{
        "cveID": "CVE-2014-0160", "vendorProject": "OpenSSL", "product": "OpenSSL",
        "vulnerabilityName": "OpenSSL Information Disclosure Vulnerability",
        "dateAdded": "2022-05-04", "shortDescription": "Heartbleed.",
        "requiredAction": "Apply updates per vendor instructions.", "dueDate": "2022-05-25",
        "knownRansomwareCampaignUse": "Unknown", "notes": "", "cwes": ["CWE-125"]}],
}
HEARTBLEED = cve5(cve="CVE-2014-0160", adp=config(crit(
    "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*", versionStartIncluding="1.0.1",
    versionEndIncluding="1.0.1f")))
OPENSSH = cve5(adp=config(crit("cpe:2.3:a:openbsd:openssh:*:*:*:*:*:*:*:*",
                               versionStartIncluding="8.5p1", versionEndExcluding="9.8p1")))
LOG4J_MAVEN = cve5(cve="CVE-2021-44228", adp=affected(
    v("2.0-beta9", lessThan="2.3.1", versionType="maven"),
    v("2.4", lessThan="2.12.2", versionType="maven"),
    v("2.13.0", lessThan="2.15.0", versionType="maven"),
    collectionURL="https://repo.maven.apache.org/maven2",
    packageName="org.apache.logging.log4j:log4j-core", defaultStatus="unaffected"))
LOG4J_CPE = cve5(cve="CVE-2021-44228", adp=affected(
    v("2.0-beta9", lessThan="2.3.1", versionType="custom"),
    v("2.13.0", lessThan="2.15.0", versionType="custom"),
    cpes=["cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*"], defaultStatus="unaffected"))
WINDOWS = cve5(cve="CVE-2025-29824", cna=affected(
    v("10.0.17763.0", lessThan="10.0.17763.7249", versionType="custom"),
    vendor="Microsoft", product="Windows Server 2019",
    cpes=["cpe:2.3:o:microsoft:windows_server_2019:*:*:*:*:*:*:*:*"]))
ARCHER = cve5(cve="CVE-2023-1389", adp=config(
    crit("cpe:2.3:o:tp-link:archer_ax21_firmware:*:*:*:*:*:*:*:*",
         versionEndExcluding="1.1.4"),
    operator="AND",
    platform=[crit("cpe:2.3:h:tp-link:archer_ax21:3.0:*:*:*:*:*:*:*", vulnerable=False)]))
RTU_CSAF = csaf(
    {"known_affected": ["FW-421-ON-HW"], "fixed": ["FW-422-ON-HW"]},
    [product("FW-421", "cpe:2.3:o:example_controls:rtu-500_firmware:4.2.1:*:*:*:*:*:*:*"),
     product("FW-422", "cpe:2.3:o:example_controls:rtu-500_firmware:4.2.2:*:*:*:*:*:*:*"),
     product("HW", "cpe:2.3:h:example_controls:rtu-500:-:*:*:*:*:*:*:*")],
    [{"category": "installed_on", "product_reference": "FW-421",
      "relates_to_product_reference": "HW",
      "full_product_name": {"product_id": "FW-421-ON-HW", "name": "a"}},
     {"category": "installed_on", "product_reference": "FW-422",
      "relates_to_product_reference": "HW",
      "full_product_name": {"product_id": "FW-422-ON-HW", "name": "b"}}],
    cve="CVE-2026-0001")
VENDOR_NOT_AFFECTED = csaf(
    {"known_not_affected": ["SSH-96"]},
    [product("SSH-96", "cpe:2.3:a:openbsd:openssh:9.6p1:*:*:*:*:*:*:*")])
JVN_RTU = {"VULDEF-Document": {"@lang": "ja", "Vulinfo": {
    "VulinfoID": "JVNDB-2024-999902", "VulinfoData": {
        "Title": "t", "Affected": {"AffectedItem": [
            {"Name": "x", "ProductName": "y", "Cpe": "cpe:/o:example_controls:rtu-500_firmware",
             "VersionNumber": "4.2.1 およびそれ以前"},
            {"Name": "x", "ProductName": "z", "Cpe": "cpe:/o:example_controls:rtu-700_firmware",
             "VersionNumber": "全てのバージョン"}]}}}}}


def c(cpe: str | None = None, purl: str | None = None, version: str | None = None) -> dict:
    return {"cpe": cpe, "purl": purl, "version": version}


@dataclass
class Case:
    id: str
    feeds: list[dict[str, Any]]
    component: dict[str, Any]
    expected: tuple[str, str | None] | None
    platform: list[str] = field(default_factory=list)


CASES: list[Case] = [
    # --- version ranges (NVD-style bounds) ---
    Case("range-inside", [OPENSSH], c("cpe:2.3:a:openbsd:openssh:9.6p1:*:*:*:*:*:*:*"),
         (AFFECTED, None)),
    Case("range-start-included", [OPENSSH], c("cpe:2.3:a:openbsd:openssh:8.5p1:*:*:*:*:*:*:*"),
         (AFFECTED, None)),
    Case("range-end-excluded", [OPENSSH], c("cpe:2.3:a:openbsd:openssh:9.8p1:*:*:*:*:*:*:*"),
         None),
    Case("range-below-start", [OPENSSH], c("cpe:2.3:a:openbsd:openssh:8.4p1:*:*:*:*:*:*:*"),
         None),
    Case("start-excluding", [cve5(adp=config(crit(
        "cpe:2.3:a:openbsd:openssh:*:*:*:*:*:*:*:*", versionStartExcluding="8.5p1",
        versionEndExcluding="9.8p1")))], c("cpe:2.3:a:openbsd:openssh:8.5p1:*:*:*:*:*:*:*"),
        None),
    Case("end-including", [cve5(adp=config(crit(
        "cpe:2.3:a:openbsd:openssh:*:*:*:*:*:*:*:*", versionEndIncluding="9.7p1")))],
        c("cpe:2.3:a:openbsd:openssh:9.7p1:*:*:*:*:*:*:*"), (AFFECTED, None)),
    Case("exact-criterion", [cve5(adp=config(crit(
        "cpe:2.3:a:openbsd:openssh:9.6p1:*:*:*:*:*:*:*")))],
        c("cpe:2.3:a:openbsd:openssh:9.6p1:*:*:*:*:*:*:*"), (AFFECTED, None)),
    Case("exact-criterion-other-version", [cve5(adp=config(crit(
        "cpe:2.3:a:openbsd:openssh:9.6p1:*:*:*:*:*:*:*")))],
        c("cpe:2.3:a:openbsd:openssh:9.6p2:*:*:*:*:*:*:*"), None),
    # --- non-semver versions ---
    Case("letter-suffix-after-end", [HEARTBLEED],
         c("cpe:2.3:a:openssl:openssl:1.0.1g:*:*:*:*:*:*:*"), None),
    Case("letter-suffix-inside", [HEARTBLEED],
         c("cpe:2.3:a:openssl:openssl:1.0.1c:*:*:*:*:*:*:*"), (AFFECTED, None)),
    Case("letter-suffix-next-minor", [HEARTBLEED],
         c("cpe:2.3:a:openssl:openssl:1.0.2:*:*:*:*:*:*:*"), None),
    Case("pre-release-before-start", [LOG4J_CPE],
         c("cpe:2.3:a:apache:log4j:2.0-beta8:*:*:*:*:*:*:*"), None),
    Case("pre-release-inside", [LOG4J_CPE],
         c("cpe:2.3:a:apache:log4j:2.0-rc1:*:*:*:*:*:*:*"), (AFFECTED, None)),
    Case("gap-between-ranges", [LOG4J_CPE],
         c("cpe:2.3:a:apache:log4j:2.12.4:*:*:*:*:*:*:*"), None),
    Case("fixed-release", [LOG4J_CPE], c("cpe:2.3:a:apache:log4j:2.17.1:*:*:*:*:*:*:*"), None),
    Case("four-part-build", [WINDOWS],
         c("cpe:2.3:o:microsoft:windows_server_2019:10.0.17763.6893:*:*:*:*:*:*:*"),
         (AFFECTED, None)),
    Case("four-part-build-fixed", [WINDOWS],
         c("cpe:2.3:o:microsoft:windows_server_2019:10.0.17763.7249:*:*:*:*:*:*:*"), None),
    Case("version-from-component-field", [WINDOWS],
         c("cpe:2.3:o:microsoft:windows_server_2019:*:*:*:*:*:*:*:*",
           version="10.0.17763.100"), (AFFECTED, None)),
    # --- unknown versions and missing bounds: review, never silent ---
    Case("component-version-unknown", [WINDOWS],
         c("cpe:2.3:o:microsoft:windows_server_2019:-:*:*:*:*:*:*:*"),
         ("possible", "unknown_component_version")),
    Case("na-version-with-a-name-in-the-version-field", [WINDOWS],
         c("cpe:2.3:o:microsoft:windows_server_2019:-:*:*:*:*:*:*:*", version="2019"),
         ("possible", "unknown_component_version")),
    Case("component-version-free-text", [OPENSSH],
         c("cpe:2.3:a:openbsd:openssh:*:*:*:*:*:*:*:*", version="latest build"),
         ("possible", "unknown_component_version")),
    Case("criterion-without-bound", [cve5(adp=config(crit(
        "cpe:2.3:a:openbsd:openssh:*:*:*:*:*:*:*:*")))],
        c("cpe:2.3:a:openbsd:openssh:9.9p1:*:*:*:*:*:*:*"), ("possible", "no_version_bound")),
    Case("unreadable-bound", [cve5(adp=config(crit(
        "cpe:2.3:a:openbsd:openssh:*:*:*:*:*:*:*:*", versionEndExcluding="all versions")))],
        c("cpe:2.3:a:openbsd:openssh:9.6p1:*:*:*:*:*:*:*"),
        ("possible", "unreadable_version_bound")),
    Case("cve5-unknown-status", [cve5(cna=affected(
        v("9.0p1", lessThan="9.9p1", status="unknown"),
        cpes=["cpe:2.3:a:openbsd:openssh:*:*:*:*:*:*:*:*"]))],
        c("cpe:2.3:a:openbsd:openssh:9.6p1:*:*:*:*:*:*:*"), ("possible", "status_unknown")),
    # --- wildcard vendor/product ambiguity ---
    Case("wildcard-vendor-criterion", [cve5(adp=config(crit(
        "cpe:2.3:a:*:openssl:*:*:*:*:*:*:*:*", versionEndExcluding="9.0")))],
        c("cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*"), None),
    Case("wildcard-inside-product", [cve5(adp=config(crit(
        "cpe:2.3:a:apache:log4j*:*:*:*:*:*:*:*:*", versionEndExcluding="2.15.0")))],
        c("cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*"), None),
    Case("wildcard-vendor-component", [OPENSSH],
         c("cpe:2.3:a:*:openssh:9.6p1:*:*:*:*:*:*:*"), None),
    Case("na-product-component", [OPENSSH], c("cpe:2.3:a:openbsd:-:9.6p1:*:*:*:*:*:*:*"), None),
    # --- name collisions and spelling ---
    Case("same-product-other-vendor", [LOG4J_CPE],
         c("cpe:2.3:a:other_vendor:log4j:2.14.1:*:*:*:*:*:*:*"), None),
    Case("purl-npm-vs-maven", [LOG4J_MAVEN], c(purl="pkg:npm/log4j-core@2.14.1"), None),
    Case("purl-maven", [LOG4J_MAVEN],
         c(purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"), (AFFECTED, None)),
    Case("purl-other-group", [LOG4J_MAVEN],
         c(purl="pkg:maven/org.example/log4j-core@2.14.1"), None),
    Case("underscore-is-not-hyphen", [cve5(adp=config(crit(
        "cpe:2.3:a:apache:http_server:2.4.49:*:*:*:*:*:*:*")))],
        c("cpe:2.3:a:apache:http-server:2.4.49:*:*:*:*:*:*:*"), None),
    Case("alias-table-spelling", [cve5(adp=config(crit(
        "cpe:2.3:a:apache:http_server:2.4.49:*:*:*:*:*:*:*")))],
        c("cpe:2.3:a:apache:httpd:2.4.49:*:*:*:*:*:*:*"), (AFFECTED, None)),
    Case("part-mismatch", [WINDOWS],
         c("cpe:2.3:a:microsoft:windows_server_2019:10.0.17763.100:*:*:*:*:*:*:*"), None),
    Case("target-hw-differs", [cve5(adp=config(crit(
        "cpe:2.3:o:microsoft:windows_server_2019:*:*:*:*:*:*:x64:*",
        versionEndExcluding="10.0.17763.7249")))],
        c("cpe:2.3:o:microsoft:windows_server_2019:10.0.17763.100:*:*:*:*:*:arm64:*"), None),
    Case("target-hw-unknown", [cve5(adp=config(crit(
        "cpe:2.3:o:microsoft:windows_server_2019:*:*:*:*:*:*:x64:*",
        versionEndExcluding="10.0.17763.7249")))],
        c("cpe:2.3:o:microsoft:windows_server_2019:10.0.17763.100:*:*:*:*:*:*:*"),
        ("possible", "cpe_attribute_unknown")),
    Case("distribution-cpe-is-not-the-product", [cve5(cna=affected(
        v("0:8.7p1-38.el9_4.1", lessThan="*", status="unaffected", versionType="rpm"),
        vendor="Red Hat", product="Red Hat Enterprise Linux 9", packageName="openssh",
        collectionURL="https://access.redhat.com/downloads/content/package-browser/",
        defaultStatus="affected", cpes=["cpe:/o:redhat:enterprise_linux:9::baseos"]))],
        c("cpe:2.3:o:redhat:enterprise_linux:9.4:*:*:*:*:*:*:*"), None),
    # --- running on / with ---
    Case("firmware-on-listed-hardware", [ARCHER],
         c("cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.2:*:*:*:*:*:*:*"), (AFFECTED, None),
         platform=["cpe:2.3:h:tp-link:archer_ax21:3.0:*:*:*:*:*:*:*"]),
    Case("firmware-without-hardware", [ARCHER],
         c("cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.2:*:*:*:*:*:*:*"), None),
    Case("firmware-on-other-hardware-version", [ARCHER],
         c("cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.2:*:*:*:*:*:*:*"), None,
         platform=["cpe:2.3:h:tp-link:archer_ax21:2.0:*:*:*:*:*:*:*"]),
    Case("firmware-on-hardware-of-unknown-version", [ARCHER],
         c("cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.2:*:*:*:*:*:*:*"),
         ("possible", "platform_unknown"),
         platform=["cpe:2.3:h:tp-link:archer_ax21:*:*:*:*:*:*:*:*"]),
    Case("fixed-firmware-on-hardware", [ARCHER],
         c("cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.4:*:*:*:*:*:*:*"), None,
         platform=["cpe:2.3:h:tp-link:archer_ax21:3.0:*:*:*:*:*:*:*"]),
    # --- purl ranges by ecosystem ---
    Case("maven-fixed", [LOG4J_MAVEN],
         c(purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.15.0"), None),
    Case("maven-pre-release", [LOG4J_MAVEN],
         c(purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.0-beta9"), (AFFECTED, None)),
    Case("pypi-name-normalised-by-spec", [cve5(cna=affected(
        v("0", lessThan="5.4", versionType="pypi"), collectionURL="https://pypi.org",
        packageName="PyYAML", defaultStatus="unaffected"))],
        c(purl="pkg:pypi/pyyaml@5.3.1"), (AFFECTED, None)),
    Case("default-affected-with-fix", [cve5(cna=affected(
        v("2.32.0", lessThan="*", status="unaffected", versionType="pypi"),
        collectionURL="https://pypi.org", packageName="requests", defaultStatus="affected"))],
        c(purl="pkg:pypi/requests@2.31.0"), (AFFECTED, None)),
    Case("default-affected-fixed-version", [cve5(cna=affected(
        v("2.32.0", lessThan="*", status="unaffected", versionType="pypi"),
        collectionURL="https://pypi.org", packageName="requests", defaultStatus="affected"))],
        c(purl="pkg:pypi/requests@2.32.3"), None),
    Case("purl-version-missing", [LOG4J_MAVEN],
         c(purl="pkg:maven/org.apache.logging.log4j/log4j-core"),
         ("possible", "unknown_component_version")),
    # --- CSAF product status ---
    Case("csaf-known-affected-on-hardware", [RTU_CSAF],
         c("cpe:2.3:o:example_controls:rtu-500_firmware:4.2.1:*:*:*:*:*:*:*"), (AFFECTED, None),
         platform=["cpe:2.3:h:example_controls:rtu-500:-:*:*:*:*:*:*:*"]),
    Case("csaf-fixed", [RTU_CSAF],
         c("cpe:2.3:o:example_controls:rtu-500_firmware:4.2.2:*:*:*:*:*:*:*"), None,
         platform=["cpe:2.3:h:example_controls:rtu-500:-:*:*:*:*:*:*:*"]),
    Case("csaf-vendor-not-affected-wins", [OPENSSH, VENDOR_NOT_AFFECTED],
         c("cpe:2.3:a:openbsd:openssh:9.6p1:*:*:*:*:*:*:*"), ("not_affected", None)),
    Case("csaf-other-version-still-affected", [OPENSSH, VENDOR_NOT_AFFECTED],
         c("cpe:2.3:a:openbsd:openssh:9.7p1:*:*:*:*:*:*:*"), (AFFECTED, None)),
    # --- JVN and KEV ---
    Case("jvn-and-earlier", [JVN_RTU],
         c("cpe:2.3:o:example_controls:rtu-500_firmware:4.2.1:*:*:*:*:*:*:*"), (AFFECTED, None)),
    Case("jvn-and-earlier-newer", [JVN_RTU],
         c("cpe:2.3:o:example_controls:rtu-500_firmware:4.2.2:*:*:*:*:*:*:*"), None),
    Case("jvn-all-versions-text", [JVN_RTU],
         c("cpe:2.3:o:example_controls:rtu-700_firmware:1.0:*:*:*:*:*:*:*"),
         ("possible", "no_version_bound")),
    Case("kev-name-hint", [KEV_OPENSSL], c("cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*"),
         ("possible", "name_only")),
    Case("kev-hint-gives-way-to-ranges", [KEV_OPENSSL, HEARTBLEED],
         c("cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*"), None),
    Case("kev-alias-spelling", [{**KEV_OPENSSL, "vulnerabilities": [dict(
        KEV_OPENSSL["vulnerabilities"][0], cveID="CVE-2021-44228", vendorProject="Apache",
        product="Log4j2")]}], c("cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*"),
        ("possible", "name_only")),
]


def records_of(feeds: list[dict[str, Any]]) -> list[VulnRecord]:
    records: list[VulnRecord] = []
    for index, feed in enumerate(feeds):
        records += parse_unit(Unit(f"feed-{index}", json.dumps(feed).encode())).records
    return records


def groups_of(records: list[VulnRecord]) -> list[Group]:
    ids: dict[str, int] = {}
    groups: list[Group] = []
    for record in records:
        vuln = ids.setdefault(record.key, len(ids) + 1)
        for spec in record.groups:
            key = ("purl", *spec.key) if spec.scheme == "purl" else (spec.scheme, *spec.key)
            groups.append(Group(
                vulnerability=vuln, scheme=spec.scheme, key=key, ranges=spec.ranges,
                default_status=spec.default_status, version_scheme=spec.version_scheme,
                part=spec.part, rest=spec.rest, platforms=spec.platforms,
                authority=spec.authority, group_id=len(groups) + 1))
    return groups


def view(component: dict[str, Any], cid: int = 1) -> ComponentView:
    return ComponentView.build(component_id=cid, computer_id=1, **component)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_matching_table(case: Case) -> None:
    groups = groups_of(records_of(case.feeds))
    platform = [cpe_mod.parse(p) for p in case.platform]
    found = Index(groups).match(view(case.component), platform)
    assert len(found) <= 1
    got = next(((verdict.status, verdict.reason) for verdict in found.values()), None)
    assert got == case.expected
    assert pairwise_match(groups, view(case.component), platform) == found


def test_wildcard_and_distribution_criteria_are_counted_as_skipped() -> None:
    records = records_of([cve5(adp=config(crit("cpe:2.3:a:*:openssl:*:*:*:*:*:*:*:*",
                                               versionEndExcluding="9.0")))])
    assert sum(r.skipped_criteria for r in records) == 1
    assert all(not r.groups for r in records)


def test_the_index_compares_only_statements_about_the_same_product() -> None:
    groups = groups_of(records_of([OPENSSH, LOG4J_MAVEN, WINDOWS, HEARTBLEED]))
    index = Index(groups)
    candidates = index.candidates(view(c("cpe:2.3:a:openbsd:openssh:9.6p1:*:*:*:*:*:*:*")))
    assert {g.key for g in candidates} == {("cpe", "openbsd", "openssh")}
    assert index.candidates(view(c("cpe:2.3:a:nobody:nothing:1:*:*:*:*:*:*:*"))) == []


def test_index_and_pairwise_agree_on_random_registers() -> None:
    """The index is an optimisation only: on random data it finds exactly what a
    comparison of every pair finds."""
    rng = random.Random(20260101)
    products = [("acme", f"p{i}") for i in range(30)]
    groups: list[Group] = []
    for gid in range(1, 400):
        vendor, name = rng.choice(products)
        low, high = sorted(rng.sample(range(0, 40), 2))
        ranges = (Range(AFFECTED, start=f"1.{low}", end=f"1.{high}"),)
        authority = HINT if rng.random() < 0.1 else DATABASE
        groups.append(Group(
            vulnerability=rng.randint(1, 150), scheme="name" if authority == HINT else "cpe",
            key=("name" if authority == HINT else "cpe", vendor, name), ranges=ranges,
            default_status=UNAFFECTED if rng.random() < 0.9 else AFFECTED,
            authority=authority, group_id=gid))
    index = Index(groups)
    for cid in range(300):
        vendor, name = rng.choice(products)
        version = rng.choice([f"1.{rng.randint(0, 45)}", "*", f"1.{rng.randint(0, 45)}-rc1"])
        component = view(c(f"cpe:2.3:a:{vendor}:{name}:{version}:*:*:*:*:*:*:*"), cid)
        assert index.match(component) == pairwise_match(groups, component)


def _suppression(reason: str, component: ComponentView) -> Suppression:
    return Suppression(reason=reason, component_version=version_of(component),
                       component_identity=identity_of(component))


OLD = c("cpe:2.3:a:openbsd:openssh:9.6p1:*:*:*:*:*:*:*")
NEW_VERSION = c("cpe:2.3:a:openbsd:openssh:9.7p1:*:*:*:*:*:*:*")
NEW_PRODUCT = c("cpe:2.3:a:openbsd:openssh_portable:9.6p1:*:*:*:*:*:*:*")


@pytest.mark.parametrize(("reason", "after", "lapse"), [
    ("vulnerable_code_not_present", OLD, None),
    ("vulnerable_code_not_present", NEW_VERSION, "component_version_changed"),
    ("component_not_present", NEW_VERSION, "component_version_changed"),
    ("vulnerable_code_not_in_execute_path", NEW_VERSION, "component_version_changed"),
    ("inline_mitigations_already_exist", NEW_VERSION, None),
    ("vulnerable_code_cannot_be_controlled_by_adversary", NEW_VERSION, None),
    ("not_the_matched_product", NEW_VERSION, None),
    ("not_the_matched_product", NEW_PRODUCT, "component_identity_changed"),
    ("vulnerable_code_not_present", NEW_PRODUCT, "component_identity_changed"),
    ("inline_mitigations_already_exist", None, "component_removed"),
])
def test_suppressions_survive_a_change_only_while_their_reason_holds(
    reason: str, after: dict[str, Any] | None, lapse: str | None
) -> None:
    row = _suppression(reason, view(OLD))
    assert still_holds(row, view(after) if after is not None else None) == lapse
