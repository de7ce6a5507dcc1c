"""The printable report: one self-contained HTML page, Japanese and English side by
side, with the handling statement of the tier. The PDF is this page printed.

It shows only what the tier output holds; the sanitisation report stays on the platform
(its counts would tell a recipient what the tier withheld).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape

from mamori.config import get_settings
from mamori.products.bundle import TIER_TLP
from mamori.products.output import TierOutput
from mamori.products.renderers.navigator import technique_id
from mamori.products.vocabulary import READERS, TIERS, USES
from mamori.reporting.attack import COPYRIGHT as ATTACK_COPYRIGHT
from mamori.web.i18n import N_, Translator, load_translations

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
_GROUPS = (
    ("indicator", N_("Indicators")),
    ("attack-pattern", N_("Attack techniques")),
    ("vulnerability", N_("Vulnerabilities")),
    ("malware", N_("Malware")),
    ("infrastructure", N_("Attack infrastructure")),
    ("campaign", N_("Campaigns")),
    ("intrusion-set", N_("Intrusion sets")),
    ("threat-actor", N_("Threat actors")),
    ("identity", N_("Organisations")),
)
OTHER = N_("Other observations")


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)),
                       autoescape=select_autoescape(["html"]), trim_blocks=True,
                       lstrip_blocks=True)


@lru_cache(maxsize=1)
def _translators() -> dict[str, Translator]:
    return {code: Translator(language=code, translations=t)
            for code, t in load_translations().items()}


def _summary(obj: Mapping[str, Any]) -> str:
    kind = obj.get("type")
    if kind == "indicator":
        return str(obj.get("pattern", ""))
    if kind == "attack-pattern":
        return technique_id(obj) or ""
    if kind in ("ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "mac-addr"):
        return str(obj.get("value", ""))
    return str(obj.get("description", ""))[:500]


def _groups(output: TierOutput) -> list[dict[str, Any]]:
    content = [o for o in output.objects if o["id"] not in output.framing]
    known = {k for k, _ in _GROUPS}
    result = []
    for kind, title in _GROUPS:
        items = [o for o in content if o.get("type") == kind]
        if items:
            result.append({"title": title, "items": [
                {"name": str(o.get("name") or o.get("value") or o["id"]), "detail": _summary(o),
                 "type": kind} for o in sorted(items, key=lambda o: str(o.get("name", "")))]})
    other = [o for o in content if o.get("type") not in known
             and o.get("type") not in ("relationship", "sighting")]
    if other:
        result.append({"title": OTHER, "items": [
            {"name": str(o.get("name") or o.get("value") or o["id"]), "detail": _summary(o),
             "type": str(o.get("type"))} for o in other]})
    return result


def render(output: TierOutput, *, printable: bool = False) -> str:
    translators = _translators()
    tz = ZoneInfo(get_settings().timezone)
    has_attack = any(o.get("type") == "attack-pattern" and technique_id(o)
                     for o in output.objects)
    template = _environment().get_template("products/report.html")
    return template.render(
        output=output, tier_names=TIERS[output.tier], tlp=TIER_TLP[output.tier].upper(),
        use_names=USES[output.use], readers=[READERS[r] for r in output.readers],
        groups=_groups(output), ja=translators["ja"].gettext, en=translators["en"].gettext,
        built=output.built_at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z"),
        attack_copyright=ATTACK_COPYRIGHT if has_attack else "", printable=printable,
        paragraphs=_paragraphs)


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]
