"""The criteria for releasable selected information (R-3.3-17): versioned configuration,
item-by-item determinations by designated handlers, and their effect on tier 2."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.audit.models import AuditEntry
from mamori.errors import Conflict, Forbidden, InvalidInput
from mamori.intel import service as intel
from mamori.products import service
from mamori.products.audience import Audience
from mamori.products.models import CriteriaVersion, Determination

from .conftest import ADMIN, ANALYST, HANDLER, INSPECTOR, indicator, store

AGGREGATE = indicator("aggregate", "198.51.100.40", name="Bot fan-in RSIMARK01")
DERIVED = indicator("derived", "198.51.100.41", name="Derived from the aggregate RSIMARK02")


def _yes(session: Session) -> dict[str, bool]:
    return {item["key"]: True for item in service.current_criteria(
        session=session, principal=HANDLER).items}


def _tier2_names(session: Session, product_id: str) -> set[str]:
    output = service.build_tier(session=session, principal=HANDLER, product_id=product_id,
                                tier=2, audience=Audience("council_member"))
    assert output.lint.passed
    return {o.get("name", "") for o in output.objects if o["id"] not in output.framing}


def test_versions_and_permissions(session: Session) -> None:
    default = service.current_criteria(session=session, principal=ANALYST)
    assert default.version == 0 and len(default.items) == 4
    items = [{"key": "aggregated_hourly", "ja": "1時間以上の単位で集計", "en": "Aggregated by "
              "the hour or coarser"}, {"key": "no_parties", "ja": "当事者を含まない",
                                       "en": "No parties"}]
    with pytest.raises(Forbidden):
        service.set_criteria(session=session, principal=ANALYST, items=items,
                             decision_ref="Cabinet Office Order No. 1")
    for bad in ([], [{"key": "Bad Key", "ja": "x", "en": "x"}], [items[0], items[0]],
                [{"key": "x", "ja": "", "en": "y"}]):
        with pytest.raises(InvalidInput):
            service.set_criteria(session=session, principal=ADMIN, items=bad,
                                 decision_ref="Cabinet Office Order No. 1")
    with pytest.raises(InvalidInput):
        service.set_criteria(session=session, principal=ADMIN, items=items, decision_ref=" ")
    assert session.scalar(select(func.count()).select_from(CriteriaVersion)) == 0
    made = service.set_criteria(session=session, principal=ADMIN, items=items,
                                decision_ref="Cabinet Office Order No. 1")
    assert made.version == 1
    history = service.criteria_history(session=session, principal=INSPECTOR)
    assert [c.version for c in history] == [0, 1]


def test_determination_releases_for_tier_2_only(session: Session) -> None:
    store(session, HANDLER, [AGGREGATE], labels=["COMMS"])
    store(session, HANDLER, [DERIVED], labels=["SECRET"],
          derived_from={DERIVED["id"]: (AGGREGATE["id"],)})
    product = service.compose_product(
        session=session, principal=HANDLER, title_ja="集約", title_en="Aggregate",
        narrative_ja="", narrative_en="", use="strategic", readers=["policy_maker"],
        object_ids=[AGGREGATE["id"], DERIVED["id"]])
    assert _tier2_names(session, product.id) == set()  # only the frame is left
    with pytest.raises(Forbidden):
        service.determine(session=session, principal=ANALYST, stix_id=AGGREGATE["id"],
                          answers=_yes(session), decision_ref="D-1")
    with pytest.raises(InvalidInput):
        service.determine(session=session, principal=HANDLER, stix_id=AGGREGATE["id"],
                          answers={"separated": True}, decision_ref="D-1")
    refused = service.determine(session=session, principal=HANDLER, stix_id=AGGREGATE["id"],
                                answers={**_yes(session), "no_content": False},
                                decision_ref="D-1")
    assert not refused.satisfied and not refused.standing
    assert "RSIMARK01" not in str(_tier2_names(session, product.id))
    made = service.determine(session=session, principal=HANDLER, stix_id=AGGREGATE["id"],
                             answers=_yes(session), decision_ref="D-2")
    assert made.standing
    names = _tier2_names(session, product.id)
    assert {"Bot fan-in RSIMARK01", "Derived from the aggregate RSIMARK02"} <= names
    # the releasable version is in the store for analysts, under PROVISION_DERIVED
    seen = intel.get_object(session=session, principal=ANALYST, stix_id=AGGREGATE["id"])
    assert seen.labels.provision_derived and not seen.labels.comms
    tier3 = service.build_tier(session=session, principal=HANDLER, product_id=product.id,
                               tier=3, audience=Audience("computer_user_public"))
    assert "RSIMARK" not in json.dumps(tier3.bundle)
    service.withdraw_determination(session=session, principal=HANDLER, determination_id=made.id)
    with pytest.raises(Conflict):
        service.withdraw_determination(session=session, principal=HANDLER,
                                       determination_id=made.id)
    assert "RSIMARK01" not in str(_tier2_names(session, product.id))
    again = service.determine(session=session, principal=HANDLER, stix_id=AGGREGATE["id"],
                              answers=_yes(session), decision_ref="D-3")
    assert again.standing
    service.set_criteria(session=session, principal=ADMIN, reassess=True,
                         decision_ref="Cabinet Office Order No. 2",
                         items=[{"key": "separated", "ja": "切り離されている",
                                 "en": "Separated"}])
    assert not service.list_determinations(session=session, principal=HANDLER,
                                           stix_id=AGGREGATE["id"])[0].standing
    assert "RSIMARK01" not in str(_tier2_names(session, product.id))
    assert session.scalar(select(func.count()).select_from(Determination)) == 3
    details = session.scalars(select(AuditEntry.details).where(
        AuditEntry.action.like("product.determin%"))).all()
    assert details and "RSIMARK" not in json.dumps(details)
