"""The analysts' workbench under ``/intel``, in Japanese and English: search across
everything the reader may see, an entity page (relationships, timeline, provenance,
notes), a graph of infrastructure, and the findings list with confirm / reject."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from mamori.errors import InvalidInput, MamoriError
from mamori.intel import service
from mamori.intel.analytics.findings import KINDS
from mamori.intel.models import RelatedResult
from mamori.web import nav
from mamori.web.deps import LoggedInPage
from mamori.web.i18n import N_
from mamori.web.templating import render

router = APIRouter(prefix="/intel", include_in_schema=False)

KIND_LABELS: dict[str, str] = {
    "cross_sector_campaign": N_("Cross-sector campaign"),
    "c2_structure": N_("C2 structure"),
    "shared_bots": N_("Bots shared between botnets"),
    "lotl": N_("Living-off-the-land hint"),
    "exposure": N_("Exposure of registered computers"),
}
STATUS_LABELS: dict[str, str] = {
    "open": N_("Not reviewed"), "confirmed": N_("Confirmed"), "rejected": N_("Rejected"),
}
LABEL_NAMES: dict[str, str] = {
    "COMMS": N_("Communications-derived (COMMS)"),
    "PROVISION_DERIVED": N_("Releasable selected information"),
    "SECRET": N_("Confidential"),
    "ATTRIBUTED": N_("Attributed to its source"),
    "PUBLIC": N_("Public"),
}
VIA_LABELS: dict[str, str] = {
    "value": N_("shared value"), "ref": N_("reference"), "relationship": N_("relationship"),
}
PARAM_LABELS: dict[str, str] = {
    "campaign": N_("Campaign"), "computer": N_("Computer"), "operator_id": N_("Operator id"),
    "computer_id": N_("Computer id"), "vulnerability": N_("Vulnerability"),
    "kev": N_("Known exploited (KEV)"), "exploited_in_japan": N_("Exploited in Japan"),
    "incidents": N_("Incidents"), "sectors": N_("Sectors"),
    "shared_indicators": N_("Shared indicators"), "shared_techniques": N_("Shared techniques"),
    "operators": N_("Operators involved"), "techniques": N_("Techniques"), "tiers": N_("C2 tiers"),
    "bots": N_("Bots"), "c2_per_tier": N_("C2 servers per tier"), "relays": N_("Relays"),
    "botnets": N_("Botnets"),
}
NOTE_ADDED = N_("The note was added.")
REVIEWED = N_("Your review was saved.")

nav.register(
    url="/intel",
    label_ja="分析ワークベンチ",
    label_en="Analysis workbench",
    action="intel.view",
    resource_type="intel",
    description_ja="報告・届出・選別後通信情報・脆弱性・提携先の情報を横断して検索し、関連を辿ります。",
    description_en="Search across reports, notifications, selected communications, "
    "vulnerabilities and partners' feeds, and follow what is related.",
    order=60,
)
nav.register(
    url="/intel/findings",
    label_ja="分析所見",
    label_en="Findings",
    action="intel.view",
    resource_type="intel",
    description_ja="業種横断の攻撃キャンペーン、C2 の多段構成、環境寄生型攻撃の兆候、"
    "届出済み機器の露出。",
    description_en="Cross-sector campaigns, multi-tier C2 structures, living-off-the-land "
    "hints and the exposure of registered computers.",
    order=61,
)


async def posted_form(request: Request) -> FormData:
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


def _labels() -> dict[str, Any]:
    return {"kind_labels": KIND_LABELS, "status_labels": STATUS_LABELS,
            "label_names": LABEL_NAMES, "via_labels": VIA_LABELS, "param_labels": PARAM_LABELS}


@router.get("")
def index(request: Request, current: LoggedInPage, q: str = "", type: str = "") -> Response:
    results: list[Any] = []
    error = None
    if q.strip():
        try:
            results = service.search(session=current.session, principal=current.principal,
                                     query=q, types=[type] if type else None, limit=100)
        except InvalidInput as exc:
            error = current.translator.gettext(exc.detail)
    findings = service.list_findings(session=current.session, principal=current.principal,
                                     status="open", limit=5)
    return render(request, "intel/index.html", {
        **_labels(), "q": q, "type": type, "results": results, "error": error,
        "findings": findings,
        "imports": service.list_imports(session=current.session,
                                        principal=current.principal, limit=8),
    })


@router.get("/object/{stix_id}")
def entity(request: Request, current: LoggedInPage, stix_id: str, message: str = ""
           ) -> Response:
    session, principal = current.session, current.principal
    record = service.get_object(session=session, principal=principal, stix_id=stix_id)
    timeline = service.list_versions(session=session, principal=principal, stix_id=stix_id)
    neighbours = service.related(session=session, principal=principal, value_or_id=stix_id,
                                 hops=1, limit=200)
    notes = [n for n in neighbours.nodes if n.type in ("note", "opinion")]
    return render(request, "intel/object.html", {
        **_labels(), "record": record, "timeline": timeline, "related": neighbours,
        "notes": notes, "pretty": json.dumps(record.object, ensure_ascii=False, indent=2),
        "message": current.translator.gettext(NOTE_ADDED) if message == "note" else None,
    })


@router.post("/object/{stix_id}/notes")
def add_note(current: LoggedInPage, stix_id: str, form: PostedForm) -> Response:
    service.add_note(session=current.session, principal=current.principal, stix_id=stix_id,
                     text=str(form.get("text") or ""))
    return RedirectResponse(f"/intel/object/{stix_id}?message=note", status_code=303)


def layout(result: RelatedResult, width: int = 900, height: int = 640) -> dict[str, Any]:
    """Positions for an SVG drawing: the query in the middle, each hop on a ring."""
    cx, cy = width / 2, height / 2
    rings: dict[int, list[str]] = {}
    for node in result.nodes:
        rings.setdefault(node.hop, []).append(node.stix_id)
    points: dict[str, tuple[float, float]] = {result.query: (cx, cy)}
    for hop, ids in rings.items():
        radius = 0 if hop == 0 and len(ids) == 1 else 90 + 130 * hop
        for n, ident in enumerate(ids):
            angle = 2 * math.pi * n / max(1, len(ids))
            points[ident] = (round(cx + radius * math.cos(angle), 1),
                             round(cy + min(radius, height / 2 - 30) * math.sin(angle), 1))
    lines = [(points[e.source], points[e.target], e) for e in result.edges
             if e.source in points and e.target in points]
    return {"points": points, "lines": lines, "width": width, "height": height}


@router.get("/graph")
def graph(request: Request, current: LoggedInPage, value: str = "", hops: int = 2) -> Response:
    result = None
    error = None
    if value.strip():
        try:
            result = service.related(session=current.session, principal=current.principal,
                                     value_or_id=value.strip(), hops=max(1, min(hops, 3)),
                                     limit=300)
        except MamoriError as exc:
            error = current.translator.gettext(exc.detail)
    return render(request, "intel/graph.html", {
        **_labels(), "value": value, "hops": hops, "result": result, "error": error,
        "drawing": layout(result) if result else None,
    })


@router.get("/findings")
def findings(request: Request, current: LoggedInPage, kind: str = "", status: str = "",
             message: str = "") -> Response:
    found = service.list_findings(session=current.session, principal=current.principal,
                                  kind=kind if kind in KINDS else None,
                                  status=status if status in STATUS_LABELS else None)
    return render(request, "intel/findings.html", {
        **_labels(), "findings": found, "kind": kind, "status": status, "kinds": KINDS,
        "message": current.translator.gettext(REVIEWED) if message == "reviewed" else None,
    })


@router.post("/findings/{finding_id}/review")
def review(current: LoggedInPage, finding_id: int, form: PostedForm) -> Response:
    service.review_finding(session=current.session, principal=current.principal,
                           finding_id=finding_id, decision=str(form.get("decision") or ""),
                           note=str(form.get("note") or "") or None)
    return RedirectResponse("/intel/findings?message=reviewed", status_code=303)
