"""CVE JSON 5 records (CVEProject/cvelistV5): one record per file, as in the list's
folders and its bulk zip.

Each container speaks for itself — the CNA's and every ADP's (e.g. CISA's
"Vulnrichment") — so each becomes its own fact with its own origin. Applicability comes
from three places: ``cpeApplicability`` (NVD-style configurations, including
"running on/with" AND nodes), ``affected[].cpes`` with ``versions``, and
``affected[].collectionURL`` + ``packageName`` (package registries, as purl keys).
``affected`` entries that give only vendor and product names become name hints.

Without ``defaultStatus``, versions outside the listed ranges count as unaffected
when ranges are listed (how the CNAs use it), and as unknown when none are.
"""

from __future__ import annotations

from typing import Any

from mamori.vulns.ingest.records import (
    CVE_ID,
    FeedError,
    GroupSpec,
    ParsedFeed,
    VulnRecord,
    severity_of,
    text,
    timestamp,
)
from mamori.vulns.matching import aliases
from mamori.vulns.matching import cpe as cpe_mod
from mamori.vulns.matching import purl as purl_mod
from mamori.vulns.matching.applicability import (
    AFFECTED,
    DATABASE,
    HINT,
    UNAFFECTED,
    UNKNOWN,
    Platform,
    PlatformCpe,
    Range,
)
from mamori.vulns.matching.versions import scheme_for

STATUSES = {"affected": AFFECTED, "unaffected": UNAFFECTED, "unknown": UNKNOWN}
METRIC_ORDER = ("cvssV3_1", "cvssV3_0", "cvssV4_0", "cvssV2_0")
MAX_GROUPS = 5000
_OPEN = ("", "0", "*")


def looks_like(document: Any) -> bool:
    return (isinstance(document, dict) and document.get("dataType") == "CVE_RECORD"
            and isinstance(document.get("cveMetadata"), dict))


def _list(value: Any, where: str, name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise FeedError(where, f"{name} is not a list")
    return value


def _dict(value: Any, where: str, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FeedError(where, f"{name} is not an object")
    return value


def _ranges(versions: list[Any], where: str) -> tuple[str, tuple[Range, ...]]:
    scheme = "dotted"
    ranges: list[Range] = []
    for index, raw in enumerate(versions):
        here = f"{where}.versions[{index}]"
        item = _dict(raw, here, "a version entry")
        status = STATUSES.get(str(item.get("status", "")))
        if status is None:
            raise FeedError(here, "status is not affected, unaffected or unknown")
        version = text(item.get("version"), here, "version", limit=200, required=True)
        assert version is not None
        if index == 0:
            scheme = scheme_for(text(item.get("versionType"), here, "versionType", limit=32))
        less = text(item.get("lessThan"), here, "lessThan", limit=200)
        less_eq = text(item.get("lessThanOrEqual"), here, "lessThanOrEqual", limit=200)
        if less is None and less_eq is None:
            ranges.append(Range(status=status, exact=version))
            continue
        end = less if less is not None else less_eq
        ranges.append(Range(
            status=status, start=None if version in _OPEN else version,
            end=None if end == "*" else end, end_inclusive=less is None,
        ))
    return scheme, tuple(ranges)


def _default(item: dict[str, Any], ranges: tuple[Range, ...], where: str) -> str:
    stated = item.get("defaultStatus")
    if stated is None:
        return UNAFFECTED if ranges else UNKNOWN
    status = STATUSES.get(str(stated))
    if status is None:
        raise FeedError(where, "defaultStatus is not affected, unaffected or unknown")
    return status


def _affected(entries: list[Any], where: str, record: VulnRecord) -> None:
    for index, raw in enumerate(entries):
        here = f"{where}.affected[{index}]"
        item = _dict(raw, here, "an affected entry")
        scheme, ranges = _ranges(_list(item.get("versions"), here, "versions"), here)
        default = _default(item, ranges, here)
        keyed = False
        purl_key = purl_mod.from_collection(
            text(item.get("collectionURL"), here, "collectionURL", limit=500),
            text(item.get("packageName"), here, "packageName", limit=500))
        if purl_key is None and isinstance(item.get("packageURL"), str):
            try:
                purl_key, _ = purl_mod.parse(item["packageURL"])
            except ValueError as exc:
                raise FeedError(f"{here}.packageURL", str(exc)) from exc
        cpes = _list(item.get("cpes"), here, "cpes")
        if item.get("packageName") and cpes:
            # The versions are the package's; the CPEs name the platform it ships in (a
            # distribution), so they are not the product's identity.
            record.skipped_criteria += len(cpes)
            cpes = []
        for position, cpe_text in enumerate(cpes):
            try:
                name = cpe_mod.parse(str(cpe_text))
            except cpe_mod.CpeSyntaxError as exc:
                raise FeedError(f"{here}.cpes[{position}]", str(exc)) from exc
            if not name.literal_identity:
                record.skipped_criteria += 1
                continue
            own = ranges
            if not own and name.version not in (cpe_mod.ANY, cpe_mod.NA):
                own = (Range(status=default if default != UNAFFECTED else AFFECTED,
                             exact=name.version),)
            record.groups.append(GroupSpec(
                scheme="cpe", key=aliases.canonical(name.key), ranges=own,
                default_status=default, version_scheme=scheme, part=name.part,
                rest=name.rest()))
            keyed = True
        if purl_key is not None:
            record.groups.append(GroupSpec(
                scheme="purl", key=purl_key, ranges=ranges, default_status=default,
                version_scheme=scheme if scheme != "dotted" else scheme_for(purl_key[0])))
            keyed = True
        vendor = text(item.get("vendor"), here, "vendor", limit=200)
        product = text(item.get("product"), here, "product", limit=200)
        if not keyed and vendor and product and vendor.lower() != "n/a":
            record.groups.append(GroupSpec(
                scheme="name", key=aliases.canonical(aliases.name_key(vendor, product)),
                ranges=ranges, default_status=default, version_scheme=scheme, authority=HINT))


def _cpe_match(raw: Any, where: str) -> tuple[cpe_mod.Cpe, tuple[Range, ...], bool]:
    item = _dict(raw, where, "a cpeMatch entry")
    criteria = text(item.get("criteria"), where, "criteria", limit=1024, required=True)
    assert criteria is not None
    try:
        name = cpe_mod.parse(criteria)
    except cpe_mod.CpeSyntaxError as exc:
        raise FeedError(f"{where}.criteria", str(exc)) from exc
    vulnerable = item.get("vulnerable")
    if not isinstance(vulnerable, bool):
        raise FeedError(where, "vulnerable is not true or false")
    bounds = {k: text(item.get(k), where, k, limit=200) for k in (
        "versionStartIncluding", "versionStartExcluding", "versionEndIncluding",
        "versionEndExcluding")}
    if any(bounds.values()):
        start = bounds["versionStartIncluding"] or bounds["versionStartExcluding"]
        end = bounds["versionEndIncluding"] or bounds["versionEndExcluding"]
        ranges: tuple[Range, ...] = (Range(
            status=AFFECTED, start=start,
            start_inclusive=bounds["versionStartExcluding"] is None,
            end=end, end_inclusive=bounds["versionEndIncluding"] is not None),)
    elif name.version not in (cpe_mod.ANY, cpe_mod.NA):
        ranges = (Range(status=AFFECTED, exact=name.version),)
    else:
        ranges = ()
    return name, ranges, vulnerable


def _configurations(configs: list[Any], where: str, record: VulnRecord) -> None:
    for c_index, raw in enumerate(configs):
        here = f"{where}.cpeApplicability[{c_index}]"
        config = _dict(raw, here, "a configuration")
        nodes = _list(config.get("nodes"), here, "nodes")
        and_config = str(config.get("operator", "OR")).upper() == "AND" and len(nodes) > 1
        parsed: list[tuple[bool, str, list[tuple[cpe_mod.Cpe, tuple[Range, ...], bool]]]] = []
        for n_index, node_raw in enumerate(nodes):
            node_where = f"{here}.nodes[{n_index}]"
            node = _dict(node_raw, node_where, "a node")
            matches = [_cpe_match(m, f"{node_where}.cpeMatch[{m_index}]")
                       for m_index, m in enumerate(_list(node.get("cpeMatch"), node_where,
                                                         "cpeMatch"))]
            parsed.append((bool(node.get("negate", False)),
                           str(node.get("operator", "OR")).upper(), matches))
        for n_index, (negate, operator, matches) in enumerate(parsed):
            if negate:
                continue  # a negated node only restricts the others
            others: list[Platform] = []
            if and_config:
                for o_index, (o_negate, _, o_matches) in enumerate(parsed):
                    if o_index != n_index:
                        others.append(Platform(tuple(
                            PlatformCpe(m.vendor, m.product, m.part, r)
                            for m, r, _ in o_matches if m.literal_identity), o_negate))
            for m_index, (name, ranges, vulnerable) in enumerate(matches):
                if not vulnerable:
                    continue
                if not name.literal_identity:
                    record.skipped_criteria += 1
                    continue
                platforms = list(others)
                if operator == "AND":
                    platforms += [Platform((PlatformCpe(m.vendor, m.product, m.part, r),))
                                  for i, (m, r, _) in enumerate(matches)
                                  if i != m_index and m.literal_identity]
                record.groups.append(GroupSpec(  # no bound at all: every version, unsure
                    scheme="cpe", key=aliases.canonical(name.key), ranges=ranges,
                    default_status=UNAFFECTED if ranges else AFFECTED, part=name.part,
                    rest=name.rest(), platforms=tuple(platforms), authority=DATABASE))


def _metrics(metrics: list[Any], where: str, record: VulnRecord) -> None:
    best: tuple[int, float, str | None, str | None] | None = None
    for index, raw in enumerate(metrics):
        item = _dict(raw, f"{where}.metrics[{index}]", "a metric")
        for rank, name in enumerate(METRIC_ORDER):
            data = item.get(name)
            if not isinstance(data, dict):
                continue
            score = data.get("baseScore")
            if not isinstance(score, int | float) or not 0 <= score <= 10:
                raise FeedError(f"{where}.metrics[{index}].{name}", "baseScore is not 0-10")
            candidate = (rank, float(score), data.get("vectorString"), data.get("baseSeverity"))
            if best is None or candidate[0] < best[0]:
                best = candidate
    if best is not None:
        record.cvss_score = best[1]
        record.cvss_vector = str(best[2])[:200] if best[2] else None
        record.severity = str(best[3]).lower() if best[3] else severity_of(best[1])


def _container(container: dict[str, Any], where: str, record: VulnRecord) -> None:
    record.title = text(container.get("title"), where, "title", limit=300)
    for index, raw in enumerate(_list(container.get("descriptions"), where, "descriptions")):
        item = _dict(raw, f"{where}.descriptions[{index}]", "a description")
        lang = str(item.get("lang", "")).lower()
        value = text(item.get("value"), f"{where}.descriptions[{index}]", "value")
        if lang.startswith("en") and record.description is None:
            record.description = value
        elif lang.startswith("ja") and record.description_ja is None:
            record.description_ja = value
    _metrics(_list(container.get("metrics"), where, "metrics"), where, record)
    for problem in _list(container.get("problemTypes"), where, "problemTypes"):
        for item in _list(_dict(problem, where, "a problem type").get("descriptions"),
                          where, "problemTypes descriptions"):
            cwe = item.get("cweId") if isinstance(item, dict) else None
            if isinstance(cwe, str) and cwe.startswith("CWE-") and cwe not in record.cwes:
                record.cwes.append(cwe)
    for item in _list(container.get("references"), where, "references"):
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            record.references.append(item["url"][:500])
    _affected(_list(container.get("affected"), where, "affected"), where, record)
    _configurations(_list(container.get("cpeApplicability"), where, "cpeApplicability"),
                    where, record)
    if len(record.groups) > MAX_GROUPS:
        raise FeedError(where, f"more than {MAX_GROUPS} applicability statements")


def parse(document: Any, name: str) -> ParsedFeed:
    """One CVE JSON 5 record → one fact per container (the CNA's, then each ADP's)."""
    if not looks_like(document):
        raise FeedError(name, "not a CVE JSON 5 record (dataType CVE_RECORD)")
    meta = document["cveMetadata"]
    cve = text(meta.get("cveId"), name, "cveMetadata.cveId", limit=32, required=True)
    if cve is None or not CVE_ID.fullmatch(cve):
        raise FeedError(name, "cveMetadata.cveId is not a CVE id")
    state = meta.get("state")
    if state not in ("PUBLISHED", "REJECTED"):
        raise FeedError(name, "cveMetadata.state is not PUBLISHED or REJECTED")
    containers = _dict(document.get("containers"), name, "containers")
    published = timestamp(meta.get("datePublished"), name, "cveMetadata.datePublished")
    updated = timestamp(meta.get("dateUpdated"), name, "cveMetadata.dateUpdated")
    cna = _dict(containers.get("cna"), name, "containers.cna")
    records = [VulnRecord(key=cve, cve_id=cve, origin="cve5:cna", locator=f"{cve} cna",
                          updated=updated, published=published)]
    if state == "PUBLISHED":
        _container(cna, f"{name} containers.cna", records[0])
        for index, raw in enumerate(_list(containers.get("adp"), name, "containers.adp")):
            where = f"{name} containers.adp[{index}]"
            adp = _dict(raw, where, "an ADP container")
            provider = _dict(adp.get("providerMetadata", {}), where, "providerMetadata")
            short = text(provider.get("shortName"), where, "providerMetadata.shortName",
                         limit=64) or str(index)
            record = VulnRecord(
                key=cve, cve_id=cve, origin=f"cve5:adp:{short}", locator=f"{cve} adp[{index}]",
                updated=timestamp(provider.get("dateUpdated"), where, "dateUpdated") or updated,
                published=published)
            _container(adp, where, record)
            records.append(record)
    return ParsedFeed(kind="cve5", records=records)
