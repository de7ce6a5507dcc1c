"""The public site (R-1.3-7, R-5.2-12, R-5.2-18): advisories published as tier 3, their
STIX bundles, and Atom and RSS feeds — readable without login, in Japanese and English.
Only tier-3 provisions to the publishing recipient appear here.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from mamori.dissemination import feeds as feed_format
from mamori.dissemination import objects, provisions
from mamori.web.deps import Page
from mamori.web.i18n import N_
from mamori.web.templating import render

router = APIRouter(prefix="/public", include_in_schema=False)

# The exploited-vulnerability catalogue page is served by mamori.vulns.
CATALOGUE_URL = "/vulns/catalogue"
FEED_TITLE = N_("mamori advisories")
FEED_DESCRIPTION = N_("Alerts and advisories published under the Active Cyber Defense law.")
SUMMARY_TYPES = ("indicator", "attack-pattern", "vulnerability", "malware", "tool",
                 "course-of-action", "campaign", "intrusion-set", "infrastructure")


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def summarise(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The objects a reader of an advisory acts on, by type and name."""
    shown = []
    for obj in items:
        if obj.get("type") not in SUMMARY_TYPES:
            continue
        shown.append({"type": str(obj["type"]), "name": str(obj.get("name", obj["id"])),
                      "pattern": str(obj.get("pattern", "")),
                      "description": str(obj.get("description", ""))})
    return shown


@router.get("")
def index(request: Request, current: Page) -> Response:
    items = provisions.published(current.session)
    return render(request, "dissemination/public_index.html", {
        "advisories": items, "catalogue_url": CATALOGUE_URL})


@router.get("/advisories/{advisory_id}")
def advisory(advisory_id: int, request: Request, current: Page) -> Response:
    item = provisions.published_one(current.session, advisory_id)
    found = objects.of_provision(current.session, item.id)
    return render(request, "dissemination/public_advisory.html", {
        "advisory": item, "summary": summarise(found), "catalogue_url": CATALOGUE_URL})


@router.get("/advisories/{advisory_id}/stix")
def advisory_stix(advisory_id: int, current: Page) -> Response:
    item = provisions.published_one(current.session, advisory_id)
    bundle = {"type": "bundle", "id": f"bundle--{_uuid(item.id)}",
              "objects": objects.of_provision(current.session, item.id)}
    return Response(json.dumps(bundle, ensure_ascii=False, indent=2),
                    media_type="application/stix+json;version=2.1")


def _uuid(provision_id: int) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mamori:provision:{provision_id}"))


@router.get("/feed.atom")
def feed_atom(request: Request, current: Page) -> Response:
    body = feed_format.atom(provisions.published(current.session), base_url=_base(request),
                            language=current.language,
                            title=current.translator.gettext(FEED_TITLE))
    return Response(body, media_type="application/atom+xml; charset=utf-8")


@router.get("/feed.rss")
def feed_rss(request: Request, current: Page) -> Response:
    body = feed_format.rss(provisions.published(current.session), base_url=_base(request),
                           language=current.language,
                           title=current.translator.gettext(FEED_TITLE),
                           description=current.translator.gettext(FEED_DESCRIPTION))
    return Response(body, media_type="application/rss+xml; charset=utf-8")
