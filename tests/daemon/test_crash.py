"""The daemon killed with SIGKILL: nothing lost, nothing done twice, but the one resend it allows.

A daemon can die at any instruction (the OOM killer, a power cut, ``kill -9``). What it
promises (README, "The daemon") is that nothing lives only in its memory: every unit of
work is committed on its own, claimed atomically, and a restart or another daemon finishes
what was left. The only thing a kill may cause is one resend of a message, with the same
Message-ID, when it falls between the SMTP server's 250 and the commit that marks the
outbox row sent; ``services.outbox`` keeps that window as short as it can.

These tests check the promise with the real daemon process, a real SMTP server and a
real database: on SQLite, many kills at seeded random moments during a busy catch-up; on
PostgreSQL, two daemons sharing the work, one of them killed mid-work. Each prints one
line of figures (run with ``-s`` to see it): kills, kills in the window, messages,
duplicates, the longest window the daemons measured.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from pgserver import PostgresServer
from sqlalchemy import func, select

from styrhjul.db.models import OutboxMessage
from styrhjul.services.context import App

from .crashkit import BUSY_AT, Delivery, Ledger, busy_period, check_consistency, check_delivery
from .daemonproc import Daemon, wait_until

SEED = 20260126
KILLS = 28
EARLY_KILLS = 6
"""The first kills come within ``LATEST_KILL`` seconds of the start: in the catch-up's
periodic jobs and its long tick (invites, preparations, notices), which later starts skip."""
LATEST_KILL = 1.0
AT_DRAIN = 0.8
"""The share of the later kills aimed at the drain, where the window is: they come after
the catch-up tick, within ``LATEST_DRAIN_KILL`` seconds (a dozen messages at most). Once all
is sent, kills land in idle daemons."""
LATEST_DRAIN_KILL = 0.25
LOST_AFTER = 3
"""``3 x heartbeat_seconds`` of the test config: a silent daemon is lost after this."""


def _outbox(app: App) -> dict[str, int]:
    with app.db.session() as session:
        return dict(
            session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
        )


def _idle(app: App, daemon: Daemon) -> Callable[[], bool]:
    """True once the daemon has caught up and runs, and nothing is pending or sending."""

    def check() -> bool:
        code = daemon.process.poll()
        assert code is None, f"daemon exited with {code}: {daemon.log()}"
        if not daemon.events("daemon.running"):
            return False
        counts = _outbox(app)
        return not counts.get("pending") and not counts.get("sending")

    return check


def _phase(daemon: Daemon) -> str:
    """Where a killed daemon was, by its log: catch-up (periodic jobs, tick), drain, idle."""
    if daemon.events("daemon.running"):
        return "idle"
    ticked = any(e.get("job") == "tick" for e in daemon.events("job.done"))
    return "drain" if ticked else "tick"


def _longest_window(daemon: Daemon) -> float:
    """The longest ``window_seconds`` its drains logged."""
    return max(
        (float(e.get("window_seconds", 0.0)) for e in daemon.events("job.done")), default=0.0
    )


def _figures(
    label: str, ledger: Ledger, delivery: Delivery, daemons: list[Daemon], phases: str = ""
) -> str:
    window = max(_longest_window(d) for d in daemons)
    line = (
        f"{label}: seed {SEED}, {ledger.kills} kills{phases}, {delivery.window_hits} in the "
        f"window ({ledger.seen_at_kill} seen at once), {delivery.messages} messages, "
        f"{delivery.duplicates} duplicates, longest window {window * 1000:.1f} ms"
    )
    print(line)
    return line


def test_sigkill_at_random_moments_loses_nothing_and_resends_only_in_the_window(
    tmp_path: Path, smtp_server: Callable[..., Controller]
) -> None:
    busy = busy_period(f"sqlite:///{tmp_path / 'styrhjul.db'}", tmp_path, smtp_server)
    rng = random.Random(SEED)
    ledger = Ledger()
    daemons: list[Daemon] = []
    began = time.monotonic()
    now = BUSY_AT
    try:
        for i in range(KILLS):
            now = max(BUSY_AT + timedelta(seconds=time.monotonic() - began), now)
            daemon = Daemon(busy.config, now=now, log=tmp_path / f"daemon-{i}.log")
            daemons.append(daemon)
            daemon.wait_for("daemon.started")
            if i >= EARLY_KILLS and rng.random() < AT_DRAIN:
                daemon.wait_for("job.done", job="tick")
                time.sleep(rng.uniform(0.0, LATEST_DRAIN_KILL))
            else:
                time.sleep(rng.uniform(0.05, LATEST_KILL))
            daemon.kill()
            ledger.killed(busy.app, busy.server)
        # the last one starts once the killed ones count as lost, whatever their pid says
        now = BUSY_AT + timedelta(seconds=time.monotonic() - began + LOST_AFTER + 1)
        last = Daemon(busy.config, now=now, log=tmp_path / "daemon-last.log")
        daemons.append(last)
        wait_until("the last daemon to send everything", _idle(busy.app, last))
        assert last.stop() == 0, last.log()
    finally:
        for daemon in daemons:
            daemon.kill()
    delivery = check_delivery(busy.app, busy.server, ledger)
    phases = Counter(_phase(d) for d in daemons[:-1])
    line = _figures("sqlite", ledger, delivery, daemons, f" {dict(phases)}")
    busy.app.close()
    check_consistency(busy.config, now, busy.invites)
    assert delivery.messages > 150, line
    assert ledger.kills == KILLS, line


@pytest.mark.postgres
def test_two_daemons_on_postgresql_the_survivor_finishes_what_the_killed_one_left(
    tmp_path: Path, smtp_server: Callable[..., Controller], pg_server: PostgresServer
) -> None:
    pg_server.drop_database("crash_two_daemons")
    pg_server.create_database("crash_two_daemons")
    busy = busy_period(pg_server.url("crash_two_daemons"), tmp_path, smtp_server)
    app = busy.app
    rng = random.Random(SEED)
    ledger = Ledger()
    daemons = [Daemon(busy.config, now=BUSY_AT, log=tmp_path / f"daemon-{n}.log") for n in "ab"]
    try:
        for daemon in daemons:
            daemon.wait_for("daemon.started")
        workers = {d.worker for d in daemons}

        def both_sent() -> bool:
            return workers <= _senders(app)

        wait_until("both daemons to send", both_sent)
        victim, survivor = rng.sample(daemons, 2)
        _catch_sending(app, victim.worker)
        victim.kill()
        ledger.killed(app, busy.server, worker=victim.worker)
        left = _outbox(app).get("pending", 0)
        wait_until("the survivor to send everything", _idle(app, survivor))
        assert survivor.stop() == 0, survivor.log()
    finally:
        for daemon in daemons:
            daemon.kill()
    delivery = check_delivery(app, busy.server, ledger)
    line = _figures(
        "postgresql",
        ledger,
        delivery,
        daemons,
        f", {left} pending and {sum(ledger.sending_at_kill.values())} sending at the kill",
    )
    assert workers <= _senders(app), f"not both daemons sent: {line}"
    recovered = sum(int(e.get("recovered", 0)) for e in survivor.events("job.done"))
    taken_over = sum(ledger.sending_at_kill.values())
    assert recovered >= taken_over, f"{recovered} recovered, {taken_over} left; {line}"
    app.close()
    check_consistency(busy.config, BUSY_AT, busy.invites)
    assert delivery.messages > 150, line


def _catch_sending(app: App, worker: str) -> None:
    """Return as soon as ``worker`` holds a row in ``sending`` (or after a few seconds).

    A kill right after this lands most often mid-send, so that the survivor has a claim
    of the dead daemon to take over, not just the rows nobody had claimed yet.
    """
    query = select(func.count()).where(
        OutboxMessage.status == "sending", OutboxMessage.claimed_by == worker
    )
    end = time.monotonic() + 5
    with app.db.engine.connect() as connection:
        while time.monotonic() < end:
            if connection.execute(query).scalar_one():
                return
            connection.rollback()
            time.sleep(0.001)


def _senders(app: App) -> set[str]:
    with app.db.session() as session:
        return {
            worker
            for worker in session.scalars(
                select(OutboxMessage.claimed_by).where(OutboxMessage.status == "sent").distinct()
            )
            if worker is not None
        }
