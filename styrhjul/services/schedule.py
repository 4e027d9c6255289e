"""When things happen around a dialog: its slot, its preparation window, its steps' dates.

Preparation opens, steps fall due, are reminded and escalated on working days of the
Swedish calendar, at local times in the administration's zone, stored as instants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from styrhjul.calendar import SchoolYear, local_datetime
from styrhjul.engine.definition import RoundSpec, WorkflowDefinition
from styrhjul.services.context import App

OPENS_AT = time(8, 0)
"""Preparation opens, reminders and escalations go out at the start of a working day."""
DUE_AT = time(16, 0)
"""A step is due at the end of its working day."""


@dataclass(frozen=True)
class StepTimes:
    """The instants a dialog's preparation runs on."""

    prepare_at: datetime
    steps: dict[str, tuple[datetime, datetime, datetime]]  # key -> (due, remind, escalate)


def step_times(app: App, definition: WorkflowDefinition, starts_at: datetime) -> StepTimes:
    cal = app.calendar
    tz = app.clock.tz
    timing = definition.spec.timing
    day = cal.shift_to_working_day(starts_at.astimezone(tz).date(), "earlier")
    prepare_day = cal.add_working_days(day, -timing.prepare_working_days_before)
    steps = {}
    for step in definition.spec.step:
        due_day = cal.add_working_days(day, -step.due_working_days_before)
        remind_day = max(
            cal.add_working_days(due_day, -timing.remind_working_days_before_due), prepare_day
        )
        escalate_day = cal.add_working_days(due_day, timing.escalate_working_days_after_due)
        due_at = local_datetime(due_day, DUE_AT, tz)
        if step.due_working_days_before == 0:
            due_at = min(due_at, starts_at)
        steps[step.key] = (
            due_at,
            local_datetime(remind_day, OPENS_AT, tz),
            local_datetime(escalate_day, OPENS_AT, tz),
        )
    return StepTimes(local_datetime(prepare_day, OPENS_AT, tz), steps)


def round_window_start(app: App, year: SchoolYear, spec: RoundSpec) -> date:
    """The first working day on or after the round's window start in ``year``."""
    month, day = (int(part) for part in spec.window_start.split("-"))
    return app.calendar.shift_to_working_day(year.date_for(month, day), "later")


class SlotFinder:
    """Hands out free meeting slots for one organiser, working day by working day."""

    def __init__(self, app: App, definition: WorkflowDefinition, first_day: date) -> None:
        self.app = app
        self.slots = definition.slot_times()
        self.day = first_day
        self.taken: set[datetime] = set()

    def take(self, instant: datetime) -> None:
        self.taken.add(instant)

    def next_free(self) -> datetime:
        while True:
            if self.app.calendar.is_working_day(self.day):
                for slot in self.slots:
                    candidate = local_datetime(self.day, slot, self.app.clock.tz)
                    if candidate not in self.taken:
                        self.taken.add(candidate)
                        return candidate
            self.day += timedelta(days=1)
