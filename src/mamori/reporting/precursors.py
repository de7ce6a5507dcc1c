"""Attack-precursor information (攻撃予兆情報) from designated operators, by machine
(R-4.2-20): STIX 2.1 indicators and sightings, posted to the API or a TAXII collection.

Each object is parsed with the ``stix2`` library; an indicator's pattern may refer
only to mechanical information (addresses, domain names, file digests, AS numbers,
ports), never to communications content such as URLs, headers or payloads. A bundle
with any bad object is refused as a whole and nothing is stored. Messages name object
ids and property names, never values.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

import stix2
import stix2.exceptions
from sqlalchemy import select
from sqlalchemy.orm import Session
from stix2patterns.pattern import Pattern

from mamori.access.principal import Principal
from mamori.audit import service as audit
from mamori.db import utcnow
from mamori.errors import Forbidden, InvalidInput, NotFound
from mamori.reporting.access_rules import authorize_collection, may_collection
from mamori.reporting.models import Precursor, PrecursorBatch, PrecursorReceipt
from mamori.reporting.workflows import load_workflows

MAX_BYTES = 5 * 1024 * 1024
MAX_OBJECTS = 10_000
ACCEPTED_TYPES = frozenset({"indicator", "sighting"})
_ALLOWED_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "ipv4-addr": (("value",),),
    "ipv6-addr": (("value",),),
    "domain-name": (("value",),),
    "autonomous-system": (("number",),),
    "file": (("hashes",),),
    "network-traffic": (("src_ref", "value"), ("dst_ref", "value"), ("src_port",),
                        ("dst_port",), ("protocols",)),
}


_NAME = re.compile(r"[a-z0-9_-]{1,40}")
_STIX_ID = re.compile(r"[a-z0-9-]{1,40}--[0-9a-fA-F-]{36}")


class PrecursorRejected(InvalidInput):
    """The bundle has objects that cannot be accepted; ``failures`` says which and why."""

    title = "Precursor bundle rejected"


def _failure(obj_id: str, message: str) -> dict[str, str]:
    return {"id": obj_id, "message": message}


def _path_allowed(object_type: str, path: list[Any]) -> bool:
    names = tuple(str(p) for p in path if not isinstance(p, int) and p != "*")
    allowed = _ALLOWED_PATHS.get(object_type, ())
    return any(names[: len(a)] == a and (a != ("hashes",) or len(names) == 2) for a in allowed)


def pattern_problem(pattern: str) -> str | None:
    """Why a STIX pattern is refused (syntax, or a path that is not mechanical info)."""
    try:
        comparisons = Pattern(pattern).inspect().comparisons
    except Exception:  # the pattern library raises several parse error types
        return "the pattern is not a valid STIX 2.1 pattern"
    for object_type, items in comparisons.items():
        for path, _op, _value in items:
            if not _path_allowed(object_type, path):
                # Name the object type and its first property only: deeper keys (header
                # names, extension keys) are chosen by the sender and may carry content.
                first = str(path[0]) if path else ""
                shown = first if _NAME.fullmatch(first) else "(a property)"
                kind = object_type if _NAME.fullmatch(object_type) else "(an object type)"
                return (f"the pattern refers to {kind}:{shown}, which is not accepted "
                        "(only addresses, domain names, file hashes, AS numbers and ports)")
    return None


def _stix_problem(exc: Exception) -> str:
    if isinstance(exc, stix2.exceptions.MissingPropertiesError):
        return "missing properties: " + ", ".join(sorted(exc.properties))
    if isinstance(exc, stix2.exceptions.InvalidValueError):
        return f"invalid value of property {exc.prop_name}"
    if isinstance(exc, stix2.exceptions.ExtraPropertiesError):
        return "unknown properties: " + ", ".join(sorted(exc.properties))
    return f"not a valid STIX 2.1 object ({type(exc).__name__})"


def check_object(raw: Any, index: int) -> tuple[dict[str, Any] | None, dict[str, str] | None]:
    """One object → (its normalised form, None) or (None, a failure)."""
    if not isinstance(raw, dict):
        return None, _failure(f"objects[{index}]", "not a JSON object")
    given = raw.get("id")
    obj_id = given if isinstance(given, str) and _STIX_ID.fullmatch(given) else \
        f"objects[{index}]"
    if raw.get("type") not in ACCEPTED_TYPES:
        return None, _failure(obj_id, "only indicator and sighting objects are accepted")
    try:
        parsed = stix2.parse(raw, allow_custom=False, version="2.1")
    except (stix2.exceptions.STIXError, ValueError, TypeError) as exc:
        return None, _failure(obj_id, _stix_problem(exc))
    if parsed.type == "indicator":
        if parsed.pattern_type != "stix":
            return None, _failure(obj_id, "only pattern_type 'stix' is accepted")
        problem = pattern_problem(parsed.pattern)
        if problem:
            return None, _failure(obj_id, problem)
    return json.loads(parsed.serialize()), None


def _objects(document: bytes | str | Mapping[str, Any]) -> tuple[list[Any], str]:
    if isinstance(document, bytes | str):
        raw = document.encode("utf-8") if isinstance(document, str) else document
        if len(raw) > MAX_BYTES:
            raise InvalidInput(f"the bundle is larger than {MAX_BYTES // (1024 * 1024)} MiB")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise InvalidInput("the body is not valid UTF-8 JSON", field="body") from None
    else:
        data = document
    if not isinstance(data, dict) or not isinstance(data.get("objects"), list):
        raise InvalidInput("expected a STIX bundle or TAXII envelope with an 'objects' list",
                           field="objects")
    if data.get("type") not in (None, "bundle"):
        raise InvalidInput("the top-level object must be a bundle", field="type")
    objects = data["objects"]
    if not objects or len(objects) > MAX_OBJECTS:
        raise InvalidInput(f"a bundle has 1 to {MAX_OBJECTS} objects", field="objects")
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return objects, hashlib.sha256(canonical.encode("utf-8")).hexdigest()


TAXII_ROOT = "/reporting/taxii2"  # the intake's TAXII 2.1 API root (taxii_intake.py)


def precursor_intake_open(*, session: Session, principal: Principal) -> bool:
    """Whether ``principal`` may submit attack-precursor information now (the intake is
    enabled and its organisation may): what a TAXII discovery document lists for it."""
    if principal.organisation_id is None or not load_workflows().feature("precursor_intake"):
        return False
    return may_collection(session=session, principal=principal,
                          action="report.precursor_submit",
                          organisation_id=principal.organisation_id)


def submit_precursors(
    *,
    session: Session,
    principal: Principal,
    document: bytes | str | Mapping[str, Any],
    channel: str = "api",
) -> PrecursorReceipt:
    """Accept a bundle of indicators and sightings from the principal's organisation."""
    if not load_workflows().feature("precursor_intake"):
        raise Forbidden("the machine intake of attack-precursor information is not enabled")
    authorize_collection(session=session, principal=principal,
                         action="report.precursor_submit",
                         organisation_id=principal.organisation_id)
    if principal.organisation_id is None:
        raise InvalidInput("your account belongs to no organisation", field="organisation")
    objects, digest = _objects(document)
    accepted: list[dict[str, Any]] = []
    failures: list[dict[str, str]] = []
    for index, raw in enumerate(objects):
        obj, failure = check_object(raw, index)
        if failure:
            failures.append(failure)
        elif obj is not None:
            accepted.append(obj)
    if failures:
        raise PrecursorRejected(
            f"{len(failures)} of {len(objects)} objects cannot be accepted; nothing was stored",
            failures=failures[:100],
        )
    now = utcnow()
    batch = PrecursorBatch(
        id=str(uuid.uuid4()), organisation_id=principal.organisation_id,
        received_by=principal.username, received_at=now, channel=channel, digest=digest,
        total=len(objects), accepted=0, failures=[],
    )
    session.add(batch)
    session.flush()
    stored = 0
    for obj in accepted:
        modified = str(obj.get("modified", obj.get("created", "")))
        duplicate = session.scalar(select(Precursor.id).where(
            Precursor.organisation_id == principal.organisation_id,
            Precursor.stix_id == obj["id"], Precursor.modified == modified,
        ))
        if duplicate is None:
            session.add(Precursor(batch_id=batch.id, organisation_id=principal.organisation_id,
                                  stix_id=obj["id"], stix_type=obj["type"], modified=modified,
                                  object=obj, received_at=now))
            stored += 1
    batch.accepted = stored
    session.flush()
    audit.record(
        session=session, actor=principal.username, action="report.precursors_received",
        object_type="precursor_batch", object_id=batch.id,
        legal_basis="Basic Policy Ch4 §2(2) (attack-precursor information)",
        details={"channel": channel, "objects": len(objects), "stored": stored,
                 "duplicates": len(accepted) - stored, "digest": digest},
    )
    return receipt(batch)


def receipt(batch: PrecursorBatch) -> PrecursorReceipt:
    return PrecursorReceipt(id=batch.id, total=batch.total, accepted=batch.accepted,
                            rejected=len(batch.failures), failures=batch.failures,
                            received_at=batch.received_at)


def get_precursor_batch(*, session: Session, principal: Principal, batch_id: str) -> tuple[
        PrecursorReceipt, list[tuple[str, str]]]:
    """A batch's receipt and the (id, modified) of the objects it stored."""
    batch = session.get(PrecursorBatch, batch_id)
    if batch is None:
        raise NotFound("no such precursor submission", field="status")
    authorize_collection(session=session, principal=principal, action="report.precursor_submit",
                         organisation_id=batch.organisation_id)
    stored = session.execute(
        select(Precursor.stix_id, Precursor.modified).where(Precursor.batch_id == batch.id)
        .order_by(Precursor.id)
    ).all()
    return receipt(batch), [(s, m) for s, m in stored]


def list_precursors(
    *, session: Session, principal: Principal, limit: int = 500
) -> list[dict[str, Any]]:
    """The stored indicators and sightings, newest first, for analysis."""
    authorize_collection(session=session, principal=principal, action="report.precursor_view")
    rows = session.scalars(select(Precursor).order_by(Precursor.id.desc()).limit(limit))
    return [{"organisation_id": p.organisation_id, "received_at": p.received_at, **p.object}
            for p in rows]
