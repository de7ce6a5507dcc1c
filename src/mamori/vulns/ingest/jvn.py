"""JVN iPedia entries: VULDEF XML (MyJVN ``getVulnDetailInfo``, the JVNDB detail feeds)
and the same structure as MyJVN JSON.

XML is read with ``defusedxml``: no DTDs, no entity expansion, no external references.
Both forms are first turned into one dictionary shape (XML attributes as ``@name``,
element text as ``#text``), then read by one parser. JVN supplies Japanese titles and
descriptions, the link between JVNDB ids and CVE ids, and CPE 2.2 names of affected
products; its version statements are free text, read for the common patterns
("X から Y", "Y およびそれ以前", "prior to Y") and otherwise kept as "needs review".
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from mamori.vulns.ingest.records import (
    CVE_ID,
    FeedError,
    GroupSpec,
    ParsedFeed,
    VulnRecord,
    severity_of,
    timestamp,
)
from mamori.vulns.matching import aliases
from mamori.vulns.matching import cpe as cpe_mod
from mamori.vulns.matching.applicability import AFFECTED, UNAFFECTED, Range

JVNDB_ID = re.compile(r"JVNDB-[0-9]{4}-[0-9]{6}")
_V = r"v?([0-9][0-9A-Za-z._\-+]*)"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"^{_V}(?:\s*(?:から|to|～|~)\s*|\s+[-–]\s+){_V}$", re.IGNORECASE),
     "between"),
    (re.compile(rf"^{_V}\s*(?:およびそれ以前|及びそれ以前|以前|and earlier|or earlier|and prior)"
                r"(?:\s*の\S*)?$", re.IGNORECASE), "through"),
    (re.compile(rf"^(?:versions?\s+)?(?:prior to|before|earlier than)\s+{_V}$", re.IGNORECASE),
     "before"),
    (re.compile(rf"^{_V}\s*(?:より前|未満)(?:\s*の\S*)?$"), "before"),
    (re.compile(rf"^(?:version\s+)?{_V}$", re.IGNORECASE), "exact"),
)


def version_range(statement: str) -> Range | None:
    """One JVN ``VersionNumber`` text → a range, or None when it is not one of the
    patterns JVN commonly uses."""
    value = " ".join(statement.split())
    for pattern, shape in _PATTERNS:
        found = pattern.match(value)
        if not found:
            continue
        if shape == "between":
            return Range(status=AFFECTED, start=found.group(1), end=found.group(2),
                         end_inclusive=True)
        if shape == "through":
            return Range(status=AFFECTED, end=found.group(1), end_inclusive=True)
        if shape == "before":
            return Range(status=AFFECTED, end=found.group(1))
        return Range(status=AFFECTED, exact=found.group(1))
    return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def element_to_dict(element: Element) -> Any:
    """An element → plain data: children by local name (lists when repeated)."""
    children = list(element)
    attributes = {f"@{_local(k)}": v for k, v in element.attrib.items()}
    body = (element.text or "").strip()
    if not children and not attributes:
        return body
    result: dict[str, Any] = dict(attributes)
    if body:
        result["#text"] = body
    for child in children:
        name = _local(child.tag)
        value = element_to_dict(child)
        if name in result:
            existing = result[name]
            result[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            result[name] = value
    return result


def looks_like_xml(data: bytes) -> bool:
    head = data[:2048].decode("utf-8", "ignore")
    return "VULDEF-Document" in head or "<Vulinfo" in head


def looks_like_json(document: Any) -> bool:
    return isinstance(document, dict) and ("VULDEF-Document" in document or "Vulinfo" in document)


def read_xml(data: bytes, name: str) -> Any:
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True,
                                 forbid_external=True)
    except DefusedXmlException as exc:
        raise FeedError(name, "the XML declares a DTD or entities, which are refused") from exc
    except SafeET.ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise FeedError(name, f"not well-formed XML (line {line}, column {column})") from exc
    if _local(root.tag) != "VULDEF-Document":
        raise FeedError(name, "the XML root is not VULDEF-Document")
    document = element_to_dict(root)
    lang = next((v for k, v in root.attrib.items() if _local(k) == "lang"), "ja")
    return {"VULDEF-Document": document if isinstance(document, dict) else {}, "@lang": lang}


def _many(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def _str(value: Any, where: str, field: str, limit: int = 8000) -> str | None:
    if isinstance(value, dict):
        value = value.get("#text")
    if value is None:
        return None
    if not isinstance(value, str):
        raise FeedError(where, f"{field} is not text")
    return " ".join(value.split())[:limit] or None


def _obj(value: Any, where: str, field: str) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise FeedError(where, f"{field} is not an element with children")
    return value


def _entry(raw: Any, where: str, lang: str) -> list[VulnRecord]:
    item = _obj(raw, where, "Vulinfo")
    jvn_id = _str(item.get("VulinfoID"), where, "VulinfoID", 64)
    if jvn_id is None or not JVNDB_ID.fullmatch(jvn_id):
        raise FeedError(where, "VulinfoID is not a JVNDB id")
    data = _obj(item.get("VulinfoData"), where, "VulinfoData")
    title = _str(data.get("Title"), where, "Title", 300)
    overview = _str(_obj(data.get("VulinfoDescription"), where, "VulinfoDescription")
                    .get("Overview"), where, "Overview")
    cves: list[str] = []
    cwes: list[str] = []
    references: list[str] = []
    for index, related in enumerate(_many(_obj(data.get("Related"), where, "Related")
                                          .get("RelatedItem"))):
        rel = _obj(related, f"{where} RelatedItem[{index}]", "RelatedItem")
        ident = _str(rel.get("VulinfoID"), where, "RelatedItem VulinfoID", 64) or ""
        if CVE_ID.fullmatch(ident) and ident not in cves:
            cves.append(ident)
        elif ident.startswith("CWE-") and ident[4:].isdigit():
            cwes.append(ident)
        url = _str(rel.get("URL"), where, "RelatedItem URL", 500)
        if url:
            references.append(url)
    score: float | None = None
    vector: str | None = None
    for index, cvss in enumerate(_many(_obj(data.get("Impact"), where, "Impact").get("Cvss"))):
        here = f"{where} Cvss[{index}]"
        base = _str(_obj(cvss, here, "Cvss").get("Base"), here, "Base", 8)
        if base is None:
            continue
        try:
            value = float(base)
        except ValueError as exc:
            raise FeedError(here, "Base is not a number") from exc
        if not 0 <= value <= 10:
            raise FeedError(here, "Base is not 0-10")
        version = str(cvss.get("@version", ""))
        if score is None or version.startswith("3") or version.startswith("4"):
            score, vector = value, _str(cvss.get("Vector"), here, "Vector", 200)
    groups: list[GroupSpec] = []
    skipped = 0
    affected = _obj(data.get("Affected"), where, "Affected")
    for index, product in enumerate(_many(affected.get("AffectedItem"))):
        here = f"{where} AffectedItem[{index}]"
        entry = _obj(product, here, "AffectedItem")
        cpe_text = _str(entry.get("Cpe"), here, "Cpe", 1024)
        if not cpe_text:
            skipped += 1
            continue
        try:
            name = cpe_mod.parse(cpe_text)
        except cpe_mod.CpeSyntaxError as exc:
            raise FeedError(f"{here} Cpe", str(exc)) from exc
        if not name.literal_identity:
            skipped += 1
            continue
        statements = [_str(v, here, "VersionNumber", 300) for v in
                      _many(entry.get("VersionNumber"))]
        ranges = [version_range(s) for s in statements if s]
        readable = tuple(r for r in ranges if r is not None)
        if statements and len(readable) == len([s for s in statements if s]):
            groups.append(GroupSpec(scheme="cpe", key=aliases.canonical(name.key),
                                    ranges=readable, default_status=UNAFFECTED,
                                    part=name.part, rest=name.rest()))
        else:  # no version statement, or one that is not a range: a person must look
            groups.append(GroupSpec(scheme="cpe", key=aliases.canonical(name.key), ranges=(),
                                    default_status=AFFECTED, part=name.part, rest=name.rest()))
    published = timestamp(_str(data.get("DateFirstPublished"), where, "DateFirstPublished", 64),
                          where, "DateFirstPublished")
    updated = timestamp(_str(data.get("DateLastUpdated"), where, "DateLastUpdated", 64),
                        where, "DateLastUpdated")
    japanese = lang.lower().startswith("ja")
    keys = cves or [jvn_id]
    return [VulnRecord(
        key=key, cve_id=key if key.startswith("CVE-") else None, origin=f"jvn:{jvn_id}",
        locator=jvn_id, aliases=[jvn_id] if len(keys) == 1 and key != jvn_id else [],
        updated=updated, published=published,
        title=None if japanese else title, title_ja=title if japanese else None,
        description=None if japanese else overview,
        description_ja=overview if japanese else None,
        cvss_score=score, cvss_vector=vector, severity=severity_of(score), cwes=cwes,
        references=references, groups=list(groups), skipped_criteria=skipped,
    ) for key in keys]


def parse(document: Any, name: str) -> ParsedFeed:
    """A VULDEF document (from XML or MyJVN JSON) → records, one per CVE it names (or
    one under its JVNDB id when it names none)."""
    if not isinstance(document, dict):
        raise FeedError(name, "not a VULDEF document")
    body = document.get("VULDEF-Document", document)
    lang = str(document.get("@lang") or _obj(body, name, "VULDEF-Document").get("@lang") or "ja")
    entries = _many(_obj(body, name, "VULDEF-Document").get("Vulinfo"))
    if not entries:
        raise FeedError(name, "the document has no Vulinfo entry")
    records: list[VulnRecord] = []
    for index, entry in enumerate(entries):
        records.extend(_entry(entry, f"{name} Vulinfo[{index}]", lang))
    return ParsedFeed(kind="jvn", records=records)
