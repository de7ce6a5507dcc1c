"""Atom (RFC 4287) and RSS 2.0 feeds of the published advisories, in one language."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from mamori.dissemination.models import Provision

ATOM_NS = "http://www.w3.org/2005/Atom"
SUMMARY_CHARS = 400
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _title(item: Provision, language: str) -> str:
    return item.title_ja if language == "ja" else item.title_en


def _summary(item: Provision, language: str) -> str:
    text = item.narrative_ja if language == "ja" else item.narrative_en
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS - 1] + "…"


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def atom(items: Sequence[Provision], *, base_url: str, language: str, title: str) -> bytes:
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {XML_LANG: language})
    ET.SubElement(feed, f"{{{ATOM_NS}}}id").text = f"{base_url}/public/feed.atom?lang={language}"
    ET.SubElement(feed, f"{{{ATOM_NS}}}title").text = title
    updated = max((i.provided_at for i in items), default=datetime(2025, 5, 23, tzinfo=UTC))
    ET.SubElement(feed, f"{{{ATOM_NS}}}updated").text = _iso(updated)
    author = ET.SubElement(feed, f"{{{ATOM_NS}}}author")
    ET.SubElement(author, f"{{{ATOM_NS}}}name").text = "内閣府 / Cabinet Office"
    ET.SubElement(feed, f"{{{ATOM_NS}}}link", {
        "rel": "self", "href": f"{base_url}/public/feed.atom?lang={language}"})
    ET.SubElement(feed, f"{{{ATOM_NS}}}link", {
        "rel": "alternate", "href": f"{base_url}/public?lang={language}"})
    for item in items:
        link = f"{base_url}/public/advisories/{item.id}?lang={language}"
        entry = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
        ET.SubElement(entry, f"{{{ATOM_NS}}}id").text = f"{base_url}/public/advisories/{item.id}"
        ET.SubElement(entry, f"{{{ATOM_NS}}}title").text = _title(item, language)
        ET.SubElement(entry, f"{{{ATOM_NS}}}updated").text = _iso(item.provided_at)
        ET.SubElement(entry, f"{{{ATOM_NS}}}published").text = _iso(item.provided_at)
        ET.SubElement(entry, f"{{{ATOM_NS}}}link", {"rel": "alternate", "href": link})
        ET.SubElement(entry, f"{{{ATOM_NS}}}summary").text = _summary(item, language)
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))


def rss(items: Sequence[Provision], *, base_url: str, language: str, title: str,
        description: str) -> bytes:
    root = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(root, "channel")
    ET.SubElement(channel, "title").text = title
    ET.SubElement(channel, "link").text = f"{base_url}/public?lang={language}"
    ET.SubElement(channel, "description").text = description
    ET.SubElement(channel, "language").text = language
    for item in items:
        link = f"{base_url}/public/advisories/{item.id}?lang={language}"
        entry = ET.SubElement(channel, "item")
        ET.SubElement(entry, "title").text = _title(item, language)
        ET.SubElement(entry, "link").text = link
        ET.SubElement(entry, "guid", {"isPermaLink": "false"}).text = \
            f"{base_url}/public/advisories/{item.id}"
        ET.SubElement(entry, "pubDate").text = format_datetime(item.provided_at.astimezone(UTC))
        ET.SubElement(entry, "description").text = _summary(item, language)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
