"""A dry run of a period on a simulated clock: what Styrhjul would do, day by day.

An administration that changes its årshjul (definitions, dates, organisation) wants to see
what the engine and the notification rules will do before it goes live. :func:`simulate`
copies the whole database into a private SQLite file (:mod:`styrhjul.db.clone`), builds a
second :class:`App` on the copy with a :class:`FixedClock` and a :class:`RecordingTransport`
that keeps messages instead of sending them, walks the period calling the same
:func:`run_due` as the daemon's tick, and deletes the copy afterwards, also on error. The
real database is only read, and nothing is sent.

When it ticks: at midnight at the start of each day (date-driven rules, such as recurring
steps, fire on the first tick of their day, as under the daemon), then at each next instant
the copy says something is due: an instance's ``prepare_at``, a step's ``remind_at``,
``due_at`` or ``escalate_at``, a pending message's ``next_attempt_at`` (and a dialog's
``invite_at``, where the model has it: the first invite of a dialog planned a year
ahead). That is exact (every
notice goes out at the instant it falls due, as under a daemon ticking every few seconds)
and fast (a few ticks per working day, one on a quiet day), where ticking every hour would
be neither. The walk starts no earlier than the application's clock: what fell due before
now has been handled by the daemon already (days of the period before it pass quietly).
Nobody acts in a simulation, so it shows what happens when nobody ticks a step: every open
step goes overdue and is escalated.

The report per day lists instances created (new rows in the copy, with the audit trigger
that created them), moved (a ``postpone`` in the audit trail, or a raised
``ical_sequence``), other changes (each audited transition, overdue notices, steps due
with nobody holding them), messages sent and escalations. The report is a function of the
database, the definitions and the period: the same simulation twice gives the same report.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

from styrhjul.clock import Clock, FixedClock
from styrhjul.db.clone import clone_to_sqlite
from styrhjul.db.database import Database
from styrhjul.db.models import AuditEvent, ChecklistItem, Dialog, Instance, OutboxMessage
from styrhjul.errors import InputError
from styrhjul.services.context import App
from styrhjul.services.definitions import remember_definitions
from styrhjul.services.escalation import ESCALATION, notice_key
from styrhjul.services.runner import RunReport, run_due
from styrhjul.services.simulation_report import (
    Change,
    DayReport,
    Escalated,
    Sent,
    SimulationReport,
    classify_events,
    summarise,
)

MAX_YEARS = 2
"""The longest period a simulation walks."""
PERIOD_KEY = "--from/--to"
SCRATCH_PREFIX = "styrhjul-simulate-"


class RecordingTransport:
    """Keeps every message with the simulated instant it was handed over; sends nothing."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.sent: list[tuple[datetime, EmailMessage]] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append((self._clock.now(), message))

    def close(self) -> None:
        """Nothing to release; the recorded messages stay for the report."""


def check_period(first: date, last: date) -> None:
    """Refuse a period that ends before it begins or is longer than :data:`MAX_YEARS`."""
    if last < first:
        raise InputError(f"the period ends ({last}) before it begins ({first})", key=PERIOD_KEY)
    if last >= _years_after(first, MAX_YEARS):
        raise InputError(
            f"{first} to {last} is longer than {MAX_YEARS} years; simulate a shorter period",
            key=PERIOD_KEY,
        )


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28) + timedelta(days=1)


def simulate(
    app: App,
    first: date,
    last: date,
    *,
    before_day: Callable[[App, date], object] | None = None,
    progress: Callable[[date], None] | None = None,
    scratch: Path | None = None,
) -> SimulationReport:
    """Walk ``first`` to ``last`` (inclusive) on a copy of the database; see the module.

    ``before_day(sim_app, day)`` runs at the start of each day on the simulated application
    (to plan the next calendar year, say); ``progress(day)`` after each day. The copy lies
    in a new folder under ``scratch`` (default: the system's temporary folder).
    """
    check_period(first, last)
    folder = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=scratch))
    try:
        url = f"sqlite:///{folder / 'simulation.db'}"
        database = Database(url)
        event.listen(database.engine, "connect", _scratch_pragmas)
        try:
            clone_to_sqlite(app.db.engine.url, database.engine)
            tz = app.clock.tz
            clock = FixedClock(max(_midnight(first, app), app.clock.now()), tz)
            recorder = RecordingTransport(clock)
            sim = App(
                settings=replace(app.settings, database_url=url),
                clock=clock,
                db=database,
                transport=recorder,
                calendar=app.calendar,
                renderer=app.renderer,
                sender=app.sender,
                machines=dict(app.machines),
                older=app.older,
            )
            remember_definitions(sim)
            return _Walk(sim, clock, recorder).run(first, last, before_day, progress)
        finally:
            database.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _scratch_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """The copy is thrown away after the walk: no waiting for the disk on every commit."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


def _midnight(day: date, app: App) -> datetime:
    return datetime.combine(day, time(0), tzinfo=app.clock.tz)


class _Walk:
    """The day-by-day walk over the copy, and the bookkeeping that turns it into a report."""

    def __init__(self, app: App, clock: FixedClock, recorder: RecordingTransport) -> None:
        self.app = app
        self.clock = clock
        self.recorder = recorder
        self.ticks = 0
        self.unassigned_seen: set[int] = set()

    def run(
        self,
        first: date,
        last: date,
        before_day: Callable[[App, date], object] | None,
        progress: Callable[[date], None] | None,
    ) -> SimulationReport:
        days: list[DayReport] = []
        count = 0
        day = first
        while day <= last:
            report = self._day(day, before_day)
            count += 1
            if not report.quiet:
                days.append(report)
            if progress is not None:
                progress(day)
            day += timedelta(days=1)
        return summarise(first, last, days, count, self.ticks)

    def _day(self, day: date, before_day: Callable[[App, date], object] | None) -> DayReport:
        start, end = _midnight(day, self.app), _midnight(day + timedelta(days=1), self.app)
        if self.clock.now() < start:
            self.clock.set(start)
        with self.app.db.session() as session:
            audit_mark = session.scalar(select(func.max(AuditEvent.id))) or 0
            sequences = dict(session.execute(select(Instance.id, Instance.ical_sequence)).all())
        messages_mark = len(self.recorder.sent)
        if before_day is not None and self.clock.now() < end:
            before_day(self.app, day)
        runs: list[tuple[datetime, RunReport]] = []
        at: datetime | None = self.clock.now()
        while at is not None and at < end:
            self.clock.set(at)
            runs.append((self.clock.now(), run_due(self.app)))
            self.ticks += 1
            at = self._next_due(end)
        return self._report(day, audit_mark, sequences, messages_mark, runs)

    def _next_due(self, end: datetime) -> datetime | None:
        """The next instant after now and before ``end`` at which something may be due."""
        now = self.clock.now()
        open_step = ChecklistItem.done_at.is_(None)
        columns: list[tuple[Any, tuple[Any, ...]]] = [
            (Instance.prepare_at, ()),
            (ChecklistItem.remind_at, (open_step, ChecklistItem.reminded_at.is_(None))),
            (ChecklistItem.due_at, (open_step, ChecklistItem.overdue_notified_at.is_(None))),
            (ChecklistItem.escalate_at, (open_step,)),
            (OutboxMessage.next_attempt_at, (OutboxMessage.status == "pending",)),
        ]
        columns.append((Dialog.invite_at, ()))  # the first invite of a dialog planned ahead
        query = select(
            *(
                select(func.min(column))
                .where(column > now, column < end, *conditions)
                .scalar_subquery()
                for column, conditions in columns
            )
        )
        with self.app.db.session() as session:
            found = [value for value in session.execute(query).one() if value is not None]
        return min(found, default=None)

    def _report(
        self,
        day: date,
        audit_mark: int,
        sequences: dict[int, int],
        messages_mark: int,
        runs: list[tuple[datetime, RunReport]],
    ) -> DayReport:
        report = DayReport(day)
        with self.app.db.session() as session:
            instances = {
                row.id: row
                for row in session.execute(
                    select(
                        Instance.id,
                        Instance.kind,
                        Instance.key,
                        Instance.title,
                        Instance.starts_at,
                        Instance.ical_sequence,
                        Instance.created_at,
                        Instance.updated_at,
                    )
                )
            }
            events = list(
                session.scalars(
                    select(AuditEvent).where(AuditEvent.id > audit_mark).order_by(AuditEvent.id)
                )
            )
            classify_events(report, events, instances, sequences, self.app.clock.tz)
            self._notices(report, session, runs, instances)
            self._sent(report, session, self.recorder.sent[messages_mark:])
        for items in (report.created, report.moved, report.changes, report.escalated):
            items.sort(key=lambda item: item.at)
        return report

    def _notices(
        self,
        report: DayReport,
        session: Any,
        runs: list[tuple[datetime, RunReport]],
        instances: dict[int, Any],
    ) -> None:
        """Overdue notices, first sightings of unassigned steps, and escalations."""
        for at, run in runs:
            notices = run.notices
            fresh = [s for s in notices.unassigned if s not in self.unassigned_seen]
            self.unassigned_seen.update(fresh)
            unreachable = set(notices.unreachable)
            for step_id, what in [(s, "overdue") for s in notices.overdue] + [
                (s, "unassigned") for s in fresh
            ]:
                step = _step(session, step_id)
                who = step.assignee.email if step.assignee else f"nobody ({step.assignee_role})"
                inst = instances[step.instance_id]
                report.changes.append(
                    Change(at, inst.id, inst.kind, inst.title, what, f"{step.title} ({who})")
                )
            for step_id, level in notices.escalated:
                step = _step(session, step_id)
                to = None
                if (step_id, level) not in unreachable:
                    key = notice_key(ESCALATION, step, level)
                    recipient = session.scalar(
                        select(OutboxMessage.recipient).where(OutboxMessage.key == key)
                    )
                    to = parseaddr(recipient)[1] if recipient else None
                inst = instances[step.instance_id]
                report.escalated.append(
                    Escalated(at, step_id, step.title, inst.id, inst.title, level, to)
                )

    def _sent(
        self, report: DayReport, session: Any, sent: list[tuple[datetime, EmailMessage]]
    ) -> None:
        keys = [str(message["X-Styrhjul-Key"]) for _, message in sent]
        kinds = dict(
            session.execute(
                select(OutboxMessage.key, OutboxMessage.kind).where(OutboxMessage.key.in_(keys))
            ).all()
        )
        for (at, message), key in zip(sent, keys, strict=True):
            report.sent.append(
                Sent(
                    at,
                    kinds.get(key, "?"),
                    ", ".join(address for _, address in getaddresses([str(message["To"])])),
                    str(message["Subject"]),
                    str(message["Message-ID"]),
                )
            )


def _step(session: Any, step_id: int) -> ChecklistItem:
    step = session.get(ChecklistItem, step_id)
    assert step is not None, f"checklist step {step_id} vanished"  # steps are never deleted
    return step
