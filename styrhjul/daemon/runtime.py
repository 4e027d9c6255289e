"""The daemon process: lock, register, catch up, run the timetable, stop gracefully.

Start-up, in order:

1. On SQLite, take the single-daemon lock (:mod:`styrhjul.db.lock`); a second daemon exits with 8.
2. Register (``daemon_process``) and log how long no daemon ran.
3. Catch up, in the main thread and in order: each periodic job whose latest period is not
   done runs once now; then one tick and one drain process everything that fell due
   while no daemon ran (oldest first; see ``services.escalation``). Nothing runs twice: the
   database says what is done.
4. Start APScheduler 3 (Europe/Stockholm) with the timetable of :mod:`.schedule`: one
   worker thread for the jobs, so they never race each other in this process, and one for
   the heartbeat, so a long job does not make the daemon look dead.

SIGTERM or SIGINT sets the stop flag: every loop of the service layer asks it between units
of work, so the running job finishes the message or transition in hand and returns;
the scheduler shuts down waiting for it, the daemon records that it stopped, and exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from time import perf_counter
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from styrhjul.daemon.logs import log
from styrhjul.daemon.schedule import DRAIN, TICK, JobSpec, last_due, timetable
from styrhjul.db.lock import sqlite_lock
from styrhjul.services.context import App
from styrhjul.services.daemons import (
    claim_period,
    finish_period,
    last_seen,
    record_run,
    register_daemon,
    unregister_daemon,
    worker_name,
)

INFO, WARNING, ERROR = logging.INFO, logging.WARNING, logging.ERROR


@dataclass
class Runtime:
    """What every job gets: the app, this daemon's name, its logger and its stop flag."""

    app: App
    logger: logging.Logger
    worker: str = field(default_factory=worker_name)
    stopping: threading.Event = field(default_factory=threading.Event)
    jobs: dict[str, JobSpec] = field(default_factory=dict)
    stop_reason: str = ""
    """The signal that asked this daemon to stop, once one has."""
    settled: dict[str, str] = field(default_factory=dict)
    """The period of each periodic job this daemon last tried or found done."""
    catching_up: bool = False
    """True during the catch-up at start, whose runs are logged even when idle."""

    def stop_requested(self) -> bool:
        return self.stopping.is_set()

    def run(self, job: str, work: Callable[[], dict[str, Any]], **context: Any) -> bool:
        """Run ``work``, log what it did (when it did something) and record the run."""
        if self.stop_requested():
            return False
        started = self.app.clock.now()
        began = perf_counter()
        try:
            summary = work()
        except Exception as error:
            elapsed = round((perf_counter() - began) * 1000, 1)
            log(self.logger, ERROR, "job.failed", job=job, ms=elapsed, error=repr(error), **context)
            self._record(job, started, ok=False, summary={}, error=repr(error))
            return False
        elapsed = round((perf_counter() - began) * 1000, 1)
        if self.catching_up:
            context.setdefault("catch_up", True)
        # An idle tick or drain says nothing; the catch-up always says what it did.
        if any(summary.get(k) for k in summary if k != "window_seconds") or context:
            log(self.logger, INFO, "job.done", job=job, ms=elapsed, **context, **summary)
        self._record(job, started, ok=True, summary=summary)
        return True

    def quietly(self, job: str, work: Callable[[], object]) -> None:
        """Run ``work``; log only a failure (the heartbeat)."""
        try:
            work()
        except Exception as error:
            log(self.logger, WARNING, "job.failed", job=job, error=repr(error))

    def periodic(
        self, job: str, work: Callable[[datetime], dict[str, Any]], *, check: bool = False
    ) -> None:
        """Do ``job`` for its latest due period, if no daemon has done it yet.

        ``check`` is the tick's look (see ``jobs.tick``): a period this daemon has already
        tried, or found done, is not tried again until its own fire or a restart, so the
        check costs nothing and a failing job is not retried every tick.
        """
        if self.stop_requested():
            return
        spec = self.jobs[job]
        assert spec.periodic is not None
        now = self.app.clock.now()
        due = last_due(spec.periodic, now, self.app.settings.tz)
        period = spec.periodic.period(due)
        if check and self.settled.get(job) == period:
            return
        self.settled[job] = period
        try:
            if not claim_period(self.app, job, period, due, self.worker):
                return
        except Exception as error:
            log(self.logger, ERROR, "job.failed", job=job, period=period, error=repr(error))
            return
        late = now - due
        context: dict[str, Any] = {"period": period}
        if late > timedelta(seconds=2 * self.app.settings.daemon.tick_seconds):
            context["catch_up"] = True
            log(
                self.logger,
                WARNING,
                "job.catch-up",
                job=job,
                period=period,
                due_at=due.isoformat(),
                late_by=str(late).split(".")[0],
            )
        outcome: dict[str, Any] = {}

        def tracked() -> dict[str, Any]:
            outcome.update(work(due))
            return outcome

        ok = self.run(job, tracked, **context)
        try:
            finish_period(self.app, job, period, self.worker, ok=ok, summary=_summary_text(outcome))
        except Exception as error:
            log(self.logger, ERROR, "job.failed", job=job, period=period, error=repr(error))

    def _record(
        self, job: str, started: datetime, *, ok: bool, summary: dict[str, Any], error: str = ""
    ) -> None:
        try:
            record_run(
                self.app,
                job,
                self.worker,
                started_at=started,
                ok=ok,
                summary=_summary_text(summary),
                error=error or None,
            )
        except Exception as failure:
            log(self.logger, WARNING, "job.unrecorded", job=job, error=repr(failure))


def _summary_text(summary: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in summary.items() if v not in (0, [], None, 0.0))


def serve(app: App, logger: logging.Logger, *, once: bool = False) -> int:
    """Run the daemon until SIGTERM or SIGINT (or, with ``once``, one catch-up); exit code."""
    lock = sqlite_lock(app.settings.database_url)
    if lock is not None:
        lock.acquire()
    runtime = Runtime(app, logger)
    runtime.jobs = {spec.name: spec for spec in timetable(app.settings)}
    previous = _install_signals(runtime)
    reason = "finished (--once)" if once else "stopped"
    try:
        register_daemon(app, runtime.worker)
        _started(runtime)
        _catch_up(runtime)
        if not once and not runtime.stop_requested():
            scheduler = _scheduler(runtime)
            scheduler.start()
            log(logger, INFO, "daemon.running", jobs=[s.name for s in runtime.jobs.values()])
            while not runtime.stopping.wait(1.0):
                pass
            scheduler.shutdown(wait=True)
        if runtime.stop_requested():
            reason = runtime.stop_reason or "stopped"
    finally:
        _restore_signals(previous)
        try:
            unregister_daemon(app, runtime.worker, reason)
        finally:
            if lock is not None:
                lock.release()
    log(logger, INFO, "daemon.stopped", worker=runtime.worker, reason=reason)
    return 0


def _started(runtime: Runtime) -> None:
    now = runtime.app.clock.now()
    seen = last_seen(runtime.app, other_than=runtime.worker)
    fields: dict[str, Any] = {
        "worker": runtime.worker,
        "database": runtime.app.db.engine.url.render_as_string(),
        "transport": runtime.app.settings.mail.transport,
        "now": now.isoformat(),
    }
    if seen is not None:
        fields["last_daemon_seen"] = seen.astimezone(runtime.app.settings.tz).isoformat()
        fields["down_for"] = str(max(now - seen, timedelta(0))).split(".")[0]
    log(runtime.logger, INFO, "daemon.started", **fields)


def _catch_up(runtime: Runtime) -> None:
    """Periodic jobs whose period is not done, then one tick and one drain, in order."""
    from styrhjul.daemon import jobs  # noqa: PLC0415 - jobs imports this module

    runtime.catching_up = True
    try:
        for spec in runtime.jobs.values():
            if spec.periodic is not None:
                getattr(jobs, spec.func.rpartition(":")[2])(runtime)
        jobs.tick(runtime)
        jobs.drain(runtime)
    finally:
        runtime.catching_up = False
    if not runtime.stop_requested():
        log(runtime.logger, INFO, "daemon.caught-up", jobs=[TICK, DRAIN])


def _scheduler(runtime: Runtime) -> BackgroundScheduler:
    tz = runtime.app.settings.tz
    scheduler = BackgroundScheduler(
        timezone=tz,
        executors={"default": ThreadPoolExecutor(1), "heartbeat": ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    for spec in runtime.jobs.values():
        scheduler.add_job(
            spec.func,
            trigger=spec.trigger,
            args=[runtime],
            id=spec.name,
            name=spec.name,
            executor=spec.executor,
        )
    return scheduler


_Handler = Callable[[int, FrameType | None], Any] | int | None


def _install_signals(runtime: Runtime) -> dict[int, _Handler]:
    def stop(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if not runtime.stopping.is_set():
            runtime.stop_reason = name
            log(runtime.logger, INFO, "daemon.stopping", signal=name)
        runtime.stopping.set()

    previous: dict[int, _Handler] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, stop)
    return previous


def _restore_signals(previous: dict[int, _Handler]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
