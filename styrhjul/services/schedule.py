"""When things happen around an instance: a dialog's slot and preparation window, step dates.

Preparation opens, steps fall due, are reminded and escalated on working days of the
Swedish calendar, at local times in the administration's zone, stored as instants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from styrhjul.calendar import SchoolYear, local_datetime
from styrhjul.engine.definition import CREATED, START, StepSpec, TimingSpec, WorkflowDefinition
from styrhjul.errors import InputError
from styrhjul.services.context import App

OPENS_AT = time(8, 0)
"""Preparation opens, reminders and escalations go out at the start of a working day."""
DUE_AT = time(16, 0)
"""A step is due at the end of its working day."""
HORIZON = timedelta(days=800)
"""How far ahead a dialog or meeting may be moved: two school years and some, as far as a
calendar listing reaches (and well inside what dates and time zones can represent)."""


@dataclass(frozen=True)
class StepTimes:
    """The instants a dialog's preparation runs on."""

    prepare_at: datetime
    steps: dict[str, tuple[datetime, datetime, datetime]]  # key -> (due, remind, escalate)


def due_times(
    app: App, timing: TimingSpec, anchor: datetime, offset: int, *, event: bool = True
) -> tuple[datetime, datetime, datetime]:
    """Due, reminder and first escalation of a step ``offset`` working days from ``anchor``.

    Before an event (``event``), the reminder never comes before preparation opens, and a
    step due on the event's own day is due by its start at the latest.
    """
    cal = app.calendar
    tz = app.clock.tz
    day = cal.shift_to_working_day(
        anchor.astimezone(tz).date(), "earlier" if event or offset <= 0 else "later"
    )
    due_day = cal.add_working_days(day, offset)
    remind_day = cal.add_working_days(due_day, -timing.remind_working_days_before_due)
    if event and timing.prepare_working_days_before is not None:
        remind_day = max(remind_day, cal.add_working_days(day, -timing.prepare_working_days_before))
    escalate_day = cal.add_working_days(due_day, timing.escalate_working_days_after_due)
    due_at = local_datetime(due_day, DUE_AT, tz)
    if event and offset == 0:
        due_at = min(due_at, anchor)
    return (
        due_at,
        local_datetime(remind_day, OPENS_AT, tz),
        local_datetime(escalate_day, OPENS_AT, tz),
    )


def step_anchor(
    step: StepSpec, *, starts_at: datetime | None, created_at: datetime, now: datetime
) -> datetime | None:
    """The instant a step's offset counts from: the event, the instance's creation, or now.

    None when the step counts from the event and the instance has no time: the caller
    names what is wrong in its own terms.
    """
    if step.anchor == START:
        return starts_at
    return created_at if step.anchor == CREATED else now


def require_within_horizon(app: App, starts_at: datetime, key: str = "starts_at") -> None:
    """Refuse a new time more than :data:`HORIZON` ahead (or behind): a typo, not a plan."""
    now = app.clock.now()
    if not now - HORIZON <= starts_at <= now + HORIZON:
        raise InputError(
            f"{starts_at.isoformat()} is more than {HORIZON.days} days from today", key=key
        )


def step_times(app: App, definition: WorkflowDefinition, starts_at: datetime) -> StepTimes:
    """When a dialog starting at ``starts_at`` opens preparation, and its steps' instants."""
    timing = definition.spec.timing
    day = app.calendar.shift_to_working_day(starts_at.astimezone(app.clock.tz).date(), "earlier")
    prepare_day = app.calendar.add_working_days(day, -definition.prepare_working_days)
    return StepTimes(
        local_datetime(prepare_day, OPENS_AT, app.clock.tz),
        {
            step.key: due_times(app, timing, starts_at, step.offset)
            for step in definition.steps_raised_in(None)
            if step.anchor == START
        },
    )


def invite_time(app: App, starts_at: datetime, working_days_ahead: int) -> datetime:
    """When the first invite to an event planned far ahead goes out: this long before it."""
    day = app.calendar.shift_to_working_day(starts_at.astimezone(app.clock.tz).date(), "earlier")
    return local_datetime(
        app.calendar.add_working_days(day, -working_days_ahead) if working_days_ahead else day,
        OPENS_AT,
        app.clock.tz,
    )


def round_window_start(app: App, year: SchoolYear, window_start: str) -> date:
    """The first working day on or after a round's window start ("MM-DD") in ``year``."""
    month, day = (int(part) for part in window_start.split("-"))
    return app.calendar.shift_to_working_day(year.date_for(month, day), "later")


class SlotFinder:
    """Hands out free meeting slots for one organiser, working day by working day.

    Units may open the same round on different days (their own cycles), so each request
    names the first day it may use; slots already taken on any day stay taken.
    """

    def __init__(self, app: App, definition: WorkflowDefinition) -> None:
        self.app = app
        self.slots = definition.slot_times()
        self.taken: set[datetime] = set()
        self.full_until: dict[date, date] = {}

    def take(self, instant: datetime) -> None:
        self.taken.add(instant)

    def next_free(self, first_day: date) -> datetime:
        day = self.full_until.get(first_day, first_day)
        while True:
            if self.app.calendar.is_working_day(day):
                for slot in self.slots:
                    candidate = local_datetime(day, slot, self.app.clock.tz)
                    if candidate not in self.taken:
                        self.taken.add(candidate)
                        self.full_until[first_day] = day
                        return candidate
            day += timedelta(days=1)
