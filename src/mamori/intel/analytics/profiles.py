"""Incident profiles: what each reported incident says, for the cross-report analytics.

One profile per incident from the reporting-sourced objects a reader may analyse:
the operator and its sector, when it happened, the indicator values named, the ATT&CK
techniques seen, and the STIX ids that are the evidence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.intel import correlation, stix
from mamori.intel import values as v
from mamori.intel.exclusions import Exclusions
from mamori.intel.models import ImportRow, ObjectRow
from mamori.intel.visibility import Scope

INDICATOR_KINDS = frozenset({"ipv4", "ipv6", "domain", "url", "hash", "ja4", "cve"})


@dataclass
class Profile:
    incident_id: int
    operator_id: int | None
    sector: str | None
    source: str
    when: datetime | None
    indicators: set[v.Value] = field(default_factory=set)
    techniques: set[str] = field(default_factory=set)
    indicator_ids: dict[v.Value, str] = field(default_factory=dict)
    technique_ids: dict[str, str] = field(default_factory=dict)
    object_ids: set[str] = field(default_factory=set)
    incident_stix_id: str | None = None


def incident_profiles(session: Session, analyze: Scope, exclusions: Exclusions
                      ) -> dict[int, Profile]:
    rows = session.execute(
        select(ObjectRow.id, ObjectRow.stix_id, ObjectRow.stix_type, ObjectRow.context,
               ObjectRow.modified, ObjectRow.body, ImportRow.source)
        .join(ImportRow, ImportRow.id == ObjectRow.import_id)
        .where(ImportRow.kind == "reporting", ObjectRow.latest.is_(True),
               ObjectRow.revoked.is_(False),
               ObjectRow.stix_type.in_(("incident", "indicator", "attack-pattern")),
               analyze.where(ObjectRow.label_set_id))
    ).all()
    profiles: dict[int, Profile] = {}
    by_row: dict[int, tuple[Profile, str]] = {}
    for row_id, stix_id, kind, context, modified, body, source in rows:
        context = context or {}
        incident = context.get("incident_id")
        if not isinstance(incident, int):
            continue
        profile = profiles.get(incident)
        if profile is None:
            detected = context.get("detected_at")
            when = None
            if isinstance(detected, str):
                try:
                    when = datetime.fromisoformat(detected)
                except ValueError:
                    when = None
            profile = profiles[incident] = Profile(
                incident_id=incident, operator_id=context.get("operator_id"),
                sector=context.get("sector"), source=source, when=when or modified)
        profile.object_ids.add(stix_id)
        if kind == "incident":
            profile.incident_stix_id = stix_id
            created = stix.parse_timestamp(json.loads(body).get("created"))
            if profile.when is None and created is not None:
                profile.when = created
        by_row[row_id] = (profile, stix_id)
    for row_id, found in correlation.values_of_objects(session, list(by_row)).items():
        profile, stix_id = by_row[row_id]
        for value in found:
            if value.kind == "attack":
                profile.techniques.add(value.key)
                profile.technique_ids.setdefault(value.key, stix_id)
            elif value.kind in INDICATOR_KINDS and not exclusions.excludes(value):
                profile.indicators.add(value)
                profile.indicator_ids.setdefault(value, stix_id)
    return profiles
