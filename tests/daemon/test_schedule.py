"""The timetable across both daylight-saving changes: every job acts once, at the right time.

APScheduler 3's triggers are pure functions of time (``get_next_fire_time(previous, now)``),
so the real triggers of :func:`~styrhjul.daemon.schedule.timetable` are walked over the
weeks around each change without sleeping, the way the scheduler walks them: after a fire
at ``t`` it asks for the next one with ``previous = now = t``. The real jobs are then run
at each computed instant on a :class:`~styrhjul.clock.FixedClock`, plus a repeated fire
per period, and the database must show each period done once.

What APScheduler 3.11 itself does with a cron job at 02:30 in Europe/Stockholm (observed
here, see :func:`test_apscheduler_fires_a_0230_job_twice_in_october_and_an_hour_late_in_march`):

* on the last Sunday of October (2027-10-31) it fires **twice**, at 02:30+02:00
  (00:30 UTC) and again at 02:30+01:00 (01:30 UTC), since that wall time occurs twice;
* on the last Sunday of March (2027-03-28) it fires at the wall time that does not exist,
  which comes out as 01:30 UTC, that is **03:30+02:00**, an hour later than configured.

Styrhjul guards against both: config refuses 02:00-02:59 for ``plan_at``/``digest_at``,
and a periodic job claims its period (``period_run``) before it acts, so a repeated fire
finds the period done and does nothing.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from copy import copy
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from support import write_config

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.config import Settings, load_settings
from styrhjul.daemon import jobs
from styrhjul.daemon.runtime import Runtime
from styrhjul.daemon.schedule import (
    DIGEST,
    DRAIN,
    HEARTBEAT,
    PLAN,
    TICK,
    JobSpec,
    Periodic,
    last_due,
    timetable,
)
from styrhjul.db.models import OutboxMessage
from styrhjul.db.operations import DaemonJob, PeriodRun
from styrhjul.errors import ConfigError
from styrhjul.services.context import App

CET, CEST = timedelta(hours=1), timedelta(hours=2)


def last_sunday(year: int, month: int) -> date:
    """The last Sunday of ``month``: the EU changes its clocks then (at 01:00 UTC)."""
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def summer(day: date) -> bool:
    """Whether the wall clocks of ``day`` after 03:00 show summer time (UTC+2)."""
    return last_sunday(day.year, 3) <= day < last_sunday(day.year, 10)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def fires(trigger: BaseTrigger, start: datetime, end: datetime) -> Iterator[datetime]:
    """The fire times of ``trigger`` from ``start`` up to ``end``, as the scheduler finds them."""
    previous: datetime | None = None
    now = start
    while True:
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None or fire > end:
            return
        yield fire
        previous = now = fire


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


@pytest.fixture
def settings_only(tmp_path: Path) -> Settings:
    """Settings with the default [daemon] table (plan 05:30, digest Monday 07:00)."""
    return load_settings(write_config(tmp_path, f"sqlite:///{tmp_path}/unused.db"), environ={})


def specs(settings: Settings) -> dict[str, JobSpec]:
    return {spec.name: spec for spec in timetable(settings)}


# --- the triggers alone --------------------------------------------------------------------

WINDOWS = [
    pytest.param(date(2026, 3, 21), date(2026, 4, 6), id="spring-2026"),
    pytest.param(date(2026, 10, 18), date(2026, 11, 2), id="autumn-2026"),
    pytest.param(date(2027, 3, 20), date(2027, 4, 5), id="spring-2027"),
    pytest.param(date(2027, 10, 24), date(2027, 11, 5), id="autumn-2027"),
]


@pytest.mark.parametrize(("first", "last"), WINDOWS)
def test_periodic_triggers_fire_once_a_period_at_the_local_time(
    settings_only: Settings, first: date, last: date
) -> None:
    jobs_ = specs(settings_only)
    start, end = local(first.year, first.month, first.day), local(last.year, last.month, last.day)
    end += timedelta(days=1)

    plans = list(fires(jobs_[PLAN].trigger, start, end))
    assert [f.date() for f in plans] == days(first, last)
    for fire in plans:
        assert (fire.hour, fire.minute, fire.second) == (5, 30, 0), fire
        assert fire.utcoffset() == (CEST if summer(fire.date()) else CET), fire

    digests = list(fires(jobs_[DIGEST].trigger, start, end))
    mondays = [d for d in days(first, last) if d.weekday() == 0]
    assert [f.date() for f in digests] == mondays
    assert len(mondays) >= 2
    for fire in digests:
        assert (fire.hour, fire.minute) == (7, 0), fire
        assert fire.utcoffset() == (CEST if summer(fire.date()) else CET), fire

    for fire in plans + digests:
        assert not 2 <= fire.hour < 3, fire
        # The instant is the wall time it claims to be: no fire in a gap or a fold.
        assert fire.astimezone(UTC).astimezone(STOCKHOLM).replace(tzinfo=None) == (
            fire.replace(tzinfo=None)
        )


@pytest.mark.parametrize(
    "change",
    [local(2026, 3, 29), local(2026, 10, 25), local(2027, 3, 28), local(2027, 10, 31)],
    ids=str,
)
def test_interval_triggers_keep_real_time_across_the_change(
    tmp_path: Path, change: datetime
) -> None:
    """Tick, drain and heartbeat count seconds, not wall time: no gap, no double hour."""
    path = write_config(tmp_path, f"sqlite:///{tmp_path}/unused.db")
    with path.open("a", encoding="utf-8") as config:
        config.write("\n[daemon]\ntick_seconds = 300\ndrain_seconds = 120\n")
    jobs_ = specs(load_settings(path, environ={}))
    start, end = change, change + timedelta(hours=5)
    for name, seconds in ((TICK, 300), (DRAIN, 120), (HEARTBEAT, 10)):
        # An interval trigger starts when it is made; this one as if made at ``start``.
        trigger = copy(jobs_[name].trigger)
        assert isinstance(trigger, IntervalTrigger)
        trigger.start_date = start
        times = [f.astimezone(UTC) for f in fires(trigger, start, end)]
        gaps = {b - a for a, b in itertools.pairwise(times)}
        assert gaps == {timedelta(seconds=seconds)}, name
        # 5 hours of wall time on the change night are 4 (spring) or 6 (autumn) real hours.
        real = (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()
        assert len(times) in {int(real // seconds), int(real // seconds) + 1}, name


# --- the real jobs at those instants ---------------------------------------------------------


def runtime_for(app: App) -> Runtime:
    runtime = Runtime(app, logging.getLogger("styrhjul.test.schedule"))
    runtime.jobs = specs(app.settings)
    return runtime


def test_jobs_act_once_per_period_across_both_changes(
    app: App, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Autumn 2026 (with 1 November, when next year is planned too) and spring 2027.

    At every fire of the plan and digest triggers the real job runs, then again at the same
    instant and an hour later (what APScheduler's double fire in October would do). Each
    period is then done exactly once. (No tick here: on a whole year's overdue steps one
    takes seconds; the daemon's process tests run ticks.)
    """
    caplog.set_level(logging.INFO, logger="styrhjul.test.schedule")
    runtime = runtime_for(app)
    windows = [(local(2026, 10, 19), local(2026, 11, 3)), (local(2027, 3, 22), local(2027, 4, 6))]
    plan_days: list[date] = []
    weeks: list[str] = []
    for start, end in windows:
        timeline = sorted(
            [(f, PLAN) for f in fires(runtime.jobs[PLAN].trigger, start, end)]
            + [(f, DIGEST) for f in fires(runtime.jobs[DIGEST].trigger, start, end)]
        )
        for fire, job in timeline:
            clock.set(fire)
            act = jobs.plan if job == PLAN else jobs.digest
            act(runtime)
            act(runtime)  # a second fire at the same instant
            clock.set(fire + timedelta(hours=1))
            act(runtime)  # the autumn's repeated hour, an hour later in real time
            if job == PLAN:
                plan_days.append(fire.date())
            else:
                iso = fire.isocalendar()
                weeks.append(f"{iso.year}-W{iso.week:02d}")
    assert date(2026, 10, 25) in plan_days
    assert date(2027, 3, 28) in plan_days
    assert len(weeks) == 6  # three Mondays in each window

    with app.db.session() as session:
        periods = session.execute(
            select(PeriodRun.job, PeriodRun.period, PeriodRun.status, PeriodRun.due_at)
        ).all()
        ran = {j.job: (j.runs, j.failures) for j in session.scalars(select(DaemonJob))}
        digest_keys = session.scalars(
            select(OutboxMessage.key).where(OutboxMessage.key.like("digest:%"))
        ).all()
    assert sorted((p.job, p.period) for p in periods) == sorted(
        [(PLAN, d.isoformat()) for d in plan_days] + [(DIGEST, w) for w in weeks]
    )
    assert {p.status for p in periods} == {"done"}
    for p in periods:
        due = p.due_at.astimezone(STOCKHOLM)
        assert (due.hour, due.minute) == ((5, 30) if p.job == PLAN else (7, 0)), p
    # keep_planned ran once per day; the digest once per week.
    assert ran[PLAN] == (len(plan_days), 0)
    assert ran[DIGEST] == (len(weeks), 0)
    assert TICK not in ran

    by_week: dict[str, list[str]] = {}
    for key in digest_keys:
        _, week, email = key.split(":", 2)
        by_week.setdefault(week, []).append(email)
    assert sorted(by_week) == sorted(weeks)
    directors = by_week[weeks[0]]
    assert directors
    assert len(set(directors)) == len(directors)
    assert all(sorted(emails) == sorted(directors) for emails in by_week.values())

    # On time, nothing was a catch-up: late work is the only thing logged as one.
    assert not [r for r in caplog.records if r.getMessage() == "job.catch-up"]


def test_apscheduler_fires_a_0230_job_twice_in_october_and_an_hour_late_in_march(
    empty_app: App, clock: FixedClock
) -> None:
    """What the config's refusal of 02:00-02:59 prevents, and what the claims absorb."""
    at = time(2, 30)
    trigger = CronTrigger(hour=2, minute=30, timezone=STOCKHOLM)
    october = list(fires(trigger, local(2027, 10, 30, 12), local(2027, 11, 1)))
    assert [f.astimezone(UTC) for f in october] == [
        datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
        datetime(2027, 10, 31, 1, 30, tzinfo=UTC),
    ]
    assert [f.utcoffset() for f in october] == [CEST, CET]
    march = list(fires(trigger, local(2027, 3, 27, 12), local(2027, 3, 29)))
    assert [f.astimezone(UTC) for f in march] == [datetime(2027, 3, 28, 1, 30, tzinfo=UTC)]
    wall = march[0].astimezone(UTC).astimezone(STOCKHOLM)
    assert (wall.hour, wall.minute, wall.utcoffset()) == (3, 30, CEST)

    # A job at 02:30 that got past the config anyway: each fire claims the day's period.
    runtime = runtime_for(empty_app)
    runtime.jobs[PLAN] = JobSpec(
        PLAN, "styrhjul.daemon.jobs:plan", trigger, periodic=Periodic("day", at)
    )
    acted: list[tuple[datetime, datetime]] = []

    def work(due: datetime) -> dict[str, object]:
        acted.append((empty_app.clock.now().astimezone(UTC), due.astimezone(UTC)))
        return {"acted": 1}

    for fire in [*march, *october]:
        clock.set(fire)
        runtime.periodic(PLAN, work)
    utc = [f.astimezone(UTC) for f in (march[0], october[0])]
    assert acted == [(utc[0], utc[0]), (utc[1], utc[1])]
    with empty_app.db.session() as session:
        rows = session.execute(select(PeriodRun.period, PeriodRun.status)).all()
    assert sorted(rows) == [("2027-03-28", "done"), ("2027-10-31", "done")]


# --- last_due ------------------------------------------------------------------------------

DAILY = Periodic("day", time(5, 30))
MONDAY = Periodic("week", time(7, 0), weekday=0)
SUNDAY = Periodic("week", time(7, 0), weekday=6)


@pytest.mark.parametrize(
    ("periodic", "now", "due", "period"),
    [
        # daily, across the spring change (28 March 2027)
        (DAILY, local(2027, 3, 28, 5, 29), local(2027, 3, 27, 5, 30), "2027-03-27"),
        (DAILY, local(2027, 3, 28, 5, 30), local(2027, 3, 28, 5, 30), "2027-03-28"),
        (DAILY, local(2027, 3, 28, 1, 59), local(2027, 3, 27, 5, 30), "2027-03-27"),
        # ... given in UTC: 03:29 UTC is 05:29 summer time, before the day's due instant
        (
            DAILY,
            datetime(2027, 3, 28, 3, 29, tzinfo=UTC),
            local(2027, 3, 27, 5, 30),
            "2027-03-27",
        ),
        (
            DAILY,
            datetime(2027, 3, 28, 3, 30, tzinfo=UTC),
            local(2027, 3, 28, 5, 30),
            "2027-03-28",
        ),
        # daily, across the autumn change (31 October 2027), in the repeated hour too
        (
            DAILY,
            datetime(2027, 10, 31, 1, 30, tzinfo=UTC),
            local(2027, 10, 30, 5, 30),
            "2027-10-30",
        ),
        (DAILY, local(2027, 10, 31, 5, 30), local(2027, 10, 31, 5, 30), "2027-10-31"),
        (DAILY, local(2027, 11, 1, 0, 0), local(2027, 10, 31, 5, 30), "2027-10-31"),
        # weekly on Monday: before and after the due time on the day, and later in the week
        (MONDAY, local(2027, 3, 29, 6, 59), local(2027, 3, 22, 7, 0), "2027-W12"),
        (MONDAY, local(2027, 3, 29, 7, 0), local(2027, 3, 29, 7, 0), "2027-W13"),
        (MONDAY, local(2027, 3, 28, 23, 59), local(2027, 3, 22, 7, 0), "2027-W12"),
        (MONDAY, local(2027, 4, 2, 12, 0), local(2027, 3, 29, 7, 0), "2027-W13"),
        # weekly on the change Sunday itself
        (SUNDAY, local(2027, 10, 31, 6, 59), local(2027, 10, 24, 7, 0), "2027-W42"),
        (SUNDAY, local(2027, 10, 31, 7, 0), local(2027, 10, 31, 7, 0), "2027-W43"),
        (SUNDAY, local(2027, 3, 28, 7, 0), local(2027, 3, 28, 7, 0), "2027-W12"),
        # the ISO week 2026-W53 (28 Dec 2026 - 3 Jan 2027) across New Year
        (MONDAY, local(2026, 12, 28, 7, 0), local(2026, 12, 28, 7, 0), "2026-W53"),
        (MONDAY, local(2027, 1, 1, 0, 0), local(2026, 12, 28, 7, 0), "2026-W53"),
        (MONDAY, local(2027, 1, 3, 23, 59), local(2026, 12, 28, 7, 0), "2026-W53"),
        (MONDAY, local(2027, 1, 4, 6, 59), local(2026, 12, 28, 7, 0), "2026-W53"),
        (MONDAY, local(2027, 1, 4, 7, 0), local(2027, 1, 4, 7, 0), "2027-W01"),
        (SUNDAY, local(2027, 1, 3, 7, 0), local(2027, 1, 3, 7, 0), "2026-W53"),
        (SUNDAY, local(2027, 1, 3, 6, 0), local(2026, 12, 27, 7, 0), "2026-W52"),
        (DAILY, local(2027, 1, 1, 5, 0), local(2026, 12, 31, 5, 30), "2026-12-31"),
    ],
)
def test_last_due(periodic: Periodic, now: datetime, due: datetime, period: str) -> None:
    got = last_due(periodic, now, STOCKHOLM)
    assert got == due
    assert got.utcoffset() == due.utcoffset()
    assert periodic.period(got) == period


# --- the config keeps periodic jobs out of the changing hour ---------------------------------


@pytest.mark.parametrize(
    ("key", "value"), [("plan_at", "02:30"), ("digest_at", "02:00"), ("plan_at", "02:59")]
)
def test_config_refuses_the_hour_of_the_change(tmp_path: Path, key: str, value: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[general]\ntimezone = "Europe/Stockholm"\n\n'
        f'[daemon]\ntick_seconds = 5\n{key} = "{value}"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    err = info.value
    assert (err.file, err.line, err.key) == (str(path), 6, f"daemon.{key}")
    assert str(err).startswith(f"{path}:6: daemon.{key}: ")
    assert value in str(err)
    assert "02:00-02:59" in str(err)


@pytest.mark.parametrize("value", ["01:59", "03:00", "00:00", "23:59"])
def test_config_takes_times_outside_that_hour(tmp_path: Path, value: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[daemon]\nplan_at = "{value}"\ndigest_at = "{value}"\n', encoding="utf-8")
    settings = load_settings(path, environ={})
    assert settings.daemon.plan_at == settings.daemon.digest_at == value
    plan = specs(settings)[PLAN]
    assert plan.periodic is not None
    assert plan.periodic.at.isoformat("minutes") == value


def test_the_tick_does_a_period_no_fire_did_once(app: App, clock: FixedClock) -> None:
    """A trial daemon's clock (``--now``) is not the machine's, so its cron fires come at
    the machine's 05:30; the tick looks, and does each period once when its time comes."""
    runtime = runtime_for(app)
    clock.set(local(2026, 9, 2, 5, 0))  # Wednesday, before 05:30: the period of 1 September
    jobs.tick(runtime)
    jobs.tick(runtime)
    clock.set(local(2026, 9, 2, 5, 31))
    jobs.tick(runtime)
    jobs.tick(runtime)
    with app.db.session() as session:
        periods = sorted(session.execute(select(PeriodRun.job, PeriodRun.period)).all())
        runs = {j.job: j.runs for j in session.scalars(select(DaemonJob))}
    assert periods == [
        (DIGEST, "2026-W36"),
        (PLAN, "2026-09-01"),
        (PLAN, "2026-09-02"),
    ]
    assert runs[PLAN] == 2
    assert runs[DIGEST] == 1
    assert runs[TICK] == 4
