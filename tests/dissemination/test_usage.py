"""Usage attestations after a provision of selected communications information
(R-2.3-12), on SQLite and PostgreSQL: a request only for such provisions, due after
the configured days; the receiving body attests through the API or the portal and
nobody else can; bad input is refused and changes nothing; analysts review, an
outside-consent finding has its own audit action; overdue requests; the annual counts;
the CLI; the pages in Japanese and English. The input checks are property-tested."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.datastructures import FormData

from mamori.access.principal import Principal
from mamori.audit.models import AuditEntry
from mamori.db import utcnow
from mamori.dissemination import service, usage
from mamori.dissemination.models import UsageAttestationRecord, UsageRequestRecord
from mamori.dissemination.portal import attestation_input
from mamori.dissemination.settings import reset_delivery_settings
from mamori.errors import Conflict, Forbidden, InvalidInput, MamoriError, NotFound
from mamori.web.app import create_app

from .conftest import World, agreement_in_force, comms_handler, run_cli, selected_product

HTML = "text/html"
PURPOSE = "damage_prevention"
USED = "Blocked the listed address at the ministry perimeter."
SHARED_WITH = "Prefectural police cyber unit"


@dataclass
class Sci:
    """A world in which the NPA may receive tier 1 carrying selected information."""

    world: World
    product: str

    def provide(self) -> service.Provision:
        made = service.provide(session=self.world.session, principal=comms_handler(self.world),
                               product_id=self.product, tier=1, recipient="npa",
                               purpose=PURPOSE)
        assert made.use_decision_id is not None
        return made

    @property
    def npa(self) -> Principal:
        return self.world.member("npa", role="recipient")

    def attest(self, provision_id: int, **changes: Any) -> service.UsageRequest:
        return usage.attest(session=self.world.session, principal=self.npa,
                            provision_id=provision_id, **{**good_statement(), **changes})


@pytest.fixture
def sci(world: World) -> Sci:
    world.entitle()
    return Sci(world=world, product=selected_product(world, agreement_in_force(world)))


def good_statement() -> dict[str, Any]:
    return {"purposes": [PURPOSE], "usage": USED, "shared_onward": True,
            "shared_with": SHARED_WITH, "still_held": True,
            "kept_until": date.today() + timedelta(days=200)}


ROLES = {"nao": ("recipient", "npa"), "ana": ("analyst", "cao"),
         "kaori": ("council_member", "aoba"), "ichiro": ("operator", "sakura")}


def _tokens(world: World, *names: str) -> dict[str, str]:
    """Accounts (roles and organisations from ROLES) and their API tokens, committed."""
    for name in names:
        world.account(name, *ROLES[name])
    tokens = {name: world.token(name) for name in names}
    world.session.commit()
    return tokens


def _bearer(token: str, accept: str = "application/json") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": accept}


def _entries(world: World, action: str) -> list[AuditEntry]:
    return list(world.session.scalars(select(AuditEntry).where(
        AuditEntry.action == action).order_by(AuditEntry.seq)))


def _details(entry: AuditEntry) -> dict[str, Any]:
    found = json.loads(entry.details) if isinstance(entry.details, str) else entry.details
    assert isinstance(found, dict)
    return found


def _state(world: World) -> tuple[Any, ...]:
    """Everything an attestation or a review could change."""
    world.session.rollback()
    requests = world.session.execute(select(
        UsageRequestRecord.id, UsageRequestRecord.status, UsageRequestRecord.outcome,
        UsageRequestRecord.review_note).order_by(UsageRequestRecord.id)).all()
    statements = world.session.scalar(
        select(func.count()).select_from(UsageAttestationRecord))
    audited = world.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action.like("dissemination.usage.%")))
    return tuple(requests), statements, audited


def _no_free_text(world: World) -> None:
    """Audit entries carry ids, codes and lengths, never what was written."""
    for entry in world.session.scalars(select(AuditEntry).where(
            AuditEntry.action.like("dissemination.usage.%"))):
        text = json.dumps(_details(entry), ensure_ascii=False)
        assert USED not in text and SHARED_WITH not in text and "note text" not in text


# --- opening requests ----------------------------------------------------------------------


def test_a_request_is_opened_only_for_provisions_of_selected_information(
        sci: Sci, monkeypatch: pytest.MonkeyPatch) -> None:
    world = sci.world
    plain = world.provide("council_member", 3)
    made = sci.provide()
    world.session.commit()
    rows = world.session.scalars(select(UsageRequestRecord)).all()
    assert [(r.provision_id, r.status) for r in rows] == [(made.id, usage.REQUESTED)]
    assert plain.use_decision_id is None
    [row] = rows
    assert row.due_at == made.provided_at + timedelta(days=90)  # the default
    assert (row.purpose, row.use_decision_id) == (PURPOSE, made.use_decision_id)
    assert row.organisation_id == world.orgs["npa"]
    [entry] = _entries(world, "dissemination.usage.requested")
    assert entry.object_id == str(row.id) and _details(entry)["provision_id"] == made.id
    # The period comes from MAMORI_DISSEMINATION_ATTESTATION_DAYS.
    monkeypatch.setenv("MAMORI_DISSEMINATION_ATTESTATION_DAYS", "30")
    reset_delivery_settings()
    second = sci.provide()
    world.session.commit()
    found = world.session.scalars(select(UsageRequestRecord).where(
        UsageRequestRecord.provision_id == second.id)).one()
    assert found.due_at == second.provided_at + timedelta(days=30)
    # The recipient sees both on its portal home; a provision without SCI has none.
    pending = service.pending_for(session=world.session, principal=sci.npa)
    assert [p.provision_id for p in pending] == [second.id, made.id]  # soonest due first
    assert usage.request_of(world.session, plain.id) is None
    with pytest.raises(NotFound, match="carries no selected"):
        usage.attest(session=world.session, principal=world.member("aoba", "council_member"),
                     provision_id=plain.id, **good_statement())


# --- attesting -------------------------------------------------------------------------------


def test_the_recipient_attests_over_the_api_and_nobody_else_can(sci: Sci) -> None:
    world = sci.world
    made = sci.provide()
    tokens = _tokens(world, "nao", "ichiro")
    client = TestClient(create_app())
    url = f"/api/v1/dissemination/provisions/{made.id}/attestation"
    body = {**good_statement(), "kept_until": good_statement()["kept_until"].isoformat()}
    before = _state(world)
    # Another organisation's account: forbidden, nothing changes.
    other = client.post(url, headers=_bearer(tokens["ichiro"]), json=body)
    assert other.status_code == 403
    assert _state(world) == before
    nao = _bearer(tokens["nao"])
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({**body, "purposes": ["public_awareness"]}, "purposes",
         "provided for damage_prevention only"),
        ({**body, "purposes": [PURPOSE, "access_neutralisation_support"]}, "purposes",
         "for that purpose alone"),
        ({**body, "purposes": []}, "purposes", "name the purpose"),
        ({**body, "usage": "   "}, "usage", "say how you used it"),
        ({**body, "shared_with": None}, "shared_with", "say with whom"),
        ({**body, "shared_with": " "}, "shared_with", "say with whom"),
        ({**body, "shared_onward": False}, "shared_with", "only when it was shared onward"),
        ({**body, "still_held": False}, "kept_until", "only for information you still hold"),
        ({**body, "kept_until": "2000-01-01"}, "kept_until", "a date from today on"),
    ]
    for wrong, field, message in cases:
        answer = client.post(url, headers=nao, json=wrong)
        assert answer.status_code == 422, (field, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["field"] == field and message in answer.json()["detail"]
    missing = client.post(url, headers=nao, json={k: v for k, v in body.items()
                                                  if k != "usage"})
    assert missing.status_code == 422
    assert _state(world) == before
    done = client.post(url, headers=nao, json=body)
    assert done.status_code == 201, done.text
    answer = done.json()
    assert answer["status"] == usage.ATTESTED and not answer["overdue"]
    assert answer["attestation"]["purposes"] == [PURPOSE]
    assert answer["attestation"]["shared_with"] == SHARED_WITH
    assert answer["attestation"]["attested_by"] == "nao"
    # One attestation per request.
    again = client.post(url, headers=nao, json={**body, "usage": "Something else."})
    assert again.status_code == 409 and again.json()["field"] == "attestation"
    world.session.rollback()
    [statement] = world.session.scalars(select(UsageAttestationRecord)).all()
    assert statement.usage == USED
    [entry] = _entries(world, "dissemination.usage.attested")
    details = _details(entry)
    assert details["usage_length"] == len(USED) and details["purposes"] == [PURPOSE]
    assert details["shared_with_length"] == len(SHARED_WITH) and not details["late"]
    _no_free_text(world)


def test_the_recipient_attests_in_the_portal_in_both_languages(sci: Sci) -> None:
    world = sci.world
    made = sci.provide()
    plain = world.provide("council_member", 2)
    tokens = _tokens(world, "nao", "ana", "kaori")
    client = TestClient(create_app(), follow_redirects=False)
    nao = _bearer(tokens["nao"], HTML)
    home = client.get("/provisions?lang=ja", headers=nao)
    assert home.status_code == 200 and "回答が必要な利用状況の確認" in home.text
    assert f"/provisions/{made.id}#attestation" in home.text
    english = client.get("/provisions?lang=en", headers=nao)
    assert "Usage checks awaiting your attestation" in english.text
    page = client.get(f"/provisions/{made.id}?lang=en", headers=nao)
    assert page.status_code == 200 and "Usage check" in page.text
    assert f'action="/provisions/{made.id}/attestation"' in page.text
    assert "Awaiting attestation" in page.text
    japanese = client.get(f"/provisions/{made.id}?lang=ja", headers=nao)
    assert "利用状況の確認" in japanese.text and "回答を送信" in japanese.text
    # A provision without selected information asks nothing.
    other = client.get(f"/provisions/{plain.id}?lang=en", headers=_bearer(tokens["kaori"], HTML))
    assert other.status_code == 200 and "Usage check" not in other.text
    client.get("/login")
    form = {"csrf_token": client.cookies["mamori_csrf"], "purposes": PURPOSE, "usage": USED,
            "held": "disposed"}
    url = f"/provisions/{made.id}/attestation"
    before = _state(world)
    for wrong, message in (({**form, "purposes": "vulnerability_handling"},
                            "provided for damage_prevention only"),
                           ({**form, "shared_onward": "on"}, "say with whom"),
                           ({**form, "held": ""}, "held is required"),
                           ({**form, "held": "maybe"}, "still hold it or disposed"),
                           ({**form, "kept_until": "2030-02-30"}, "expected a date"),
                           ({**form, "kept_until": "2099-01-01"}, "only for information")):
        refused = client.post(url, data=wrong, headers=nao)
        assert refused.status_code == 422 and message in refused.text, message
    stranger = client.post(url, data=form, headers=_bearer(tokens["kaori"], HTML))
    assert stranger.status_code == 403
    assert _state(world) == before
    sent = client.post(url, data=form, headers=nao)
    assert sent.status_code == 303 and sent.headers["location"].endswith("#attestation")
    shown = client.get(f"/provisions/{made.id}?lang=en", headers=nao)
    assert USED in shown.text and "Disposed of" in shown.text
    assert f'action="/provisions/{made.id}/attestation"' not in shown.text
    assert "Usage checks awaiting" not in client.get("/provisions?lang=en", headers=nao).text
    # The staff page, linked from the provision overview, with the review form.
    ana = _bearer(tokens["ana"], HTML)
    overview = client.get("/dissemination?lang=en", headers=ana)
    assert 'href="/dissemination/attestations"' in overview.text
    staff = client.get("/dissemination/attestations?lang=ja", headers=ana)
    assert staff.status_code == 200 and "利用状況の確認" in staff.text and "回答済み" in staff.text
    staff = client.get("/dissemination/attestations?lang=en", headers=ana)
    assert USED in staff.text and "Record the review" in staff.text
    request_id = world.session.scalars(select(UsageRequestRecord.id)).one()
    review_url = f"/dissemination/attestations/{request_id}/review"
    unclear = client.post(review_url, data={"csrf_token": form["csrf_token"],
                                            "outcome": "unclear"}, headers=ana)
    assert unclear.status_code == 422 and "say what is outside consent" in unclear.text
    reviewed = client.post(review_url, data={"csrf_token": form["csrf_token"],
                                             "outcome": "within_consent"}, headers=ana)
    assert reviewed.status_code == 303
    after = client.get("/dissemination/attestations?lang=en", headers=ana)
    assert "Within consent" in after.text and "Record the review" not in after.text
    assert client.get("/dissemination/attestations?lang=en", headers=nao).status_code == 403


# --- reviewing -------------------------------------------------------------------------------


def test_analysts_review_and_outside_consent_is_audited_on_its_own(sci: Sci) -> None:
    world = sci.world
    made = [sci.provide() for _ in range(3)]
    world.session.commit()
    ids = {p.id: r for p in made for r in world.session.scalars(select(
        UsageRequestRecord.id).where(UsageRequestRecord.provision_id == p.id))}
    first, second, third = (ids[p.id] for p in made)
    analyst = world.analyst

    def review(request_id: int, outcome: str, note: str | None = None,
               principal: Principal = analyst) -> service.UsageRequest:
        return usage.review(session=world.session, principal=principal, request_id=request_id,
                            outcome=outcome, note=note)

    with pytest.raises(Conflict, match="only an attested use is reviewed"):
        review(first, usage.WITHIN_CONSENT)
    for p in made:
        sci.attest(p.id)
    world.session.commit()
    inspector = Principal(username="t-inspector", roles=frozenset({"committee_inspector"}),
                          organisation_id=world.orgs["cao"], organisation_kind="cabinet_office",
                          mfa=True, purpose="oversight_inspection", via="web")
    listed = usage.list_attestations(session=world.session, principal=inspector)
    assert [r.status for r in listed] == [usage.ATTESTED] * 3
    assert listed[0].attestation is not None and listed[0].attestation.usage == USED
    before = _state(world)
    for who in (inspector, comms_handler(world), sci.npa):
        with pytest.raises(Forbidden):
            review(first, usage.WITHIN_CONSENT, principal=who)
        world.session.rollback()
    with pytest.raises(Forbidden):
        usage.list_attestations(session=world.session, principal=sci.npa)
    for outcome, note, field in (("fine", None, "outcome"),
                                 (usage.UNCLEAR, None, "note"),
                                 (usage.OUTSIDE_CONSENT, "  ", "note"),
                                 (usage.WITHIN_CONSENT, "x" * 4001, "note")):
        with pytest.raises(InvalidInput) as error:
            review(first, outcome, note)
        assert error.value.extra["field"] == field
    with pytest.raises(NotFound):
        review(max(ids.values()) + 10, usage.WITHIN_CONSENT)
    assert _state(world) == before
    within = review(first, usage.WITHIN_CONSENT)
    assert (within.status, within.outcome, within.review_note) == (usage.REVIEWED,
                                                                   usage.WITHIN_CONSENT, None)
    outside = review(second, usage.OUTSIDE_CONSENT, "The note text names a further use.")
    assert outside.outcome == usage.OUTSIDE_CONSENT and outside.reviewed_by == "t-analyst"
    world.session.commit()
    with pytest.raises(Conflict, match="only an attested use"):
        review(first, usage.UNCLEAR, "again")
    world.session.rollback()
    [reviewed] = _entries(world, "dissemination.usage.reviewed")
    assert reviewed.object_id == str(first) and _details(reviewed)["outcome"] == "within_consent"
    [flagged] = _entries(world, "dissemination.usage.outside_consent")
    assert flagged.object_id == str(second) and flagged.actor == "t-analyst"
    assert _details(flagged)["note_length"] == len("The note text names a further use.")
    # The API: analysts review; the recipient may not; a second review is a conflict.
    tokens = _tokens(world, "ana", "nao")
    client = TestClient(create_app())
    url = f"/api/v1/dissemination/provisions/attestations/{third}/review"
    assert client.post(url, headers=_bearer(tokens["nao"]),
                       json={"outcome": "unclear", "note": "x"}).status_code == 403
    bad = client.post(url, headers=_bearer(tokens["ana"]), json={"outcome": "maybe"})
    assert bad.status_code == 422 and bad.json()["field"] == "outcome"
    done = client.post(url, headers=_bearer(tokens["ana"]),
                       json={"outcome": "unclear", "note": "The note text asks for more."})
    assert done.status_code == 200 and done.json()["outcome"] == "unclear"
    again = client.post(url, headers=_bearer(tokens["ana"]),
                        json={"outcome": "within_consent"})
    assert again.status_code == 409
    _no_free_text(world)


# --- overdue -----------------------------------------------------------------------------------


def test_overdue_requests_with_a_moved_clock(sci: Sci, monkeypatch: pytest.MonkeyPatch) -> None:
    world = sci.world
    answered, silent = sci.provide(), sci.provide()
    sci.attest(answered.id)
    token = _tokens(world, "ana")["ana"]
    assert usage.list_attestations(session=world.session, principal=world.analyst,
                                   overdue=True) == []
    later = utcnow() + timedelta(days=91)
    monkeypatch.setattr(usage, "utcnow", lambda: later)
    [late] = usage.list_attestations(session=world.session, principal=world.analyst,
                                     overdue=True)
    assert late.provision_id == silent.id and late.overdue and late.status == usage.REQUESTED
    every = usage.list_attestations(session=world.session, principal=world.analyst)
    assert [(r.provision_id, r.overdue) for r in every] == [(answered.id, False),
                                                            (silent.id, True)]
    [pending] = service.pending_for(session=world.session, principal=sci.npa)
    assert pending.provision_id == silent.id and pending.overdue
    client = TestClient(create_app())
    listed = client.get("/api/v1/dissemination/provisions/attestations?overdue=true",
                        headers=_bearer(token))
    assert listed.status_code == 200, listed.text
    assert [r["provision_id"] for r in listed.json()] == [silent.id]
    assert client.get("/api/v1/dissemination/provisions/attestations?overdue=maybe",
                      headers=_bearer(token)).status_code == 422
    page = client.get("/dissemination/attestations?overdue=true&lang=en",
                      headers=_bearer(token, HTML))
    assert "Overdue" in page.text and "Show all" in page.text
    # A late attestation is still taken, and says it was late.
    sci.attest(silent.id, kept_until=later.date() + timedelta(days=1))
    world.session.commit()
    assert usage.list_attestations(session=world.session, principal=world.analyst,
                                   overdue=True) == []
    assert [_details(e)["late"] for e in _entries(world, "dissemination.usage.attested")] == [
        False, True]


# --- statistics ----------------------------------------------------------------------------


def test_attestations_are_counted_for_the_annual_report(
        sci: Sci, monkeypatch: pytest.MonkeyPatch) -> None:
    world = sci.world
    start = datetime.now(UTC) - timedelta(hours=1)
    world.provide("council_member", 3)
    made = [sci.provide() for _ in range(3)]
    for p in made[:2]:
        sci.attest(p.id)
    requests = [world.session.scalars(select(UsageRequestRecord.id).where(
        UsageRequestRecord.provision_id == p.id)).one() for p in made]
    usage.review(session=world.session, principal=world.analyst, request_id=requests[0],
                 outcome=usage.WITHIN_CONSENT)
    usage.review(session=world.session, principal=world.analyst, request_id=requests[1],
                 outcome=usage.OUTSIDE_CONSENT, note="note text")
    world.session.commit()
    day = timedelta(days=1)

    def counts(until: timedelta) -> dict[str, int]:
        return dict(service.attestation_counts(session=world.session, start=start,
                                               end=start + until))

    assert counts(day) == {
        "usage attestations requested": 3, "usage attestations attested": 2,
        "usage attestations overdue": 0, "usage attestations reviewed within_consent": 1,
        "usage attestations reviewed outside_consent": 1,
        "usage attestations reviewed unclear": 0}
    assert sum(dict(service.attestation_counts(
        session=world.session, start=start - 2 * day, end=start)).values()) == 0
    # Ninety-one days on: the unanswered one fell due in a 100-day period, not in the first
    # day; answering late does not undo that it was overdue.
    later = utcnow() + timedelta(days=91)
    monkeypatch.setattr(usage, "utcnow", lambda: later)
    assert counts(100 * day)["usage attestations overdue"] == 1
    assert counts(day)["usage attestations overdue"] == 0
    sci.attest(made[2].id, kept_until=None)
    world.session.commit()
    assert counts(100 * day)["usage attestations overdue"] == 1
    assert counts(100 * day)["usage attestations attested"] == 3
    rows = dict(service.provision_counts(session=world.session, start=start,
                                         end=start + day))
    assert rows["administrative_body tier 1"] == 3
    from mamori.dissemination.statistics import provision_statistics

    both = dict(provision_statistics(session=world.session, principal=world.analyst,
                                     start=start, end=start + day))
    assert both["administrative_body tier 1"] == 3
    assert both["usage attestations reviewed outside_consent"] == 1
    with pytest.raises(Forbidden):
        provision_statistics(session=world.session, principal=sci.npa, start=start,
                             end=start + day)
    # The oversight committee's annual report (Art 61) carries the same section.
    from mamori.access.principal import Principal
    from mamori.governance import statistics as annual

    inspector = Principal(username="t-inspector", roles=frozenset({"committee_inspector"}),
                          mfa=True, purpose="oversight_inspection")
    report = annual.annual_report(session=world.session, principal=inspector, start=start,
                                  end=start + day)
    section = {r.item: r.count for r in report.section("usage_attestations")}
    assert section["usage attestations reviewed outside_consent"] == 1
    assert section["usage attestations requested"] == 3


# --- the command line ------------------------------------------------------------------------


def test_staff_commands(sci: Sci, monkeypatch: pytest.MonkeyPatch) -> None:
    world = sci.world
    made = sci.provide()
    tokens = _tokens(world, "ana", "nao")
    ana, nao = tokens["ana"], tokens["nao"]
    listed = run_cli(monkeypatch, ana, "ana", "provision", "attestations", "--json")
    [item] = json.loads(listed.output)
    assert (item["provision_id"], item["status"], item["recipient_code"]) == (
        made.id, usage.REQUESTED, "npa")
    early = run_cli(monkeypatch, ana, "ana", "provision", "review", str(item["id"]),
                    "--outcome", "within_consent")
    assert isinstance(early, Conflict)
    sci.attest(made.id)
    world.session.commit()
    text = run_cli(monkeypatch, ana, "ana", "provision", "attestations")
    assert f"provision {made.id}" in text.output and "attested" in text.output
    overdue = run_cli(monkeypatch, ana, "ana", "provision", "attestations", "--overdue",
                      "--json")
    assert json.loads(overdue.output) == []
    for args in (["--outcome", "sideways"], ["--outcome", "unclear"]):
        refused = run_cli(monkeypatch, ana, "ana", "provision", "review", str(item["id"]),
                          *args)
        assert isinstance(refused, InvalidInput)
    denied = run_cli(monkeypatch, nao, "nao", "provision", "attestations")
    assert isinstance(denied, MamoriError) and denied.status_code == 403
    done = run_cli(monkeypatch, ana, "ana", "provision", "review", str(item["id"]),
                   "--outcome", "outside_consent", "--note", "note text: a further use")
    assert f"provision {made.id}): outside_consent" in done.output
    stats = run_cli(monkeypatch, ana, "ana", "provision", "stats", "--from", "2000-01-01",
                    "--until", "2100-01-01")
    assert "usage attestations reviewed outside_consent\t1" in stats.output
    world.session.rollback()
    [flagged] = _entries(world, "dissemination.usage.outside_consent")
    assert flagged.actor == "ana"


# --- the input checks, property-tested ------------------------------------------------------

TODAY = date(2026, 6, 1)
FIELDS = ("purposes", "usage", "shared_onward", "shared_with", "still_held", "kept_until")
anything = st.one_of(st.none(), st.integers(), st.text(max_size=8), st.booleans(),
                     st.floats(allow_nan=False))
words = st.text(min_size=1, max_size=30).filter(str.strip)
# For each field: values that may be wrong (or right, for the field's other state),
# the telling ones spelled out, then anything at all.
SPOILERS: dict[str, st.SearchStrategy[Any]] = {
    "purposes": st.one_of(
        st.sampled_from([[], ["public_awareness"], [PURPOSE, "public_awareness"],
                         ["", PURPOSE], [PURPOSE] * 11, [PURPOSE] * 10, PURPOSE, [PURPOSE, None],
                         [" DAMAGE_PREVENTION"], (PURPOSE,)]),
        st.lists(st.sampled_from([PURPOSE, "public_awareness", ""]), max_size=12),
        st.lists(anything, max_size=3), anything),
    "usage": st.one_of(st.sampled_from(["", "  \n", "x" * 4001, " " + "x" * 4000 + " "]),
                       anything),
    "shared_onward": st.one_of(st.sampled_from([None, "true", 1, 0, "on"]), anything),
    "shared_with": st.one_of(st.sampled_from(["", " ", "y" * 4001, None, "Someone", 3]),
                             anything, words),
    "still_held": st.one_of(st.sampled_from([None, "yes", 1, 0]), anything),
    "kept_until": st.one_of(
        st.sampled_from([TODAY - timedelta(days=1), TODAY, TODAY + timedelta(days=1),
                         datetime(2030, 1, 1), "2030-01-01", 20300101]),
        st.dates(), st.datetimes(), anything),
}


@st.composite
def statements(draw: st.DrawFn) -> dict[str, Any]:
    """A right statement with up to two of its fields spoiled."""
    shared, held = draw(st.booleans()), draw(st.booleans())
    values: dict[str, Any] = {
        "purposes": draw(st.lists(st.sampled_from([PURPOSE, f" {PURPOSE} "]), min_size=1,
                                  max_size=10)),
        "usage": draw(words),
        "shared_onward": shared,
        "shared_with": draw(words) if shared else draw(st.sampled_from([None, "", "  "])),
        "still_held": held,
        "kept_until": draw(st.one_of(st.none(), st.dates(min_value=TODAY))) if held else None,
    }
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2]))):
        name = draw(st.sampled_from(FIELDS))
        values[name] = draw(SPOILERS[name])
    return values


def _wrong(values: dict[str, Any]) -> set[str]:
    """The oracle: which fields of a statement are wrong, said independently."""
    purposes, text, shared, with_whom, held, until = (values[f] for f in FIELDS)
    wrong = set()
    if not (isinstance(purposes, list | tuple) and 0 < len(purposes) <= 10
            and all(isinstance(p, str) for p in purposes)
            and {p.strip() for p in purposes} == {PURPOSE}):
        wrong.add("purposes")
    if not (isinstance(text, str) and 0 < len(text.strip()) <= 4000):
        wrong.add("usage")
    named = isinstance(with_whom, str) and bool(with_whom.strip())
    if type(shared) is not bool:
        wrong.add("shared_onward")
    elif (shared and not (named and len(with_whom.strip()) <= 4000)) or \
            (not shared and (named or not isinstance(with_whom, str | None))):
        wrong.add("shared_with")
    if type(held) is not bool:
        wrong.add("still_held")
    if until is not None and (type(until) is not date or held is not True or until < TODAY):
        wrong.add("kept_until")
    return wrong


@settings(max_examples=400)
@given(statements())
def test_a_statement_is_stored_exactly_when_every_field_is_right(values: dict[str, Any]
                                                                 ) -> None:
    wrong = _wrong(values)
    try:
        statement = usage.check_statement(
            allowed_purpose=PURPOSE, purposes=values["purposes"], usage=values["usage"],
            shared_onward=values["shared_onward"], shared_with=values["shared_with"],
            still_held=values["still_held"], kept_until=values["kept_until"], today=TODAY)
    except InvalidInput as error:
        assert error.extra["field"] in wrong, (error.detail, wrong)
        assert error.detail.startswith(f"{error.extra['field']}: ")
    else:
        assert not wrong
        assert statement.purposes == (PURPOSE,) and statement.usage == values["usage"].strip()
        assert statement.shared_onward is values["shared_onward"]
        assert statement.still_held is values["still_held"]
        assert statement.shared_with == (values["shared_with"].strip()
                                         if values["shared_onward"] else None)
        assert statement.kept_until == values["kept_until"]


FORM_SPOILERS = {"held": st.one_of(st.text(max_size=10), st.just("")),
                 "shared_onward": st.one_of(st.text(max_size=6), st.just(" on ")),
                 "kept_until": st.one_of(st.text(max_size=12), st.dates().map(str),
                                         st.just("2030-02-30"))}


@st.composite
def forms(draw: st.DrawFn) -> list[tuple[str, str]]:
    """A filled-in form, with some fields left out, repeated or spoiled."""
    items = [("purposes", draw(st.sampled_from([PURPOSE, f" {PURPOSE}", "other"])))
             for _ in range(draw(st.integers(0, 3)))]
    items += [("usage", draw(st.text(max_size=20))), ("held", draw(st.sampled_from(
        ["held", "disposed", " held "]))), ("shared_with", draw(st.text(max_size=10))),
        ("kept_until", draw(st.sampled_from(["", "2030-01-31"])))]
    if draw(st.booleans()):
        items.append(("shared_onward", "on"))
    for name in draw(st.sets(st.sampled_from(sorted(FORM_SPOILERS)), max_size=2)):
        items.append((name, draw(FORM_SPOILERS[name])))  # the last value counts
    if draw(st.booleans()):
        gone = draw(st.sampled_from([*FORM_SPOILERS, "usage"]))
        items = [i for i in items if i[0] != gone]
    return draw(st.permutations(items)) if draw(st.booleans()) else items


@settings(max_examples=300)
@given(forms())
def test_the_attestation_form_is_read_or_refused_by_field(items: list[tuple[str, str]]
                                                          ) -> None:
    form = FormData(items)

    def last(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    wrong = set()
    if last("held") not in ("held", "disposed"):
        wrong.add("held")
    if last("shared_onward") not in ("", "on"):
        wrong.add("shared_onward")
    try:
        if last("kept_until"):
            date.fromisoformat(last("kept_until"))
    except ValueError:
        wrong.add("kept_until")
    try:
        parsed = attestation_input(form)
    except InvalidInput as error:
        assert error.extra["field"] in wrong
    else:
        assert not wrong
        assert parsed["still_held"] is (last("held") == "held")
        assert parsed["shared_onward"] is (last("shared_onward") == "on")
        assert parsed["purposes"] == [v.strip() for v in form.getlist("purposes")]
        assert parsed["usage"] == last("usage")
        assert parsed["shared_with"] == (last("shared_with") or None)
        assert parsed["kept_until"] == (date.fromisoformat(last("kept_until"))
                                        if last("kept_until") else None)
        assert set(parsed) == set(FIELDS)
