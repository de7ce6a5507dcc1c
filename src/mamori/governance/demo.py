"""Demo step "agreement, consent and approved measure": Sakura Electric's party
agreement in force, an active other-purpose consent with METI as the using body and a
prior written arrangement with it, one granted provision, an Art 17 measure
requested by the demo analyst and approved by the demo committee inspector, and the
carrier's cooperation under it (explained in advance, sent, cooperating).

Safe to run again: each part is made only when its demo record is missing.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.access import service as access_service
from mamori.access.principal import Principal
from mamori.db import utcnow
from mamori.governance import agreements, consents, cooperation, measures, use
from mamori.governance.models import Agreement, Measure

PARTY = "さくら電力株式会社 / Sakura Electric Power Co., Inc."
MEASURE_GROUNDS = "Demo: C2 servers abroad relaying commands to bots in other countries."
DEMO_BATCH = "demo-batch-0001"
CARRIER = "Example Global Telecom"
PURPOSE_TEXT = "METI's joint analysis of the botnet infrastructure targeting power utilities"


def _digest(label: str) -> str:
    """A stand-in digest of a signed document (the demo has no real paper)."""
    return hashlib.sha256(f"mamori demo document: {label}".encode()).hexdigest()


def _as(session: Session, username: str, purpose: str | None = None) -> Principal:
    principal = access_service.principal_for_user(session=session, username=username,
                                                  via="system")
    return principal.with_purpose(purpose) if purpose else principal


def _agreement(session: Session) -> str:
    existing = session.scalars(select(Agreement.id).where(Agreement.party_name == PARTY)).first()
    if existing:
        return existing
    analyst, admin = _as(session, "demo-analyst"), _as(session, "demo-admin")
    org = access_service.get_organisation(session=session, principal=analyst,
                                          code="sakura_electric")
    _, template = agreements.agreement_template(session=session)
    draft = agreements.create_agreement(
        session=session, principal=analyst, party_name=PARTY, party_organisation_id=org.id,
        comm_scope="Traffic between the party's control-system network and the internet",
        party_identifiers=["198.51.100.0/24", "AS64511"],
        delivery_method="Individual analysis information through the portal", priority=1,
        items={t["key"]: f"As in the standard template ({t['en']})" for t in template},
        deviations="None",
    )
    agreements.add_consultation_note(session=session, principal=analyst,
                                     agreement_id=draft.id,
                                     note="Explained the protections of the Act and the scope.")
    agreements.conclude_agreement(session=session, principal=admin, agreement_id=draft.id,
                                  signed_digest=_digest("agreement"),
                                  effective_from=utcnow() - timedelta(days=30),
                                  effective_until=utcnow() + timedelta(days=335))
    return draft.id


def _consent(session: Session, agreement_id: str) -> None:
    if consents.list_consents(session=session, principal=_as(session, "demo-analyst"),
                              agreement_id=agreement_id):
        return
    analyst, admin = _as(session, "demo-analyst"), _as(session, "demo-admin")
    meti = access_service.get_organisation(session=session, principal=analyst, code="meti")
    consent = consents.record_consent(
        session=session, principal=analyst, agreement_id=agreement_id,
        scope_batches=[DEMO_BATCH], scope_categories=["ip_address", "domain_name"],
        user_body_id=meti.id, user_body_name=meti.name_en,
        purpose_code="other_purpose_consented", purpose_text=PURPOSE_TEXT,
        document_digest=_digest("consent"))
    consents.examine_consent(session=session, principal=analyst, consent_id=consent.id,
                             examination="Use limited to the named batch and categories; "
                             "necessary for METI's sector-wide analysis.")
    consents.activate_consent(session=session, principal=admin, consent_id=consent.id)
    consents.record_arrangement(
        session=session, principal=analyst, body_organisation_id=meti.id,
        body_name=meti.name_en, purposes=["other_purpose_consented"],
        scope="Botnet infrastructure analysis for the power sector",
        document_digest=_digest("arrangement"), effective_from=utcnow() - timedelta(days=1))
    handler = _as(session, "demo-comms_handler", "other_purpose_consented")
    use.decide_use(
        session=session, principal=handler,
        data_ref=use.SelectedInfoRef(basis_id=agreement_id, batch_ids=(DEMO_BATCH,),
                                     categories=("ip_address",)),
        user_body_id=meti.id, purpose_code="other_purpose_consented",
        purpose_text=PURPOSE_TEXT)


def _measure(session: Session) -> str:
    existing = session.scalars(
        select(Measure.id).where(Measure.grounds == MEASURE_GROUNDS)).first()
    if existing:
        return existing
    measure = measures.request_measure(
        session=session, principal=_as(session, "demo-analyst"), article=17,
        grounds=MEASURE_GROUNDS, target_act="Botnet command and control",
        carrier=CARRIER, facilities=["intl-gw-tokyo-1"],
        starts_at=utcnow() - timedelta(minutes=1), ends_at=utcnow() + timedelta(days=90))
    measures.approve_measure(session=session, principal=_as(session, "demo-committee_inspector"),
                             measure_id=measure.id, note="Justified by the grounds given.")
    return measure.id


def _cooperation(session: Session, measure_id: str) -> str:
    analyst = _as(session, "demo-analyst")
    existing = cooperation.list_requests(session=session, principal=analyst,
                                         measure_id=measure_id)
    if existing:
        return existing[0].id
    request = cooperation.request_cooperation(
        session=session, principal=analyst, measure_id=measure_id, carrier=CARRIER,
        items=["foreign_facility_info", "equipment_connection"],
        conditions="Information within two weeks; connection in the carrier's maintenance "
        "window; the Cabinet Office bears the equipment cost.",
        burden="Uses the carrier's existing mirror port; no change to user service.")
    cooperation.record_explanation(
        session=session, principal=analyst, request_id=request.id, method="meeting",
        summary="Explained the measure, what is asked, the schedule and the cost sharing.",
        document_digest=_digest("cooperation explanation"))
    cooperation.send_request(session=session, principal=analyst, request_id=request.id)
    cooperation.record_response(session=session, principal=analyst, request_id=request.id,
                                outcome="cooperating")
    return request.id


def seed(*, session: Session, console: Console) -> None:
    agreement_id = _agreement(session)
    _consent(session, agreement_id)
    measure_id = _measure(session)
    request_id = _cooperation(session, measure_id)
    console.print(f"party agreement {agreement_id} in force; measure {measure_id} approved "
                  f"(selection may run with --measure {measure_id} or {agreement_id}); "
                  f"carrier cooperating ({request_id})")
