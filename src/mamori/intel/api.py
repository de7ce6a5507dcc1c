"""The JSON API of the intel store under ``/api/v1/intel``: the same powers as the
workbench and the CLI. Bundles are read raw, so that errors name positions, never
content, as RFC 9457 problem details."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from mamori.intel import service
from mamori.intel.analytics.run import AnalysisSummary
from mamori.intel.ingest.bundle import parse_bundle_text
from mamori.intel.models import (
    FindingOut,
    ImportResult,
    PullResult,
    RelatedResult,
    StixRecord,
    TaxiiSourceOut,
)
from mamori.web.deps import CurrentPrincipal, DbSession

router = APIRouter(prefix="/api/v1/intel", tags=["intel"])
BUNDLE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "A STIX 2.1 bundle.",
    }
}


async def raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


class ImportAnswer(BaseModel):
    result: ImportResult
    stored: int
    merged: int
    rejected: int


class Review(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["confirmed", "rejected"]
    note: str | None = Field(default=None, max_length=10_000)


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=10_000)


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    url: str
    username: str | None = None
    password_env: str | None = None
    labels: list[str] = Field(default_factory=lambda: ["SECRET"])
    consent: list[str] = Field(default_factory=list)


class IngestAnswer(BaseModel):
    sources: list[dict[str, Any]]


@router.post("/bundles", response_model=ImportAnswer, openapi_extra=BUNDLE_BODY,
             summary="Import a STIX 2.1 bundle")
def import_bundle(
    principal: CurrentPrincipal, session: DbSession, body: RawBody,
    source: str = Query("api", max_length=300),
    label: list[str] = Query(["SECRET"]),
    attributed_to: str | None = Query(None),
    consent: list[str] | None = Query(None),
) -> ImportAnswer:
    bundle = parse_bundle_text(body, name="request body")
    result = service.import_bundle(session=session, principal=principal, bundle=bundle,
                                   source=source, labels=label, attributed_to=attributed_to,
                                   consent=consent)
    return ImportAnswer(result=result.model_copy(update={"stored_ids": []}),
                        stored=result.stored, merged=result.merged,
                        rejected=len(result.rejected))


@router.get("/bundle", summary="Everything you may see as one STIX 2.1 bundle")
def export_bundle(principal: CurrentPrincipal, session: DbSession,
                  current_only: bool = False, type: list[str] | None = Query(None)
                  ) -> dict[str, Any]:
    return service.export_bundle(session=session, principal=principal, types=type,
                                 current_only=current_only)


@router.get("/objects/{stix_id}", response_model=StixRecord, summary="One object")
def get_object(stix_id: str, principal: CurrentPrincipal, session: DbSession,
               version: str | None = None) -> StixRecord:
    chosen: int | str | None = int(version) if version and version.isdigit() else version
    return service.get_object(session=session, principal=principal, stix_id=stix_id,
                              version=chosen)


@router.get("/objects/{stix_id}/versions", response_model=list[StixRecord],
            summary="Every version of an object (its timeline)")
def versions(stix_id: str, principal: CurrentPrincipal, session: DbSession
             ) -> list[StixRecord]:
    return service.list_versions(session=session, principal=principal, stix_id=stix_id)


@router.post("/objects/{stix_id}/notes", summary="Add a note to an object")
def add_note(stix_id: str, note: Note, principal: CurrentPrincipal, session: DbSession
             ) -> dict[str, str]:
    return {"id": service.add_note(session=session, principal=principal, stix_id=stix_id,
                                   text=note.text)}


@router.get("/search", response_model=list[StixRecord], summary="Search what you may see")
def search(principal: CurrentPrincipal, session: DbSession, q: str = Query(..., max_length=2048),
           type: list[str] | None = Query(None), limit: int = Query(50, ge=1, le=500)
           ) -> list[StixRecord]:
    return service.search(session=session, principal=principal, query=q, types=type,
                          limit=limit)


@router.get("/related", response_model=RelatedResult,
            summary="Everything related to a value or object within N hops")
def related(principal: CurrentPrincipal, session: DbSession,
            value: str = Query(..., max_length=2048), hops: int = Query(2, ge=1, le=4),
            limit: int | None = Query(None, ge=1, le=100_000)) -> RelatedResult:
    return service.related(session=session, principal=principal, value_or_id=value,
                           hops=hops, limit=limit)


@router.get("/findings", response_model=list[FindingOut], summary="Findings you may see")
def findings(principal: CurrentPrincipal, session: DbSession, kind: str | None = None,
             status: str | None = None) -> list[FindingOut]:
    return service.list_findings(session=session, principal=principal, kind=kind,
                                 status=status)


@router.post("/findings/{finding_id}/review", response_model=FindingOut,
             summary="Confirm or reject a finding")
def review(finding_id: int, body: Review, principal: CurrentPrincipal, session: DbSession
           ) -> FindingOut:
    return service.review_finding(session=session, principal=principal, finding_id=finding_id,
                                  decision=body.decision, note=body.note)


@router.post("/ingest", response_model=IngestAnswer,
             summary="Bring new data of the platform's sources into the store")
def ingest(principal: CurrentPrincipal, session: DbSession,
           source: list[str] | None = Query(None)) -> IngestAnswer:
    summaries = service.ingest(session=session, principal=principal, sources=source)
    return IngestAnswer(sources=[{"source": s.source, "stored": s.stored, "merged": s.merged,
                                  "rejected": s.rejected, "unchanged": s.skipped}
                                 for s in summaries])


@router.post("/analyze", response_model=AnalysisSummary, summary="Run the analytics")
def analyze(principal: CurrentPrincipal, session: DbSession,
            only: list[str] | None = Query(None)) -> AnalysisSummary:
    return service.analyze(session=session, principal=principal, analytics=only)


@router.get("/taxii-sources", response_model=list[TaxiiSourceOut],
            summary="Partners' TAXII collections")
def sources(principal: CurrentPrincipal, session: DbSession) -> list[TaxiiSourceOut]:
    return service.list_sources(session=session, principal=principal)


@router.post("/taxii-sources", response_model=TaxiiSourceOut, status_code=201,
             summary="Register a partner's TAXII collection")
def add_source(body: SourceIn, principal: CurrentPrincipal, session: DbSession
               ) -> TaxiiSourceOut:
    return service.add_source(session=session, principal=principal, name=body.name,
                              url=body.url, username=body.username,
                              password_env=body.password_env, labels=body.labels,
                              consent=body.consent)


@router.post("/taxii-sources/{name}/pull", response_model=PullResult,
             summary="Pull what the collection added since the last pull")
def pull(name: str, principal: CurrentPrincipal, session: DbSession) -> PullResult:
    return service.pull_source(session=session, principal=principal, name=name)
