"""The daemon as a process: catch-up once, a graceful stop on SIGTERM/SIGINT, one per SQLite.

Each test starts the real ``styrhjul daemon`` (``daemonproc.Daemon``) with ``--now`` on a
copy of the planned SQLite database (round 1 of 2026/27, 80 invites pending), so its
flowing clock starts on Tuesday 1 September 2026 at 09:00: after the day's plan (05:30)
and Monday's digest (07:00), which it must catch up on once.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import create_engine, func, select
from support import NOW, Cli, Collector

from styrhjul.db.models import OutboxMessage
from styrhjul.db.operations import PeriodRun

from .daemonproc import Daemon, daemon_config, run, wait_until

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def outbox(url: str) -> dict[str, int]:
    """Outbox rows by status."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
    finally:
        engine.dispose()
    return {status: int(count) for status, count in rows}


def periods(url: str) -> list[tuple[str, str, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(PeriodRun.job, PeriodRun.period, PeriodRun.status).order_by(PeriodRun.job)
            ).all()
    finally:
        engine.dispose()
    return [(job, period, status) for job, period, status in rows]


def test_catch_up_once_stop_on_sigterm_and_a_restart_does_nothing_twice(
    tmp_path: Path, planned_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = daemon_config(tmp_path, planned_url)
    first = Daemon(config, now=NOW)
    try:
        first.wait_for("daemon.running")
        started = first.events("daemon.started")[0]
        assert started["now"].startswith("2026-09-01T09:00")
        (plan,) = first.events("job.catch-up", job="plan")
        (digest,) = first.events("job.catch-up", job="digest")
        assert plan["period"] == "2026-09-01"
        assert plan["due_at"] == "2026-09-01T05:30:00+02:00"
        assert plan["late_by"].startswith("3:30:")
        assert digest["period"] == "2026-W36"
        assert digest["due_at"] == "2026-08-31T07:00:00+02:00"
        assert digest["late_by"].startswith("1 day, 2:0")
        # In order: the periodic jobs, then the tick, then the drain; each says what it did.
        done = [r["job"] for r in first.events("job.done") if r.get("catch_up")]
        assert done[:4] == ["plan", "digest", "tick", "drain"]
        (tick,) = [r for r in first.events("job.done", job="tick") if r.get("catch_up")]
        assert {"invited", "opened", "reminded", "overdue", "escalated"} <= set(tick)
        assert first.events("job.done", job="plan")[0]["first_plans"] == [2026]
        assert first.events("daemon.caught-up")
    finally:
        code = first.stop(signal.SIGTERM)
    assert code == 0, first.log()
    assert first.events("daemon.stopping", signal="SIGTERM")
    assert first.events("daemon.stopped", reason="SIGTERM")
    before = outbox(planned_url)
    assert before.get("sending", 0) == 0
    assert periods(planned_url) == [
        ("digest", "2026-W36", "done"),
        ("plan", "2026-09-01", "done"),
    ]

    status = Cli(config, capsys, now="2026-09-01 09:20").json("daemon", "status")
    (stopped,) = status["daemons"]
    assert stopped["state"] == "stopped"
    assert stopped["stop_reason"] == "SIGTERM"
    assert stopped["pid"] == first.pid
    jobs = {j["job"]: j for j in status["jobs"]}
    assert {"plan", "digest", "tick", "drain"} <= set(jobs)
    assert jobs["plan"]["runs"] == jobs["digest"]["runs"] == 1
    assert jobs["digest"]["last_summary"].startswith("sent=")
    assert "no daemon is running" in status["problems"]

    again = Daemon(config, now="2026-09-01 09:21")
    try:
        again.wait_for("daemon.running")
        assert again.events("daemon.started")[0]["down_for"]
        assert not again.events("job.catch-up")
        assert not [r for r in again.events("job.done") if r["job"] in {"plan", "digest"}]
    finally:
        code = again.stop(signal.SIGINT)
    assert code == 0, again.log()
    assert again.events("daemon.stopped", reason="SIGINT")
    assert periods(planned_url) == [
        ("digest", "2026-W36", "done"),
        ("plan", "2026-09-01", "done"),
    ]
    assert sum(outbox(planned_url).values()) == sum(before.values())


def test_a_second_daemon_on_the_sqlite_file_is_refused(tmp_path: Path, planned_url: str) -> None:
    config = daemon_config(tmp_path, planned_url)
    first = Daemon(config, "--once", now=NOW)
    assert first.wait() == 0, first.log()  # the catch-up, done once, out of the way
    holder = Daemon(config, now="2026-09-01 09:10")
    try:
        holder.wait_for("daemon.running")
        refused = run(config, "daemon", now="2026-09-01 09:10")
        assert refused.returncode == 8, refused.stderr
        assert f"pid {holder.pid} " in refused.stderr
        assert "already runs on" in refused.stderr
        assert holder.process.poll() is None
    finally:
        assert holder.stop() == 0, holder.log()
    after = Daemon(config, now="2026-09-01 09:11")
    try:
        after.wait_for("daemon.running")
    finally:
        assert after.stop() == 0, after.log()


class SlowSmtp(Collector):
    """Accepts every message after 50 ms: a drain takes seconds, so it can be interrupted."""

    async def handle_DATA(  # noqa: N802 - aiosmtpd finds hooks by these names
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        await asyncio.sleep(0.05)
        return await super().handle_DATA(server, session, envelope)


def test_sigterm_during_the_drain_finishes_the_message_in_hand(
    tmp_path: Path, planned_url: str, smtp_server: Callable[..., Controller]
) -> None:
    handler = SlowSmtp()
    server = smtp_server(handler)
    config = daemon_config(tmp_path, planned_url, smtp_port=server.port)
    daemon = Daemon(config, now=NOW)
    try:
        daemon.wait_for("job.done", job="tick")

        def five_received() -> bool:
            assert daemon.process.poll() is None, daemon.log()
            return len(handler.envelopes) >= 5

        wait_until("five messages at the SMTP server", five_received)
    finally:
        code = daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.log()
    rows: dict[str, Any] = outbox(planned_url)
    assert rows.get("sending", 0) == 0
    assert rows["sent"] == len(handler.envelopes)
    assert rows["pending"] > 0, "the drain ended before the signal: make it slower"
    assert daemon.events("daemon.stopped", reason="SIGTERM")
    # the interrupted drain says what it did before it stopped
    drains = daemon.events("job.done", job="drain")
    assert drains
    assert sum(d["sent"] for d in drains) == rows["sent"]
