"""Drafts: a report being written in the portal, saved as often as the writer likes.

A draft may be incomplete, so it is only checked to be a JSON object of bounded size;
the full check happens when it is submitted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.errors import InvalidInput, NotFound
from mamori.reporting.access_rules import authorize_collection, authorize_incident
from mamori.reporting.lifecycle import load_incident
from mamori.reporting.models import Draft
from mamori.reporting.report_format import MAX_BYTES


def save_draft(
    *,
    session: Session,
    principal: Principal,
    document: Mapping[str, Any],
    draft_id: int | None = None,
    incident_id: int | None = None,
    operator_id: int | None = None,
) -> Draft:
    """Create or overwrite a draft of the principal's organisation."""
    if not isinstance(document, Mapping):
        raise InvalidInput("a draft is a JSON object", field="document")
    if len(json.dumps(document, ensure_ascii=False).encode("utf-8")) > MAX_BYTES:
        raise InvalidInput(f"a draft may have at most {MAX_BYTES // 1024} KiB", field="document")
    if incident_id is not None:
        authorize_incident(session=session, principal=principal, action="report.draft",
                           incident=load_incident(session, incident_id))
    authorize_collection(session=session, principal=principal, action="report.draft",
                         organisation_id=principal.organisation_id)
    if principal.organisation_id is None:
        raise InvalidInput("your account belongs to no organisation", field="organisation")
    if draft_id is not None:
        draft = get_draft(session=session, principal=principal, draft_id=draft_id)
    else:
        draft = Draft(organisation_id=principal.organisation_id, incident_id=incident_id)
        session.add(draft)
    draft.document = dict(document)
    draft.operator_id = operator_id
    draft.updated_by = principal.username
    draft.updated_at = utcnow()
    session.flush()
    return draft


def get_draft(*, session: Session, principal: Principal, draft_id: int) -> Draft:
    draft = session.get(Draft, draft_id)
    if draft is None:
        raise NotFound(f"no draft {draft_id}", field="draft")
    authorize_collection(session=session, principal=principal, action="report.draft",
                         organisation_id=draft.organisation_id)
    return draft


def list_drafts(*, session: Session, principal: Principal) -> list[Draft]:
    authorize_collection(session=session, principal=principal, action="report.draft",
                         organisation_id=principal.organisation_id)
    return list(session.scalars(
        select(Draft).where(Draft.organisation_id == principal.organisation_id)
        .order_by(Draft.updated_at.desc())
    ))


def delete_draft(*, session: Session, principal: Principal, draft_id: int) -> None:
    session.delete(get_draft(session=session, principal=principal, draft_id=draft_id))
    session.flush()
