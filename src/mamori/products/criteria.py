"""Releasable selected information (提供用選別後情報, Art 29, R-3.3-17, R-3.3-18).

Selected communications information processed until it is sufficiently separated from
individual communications may be used and provided flexibly. The criteria are set by a
Cabinet Office Order that does not exist yet, so they are versioned configuration: an
administrator records each version with the instrument it implements. A designated
communications handler determines, item by item, whether an object meets the criteria
in force; a met determination stores the object in the intel store as
PROVISION_DERIVED, derived from its source. A determination stands until withdrawn, or
until a later criteria version asks for every earlier determination to be made again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.errors import Conflict, InvalidInput, NotFound
from mamori.intel import service as intel
from mamori.intel.labels import Labels
from mamori.products import guard
from mamori.products.models import CriteriaOut, CriteriaVersion, Determination, DeterminationOut

DEFAULT_ITEMS: tuple[dict[str, str], ...] = (
    {"key": "separated",
     "ja": "個々の通信から十分に切り離されている（個別の通信を特定できない）",
     "en": "Sufficiently separated from individual communications: no single "
           "communication can be singled out"},
    {"key": "no_parties",
     "ja": "通信の当事者を識別できる情報を含まない",
     "en": "Holds nothing that identifies a party to a communication"},
    {"key": "no_content",
     "ja": "通信の内容を含まない",
     "en": "Holds no communications content"},
    {"key": "mechanical_only",
     "ja": "機械的情報から分かることのみからなる",
     "en": "Consists only of what mechanical information shows"},
)
DEFAULT_DECISION = "built-in default (pending the Cabinet Office Order under Art 29)"
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_REF = re.compile(r"^[^\x00-\x1f]{1,200}$")
RSI_SOURCE = "products:releasable-selected-information"


def _out(row: CriteriaVersion) -> CriteriaOut:
    return CriteriaOut.model_validate(row)


def _default() -> CriteriaOut:
    return CriteriaOut(version=0, items=[dict(i) for i in DEFAULT_ITEMS], reassess=False,
                       decision_ref=DEFAULT_DECISION, created_by="mamori")


def _latest(session: Session) -> CriteriaVersion | None:
    return session.scalars(select(CriteriaVersion).order_by(CriteriaVersion.version.desc())
                           .limit(1)).first()


def in_force(session: Session) -> CriteriaOut:
    """The criteria version in force (version 0 is the built-in default)."""
    row = _latest(session)
    return _out(row) if row is not None else _default()


def _decision_ref(value: str) -> str:
    text = " ".join((value or "").split())
    if not _REF.match(text):
        raise InvalidInput("decision reference: 1-200 characters naming the instrument or "
                           "decision", field="decision_ref")
    return text


def _items(items: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    clean: list[dict[str, str]] = []
    seen: set[str] = set()
    for number, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            raise InvalidInput(f"criterion {number}: expected key, ja and en", field="items")
        key, ja, en = (str(item.get(k) or "").strip() for k in ("key", "ja", "en"))
        if not _KEY.match(key):
            raise InvalidInput(f"criterion {number}: the key is 1-40 characters of a-z, 0-9 "
                               "and _, starting with a letter", field="items")
        if key in seen:
            raise InvalidInput(f"criterion {number}: key {key!r} appears twice", field="items")
        if not ja or not en or len(ja) > 500 or len(en) > 500:
            raise InvalidInput(f"criterion {number}: both ja and en text, at most 500 "
                               "characters", field="items")
        seen.add(key)
        clean.append({"key": key, "ja": ja, "en": en})
    if not clean:
        raise InvalidInput("the criteria need at least one item", field="items")
    return clean


def set_criteria(
    *, session: Session, principal: Principal, items: Iterable[Mapping[str, Any]],
    decision_ref: str, reason: str | None = None, reassess: bool = False,
) -> CriteriaOut:
    """Record a new criteria version; ``reassess`` makes every earlier determination
    stop standing until it is made again under the new version."""
    guard.authorize(session=session, principal=principal, action="product.criteria_manage",
                    resource=guard.criteria())
    clean = _items(items)
    ref = _decision_ref(decision_ref)
    version = (session.scalar(select(func.max(CriteriaVersion.version))) or 0) + 1
    row = CriteriaVersion(version=version, items=clean, reassess=bool(reassess),
                          decision_ref=ref, reason=(reason or "").strip() or None,
                          created_by=principal.username, created_at=utcnow())
    session.add(row)
    session.flush()
    guard.audit(session=session, principal=principal, action="product.criteria_changed",
                object_type="product.criteria", object_id=version,
                details={"keys": [i["key"] for i in clean], "reassess": row.reassess,
                         "decision_ref": ref}, legal_basis="Act No. 42 of 2025, Art 29")
    return _out(row)


def criteria_history(*, session: Session, principal: Principal) -> list[CriteriaOut]:
    guard.authorize(session=session, principal=principal, action="product.criteria_view",
                    resource=guard.criteria())
    rows = session.scalars(select(CriteriaVersion).order_by(CriteriaVersion.version)).all()
    return [_default(), *(_out(r) for r in rows)]


def _reassess_after(session: Session) -> int:
    """The newest criteria version that asked for determinations to be made again."""
    return session.scalar(select(func.max(CriteriaVersion.version))
                          .where(CriteriaVersion.reassess.is_(True))) or 0


def _standing(row: Determination, reassess_after: int) -> bool:
    return row.satisfied and row.withdrawn_at is None and row.criteria_version >= reassess_after


def _determination_out(row: Determination, reassess_after: int) -> DeterminationOut:
    return DeterminationOut(
        id=row.id, stix_id=row.stix_id, source_id=row.source_id,
        criteria_version=row.criteria_version, answers=dict(row.answers),
        satisfied=row.satisfied, standing=_standing(row, reassess_after),
        decision_ref=row.decision_ref, decided_by=row.decided_by, decided_at=row.decided_at,
        withdrawn_at=row.withdrawn_at)


def standing(session: Session, stix_ids: Iterable[str]) -> frozenset[str]:
    """The ids among ``stix_ids`` released by a standing determination."""
    ids = sorted(set(stix_ids))
    if not ids:
        return frozenset()
    after = _reassess_after(session)
    found: set[str] = set()
    for start in range(0, len(ids), 900):
        rows = session.scalars(select(Determination).where(
            Determination.stix_id.in_(ids[start:start + 900]),
            Determination.satisfied.is_(True), Determination.withdrawn_at.is_(None),
            Determination.criteria_version >= after)).all()
        found.update(r.stix_id for r in rows)
    return frozenset(found)


def determine(
    *, session: Session, principal: Principal, stix_id: str, answers: Mapping[str, bool],
    decision_ref: str, processed: Mapping[str, Any] | None = None,
) -> DeterminationOut:
    """Determine whether the store object ``stix_id`` (or ``processed``, the object as
    processed from it, with the same id) meets the criteria in force, item by item.

    A met determination stores the object as PROVISION_DERIVED (keeping its secrecy and
    who reported it); an unmet one is recorded too. Answers must cover exactly the items
    in force.
    """
    guard.authorize(session=session, principal=principal, action="product.determine",
                    resource=guard.determination(stix_id))
    criteria = in_force(session)
    keys = [i["key"] for i in criteria.items]
    given = {str(k): v for k, v in answers.items()}
    missing = [k for k in keys if k not in given]
    extra = sorted(set(given) - set(keys))
    if missing or extra:
        raise InvalidInput(
            f"answer every criterion of version {criteria.version} and nothing else "
            f"(missing: {', '.join(missing) or '-'}; unknown: {', '.join(extra) or '-'})",
            field="answers")
    if not all(isinstance(v, bool) for v in given.values()):
        raise InvalidInput("each answer is true or false", field="answers")
    ref = _decision_ref(decision_ref)
    source = intel.get_object(session=session, principal=principal, stix_id=stix_id)
    if processed is not None and (not isinstance(processed, Mapping)
                                  or processed.get("id") != source.stix_id
                                  or processed.get("type") != source.type):
            raise InvalidInput("the processed object keeps the id and type of its source",
                               field="processed")
    satisfied = all(given[k] for k in keys)
    if satisfied:
        obj = dict(processed) if processed is not None else dict(source.object)
        result = intel.import_bundle(
            session=session, principal=principal,
            bundle={"type": "bundle", "id": f"bundle--{source.stix_id.split('--', 1)[1]}",
                    "objects": [obj]},
            source=RSI_SOURCE,
            labels=Labels(provision_derived=True, secret=source.labels.secret,
                          attributed=source.labels.attributed))
        if result.rejected:
            raise Conflict("the store did not accept the releasable version: "
                           + result.rejected[0].reason, field="processed")
    row = Determination(stix_id=source.stix_id, source_id=source.stix_id,
                        criteria_version=criteria.version, answers={k: given[k] for k in keys},
                        satisfied=satisfied, decision_ref=ref, decided_by=principal.username,
                        decided_at=utcnow())
    session.add(row)
    session.flush()
    guard.audit(session=session, principal=principal,
                action="product.determined" if satisfied else "product.determination_refused",
                object_type="intel.object", object_id=source.stix_id,
                details={"determination": row.id, "criteria_version": criteria.version,
                         "unmet": [k for k in keys if not given[k]], "decision_ref": ref},
                legal_basis="Act No. 42 of 2025, Art 29")
    return _determination_out(row, _reassess_after(session))


def withdraw(*, session: Session, principal: Principal, determination_id: int) -> DeterminationOut:
    """Withdraw a determination; the object no longer counts as releasable."""
    row = session.get(Determination, determination_id)
    if row is None:
        raise NotFound(f"no determination {determination_id}", field="determination")
    guard.authorize(session=session, principal=principal, action="product.determine",
                    resource=guard.determination(row.stix_id))
    if row.withdrawn_at is not None:
        raise Conflict(f"determination {determination_id} is already withdrawn",
                       field="determination")
    row.withdrawn_at = utcnow()
    row.withdrawn_by = principal.username
    session.flush()
    guard.audit(session=session, principal=principal, action="product.determination_withdrawn",
                object_type="intel.object", object_id=row.stix_id,
                details={"determination": row.id}, legal_basis="Act No. 42 of 2025, Art 29")
    return _determination_out(row, _reassess_after(session))


def list_determinations(*, session: Session, principal: Principal,
                        stix_id: str | None = None) -> list[DeterminationOut]:
    guard.authorize(session=session, principal=principal, action="product.determine",
                    resource=guard.determination(stix_id or ""))
    query = select(Determination).order_by(Determination.id.desc())
    if stix_id:
        query = query.where(Determination.stix_id == stix_id)
    after = _reassess_after(session)
    return [_determination_out(r, after) for r in session.scalars(query.limit(500))]
