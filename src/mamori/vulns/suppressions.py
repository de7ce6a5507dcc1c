"""Suppressions: "this component is not affected, because …" — and when the because
stops holding.

The reasons are CSAF 2.0's VEX justifications (§3.2.3.5 flags) plus a matching error.
Each reason depends on something: the exact version (the code is not in *this*
version), the product's identity (the match named the wrong product), or the
deployment (the code cannot be reached here whatever the version). When a component
changes, a suppression survives only if what its reason depends on is unchanged.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.errors import Conflict, InvalidInput, NotFound
from mamori.registry import service as registry
from mamori.vulns import guard
from mamori.vulns.matching.index import ComponentView
from mamori.vulns.models import Suppression, Vulnerability, VulnMatch

VERSION = "version"
IDENTITY = "identity"
DEPLOYMENT = "deployment"

# reason → what it depends on, and its labels.
REASONS: dict[str, tuple[str, str, str]] = {
    "component_not_present": (VERSION, "該当コンポーネントを含まない",
                              "The vulnerable component is not present"),
    "vulnerable_code_not_present": (VERSION, "脆弱なコードを含まない",
                                    "The vulnerable code is not present"),
    "vulnerable_code_not_in_execute_path": (VERSION, "脆弱なコードが実行されない",
                                            "The vulnerable code is not in the execute path"),
    "vulnerable_code_cannot_be_controlled_by_adversary": (
        DEPLOYMENT, "攻撃者が脆弱なコードを制御できない",
        "The vulnerable code cannot be controlled by an adversary"),
    "inline_mitigations_already_exist": (DEPLOYMENT, "緩和策が既に講じられている",
                                         "Inline mitigations already exist"),
    "not_the_matched_product": (IDENTITY, "別製品の誤一致",
                                "The match names a different product"),
}
NOTE_LIMIT = 2000


def identity_of(view: ComponentView) -> str:
    """The product identity a suppression was made for (CPE vendor/product, purl key)."""
    parts: list[str] = []
    if view.cpe is not None:
        parts.append(f"cpe:{view.cpe.part}:{view.cpe.vendor}:{view.cpe.product}")
    if view.purl_key is not None:
        parts.append("purl:" + "/".join(view.purl_key))
    return " ".join(parts)[:1200]


def version_of(view: ComponentView) -> str | None:
    return view.cpe_version() or view.purl_version


def still_holds(row: Suppression, view: ComponentView | None) -> str | None:
    """None while the suppression holds for the component as it is now; otherwise why
    it lapsed."""
    if view is None:
        return "component_removed"
    depends = REASONS.get(row.reason, (VERSION,))[0]
    if depends in (VERSION, IDENTITY) and identity_of(view) != row.component_identity:
        return "component_identity_changed"
    if depends == VERSION and version_of(view) != row.component_version:
        return "component_version_changed"
    return None


def suppress(
    *, session: Session, principal: Principal, vulnerability_key: str, component_id: int,
    reason: str, note: str | None = None,
) -> Suppression:
    """Record "not affected" for one matched component; the operator's own, or an analyst."""
    if reason not in REASONS:
        raise InvalidInput(f"unknown reason; reasons are: {', '.join(REASONS)}", field="reason")
    if note is not None and len(note) > NOTE_LIMIT:
        raise InvalidInput(f"the note is longer than {NOTE_LIMIT} characters", field="note")
    vuln = session.scalars(select(Vulnerability).where(
        Vulnerability.key == vulnerability_key.strip())).first()
    if vuln is None:
        raise NotFound("no such vulnerability", field="vulnerability")
    match = session.scalars(select(VulnMatch).where(
        VulnMatch.vulnerability_id == vuln.id, VulnMatch.component_id == component_id,
        VulnMatch.active.is_(True))).first()
    if match is None:
        raise NotFound("this component has no current match for this vulnerability",
                       field="component")
    operator = registry.get_operator(session=session, principal=principal,
                                     operator_id=match.operator_id)
    guard.authorize(session=session, principal=principal, action="vulns.suppress",
                    resource=guard.operator(session, principal, operator_id=operator.id,
                                            organisation_id=operator.organisation_id,
                                            supervising_ministry=operator.supervising_ministry))
    existing = session.scalars(select(Suppression).where(
        Suppression.vulnerability_id == vuln.id, Suppression.slot == match.slot,
        Suppression.active.is_(True))).first()
    if existing is not None:
        raise Conflict("this match is suppressed already", field="component")
    computer = registry.get_computer(session=session, principal=principal,
                                     computer_id=match.computer_id)
    component = next((c for c in computer.components if c.id == component_id), None)
    if component is None:
        raise NotFound("the component is no longer registered", field="component")
    view = ComponentView.build(component_id=component.id, computer_id=computer.id,
                               cpe=component.cpe, purl=component.purl, version=component.version)
    row = Suppression(
        vulnerability_id=vuln.id, slot=match.slot, component_id=component_id,
        computer_id=computer.id,
        operator_id=operator.id, reason=reason, note=(note or "").strip() or None,
        component_version=version_of(view), component_identity=identity_of(view),
        created_by=principal.username,
    )
    session.add(row)
    session.flush()
    guard.audit(session=session, principal=principal, action="vulns.suppressed",
                object_type="vulns.match", object_id=match.id,
                details={"vulnerability": vuln.key, "component_id": component_id,
                         "reason": reason})
    return row


def lapse(session: Session, row: Suppression, why: str, principal: Principal) -> None:
    row.active = False
    row.lapsed_at = utcnow()
    row.lapse_reason = why
    guard.audit(session=session, principal=principal, action="vulns.suppression_lapsed",
                object_type="vulns.suppression", object_id=row.id,
                details={"reason": row.reason, "why": why, "component_id": row.component_id})
