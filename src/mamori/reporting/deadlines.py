"""Deadlines, statuses and reminders of one incident, computed from its workflow.

Pure functions of the workflow, the incident's times and its submissions, so that
the portal, the CLI and the reminder job all agree and tests need no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from mamori.reporting.workflows import KINDS, Step, Workflow

STATUSES: tuple[str, ...] = ("requested", "preliminary", "update", "final", "overdue")


def kind_rank(kind: str) -> int:
    return KINDS.index(kind)


@dataclass(frozen=True)
class Submission:
    kind: str
    submitted_at: datetime


@dataclass(frozen=True)
class Anchors:
    """The times a workflow's triggers refer to."""

    detected_at: datetime | None
    aware_at: datetime | None
    requested_at: datetime | None = None
    submissions: tuple[Submission, ...] = ()
    # An order or request may fix its own due time instead of the workflow's offset.
    request_due_at: datetime | None = None


@dataclass(frozen=True)
class Deadline:
    kind: str
    trigger: str
    offset_hours: float
    due_at: datetime | None
    met_at: datetime | None

    @property
    def met(self) -> bool:
        return self.met_at is not None

    def overdue(self, now: datetime) -> bool:
        return self.due_at is not None and self.met_at is None and now >= self.due_at

    def late(self) -> bool:
        """Met, but after its deadline."""
        return self.due_at is not None and self.met_at is not None and self.met_at > self.due_at


def _anchor(step: Step, anchors: Anchors, met_index: int | None) -> datetime | None:
    if step.trigger == "detection":
        return anchors.detected_at
    if step.trigger == "awareness":
        return anchors.aware_at
    if step.trigger == "request":
        return anchors.requested_at
    # previous_submission: the last one before the submission that met the step, or the
    # latest so far while the step is open; none yet → the deadline is not running.
    before = anchors.submissions if met_index is None else anchors.submissions[:met_index]
    return before[-1].submitted_at if before else None


def compute_deadlines(workflow: Workflow, anchors: Anchors) -> list[Deadline]:
    """Every step of ``workflow`` with its due time and the time it was met."""
    ordered = tuple(sorted(anchors.submissions, key=lambda s: s.submitted_at))
    anchors = Anchors(anchors.detected_at, anchors.aware_at, anchors.requested_at, ordered,
                      anchors.request_due_at)
    result = []
    for step in workflow.steps:
        met_index = next(
            (i for i, s in enumerate(ordered) if kind_rank(s.kind) >= kind_rank(step.kind)), None
        )
        start = _anchor(step, anchors, met_index)
        due = start + timedelta(hours=step.offset_hours) if start else None
        if step.trigger == "request" and anchors.request_due_at is not None:
            due = anchors.request_due_at
        result.append(
            Deadline(
                kind=step.kind,
                trigger=step.trigger,
                offset_hours=step.offset_hours,
                due_at=due,
                met_at=ordered[met_index].submitted_at if met_index is not None else None,
            )
        )
    return result


def status(deadlines: Sequence[Deadline], submissions: Sequence[Submission], now: datetime) -> str:
    """``final`` once the final report is in; ``overdue`` while a due report is missing;
    otherwise the kind of the latest report, or ``requested`` before the first one."""
    kinds = [s.kind for s in sorted(submissions, key=lambda s: s.submitted_at)]
    if "final" in kinds:
        return "final"
    if any(d.overdue(now) for d in deadlines):
        return "overdue"
    return kinds[-1] if kinds else "requested"


def next_deadline(deadlines: Sequence[Deadline]) -> Deadline | None:
    """The earliest open deadline that is running."""
    open_ = [d for d in deadlines if not d.met and d.due_at is not None]
    return min(open_, key=lambda d: d.due_at or datetime.max) if open_ else None


@dataclass(frozen=True)
class Reminder:
    """A reminder that is due now: ``lead_hours`` before ``due_at`` (0: it is overdue)."""

    kind: str
    due_at: datetime
    lead_hours: float

    @property
    def overdue(self) -> bool:
        return self.lead_hours == 0

    def key(self, incident_id: int) -> str:
        return f"{incident_id}:{self.kind}:{self.due_at.isoformat()}:{self.lead_hours:g}"


def due_reminders(
    deadlines: Sequence[Deadline], before_hours: Sequence[float], now: datetime
) -> list[Reminder]:
    """For each open deadline, the most urgent reminder whose time has come.

    Only the smallest lead that applies is returned, so a job that ran late sends one
    reminder, not a burst; an overdue deadline gives one overdue notice (lead 0).
    """
    due: list[Reminder] = []
    for deadline in deadlines:
        if deadline.met or deadline.due_at is None:
            continue
        if now >= deadline.due_at:
            due.append(Reminder(deadline.kind, deadline.due_at, 0))
            continue
        leads = [h for h in before_hours if deadline.due_at - timedelta(hours=h) <= now]
        if leads:
            due.append(Reminder(deadline.kind, deadline.due_at, min(leads)))
    return due
