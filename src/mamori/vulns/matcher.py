"""Matching the register against the stored applicability statements, incrementally.

Only components whose product keys were touched by an import, or whose fingerprint
(CPE, purl, version and the computer's other CPEs, which "running on" conditions
read) changed since they were last matched, are matched again; each is compared only
with the statements about its own product keys, loaded from the indexed
``vulns_applicability`` table. Differences become match rows; new matches of published
vulnerabilities become notices to the operator and its supervising ministry.

The register is read as the acting principal (an analyst's import, an operator's
exposure page), so matching never reaches a computer its caller could not see.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.registry import service as registry
from mamori.registry.models import Computer
from mamori.vulns import guard, notices, suppressions
from mamori.vulns.ingest.store import Key, load_group_row
from mamori.vulns.matching import aliases
from mamori.vulns.matching import cpe as cpe_mod
from mamori.vulns.matching.applicability import HINT, NOT_AFFECTED, Group
from mamori.vulns.matching.index import ComponentView, Index, keys_of
from mamori.vulns.models import (
    SLOT_MAX,
    Applicability,
    ComponentState,
    Suppression,
    Vulnerability,
    VulnMatch,
)

WITHDRAWN = "withdrawn"
KEY_QUERY_LIMIT = 400  # above this many keys, loading every statement is cheaper
KEY_CHUNK = 100
PAGE = 1000  # components per registry look-up (below the registry's own cap)


@dataclass
class Located:
    """A component with where it sits: its computer and operator."""

    view: ComponentView
    computer: Computer
    operator_id: int
    platform: tuple[cpe_mod.Cpe, ...]
    fingerprint: str
    slot: str


@dataclass
class Refreshed:
    components: int = 0
    new: list[VulnMatch] = field(default_factory=list)
    ended: int = 0
    changed: int = 0
    lapsed: int = 0
    notices: int = 0


def _platform(computer: Computer) -> tuple[cpe_mod.Cpe, ...]:
    names: list[cpe_mod.Cpe] = []
    for component in computer.components:
        if component.cpe:
            try:
                names.append(cpe_mod.parse(component.cpe))
            except cpe_mod.CpeSyntaxError:
                continue
    return tuple(names)


def locate(computers: Iterable[Computer]) -> list[Located]:
    """Every component of the (not withdrawn) computers, with its slot and fingerprint."""
    found: list[Located] = []
    for computer in computers:
        if computer.status == WITHDRAWN:
            continue
        platform = _platform(computer)
        # "Running on/with" conditions name the hardware and operating systems beside a
        # component: their change re-matches every component of the computer.
        siblings = sorted(c.cpe for c in computer.components
                          if c.cpe and not c.cpe.startswith(("cpe:2.3:a:", "cpe:/a:")))
        seen: dict[str, int] = defaultdict(int)
        for component in computer.components:
            base = component.bom_ref or component.name
            seen[base] += 1
            slot = f"{computer.id}/{base}#{seen[base]}"[:SLOT_MAX]
            view = ComponentView.build(component_id=component.id, computer_id=computer.id,
                                       cpe=component.cpe, purl=component.purl,
                                       version=component.version)
            digest = hashlib.sha256(json.dumps(
                [component.cpe, component.purl, component.version, siblings,
                 computer.device_category]).encode()).hexdigest()
            found.append(Located(view, computer, computer.operator_id, platform, digest, slot))
    return found


def group_of(row: Applicability) -> Group:
    ranges, platforms = load_group_row(row)
    key: tuple[str, ...] = (
        ("purl", row.key_1, row.key_2, row.key_3) if row.scheme == "purl"
        else (row.scheme, row.key_1, row.key_2))
    return Group(
        vulnerability=row.vulnerability_id, scheme=row.scheme, key=key,
        ranges=ranges, default_status=row.default_status, version_scheme=row.version_scheme,
        part=row.part, rest=tuple(row.rest), platforms=platforms, authority=row.authority,
        group_id=row.id,
    )


def _key_clause(key: Key) -> object:
    if key[0] == "purl":
        return and_(Applicability.scheme == "purl", Applicability.key_1 == key[1],
                    Applicability.key_2 == key[2], Applicability.key_3 == key[3])
    return and_(Applicability.scheme.in_(("cpe", "name")), Applicability.key_1 == key[1],
                Applicability.key_2 == key[2])


def load_index(session: Session, keys: set[Key] | None = None) -> Index:
    """The index of every statement, or of those about ``keys`` only."""
    rows: list[Applicability] = []
    if keys is None or len(keys) > KEY_QUERY_LIMIT:
        rows = list(session.scalars(select(Applicability)))
    else:
        ordered = sorted(keys)
        for start in range(0, len(ordered), KEY_CHUNK):
            chunk = ordered[start:start + KEY_CHUNK]
            rows.extend(session.scalars(select(Applicability).where(
                or_(*[_key_clause(k) for k in chunk]))))  # type: ignore[arg-type]
    index = Index(group_of(row) for row in rows)
    hinted = {r.vulnerability_id for r in rows if r.authority == HINT}
    if hinted and keys is not None:
        structured = session.scalars(select(Applicability.vulnerability_id).where(
            Applicability.authority != HINT,
            Applicability.vulnerability_id.in_(sorted(hinted))).distinct())
        index.mark_structured(structured)
    return index


def _computers(
    session: Session, principal: Principal, *, operator_id: int | None,
    keys: set[Key] | None,
) -> list[Computer]:
    if operator_id is not None:
        return registry.find_computers(session=session, principal=principal,
                                       operator_id=operator_id)
    if keys is not None and len(keys) <= KEY_QUERY_LIMIT:
        ids: set[int] = set()
        for key in keys:
            if key[0] == "purl":
                ids |= _computer_ids(session, principal, purl_type=key[1], purl_name=key[3])
            else:
                ids |= _computer_ids(session, principal, cpe_vendor=key[1], cpe_product=key[2])
        for vendor, product in _alias_spellings(keys):
            ids |= _computer_ids(session, principal, cpe_vendor=vendor, cpe_product=product)
        if not ids:
            return []
        return registry.find_computers(session=session, principal=principal, ids=sorted(ids))
    return registry.find_computers(session=session, principal=principal)


def _computer_ids(session: Session, principal: Principal, **where: str) -> set[int]:
    """Computers holding a component with this CPE vendor/product or purl type/name
    (the registry's indexed look-up, page by page)."""
    ids: set[int] = set()
    offset = 0
    while True:
        page = registry.list_components(session=session, principal=principal, offset=offset,
                                        limit=PAGE, **where)  # type: ignore[arg-type]
        ids.update(c.computer_id for c in page)
        if len(page) < PAGE:
            return ids
        offset += len(page)


def _alias_spellings(keys: set[Key]) -> set[tuple[str, str]]:
    """Registered spellings that the alias table turns into one of ``keys``."""
    wanted = {(k[1], k[2]) for k in keys if k[0] == "cpe"}
    return {spelling for spelling, target in aliases.table().items() if target in wanted
            and spelling != target}


def refresh(
    session: Session, *, principal: Principal, operator_id: int | None = None,
    keys: set[Key] | None = None, changed_only: bool = False,
) -> Refreshed:
    """Match again the components in scope and store the differences (see module doc)."""
    located = locate(_computers(session, principal, operator_id=operator_id, keys=keys))
    gone = _vanished(session, operator_id, located) if (
        operator_id is not None and keys is None) else []
    if keys is not None:
        located = [c for c in located if set(keys_of(c.view)) & keys]
    states = _states(session, [c.slot for c in located])
    _follow_ids(session, located, states)
    if changed_only:
        located = [c for c in located if states.get(c.slot) is None
                   or states[c.slot].fingerprint != c.fingerprint]
    result = Refreshed(components=len(located))
    if not located and not gone:
        return result
    index = load_index(session, {k for c in located for k in keys_of(c.view)})
    _store(session, principal, located, index, states, result)
    _end_vanished(session, principal, gone, result)
    _notify(session, principal, result)
    if result.new or result.ended or result.changed or result.lapsed:
        guard.audit(session=session, principal=principal, action="vulns.matched",
                    object_type="vulns.match", object_id=str(operator_id or ""),
                    details={"components": result.components, "new": len(result.new),
                             "ended": result.ended, "changed": result.changed,
                             "lapsed": result.lapsed, "notices": result.notices})
    return result


def _states(session: Session, slots: list[str]) -> dict[str, ComponentState]:
    found: dict[str, ComponentState] = {}
    for start in range(0, len(slots), 1000):
        for state in session.scalars(select(ComponentState).where(
                ComponentState.slot.in_(slots[start:start + 1000]))):
            found[state.slot] = state
    return found


def _follow_ids(session: Session, located: Sequence[Located],
                states: dict[str, ComponentState]) -> None:
    """The register gave unchanged components new ids: carry the ids over."""
    moved = {c.slot: c.view.component_id for c in located
             if c.slot in states and states[c.slot].component_id != c.view.component_id}
    if not moved:
        return
    for match in session.scalars(select(VulnMatch).where(VulnMatch.slot.in_(sorted(moved)))):
        match.component_id = moved[match.slot]
    for kept in session.scalars(select(Suppression).where(Suppression.slot.in_(sorted(moved)))):
        kept.component_id = moved[kept.slot]
    for slot, component_id in moved.items():
        states[slot].component_id = component_id
    session.flush()


def _store(
    session: Session, principal: Principal, located: Sequence[Located], index: Index,
    states: dict[str, ComponentState], result: Refreshed,
) -> None:
    now = utcnow()
    slots = [c.slot for c in located]
    existing: dict[str, dict[int, VulnMatch]] = defaultdict(dict)
    for start in range(0, len(slots), 1000):
        for row in session.scalars(select(VulnMatch).where(
                VulnMatch.slot.in_(slots[start:start + 1000]))):
            existing[row.slot][row.vulnerability_id] = row
    sectors = _sectors(session, principal, {c.operator_id for c in located})
    for item in located:
        verdicts = index.match(item.view, item.platform)
        wanted = {v: verdict for v, verdict in verdicts.items() if verdict.status != NOT_AFFECTED}
        cid = item.view.component_id
        before = existing.get(item.slot, {})
        for vuln_id, verdict in wanted.items():
            found = before.get(vuln_id)
            if found is None:
                row = VulnMatch(vulnerability_id=vuln_id, slot=item.slot, first_matched_at=now)
                session.add(row)
                result.new.append(row)
            elif not (row := found).active:
                row.first_matched_at = now
                result.new.append(row)
            elif (row.status, row.review_reason) != (verdict.status, verdict.reason):
                result.changed += 1
            row.active = True
            row.ended_at = None
            row.status = verdict.status
            row.review_reason = verdict.reason
            row.applicability_id = verdict.group_id
            row.component_id = cid
            row.component_version = suppressions.version_of(item.view)
            row.computer_id = item.computer.id
            row.operator_id = item.operator_id
            row.organisation_id, row.sector = sectors.get(item.operator_id, (None, None))
            row.device_category = item.computer.device_category
            row.last_matched_at = now
        for vuln_id, row in before.items():
            if vuln_id not in wanted and row.active:
                row.active = False
                row.ended_at = now
                result.ended += 1
        state = states.get(item.slot)
        if state is None:
            session.add(ComponentState(slot=item.slot, component_id=cid,
                                       computer_id=item.computer.id,
                                       operator_id=item.operator_id,
                                       fingerprint=item.fingerprint, matched_at=now))
        else:
            state.fingerprint, state.matched_at, state.component_id = item.fingerprint, now, cid
            state.computer_id, state.operator_id = item.computer.id, item.operator_id
    views = {c.slot: c.view for c in located}
    for start in range(0, len(slots), 1000):
        for held in session.scalars(select(Suppression).where(
                Suppression.active.is_(True), Suppression.slot.in_(slots[start:start + 1000]))):
            why = suppressions.still_holds(held, views.get(held.slot))
            if why is not None:
                suppressions.lapse(session, held, why, principal)
                result.lapsed += 1
    session.flush()


def _vanished(session: Session, operator_id: int | None, located: Sequence[Located]) -> list[str]:
    """Slots of the operator that were matched before but hold no component any more."""
    present = {c.slot for c in located}
    known = session.scalars(select(ComponentState.slot).where(
        ComponentState.operator_id == operator_id))
    return [slot for slot in known if slot not in present]


def _end_vanished(
    session: Session, principal: Principal, gone: list[str], result: Refreshed
) -> None:
    if not gone:
        return
    now = utcnow()
    for row in session.scalars(select(VulnMatch).where(VulnMatch.slot.in_(gone),
                                                       VulnMatch.active.is_(True))):
        row.active, row.ended_at = False, now
        result.ended += 1
    for held in session.scalars(select(Suppression).where(Suppression.slot.in_(gone),
                                                          Suppression.active.is_(True))):
        suppressions.lapse(session, held, "component_removed", principal)
        result.lapsed += 1
    for state in session.scalars(select(ComponentState).where(ComponentState.slot.in_(gone))):
        session.delete(state)
    session.flush()


def _sectors(
    session: Session, principal: Principal, operator_ids: set[int]
) -> dict[int, tuple[int | None, str | None]]:
    found: dict[int, tuple[int | None, str | None]] = {}
    for operator_id in operator_ids:
        operator = registry.get_operator(session=session, principal=principal,
                                         operator_id=operator_id)
        found[operator_id] = (operator.organisation_id, operator.sector)
    return found


def _notify(session: Session, principal: Principal, result: Refreshed) -> None:
    """One notice per operator and vulnerability to the operator and its ministry."""
    grouped: dict[tuple[int, int], set[int]] = defaultdict(set)
    for row in result.new:
        grouped[(row.operator_id, row.vulnerability_id)].add(row.computer_id)
    for (operator_id, vuln_id), computers in sorted(grouped.items()):
        vuln = session.get(Vulnerability, vuln_id)
        if vuln is None or vuln.confidentiality != "public":
            continue  # undisclosed vulnerabilities are not announced by notice
        result.notices += notices.to_operator(
            session=session, principal=principal, operator_id=operator_id, kind="new_match",
            vulnerability=vuln, computers=len(computers))
