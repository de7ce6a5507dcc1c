"""Providing a product tier to a recipient (提供): the one way anything leaves.

In order: the recipient may receive this tier under the entitlement matrix and what is
on record (provision basis, council consent and safeguards, the two foreign checks);
the tier output is built by the sanitiser and passes the labels lint; content derived
from selected communications information is decided by governance for the receiving
body (Art 23); then the provision is stored with its purpose, legal basis, matrix
version and digest, its objects join the recipient's TAXII collection, its notices are
scheduled, a provision of selected information asks for a usage attestation
(:mod:`mamori.dissemination.usage`), and it is audited. A refusal is audited too — in
a transaction of its own, so that it survives the error that undoes everything else.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access.principal import Principal
from mamori.audit.independent import record_surviving_rollback
from mamori.db import utcnow
from mamori.dissemination import categories as cat
from mamori.dissemination import deliveries, foreign, guard, objects, sources
from mamori.dissemination import entitlements as ent
from mamori.dissemination.entitled import standing_facts
from mamori.dissemination.models import (
    NAME_MAX,
    MatrixVersionRecord,
    Provision,
    ProvisionRecord,
    RecipientRecord,
)
from mamori.dissemination.outcomes import contributors_of
from mamori.dissemination.recipients import load
from mamori.errors import Conflict, Forbidden, InvalidInput, NotFound


class ProvisionRefused(Forbidden):
    """The law or the matrix does not allow this provision; the refusal is audited, and
    the entry is kept even though the transaction is rolled back
    (:mod:`mamori.audit.independent`)."""

    title = "Provision refused"


@contextmanager
def refusals_recorded(session: Session) -> Iterator[None]:
    """For whoever owns the transaction: on a refusal, undo everything (its audit entry
    stays) and let the error go on."""
    try:
        yield
    except ProvisionRefused:
        session.rollback()
        raise


def _refuse(session: Session, principal: Principal, row: RecipientRecord, *, product_id: str,
            tier: int, purpose: str, reason: str, code: str,
            extra: dict[str, Any] | None = None) -> ProvisionRefused:
    kind = cat.CATEGORIES[row.category]
    entry = {"actor": principal.username, "action": "dissemination.provision.refused",
             "object_type": "recipient", "object_id": row.code, "legal_basis": kind.article,
             "purpose": purpose,
             "details": {"product_id": product_id, "tier": tier, "category": row.category,
                         "reason": code, **(extra or {})}}
    record_surviving_rollback(session, **entry)
    return ProvisionRefused(f"provision of {product_id} tier {tier} to {row.code} refused: "
                            f"{reason}", reason=code)


def record_matrix(session: Session, principal: Principal, matrix: ent.Matrix) -> None:
    """Keep the matrix version a provision used; a changed file under an old version is
    refused (R-7.1-2: every change is a new version)."""
    known = session.get(MatrixVersionRecord, matrix.version)
    if known is None:
        session.add(MatrixVersionRecord(version=matrix.version, sha256=matrix.sha256,
                                        content=matrix.content,
                                        first_used_by=principal.username))
        session.flush()
        guard.audit(session=session, principal=principal,
                    action="dissemination.matrix.version_recorded",
                    object_type="entitlement_matrix", object_id=matrix.version,
                    details={"sha256": matrix.sha256, "source": matrix.source})
    elif known.sha256 != matrix.sha256:
        raise Conflict(f"entitlements.toml changed but still says version {matrix.version}; "
                       "raise its version to record the change", field="entitlements")


def _facts_before_output(session: Session, row: RecipientRecord, product_id: str,
                         version: int, tier: int) -> tuple[set[str], list[int]]:
    facts = standing_facts(session, row)
    checks = foreign.checks_for(session, row.id, product_id, version, tier)
    if set(checks) >= set(foreign.KINDS):
        facts.add(ent.FOREIGN_CHECKS)
    return facts, sorted(c.id for c in checks.values())


def view(session: Session, row: ProvisionRecord) -> Provision:
    result = Provision.model_validate(row)
    recipient = session.get(RecipientRecord, row.recipient_id)
    return result.model_copy(update={"recipient_code": recipient.code if recipient else ""})


def provide(
    *,
    session: Session,
    principal: Principal,
    product_id: str,
    tier: int,
    recipient: str,
    purpose: str,
) -> Provision:
    """Provide ``tier`` of ``product_id`` to ``recipient`` for ``purpose`` (see module doc)."""
    cat.check_tier(tier)
    row = load(session, principal, recipient, "provision.provide")
    if not row.active:
        raise Conflict(f"recipient {row.code} is deactivated", field="recipient")
    matrix = ent.load_matrix()
    chosen = matrix.purpose(purpose)
    ref = sources.product(session, principal, product_id)
    facts, check_ids = _facts_before_output(session, row, ref.product_id, ref.version, tier)
    verdict = ent.evaluate(matrix, row.category, tier, facts | {ent.OWN_VULNERABILITIES})
    if not verdict.allowed:
        raise _refuse(session, principal, row, product_id=ref.product_id, tier=tier,
                      purpose=purpose, reason=verdict.reason,
                      code="beyond_tiers" if verdict.beyond_tiers else ",".join(verdict.missing),
                      extra={"product_version": ref.version, "matrix_version": matrix.version})
    output, lint = sources.build(session, principal, ref.product_id, tier, row)
    if output.version != ref.version:
        raise Conflict(f"{ref.product_id} got a new version while it was being provided; "
                       "provide again", field="product_id")
    comms = sources.comms_objects(output)
    labels = frozenset({"COMMS"}) if comms else frozenset()
    guard.authorize(session=session, principal=principal, action="provision.provide",
                    resource=guard.resource(guard.PROVISION, f"{ref.product_id}/{tier}",
                                            organisation_id=row.organisation_id, labels=labels))
    if ent.OWN_VULNERABILITIES in matrix.rule(row.category).conditions_for(tier) and \
            not sources.own_vulnerabilities(session, principal, output, row):
        raise _refuse(session, principal, row, product_id=ref.product_id, tier=tier,
                      purpose=purpose, reason=ent.CONDITION_TEXT[ent.OWN_VULNERABILITIES],
                      code=ent.OWN_VULNERABILITIES, extra={"product_version": output.version})
    if not lint.passed:
        raise _refuse(session, principal, row, product_id=ref.product_id, tier=tier,
                      purpose=purpose, reason="the output did not pass the labels lint",
                      code="lint_failed",
                      extra={"findings": [f.code for f in lint.findings][:20]})
    decision_ids = []
    if comms:
        if tier != 1 or chosen.sci_purpose is None:
            raise _refuse(session, principal, row, product_id=ref.product_id, tier=tier,
                          purpose=purpose, code="sci_not_allowed",
                          reason="this purpose cannot carry selected communications "
                          "information")
        decision_ids = _decide_sci(session, principal, row, output, comms, chosen.sci_purpose,
                                   purpose=purpose, product_id=ref.product_id)
    record_matrix(session, principal, matrix)
    contributors = contributors_of(session, principal, output)
    now = utcnow()
    provision = ProvisionRecord(
        recipient_id=row.id, category=row.category, organisation_id=row.organisation_id,
        product_id=output.product_id, product_version=output.version, tier=tier,
        title_ja=output.title_ja[:NAME_MAX], title_en=output.title_en[:NAME_MAX],
        narrative_ja=_text(output.narrative_ja, output.actions_ja),
        narrative_en=_text(output.narrative_en, output.actions_en), digest=output.digest,
        object_count=len(output.objects), purpose=purpose, legal_basis=verdict.legal_basis,
        matrix_version=matrix.version, matrix_sha256=matrix.sha256,
        use_decision_id=decision_ids[0] if decision_ids else None,
        foreign_check_ids=check_ids if row.category == cat.FOREIGN_GOVERNMENT else [],
        contributors=contributors, published=row.publishes and tier == 3,
        provided_by=principal.username, provided_at=now)
    session.add(provision)
    session.flush()
    added = objects.store(session, recipient_id=row.id, provision_id=provision.id, tier=tier,
                          objects=output.objects, added=now)
    notices = deliveries.schedule(session, provision, row)
    from mamori.dissemination.usage import open_request  # it reads provisions

    open_request(session, principal, provision)
    guard.audit(session=session, principal=principal, action="dissemination.provision.delivered",
                object_type="provision", object_id=provision.id,
                legal_basis=verdict.legal_basis, purpose=purpose,
                details={"recipient": row.code, "category": row.category,
                         "organisation_id": row.organisation_id,
                         "product_id": output.product_id, "product_version": output.version,
                         "tier": tier, "digest": output.digest, "objects": len(output.objects),
                         "new_in_collection": added, "matrix_version": matrix.version,
                         "matrix_sha256": matrix.sha256, "use_decisions": decision_ids,
                         "foreign_checks": provision.foreign_check_ids,
                         "published": provision.published, "notices": notices})
    return view(session, provision)


def _text(narrative: str, actions: str) -> str:
    return narrative if not actions.strip() else f"{narrative}\n\n{actions}"


def _decide_sci(session: Session, principal: Principal, row: RecipientRecord, output: Any,
                comms: list[dict[str, Any]], sci_purpose: str, *, purpose: str,
                product_id: str) -> list[int]:
    """Governance decides for the receiving body on each basis the content came from."""
    from mamori.governance import service as governance

    refs = sources.selected_info_ref(session, principal, output, comms)
    if not refs:
        raise _refuse(session, principal, row, product_id=product_id, tier=1, purpose=purpose,
                      code="sci_basis_unknown",
                      reason="the acquisition basis of its communications-derived content "
                      "cannot be traced")
    ids = []
    for ref in refs:
        decision = governance.decide_use(session=session, principal=principal, data_ref=ref,
                                         user_body_id=row.organisation_id,
                                         purpose_code=sci_purpose)
        if not decision.granted:
            raise _refuse(session, principal, row, product_id=product_id, tier=1,
                          purpose=purpose, code=f"sci_{decision.reason}",
                          reason=f"governance refused the selected information: "
                          f"{decision.explanation}",
                          extra={"basis": ref.basis_id})
        ids.append(decision.decision_id)
    return ids


# --- reading ---------------------------------------------------------------------------


def _provision_resource(session: Session, row: ProvisionRecord | None, ident: int
                        ) -> guard.Resource:
    from mamori.dissemination.entitled import receive_resource

    recipient = session.get(RecipientRecord, row.recipient_id) if row is not None else None
    base = receive_resource(session, recipient, str(ident))
    labels = frozenset({"COMMS"}) if row is not None and row.use_decision_id else frozenset()
    return guard.resource(guard.PROVISION, ident, organisation_id=base.organisation_id,
                          labels=labels, **dict(base.attrs))


def load_provision(session: Session, principal: Principal, provision_id: int,
                   action: str) -> ProvisionRecord:
    """A provision, for the government's staff (``provision.view``) or for its recipient
    (``provision.receive`` / ``provision.feedback``)."""
    row = session.get(ProvisionRecord, provision_id)
    resource = _provision_resource(session, row, provision_id)
    if action == "provision.view":
        guard.authorize(session=session, principal=principal, action=action,
                        resource=resource)
    else:
        received = guard.Resource(type=resource.type, id=resource.id,
                                  organisation_id=resource.organisation_id,
                                  attrs=resource.attrs)  # the recipient holds it now
        guard.authorize(session=session, principal=principal, action=action, resource=received)
    if row is None:
        raise NotFound(f"no provision {provision_id}", field="provision")
    return row


def get_provision(*, session: Session, principal: Principal, provision_id: int) -> Provision:
    """A provision, to the staff who oversee provision or to the recipient it went to."""
    row = session.get(ProvisionRecord, provision_id)
    resource = _provision_resource(session, row, provision_id)
    action = "provision.view" if guard.permitted(
        session=session, principal=principal, action="provision.view",
        resource=resource) else "provision.receive"
    return view(session, load_provision(session, principal, provision_id, action))


def provision_objects(*, session: Session, principal: Principal, provision_id: int
                      ) -> list[dict[str, Any]]:
    get_provision(session=session, principal=principal, provision_id=provision_id)
    return objects.of_provision(session, provision_id)


def list_provisions(
    *,
    session: Session,
    principal: Principal,
    product_id: str | None = None,
    recipient: str | None = None,
    limit: int = 200,
) -> list[Provision]:
    """Every provision (oversight and analysts), newest first."""
    guard.authorize(session=session, principal=principal, action="provision.view",
                    resource=guard.resource(guard.PROVISION))
    query = select(ProvisionRecord).order_by(ProvisionRecord.id.desc()).limit(
        max(1, min(limit, 1000)))
    if product_id is not None:
        query = query.where(ProvisionRecord.product_id == product_id)
    if recipient is not None:
        found = session.scalars(select(RecipientRecord.id).where(
            RecipientRecord.code == recipient)).first()
        query = query.where(ProvisionRecord.recipient_id == (found or -1))
    rows = [r for r in session.scalars(query) if guard.permitted(
        session=session, principal=principal, action="provision.view",
        resource=_provision_resource(session, r, r.id))]
    return [view(session, r) for r in rows]


def received(*, session: Session, principal: Principal, limit: int = 200) -> list[Provision]:
    """What the principal's organisation received and may still read, newest first."""
    from mamori.dissemination.entitled import readable_tiers, recipients_of

    shown: list[Provision] = []
    for row in recipients_of(session, principal):
        tiers = readable_tiers(session, row)
        query = select(ProvisionRecord).where(
            ProvisionRecord.recipient_id == row.id, ProvisionRecord.tier.in_(tiers)
        ).order_by(ProvisionRecord.id.desc()).limit(max(1, min(limit, 1000)))
        shown.extend(view(session, r) for r in session.scalars(query))
    return sorted(shown, key=lambda p: p.id, reverse=True)


def published(session: Session, *, limit: int = 50) -> list[Provision]:
    """What the public site shows: tier-3 provisions to a publishing recipient."""
    query = select(ProvisionRecord).where(ProvisionRecord.published.is_(True),
                                          ProvisionRecord.tier == 3)
    return [view(session, r) for r in session.scalars(
        query.order_by(ProvisionRecord.provided_at.desc(), ProvisionRecord.id.desc())
        .limit(max(1, min(limit, 500))))]


def published_one(session: Session, provision_id: int) -> Provision:
    row = session.get(ProvisionRecord, provision_id)
    if row is None or not row.published or row.tier != 3:
        raise NotFound("no such advisory", field="advisory")
    return view(session, row)


def check_limit(limit: int) -> int:
    if limit < 1:
        raise InvalidInput("limit: at least 1", field="limit")
    return min(limit, 1000)
