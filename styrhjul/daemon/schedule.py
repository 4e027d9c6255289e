"""The daemon's timetable: which job runs when, as data, and the periods of periodic work.

Every job is named by text (``module:function``, STYLE.md practice 5) with an APScheduler 3
trigger in Europe/Stockholm. The frequent ones (tick, drain, heartbeat) run on intervals;
the periodic ones (the daily plan, the weekly digest) on cron triggers at a local time that
config refuses between 02:00 and 03:00, the hour that does not exist on the last Sunday of
March and comes twice on the last Sunday of October.

A periodic job is done once per *period*: the local date of the daily plan, the ISO week of
the digest. :func:`last_due` gives the latest scheduled instant at or before ``now`` and
its period key, which is what a daemon claims (``period_run``); so a run after downtime
catches up the missed period once, and a second daemon or a repeated fire finds it done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from styrhjul.calendar import local_datetime
from styrhjul.config import Settings
from styrhjul.errors import InputError

TICK, DRAIN, HEARTBEAT, PLAN, DIGEST = "tick", "drain", "heartbeat", "plan", "digest"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Periodic:
    """When a periodic job is due: every day, or one day a week, at a local time."""

    every: Literal["day", "week"]
    at: time
    weekday: int = 0
    """Monday is 0; only for ``every = "week"``."""

    def period(self, due: datetime) -> str:
        """The key of the period a due instant belongs to."""
        if self.every == "day":
            return due.date().isoformat()
        iso = due.date().isocalendar()
        return f"{iso.year}-W{iso.week:02d}"

    def due_on(self, day: date, tz: ZoneInfo) -> datetime:
        """The instant it is due on ``day`` (whether or not that is one of its days).

        Config keeps ``at`` out of 02:00-02:59; should one get there anyway, a wall time
        skipped in March is taken an hour later, as APScheduler's cron trigger fires it,
        rather than leaving the day without a due instant.
        """
        try:
            return local_datetime(day, self.at, tz)
        except InputError:
            skipped = datetime.combine(day, self.at, tzinfo=tz)
            return skipped.astimezone(UTC).astimezone(tz)


@dataclass(frozen=True)
class JobSpec:
    """One job of the timetable."""

    name: str
    func: str
    """``module:function``, resolved by APScheduler."""
    trigger: BaseTrigger
    executor: str = "default"
    periodic: Periodic | None = None
    description: str = ""


def _hhmm(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def timetable(settings: Settings) -> list[JobSpec]:
    """The daemon's jobs for ``settings``, periodic ones first (the order of a catch-up)."""
    d = settings.daemon
    tz = settings.tz
    plan = Periodic("day", _hhmm(d.plan_at))
    digest = Periodic("week", _hhmm(d.digest_at), WEEKDAYS.index(d.digest_day))
    return [
        JobSpec(
            PLAN,
            "styrhjul.daemon.jobs:plan",
            CronTrigger(hour=plan.at.hour, minute=plan.at.minute, timezone=tz),
            periodic=plan,
            description=f"daily at {d.plan_at}: keep this year (from 1 Nov the next) planned",
        ),
        JobSpec(
            DIGEST,
            "styrhjul.daemon.jobs:digest",
            CronTrigger(
                day_of_week=d.digest_day,
                hour=digest.at.hour,
                minute=digest.at.minute,
                timezone=tz,
            ),
            periodic=digest,
            description=f"{d.digest_day} at {d.digest_at}: the directors' weekly digest",
        ),
        JobSpec(
            TICK,
            "styrhjul.daemon.jobs:tick",
            IntervalTrigger(seconds=d.tick_seconds, timezone=tz),
            description=f"every {d.tick_seconds} s: invites, preparations, reminders, escalations",
        ),
        JobSpec(
            DRAIN,
            "styrhjul.daemon.jobs:drain",
            IntervalTrigger(seconds=d.drain_seconds, timezone=tz),
            description=f"every {d.drain_seconds} s: send the outbox",
        ),
        JobSpec(
            HEARTBEAT,
            "styrhjul.daemon.jobs:heartbeat",
            IntervalTrigger(seconds=d.heartbeat_seconds, timezone=tz),
            executor="heartbeat",
            description=f"every {d.heartbeat_seconds} s: say this daemon is alive",
        ),
    ]


def last_due(periodic: Periodic, now: datetime, tz: ZoneInfo) -> datetime:
    """The latest instant at or before ``now`` at which ``periodic`` was scheduled."""
    day = now.astimezone(tz).date()
    for back in range(8):
        candidate = day - timedelta(days=back)
        if periodic.every == "week" and candidate.weekday() != periodic.weekday:
            continue
        due = periodic.due_on(candidate, tz)
        # In UTC: aware datetimes of one zone compare by wall time, which is wrong in the
        # hour that October repeats and for a wall time March skips.
        if due.astimezone(UTC) <= now.astimezone(UTC):
            return due
    raise AssertionError("unreachable: a day or a week always has a due instant")
