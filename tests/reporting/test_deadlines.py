"""Deadlines from each trigger, overdue status and reminder timing (no clock involved)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mamori.reporting.deadlines import (
    Anchors,
    Submission,
    compute_deadlines,
    due_reminders,
    next_deadline,
    status,
)
from mamori.reporting.workflows import Step, Workflow, load_workflows, parse_workflows

T0 = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _workflow(*steps: Step) -> Workflow:
    return Workflow(key="t", name_ja="t", name_en="t", legal_basis="t",
                    filer_roles=frozenset({"operator"}), kinds=("preliminary", "update", "final"),
                    steps=steps, required_fields={})


def test_detection_trigger() -> None:
    wf = _workflow(Step("preliminary", "detection", 6))
    (d,) = compute_deadlines(wf, Anchors(detected_at=T0, aware_at=T0 + 10 * H))
    assert d.due_at == T0 + 6 * H and d.met_at is None


def test_awareness_trigger() -> None:
    wf = _workflow(Step("preliminary", "awareness", 24))
    (d,) = compute_deadlines(wf, Anchors(detected_at=T0, aware_at=T0 + 10 * H))
    assert d.due_at == T0 + 34 * H


def test_previous_submission_trigger_runs_from_the_last_report() -> None:
    wf = _workflow(Step("final", "previous_submission", 720))
    none_yet = compute_deadlines(wf, Anchors(detected_at=T0, aware_at=T0))
    assert none_yet[0].due_at is None  # nothing submitted: the clock has not started
    subs = (Submission("preliminary", T0 + 5 * H), Submission("update", T0 + 50 * H))
    (d,) = compute_deadlines(wf, Anchors(T0, T0, submissions=subs))
    assert d.due_at == T0 + 50 * H + 720 * H
    met = (*subs, Submission("final", T0 + 100 * H))
    (d,) = compute_deadlines(wf, Anchors(T0, T0, submissions=met))
    assert d.met_at == T0 + 100 * H and d.due_at == T0 + 50 * H + 720 * H


def test_request_trigger_and_explicit_due_time() -> None:
    wf = _workflow(Step("final", "request", 240))
    (d,) = compute_deadlines(wf, Anchors(None, None, requested_at=T0))
    assert d.due_at == T0 + 240 * H
    (d,) = compute_deadlines(wf, Anchors(None, None, requested_at=T0,
                                         request_due_at=T0 + 48 * H))
    assert d.due_at == T0 + 48 * H


def test_a_later_kind_meets_an_earlier_step() -> None:
    wf = _workflow(Step("preliminary", "awareness", 24), Step("update", "awareness", 72))
    subs = (Submission("update", T0 + 2 * H),)
    deadlines = compute_deadlines(wf, Anchors(T0, T0, submissions=subs))
    assert all(d.met for d in deadlines)


def test_overdue_status_and_lateness() -> None:
    wf = _workflow(Step("preliminary", "awareness", 24), Step("final", "previous_submission", 24))
    anchors = Anchors(T0, T0)
    deadlines = compute_deadlines(wf, anchors)
    assert status(deadlines, [], T0 + 23 * H) == "requested"
    assert status(deadlines, [], T0 + 24 * H) == "overdue"
    subs = [Submission("preliminary", T0 + 30 * H)]
    deadlines = compute_deadlines(wf, Anchors(T0, T0, submissions=tuple(subs)))
    assert deadlines[0].late()
    assert status(deadlines, subs, T0 + 31 * H) == "preliminary"
    assert next_deadline(deadlines).due_at == T0 + 54 * H
    assert status(deadlines, subs, T0 + 54 * H) == "overdue"
    subs.append(Submission("final", T0 + 60 * H))
    deadlines = compute_deadlines(wf, Anchors(T0, T0, submissions=tuple(subs)))
    assert status(deadlines, subs, T0 + 500 * H) == "final"


@pytest.mark.parametrize(
    ("hours_before_due", "expected"),
    [(30, None), (24, 24.0), (10, 24.0), (2, 2.0), (0.5, 2.0), (0, 0.0), (-5, 0.0)],
)
def test_reminder_picks_the_most_urgent_lead(hours_before_due: float, expected) -> None:
    wf = _workflow(Step("preliminary", "awareness", 48))
    deadlines = compute_deadlines(wf, Anchors(T0, T0))
    now = T0 + 48 * H - hours_before_due * H
    found = due_reminders(deadlines, (24.0, 2.0), now)
    if expected is None:
        assert found == []
    else:
        assert [r.lead_hours for r in found] == [expected]
        assert found[0].overdue == (expected == 0)


def test_default_workflows_are_valid_and_say_they_are_defaults() -> None:
    workflows = load_workflows()
    art5 = workflows.get("art5")
    assert [s.trigger for s in art5.steps] == ["awareness", "awareness", "previous_submission"]
    assert workflows.reminder_hours == (24.0, 2.0)
    assert "art45_5_trading_partner" not in {w.key for w in workflows.enabled()}
    from mamori.reporting.configuration import PACKAGED

    assert "placeholders" in (PACKAGED / "workflows.toml").read_text(encoding="utf-8")


def test_broken_workflow_file_is_a_clear_error() -> None:
    from mamori.errors import InvalidInput

    bad = {"workflows": {"x": {"name_ja": "x", "name_en": "x", "legal_basis": "x",
                               "steps": [{"kind": "final", "trigger": "lunch",
                                          "offset_hours": 1}]}}}
    with pytest.raises(InvalidInput, match="trigger must be one of"):
        parse_workflows(bad)
