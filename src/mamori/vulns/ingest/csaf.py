"""Vendors' CSAF 2.0 advisories: the product tree and each vulnerability's product status.

Products are identified by their ``product_identification_helper`` (CPE or purl) and
the version from the branch they sit in (``product_version`` or a ``vers:`` range in
``product_version_range``). A relationship "installed on" carries the platform as a
condition, as an NVD "running on" configuration does. Products without a helper are
named only in words and become name hints. A vendor's own statement outranks a
database's (``known_not_affected`` for a version wins over a range).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

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
    DATABASE,
    HINT,
    UNAFFECTED,
    VENDOR,
    Platform,
    PlatformCpe,
    Range,
)
from mamori.vulns.matching.csaf_status import (
    STATUS,
    VENDOR_CATEGORIES,
    VersSyntaxError,
    vers_ranges,
)
from mamori.vulns.matching.versions import scheme_for

PLATFORM_RELATIONS = frozenset({"installed_on", "installed_with"})
MAX_PRODUCTS = 20_000


def looks_like(document: Any) -> bool:
    doc = document.get("document") if isinstance(document, dict) else None
    return isinstance(doc, dict) and "csaf_version" in doc


@dataclass(frozen=True)
class Identity:
    """Who a product is, as far as matching is concerned."""

    scheme: str  # cpe, purl or name
    key: tuple[str, ...]
    version: str | None = None
    vers: str | None = None
    part: str = "*"
    rest: tuple[str, ...] = ()
    platform: PlatformCpe | None = None


def _dict(value: Any, where: str, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FeedError(where, f"{name} is not an object")
    return value


def _list(value: Any, where: str, name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise FeedError(where, f"{name} is not a list")
    return value


def _identity(product: dict[str, Any], where: str, context: dict[str, str]) -> Identity:
    helper = product.get("product_identification_helper") or {}
    _dict(helper, where, "product_identification_helper")
    version = context.get("product_version")
    vers = context.get("product_version_range")
    if isinstance(helper.get("cpe"), str):
        try:
            name = cpe_mod.parse(helper["cpe"])
        except cpe_mod.CpeSyntaxError as exc:
            raise FeedError(f"{where}.product_identification_helper.cpe", str(exc)) from exc
        if name.literal_identity:
            if name.version not in (cpe_mod.ANY, cpe_mod.NA):
                version = name.version
            return Identity("cpe", aliases.canonical(name.key), version, vers, name.part,
                            name.rest())
    if isinstance(helper.get("purl"), str):
        try:
            key, purl_version = purl_mod.parse(helper["purl"])
        except ValueError as exc:
            raise FeedError(f"{where}.product_identification_helper.purl", str(exc)) from exc
        return Identity("purl", key, purl_version or version, vers)
    vendor, name_text = context.get("vendor"), context.get("product_name")
    if vendor and name_text:
        return Identity("name", aliases.canonical(aliases.name_key(vendor, name_text)),
                        version, vers)
    return Identity("none", ())


def _walk(branches: list[Any], where: str, context: dict[str, str],
          found: dict[str, Identity]) -> None:
    for index, raw in enumerate(branches):
        here = f"{where}[{index}]"
        branch = _dict(raw, here, "a branch")
        category = text(branch.get("category"), here, "category", limit=64, required=True)
        name = text(branch.get("name"), here, "name", limit=300, required=True)
        assert category is not None and name is not None
        inner = {**context, category: name}
        if "product" in branch:
            product = _dict(branch["product"], f"{here}.product", "product")
            pid = text(product.get("product_id"), here, "product_id", limit=200, required=True)
            assert pid is not None
            found[pid] = _identity(product, f"{here}.product", inner)
        _walk(_list(branch.get("branches"), here, "branches"), f"{here}.branches", inner, found)
        if len(found) > MAX_PRODUCTS:
            raise FeedError(where, f"more than {MAX_PRODUCTS} products")


def products(tree: dict[str, Any], where: str) -> dict[str, Identity]:
    """product_id → identity, for every product the tree defines."""
    found: dict[str, Identity] = {}
    _walk(_list(tree.get("branches"), where, "branches"), f"{where}.branches", {}, found)
    for index, raw in enumerate(_list(tree.get("full_product_names"), where,
                                      "full_product_names")):
        here = f"{where}.full_product_names[{index}]"
        product = _dict(raw, here, "a full product name")
        pid = text(product.get("product_id"), here, "product_id", limit=200, required=True)
        assert pid is not None
        found[pid] = _identity(product, here, {})
    for index, raw in enumerate(_list(tree.get("relationships"), where, "relationships")):
        here = f"{where}.relationships[{index}]"
        rel = _dict(raw, here, "a relationship")
        full = _dict(rel.get("full_product_name"), here, "full_product_name")
        pid = text(full.get("product_id"), here, "product_id", limit=200, required=True)
        ref = found.get(str(rel.get("product_reference")))
        on = found.get(str(rel.get("relates_to_product_reference")))
        if pid is None or ref is None or on is None:
            raise FeedError(here, "refers to a product the tree does not define")
        platform = None
        if str(rel.get("category")) in PLATFORM_RELATIONS and on.scheme == "cpe":
            ranges = (Range(status="affected", exact=on.version),) if on.version else ()
            platform = PlatformCpe(on.key[0], on.key[1], on.part, ranges)
        found[pid] = Identity(ref.scheme, ref.key, ref.version, ref.vers, ref.part, ref.rest,
                              platform)
    return found


def _ranges(identity: Identity, status: str, where: str) -> tuple[str, tuple[Range, ...]]:
    default_scheme = scheme_for(identity.key[0]) if identity.scheme == "purl" else "dotted"
    if identity.vers:
        vers = identity.vers if identity.vers.startswith("vers:") else (
            f"vers:generic/{identity.vers}")
        try:
            return vers_ranges(vers, status)
        except VersSyntaxError as exc:
            raise FeedError(where, str(exc)) from exc
    if identity.version:
        return default_scheme, (Range(status=status, exact=identity.version),)
    return default_scheme, (Range(status=status),)


def _vulnerability(raw: Any, where: str, known: dict[str, Identity], origin: str,
                   authority: str, tracking: str, index: int) -> VulnRecord:
    item = _dict(raw, where, "a vulnerability")
    cve = text(item.get("cve"), where, "cve", limit=32)
    if cve is not None and not CVE_ID.fullmatch(cve):
        raise FeedError(where, "cve is not a CVE id")
    ids = [i for i in _list(item.get("ids"), where, "ids") if isinstance(i, dict)]
    key = cve or (text(ids[0].get("text"), where, "ids[0].text", limit=64) if ids else None)
    key = key or f"{tracking}#{index}"[:64]
    record = VulnRecord(key=key, cve_id=cve, origin=origin, locator=f"vulnerabilities[{index}]",
                        title=text(item.get("title"), where, "title", limit=300))
    record.aliases = [str(i["text"])[:64] for i in ids
                      if isinstance(i.get("text"), str) and i["text"] != key]
    for note in _list(item.get("notes"), where, "notes"):
        if isinstance(note, dict) and note.get("category") in ("description", "summary"):
            record.description = record.description or text(note.get("text"), where, "note")
    cwe = item.get("cwe")
    if isinstance(cwe, dict) and isinstance(cwe.get("id"), str):
        record.cwes.append(cwe["id"])
    for score in _list(item.get("scores"), where, "scores"):
        cvss = score.get("cvss_v3") if isinstance(score, dict) else None
        if isinstance(cvss, dict) and isinstance(cvss.get("baseScore"), int | float):
            record.cvss_score = float(cvss["baseScore"])
            record.cvss_vector = str(cvss.get("vectorString", ""))[:200] or None
            record.severity = severity_of(record.cvss_score)
    status = _dict(item.get("product_status") or {}, where, "product_status")
    grouped: dict[tuple[Any, ...], list[Range]] = defaultdict(list)
    specs: dict[tuple[Any, ...], tuple[Identity, str]] = {}
    for field, product_ids in status.items():
        mapped = STATUS.get(field)
        if mapped is None:
            raise FeedError(where, f"product_status.{field[:40]} is not a CSAF status")
        for pid in _list(product_ids, where, f"product_status.{field}"):
            identity = known.get(str(pid))
            if identity is None:
                raise FeedError(where, f"product_status.{field} names an undefined product")
            if identity.scheme == "none":
                record.skipped_criteria += 1
                continue
            scheme, ranges = _ranges(identity, mapped, f"{where}.product_status.{field}")
            group = (identity.scheme, identity.key, identity.part, identity.rest,
                     identity.platform)
            grouped[group].extend(ranges)
            specs[group] = (identity, scheme)
    for group, listed in grouped.items():
        identity, scheme = specs[group]
        platforms = (Platform((identity.platform,)),) if identity.platform else ()
        record.groups.append(GroupSpec(
            scheme=identity.scheme, key=identity.key, ranges=tuple(listed),
            default_status=UNAFFECTED, version_scheme=scheme, part=identity.part,
            rest=identity.rest, platforms=platforms,
            authority=HINT if identity.scheme == "name" else authority))
    return record


def parse(document: Any, name: str) -> ParsedFeed:
    """A CSAF 2.0 document → one record per vulnerability it describes."""
    if not looks_like(document):
        raise FeedError(name, "not a CSAF document (document.csaf_version)")
    doc = document["document"]
    if doc.get("csaf_version") != "2.0":
        raise FeedError(name, "document.csaf_version is not 2.0")
    publisher = _dict(doc.get("publisher"), name, "document.publisher")
    tracking = _dict(doc.get("tracking"), name, "document.tracking")
    tracking_id = text(tracking.get("id"), name, "document.tracking.id", limit=100,
                       required=True)
    namespace = text(publisher.get("namespace"), name, "document.publisher.namespace",
                     limit=300, required=True)
    assert tracking_id is not None and namespace is not None
    host = urlsplit(namespace).netloc or namespace
    origin = f"csaf:{host}/{tracking_id}"[:200]
    authority = VENDOR if str(publisher.get("category")) in VENDOR_CATEGORIES else DATABASE
    updated = timestamp(tracking.get("current_release_date"), name,
                        "document.tracking.current_release_date")
    known = products(_dict(document.get("product_tree") or {}, name, "product_tree"),
                     f"{name} product_tree")
    vulnerabilities = _list(document.get("vulnerabilities"), name, "vulnerabilities")
    records = [
        _vulnerability(raw, f"{name} vulnerabilities[{index}]", known, origin, authority,
                       tracking_id, index)
        for index, raw in enumerate(vulnerabilities)
    ]
    for record in records:
        record.updated = updated
    return ParsedFeed(kind="csaf", records=records)
