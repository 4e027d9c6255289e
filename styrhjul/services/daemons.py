"""The daemon's bookkeeping: who runs, what each job last did, which periods are done.

A daemon registers itself (``host:pid``, the name its claims carry), beats its heart every
``daemon.heartbeat_seconds`` and says when it stops. One whose heart has been silent for
``daemon.lost_after_seconds`` is *lost*: the others take over what it had claimed
(:func:`lost_workers` feeds :func:`styrhjul.services.outbox.recover_stale`).

Periodic work (the daily plan, the weekly digest) is claimed per period with an
``INSERT`` into ``period_run``, whose (job, period) is unique: of two daemons exactly one
wins, and a restart finds the period done. A claim held by a lost daemon, or one that
failed, may be taken over with a conditional ``UPDATE``.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from styrhjul import __version__
from styrhjul.db.models import OutboxMessage
from styrhjul.db.operations import DaemonJob, DaemonProcess, PeriodRun
from styrhjul.services.context import App


def this_host() -> str:
    return socket.gethostname()


def worker_name() -> str:
    """The name this process's claims carry: ``host:pid``."""
    return f"{this_host()}:{os.getpid()}"


def register_daemon(app: App, worker: str) -> None:
    """Record this daemon as running; a row of an earlier process of the same name is reused.

    (In a container the daemon is often pid 1 every time: the name repeats, the process
    does not.)
    """
    now = app.clock.now()
    host, _, pid = worker.rpartition(":")
    with app.db.session() as session:
        row = session.scalar(select(DaemonProcess).where(DaemonProcess.worker == worker))
        if row is None:
            row = DaemonProcess(worker=worker, host=host, pid=int(pid))
            session.add(row)
        row.version = __version__
        row.started_at = now
        row.heartbeat_at = now
        row.stopped_at = None
        row.stop_reason = None


def heartbeat(app: App, worker: str) -> None:
    """Say that ``worker`` is alive."""
    with app.db.session() as session:
        session.execute(
            update(DaemonProcess)
            .where(DaemonProcess.worker == worker)
            .values(heartbeat_at=app.clock.now())
        )


def unregister_daemon(app: App, worker: str, reason: str) -> None:
    """Record that ``worker`` stopped, and why."""
    now = app.clock.now()
    with app.db.session() as session:
        session.execute(
            update(DaemonProcess)
            .where(DaemonProcess.worker == worker)
            .values(heartbeat_at=now, stopped_at=now, stop_reason=reason[:200])
        )


def last_seen(app: App, *, other_than: str) -> datetime | None:
    """When any daemon but ``other_than`` was last alive: how long nobody ran."""
    with app.db.session() as session:
        return session.scalar(
            select(func.max(DaemonProcess.heartbeat_at)).where(DaemonProcess.worker != other_than)
        )


def lost_workers(session: Session, now: datetime, lost_after: timedelta) -> set[str]:
    """Workers whose claims nobody will finish: stopped, silent too long, or dead here.

    A daemon's row tells whether it stopped or went silent. Any claimant on this host
    (a daemon or a one-off ``styrhjul run``) whose process no longer exists is dead too.
    """
    claimants = {
        name
        for name in session.scalars(
            select(OutboxMessage.claimed_by)
            .where(OutboxMessage.status == "sending", OutboxMessage.claimed_by.is_not(None))
            .distinct()
        )
        if name is not None
    }
    if not claimants:
        return set()
    lost = set(
        session.scalars(
            select(DaemonProcess.worker).where(
                DaemonProcess.worker.in_(claimants),
                (DaemonProcess.stopped_at.is_not(None))
                | (DaemonProcess.heartbeat_at < now - lost_after),
            )
        )
    )
    lost.update(name for name in claimants - lost if gone_here(name))
    return lost


def gone_here(worker: str) -> bool:
    """Whether ``worker`` (``host:pid``) ran on this host in a process that no longer exists."""
    host, _, pid = worker.rpartition(":")
    return (
        host == this_host() and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid))
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def claim_period(app: App, job: str, period: str, due_at: datetime, worker: str) -> bool:
    """Claim ``job`` for ``period``; False when it is done or another live daemon has it."""
    now = app.clock.now()
    with app.db.session() as session:
        known = session.scalar(
            select(PeriodRun.status).where(PeriodRun.job == job, PeriodRun.period == period)
        )
    if known == "done":
        return False  # the common case of a check: one read, no write
    try:
        with app.db.session() as session:
            session.add(
                PeriodRun(
                    job=job,
                    period=period,
                    due_at=due_at,
                    worker=worker,
                    started_at=now,
                    status="running",
                    summary="",
                )
            )
        return True
    except IntegrityError:
        pass
    lost_after = timedelta(seconds=app.settings.daemon.lost_after_seconds)
    with app.db.session() as session:
        row = session.scalar(
            select(PeriodRun).where(PeriodRun.job == job, PeriodRun.period == period)
        )
        if row is None or row.status == "done":
            return False
        if row.status == "running" and row.worker != worker:
            holder = session.scalar(select(DaemonProcess).where(DaemonProcess.worker == row.worker))
            if holder is None:  # never registered: give it the silence a daemon gets
                alive = row.started_at >= now - lost_after
            else:
                alive = holder.stopped_at is None and holder.heartbeat_at >= now - lost_after
            if alive and not gone_here(row.worker):
                return False
        taken = session.execute(
            update(PeriodRun)
            .where(
                PeriodRun.id == row.id,
                PeriodRun.status == row.status,
                PeriodRun.worker == row.worker,
            )
            .values(worker=worker, started_at=now, status="running", finished_at=None)
        )
        return int(getattr(taken, "rowcount", 0) or 0) == 1


def finish_period(app: App, job: str, period: str, worker: str, *, ok: bool, summary: str) -> None:
    """Mark the claimed period done (or failed, so that a later run tries again)."""
    with app.db.session() as session:
        session.execute(
            update(PeriodRun)
            .where(PeriodRun.job == job, PeriodRun.period == period, PeriodRun.worker == worker)
            .values(
                status="done" if ok else "failed",
                finished_at=app.clock.now(),
                summary=summary[:2000],
            )
        )


def record_run(
    app: App,
    job: str,
    worker: str,
    *,
    started_at: datetime,
    ok: bool,
    summary: str,
    error: str | None = None,
) -> None:
    """Keep the last run of ``job`` (whichever daemon ran it) with its outcome."""
    values = {
        "last_worker": worker,
        "last_started_at": started_at,
        "last_finished_at": app.clock.now(),
        "last_status": "ok" if ok else "failed",
        "last_summary": summary[:2000],
        "last_error": error[:4000] if error else None,
    }
    counted = {"runs": DaemonJob.runs + 1, "failures": DaemonJob.failures + (0 if ok else 1)}
    for _ in range(2):
        try:
            with app.db.session() as session:
                changed = session.execute(
                    update(DaemonJob).where(DaemonJob.job == job).values(**values, **counted)
                )
                if not getattr(changed, "rowcount", 0):
                    session.add(DaemonJob(job=job, runs=1, failures=0 if ok else 1, **values))
            return
        except IntegrityError:
            continue  # another daemon added the row first: update it


@dataclass(frozen=True)
class DaemonRow:
    """One daemon as ``daemon status`` shows it."""

    worker: str
    host: str
    pid: int
    version: str
    state: str
    """``running``, ``stopped`` or ``lost`` (silent longer than ``lost_after_seconds``)."""
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    stop_reason: str | None


@dataclass(frozen=True)
class JobRow:
    """The last run of one job."""

    job: str
    last_worker: str
    last_started_at: datetime
    last_finished_at: datetime | None
    last_status: str
    last_summary: str
    last_error: str | None
    runs: int
    failures: int


@dataclass(frozen=True)
class PeriodRow:
    """The latest period of one periodic job."""

    job: str
    period: str
    status: str
    worker: str
    due_at: datetime
    started_at: datetime
    finished_at: datetime | None
    summary: str


@dataclass(frozen=True)
class DaemonStatus:
    """Whether daemons run, what each job last did, and the outbox's backlog."""

    daemons: list[DaemonRow]
    jobs: list[JobRow]
    periods: list[PeriodRow]
    outbox: dict[str, int]
    """Messages by status (``pending``, ``sending``, ``failed``) and ``due`` (pending, due now)."""
    oldest_due_at: datetime | None
    """The oldest pending message that is due: how far behind the drain is."""

    @property
    def running(self) -> list[DaemonRow]:
        return [d for d in self.daemons if d.state == "running"]

    @property
    def problems(self) -> list[str]:
        """What a monitoring probe (``daemon status --check``) must hear about.

        No daemon runs, one went silent, a job's last run failed, or a message failed for good.
        """
        problems = []
        if not self.running:
            problems.append("no daemon is running")
        problems.extend(
            f"{d.worker} has been silent since {d.heartbeat_at.isoformat()}"
            for d in self.daemons
            if d.state == "lost"
        )
        problems.extend(
            f"job {j.job} failed on its last run: {j.last_error}"
            for j in self.jobs
            if j.last_status == "failed"
        )
        if self.outbox["failed"]:
            problems.append(
                f"{self.outbox['failed']} message(s) failed for good: styrhjul outbox list"
                " --status failed"
            )
        return problems


def daemon_status(app: App, *, stopped_for: timedelta = timedelta(days=7)) -> DaemonStatus:
    """The daemons seen in the last ``stopped_for``, their jobs, and the outbox backlog."""
    now = app.clock.now()
    lost_after = timedelta(seconds=app.settings.daemon.lost_after_seconds)
    with app.db.session() as session:
        daemons = [
            DaemonRow(
                d.worker,
                d.host,
                d.pid,
                d.version,
                _state(d, now, lost_after),
                d.started_at,
                d.heartbeat_at,
                d.stopped_at,
                d.stop_reason,
            )
            for d in session.scalars(
                select(DaemonProcess)
                .where(DaemonProcess.heartbeat_at >= now - stopped_for)
                .order_by(DaemonProcess.started_at, DaemonProcess.worker)
            )
        ]
        jobs = [
            JobRow(
                j.job,
                j.last_worker,
                j.last_started_at,
                j.last_finished_at,
                j.last_status,
                j.last_summary,
                j.last_error,
                j.runs,
                j.failures,
            )
            for j in session.scalars(select(DaemonJob).order_by(DaemonJob.job))
        ]
        latest = (
            select(PeriodRun.job, func.max(PeriodRun.started_at).label("started"))
            .group_by(PeriodRun.job)
            .subquery()
        )
        periods = [
            PeriodRow(
                p.job,
                p.period,
                p.status,
                p.worker,
                p.due_at,
                p.started_at,
                p.finished_at,
                p.summary,
            )
            for p in session.scalars(
                select(PeriodRun)
                .join(
                    latest,
                    (PeriodRun.job == latest.c.job) & (PeriodRun.started_at == latest.c.started),
                )
                .order_by(PeriodRun.job)
            )
        ]
        counts = dict(
            session.execute(
                select(OutboxMessage.status, func.count())
                .where(OutboxMessage.status != "sent")
                .group_by(OutboxMessage.status)
            ).all()
        )
        due = session.execute(
            select(func.count(), func.min(OutboxMessage.next_attempt_at)).where(
                OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now
            )
        ).one()
    outbox = {status: int(counts.get(status, 0)) for status in ("pending", "sending", "failed")}
    outbox["due"] = int(due[0])
    return DaemonStatus(daemons, jobs, periods, outbox, due[1])


def _state(row: DaemonProcess, now: datetime, lost_after: timedelta) -> str:
    if row.stopped_at is not None:
        return "stopped"
    return "running" if row.heartbeat_at >= now - lost_after else "lost"
