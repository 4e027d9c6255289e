"""The daemon's bookkeeping on both databases: period claims, lost workers, runs, status.

Claims and take-overs are what keep two daemons (or a restart, or a repeated fire) from
doing periodic work twice, so each rule of :func:`claim_period` is shown on its own, and
two threads race for one period on each database. A lost worker's ``sending`` rows are
handed back by :func:`recover_stale` at once, without waiting for the lease.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from datetime import datetime, timedelta

from sqlalchemy import select

from styrhjul.clock import FixedClock
from styrhjul.db.models import OutboxMessage
from styrhjul.db.operations import DaemonJob, PeriodRun
from styrhjul.services.context import App
from styrhjul.services.daemons import (
    claim_period,
    daemon_status,
    finish_period,
    heartbeat,
    lost_workers,
    record_run,
    register_daemon,
    unregister_daemon,
)
from styrhjul.services.outbox import recover_stale

HOST = socket.gethostname()
ALIVE, OTHER = "elsewhere:101", "elsewhere:102"
PERIOD = "2026-09-01"


def due(app: App) -> datetime:
    return app.clock.now().replace(hour=5, minute=30)


def period_row(app: App, job: str = "plan", period: str = PERIOD) -> tuple[str, str]:
    with app.db.session() as session:
        row = session.scalars(
            select(PeriodRun).where(PeriodRun.job == job, PeriodRun.period == period)
        ).one()
        return row.worker, row.status


def silence(app: App, clock: FixedClock) -> None:
    """Let just over ``lost_after_seconds`` (3 x heartbeat_seconds) pass."""
    clock.advance(timedelta(seconds=app.settings.daemon.lost_after_seconds + 1))


# --- claim_period ---------------------------------------------------------------------------


def test_first_claim_wins_and_a_live_holder_keeps_it(empty_app: App) -> None:
    register_daemon(empty_app, ALIVE)
    register_daemon(empty_app, OTHER)
    assert claim_period(empty_app, "plan", PERIOD, due(empty_app), ALIVE)
    assert not claim_period(empty_app, "plan", PERIOD, due(empty_app), OTHER)
    assert period_row(empty_app) == (ALIVE, "running")
    # Another job, or another period, is a claim of its own.
    assert claim_period(empty_app, "digest", "2026-W36", due(empty_app), OTHER)
    assert claim_period(empty_app, "plan", "2026-09-02", due(empty_app), OTHER)


def test_a_lost_holders_claim_is_taken_over(empty_app: App, clock: FixedClock) -> None:
    register_daemon(empty_app, ALIVE)
    register_daemon(empty_app, OTHER)
    assert claim_period(empty_app, "plan", PERIOD, due(empty_app), ALIVE)
    clock.advance(timedelta(seconds=empty_app.settings.daemon.lost_after_seconds - 1))
    heartbeat(empty_app, OTHER)
    assert not claim_period(empty_app, "plan", PERIOD, due(empty_app), OTHER)  # not yet lost
    silence(empty_app, clock)
    heartbeat(empty_app, OTHER)
    assert claim_period(empty_app, "plan", PERIOD, due(empty_app), OTHER)
    assert period_row(empty_app) == (OTHER, "running")
    # The lost one comes back and finishes: its outcome no longer counts.
    finish_period(empty_app, "plan", PERIOD, ALIVE, ok=True, summary="late")
    assert period_row(empty_app) == (OTHER, "running")
    finish_period(empty_app, "plan", PERIOD, OTHER, ok=True, summary="changes=3")
    assert period_row(empty_app) == (OTHER, "done")


def test_a_stopped_holders_claim_is_taken_over_at_once(empty_app: App) -> None:
    register_daemon(empty_app, ALIVE)
    register_daemon(empty_app, OTHER)
    assert claim_period(empty_app, "plan", PERIOD, due(empty_app), ALIVE)
    unregister_daemon(empty_app, ALIVE, "SIGTERM")
    assert claim_period(empty_app, "plan", PERIOD, due(empty_app), OTHER)
    assert period_row(empty_app) == (OTHER, "running")


def test_a_holder_dead_on_this_host_is_taken_over_at_once(empty_app: App) -> None:
    """A daemon killed during the plan and restarted at once must not skip the period."""
    killed = f"{HOST}:{dead_pid()}"
    register_daemon(empty_app, killed)
    assert claim_period(empty_app, "plan", PERIOD, due(empty_app), killed)
    register_daemon(empty_app, OTHER)  # its heartbeat is fresh: only the pid tells
    assert claim_period(empty_app, "plan", PERIOD, due(empty_app), OTHER)
    assert period_row(empty_app) == (OTHER, "running")


def test_an_unregistered_holder_gets_the_silence_a_daemon_gets(
    empty_app: App, clock: FixedClock
) -> None:
    register_daemon(empty_app, OTHER)
    assert claim_period(empty_app, "plan", PERIOD, due(empty_app), "nobody:1")
    assert not claim_period(empty_app, "plan", PERIOD, due(empty_app), OTHER)
    silence(empty_app, clock)
    assert claim_period(empty_app, "plan", PERIOD, due(empty_app), OTHER)


def test_failed_periods_are_retried_done_ones_never(empty_app: App, clock: FixedClock) -> None:
    register_daemon(empty_app, ALIVE)
    register_daemon(empty_app, OTHER)
    assert claim_period(empty_app, "plan", PERIOD, due(empty_app), ALIVE)
    finish_period(empty_app, "plan", PERIOD, ALIVE, ok=False, summary="")
    assert period_row(empty_app) == (ALIVE, "failed")
    # a failed period is open to anyone, the same daemon included
    assert claim_period(empty_app, "plan", PERIOD, due(empty_app), OTHER)
    finish_period(empty_app, "plan", PERIOD, OTHER, ok=False, summary="")
    assert claim_period(empty_app, "plan", PERIOD, due(empty_app), OTHER)
    finish_period(empty_app, "plan", PERIOD, OTHER, ok=True, summary="years=[2026]")
    for worker in (ALIVE, OTHER, "new:1"):
        assert not claim_period(empty_app, "plan", PERIOD, due(empty_app), worker)
    unregister_daemon(empty_app, OTHER, "SIGTERM")
    silence(empty_app, clock)
    assert not claim_period(empty_app, "plan", PERIOD, due(empty_app), ALIVE)
    with empty_app.db.session() as session:
        rows = session.execute(select(PeriodRun.status, PeriodRun.summary)).all()
    assert rows == [("done", "years=[2026]")]


def race(app: App, period: str, workers: list[str]) -> list[str]:
    """Let ``workers`` claim ``period`` at the same moment, each in a thread; the winners."""
    start = threading.Barrier(len(workers))
    won: list[str] = []
    errors: list[BaseException] = []

    def claim(worker: str) -> None:
        try:
            start.wait(timeout=30)
            if claim_period(app, "plan", period, due(app), worker):
                won.append(worker)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=claim, args=(w,), name=w) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return won


def test_two_threads_racing_for_a_period_one_wins(empty_app: App) -> None:
    """On PostgreSQL a loser waits on the unique index, then finds the row taken."""
    workers = [f"racer:{n}" for n in range(4)]
    for worker in workers:
        register_daemon(empty_app, worker)
    for day in range(1, 9):
        period = f"2026-09-{day:02d}"
        won = race(empty_app, period, workers)
        assert len(won) == 1, (period, won)
        assert period_row(empty_app, period=period) == (won[0], "running")


# --- lost workers and their messages ----------------------------------------------------------


def add_sending(app: App, key: str, claimed_by: str) -> None:
    now = app.clock.now()
    with app.db.session() as session:
        session.add(
            OutboxMessage(
                key=key,
                kind="test",
                recipient="rektor@skola.test",
                subject=key,
                message_id=f"<{key}@styrhjul.test>",
                payload=b"Subject: x\r\n\r\nx\r\n",
                status="sending",
                attempts=1,
                created_at=now,
                next_attempt_at=now,
                claimed_at=now,
                claimed_by=claimed_by,
            )
        )


def dead_pid() -> int:
    """The pid of a process of this host that has exited (and been reaped)."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


def test_lost_workers_and_recover_stale(empty_app: App, clock: FixedClock) -> None:
    stopped, silent, alive = f"{HOST}:1000001", "far:2", "far:3"
    gone_here = f"{HOST}:{dead_pid()}"  # a one-off `styrhjul run` that died: no daemon row
    unknown_there = "far:4"  # not registered, on another host: nothing can be known
    for worker in (stopped, silent, alive):
        register_daemon(empty_app, worker)
    for worker in (stopped, silent, alive, gone_here, unknown_there):
        add_sending(empty_app, f"m-{worker}", worker)
    unregister_daemon(empty_app, stopped, "SIGTERM")
    silence(empty_app, clock)
    heartbeat(empty_app, alive)
    lost_after = timedelta(seconds=empty_app.settings.daemon.lost_after_seconds)

    with empty_app.db.session() as session:
        lost = lost_workers(session, clock.now(), lost_after)
    assert lost == {stopped, silent, gone_here}

    assert recover_stale(empty_app) == 3
    with empty_app.db.session() as session:
        rows = dict(
            session.execute(
                select(OutboxMessage.key, OutboxMessage.status).order_by(OutboxMessage.key)
            ).all()
        )
        unclaimed = session.scalars(
            select(OutboxMessage.key).where(OutboxMessage.claimed_by.is_(None))
        ).all()
    assert rows == {
        f"m-{stopped}": "pending",
        f"m-{silent}": "pending",
        f"m-{gone_here}": "pending",
        f"m-{alive}": "sending",
        f"m-{unknown_there}": "sending",
    }
    assert sorted(unclaimed) == sorted(f"m-{w}" for w in (stopped, silent, gone_here))
    with empty_app.db.session() as session:
        assert lost_workers(session, clock.now(), lost_after) == set()


def test_lost_workers_without_sending_rows_is_empty(empty_app: App, clock: FixedClock) -> None:
    register_daemon(empty_app, "far:9")
    silence(empty_app, clock)
    with empty_app.db.session() as session:
        assert lost_workers(session, clock.now(), timedelta(seconds=30)) == set()


# --- record_run and daemon_status ------------------------------------------------------------


def test_record_run_counts_runs_and_failures(empty_app: App, clock: FixedClock) -> None:
    started = clock.now()
    record_run(empty_app, "tick", ALIVE, started_at=started, ok=True, summary="sent=2")
    clock.advance(timedelta(minutes=1))
    record_run(empty_app, "tick", OTHER, started_at=clock.now(), ok=False, summary="", error="boom")
    clock.advance(timedelta(minutes=1))
    record_run(empty_app, "tick", ALIVE, started_at=clock.now(), ok=True, summary="")
    record_run(empty_app, "drain", ALIVE, started_at=started, ok=False, summary="", error="x")
    with empty_app.db.session() as session:
        jobs = {j.job: j for j in session.scalars(select(DaemonJob))}
        got = {
            name: (j.runs, j.failures, j.last_status, j.last_worker, j.last_error)
            for name, j in jobs.items()
        }
    assert got == {
        "tick": (3, 1, "ok", ALIVE, None),
        "drain": (1, 1, "failed", ALIVE, "x"),
    }


def test_daemon_status(empty_app: App, clock: FixedClock) -> None:
    running, stopped, lost = "a:1", "b:2", "c:3"
    for worker in (running, stopped, lost):
        register_daemon(empty_app, worker)
    unregister_daemon(empty_app, stopped, "SIGINT")
    first = clock.now()
    assert claim_period(empty_app, "plan", "2026-09-01", first, running)
    finish_period(empty_app, "plan", "2026-09-01", running, ok=True, summary="changes=1")
    assert claim_period(empty_app, "digest", "2026-W36", first, running)
    finish_period(empty_app, "digest", "2026-W36", running, ok=False, summary="")
    record_run(empty_app, "plan", running, started_at=first, ok=True, summary="changes=1")
    for n, status in enumerate(["pending", "pending", "pending", "sending", "failed", "sent"]):
        add_sending(empty_app, f"m{n}", running)
        with empty_app.db.session() as session:
            row = session.scalars(select(OutboxMessage).where(OutboxMessage.key == f"m{n}")).one()
            row.status = status
            if n == 2:  # pending, but not due until tomorrow
                row.next_attempt_at = first + timedelta(days=1)

    clock.advance(timedelta(days=1, seconds=-1))
    heartbeat(empty_app, running)
    assert claim_period(empty_app, "plan", "2026-09-02", clock.now(), running)
    status = daemon_status(empty_app)

    assert {d.worker: d.state for d in status.daemons} == {
        running: "running",
        stopped: "stopped",
        lost: "lost",
    }
    assert [d.worker for d in status.running] == [running]
    assert {d.worker: d.stop_reason for d in status.daemons}[stopped] == "SIGINT"
    assert status.outbox == {"pending": 3, "sending": 1, "failed": 1, "due": 2}
    assert status.oldest_due_at == first
    assert [(p.job, p.period, p.status) for p in status.periods] == [
        ("digest", "2026-W36", "failed"),
        ("plan", "2026-09-02", "running"),
    ]
    assert [(j.job, j.runs, j.last_summary) for j in status.jobs] == [("plan", 1, "changes=1")]
    silent_since = {d.worker: d for d in status.daemons}[lost].heartbeat_at.isoformat()
    assert status.problems == [
        f"{lost} has been silent since {silent_since}",
        "1 message(s) failed for good: styrhjul outbox list --status failed",
    ]

    # A daemon not seen for a week drops out of the listing.
    clock.advance(timedelta(days=8))
    heartbeat(empty_app, running)
    assert [d.worker for d in daemon_status(empty_app).daemons] == [running]
