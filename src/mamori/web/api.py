"""The JSON API's own endpoints under ``/api/v1``: who am I, my language, health."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

import mamori
from mamori.web.deps import CurrentPrincipal, DbSession, save_language

router = APIRouter(prefix="/api/v1", tags=["platform"])


class Me(BaseModel):
    """The authenticated principal as the platform sees it."""

    username: str
    roles: list[str]
    organisation_id: int | None
    organisation_kind: str | None
    designated_handler: bool
    purpose: str | None
    mfa: bool
    via: str


class LanguageChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Literal["ja", "en"]


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    database: str


@router.get("/me", response_model=Me, summary="The authenticated principal")
def me(principal: CurrentPrincipal) -> Me:
    return Me(
        username=principal.username,
        roles=sorted(principal.roles),
        organisation_id=principal.organisation_id,
        organisation_kind=principal.organisation_kind,
        designated_handler=principal.designated_handler,
        purpose=principal.purpose,
        mfa=principal.mfa,
        via=principal.via,
    )


@router.put("/me/language", response_model=LanguageChoice, summary="Save the UI language")
def put_language(
    choice: LanguageChoice, principal: CurrentPrincipal, session: DbSession
) -> LanguageChoice:
    save_language(session, principal, choice.language)
    return choice


@router.get("/health", response_model=Health, summary="Liveness and database reachability")
def health(request: Request, session: DbSession) -> Health:
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        raise HTTPException(status_code=503, detail="the database is not reachable") from None
    return Health(status="ok", version=mamori.__version__, database=session.get_bind().dialect.name)
