"""``styrhjul daemon --once``, ``daemon status [--json] [--check]`` and the text log format.

``--check`` is what a monitoring probe runs: exit 1 when no daemon runs (or a job or a
message failed), 0 while one runs. The daemon is a real child process on a copy of the
planned SQLite database; ``status`` runs in a process of its own as a probe would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import NOW

from .daemonproc import Daemon, daemon_config, run

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_once_catches_up_and_check_follows_whether_a_daemon_runs(
    tmp_path: Path, planned_url: str
) -> None:
    config = daemon_config(tmp_path, planned_url)
    never = run(config, "daemon", "status", "--check", now=NOW)
    assert never.returncode == 1, never.stderr
    assert "problem: no daemon is running" in never.stderr
    assert "no daemon has run in the last 7 days" in never.stdout

    once = Daemon(config, "--once", now=NOW)
    assert once.wait() == 0, once.log()
    assert once.events("job.catch-up", job="plan")
    assert once.events("job.catch-up", job="digest")
    assert once.events("daemon.caught-up")
    assert not once.events("daemon.running")
    assert once.events("daemon.stopped", reason="finished (--once)")

    after = run(config, "daemon", "status", "--check", now="2026-09-01 09:05")
    assert after.returncode == 1, after.stderr
    text = after.stdout
    for job in ("plan", "digest", "tick", "drain", "heartbeat"):
        assert job in text
    assert "daily at 05:30" in text
    assert "mon at 07:00" in text
    assert "finished (--once)" in text
    assert "plan: period 2026-09-01 done" in text
    assert "digest: period 2026-W36 done" in text
    assert "outbox: " in text
    assert " pending (" in text
    assert " sending, 0 failed" in text

    daemon = Daemon(config, now="2026-09-01 09:06")
    try:
        daemon.wait_for("daemon.running")
        # --now earlier than the daemon's flowing clock: its heartbeat is recent then
        running = run(config, "daemon", "status", "--check", now="2026-09-01 09:06")
        assert running.returncode == 0, running.stdout + running.stderr
        assert "running" in running.stdout
        assert f":{daemon.pid}" in running.stdout
        assert not running.stderr
    finally:
        assert daemon.stop() == 0, daemon.log()
    stopped = run(config, "daemon", "status", "--check", now="2026-09-01 09:07")
    assert stopped.returncode == 1
    assert "SIGTERM" in stopped.stdout


def test_text_log_format(tmp_path: Path, planned_url: str) -> None:
    config = daemon_config(tmp_path, planned_url)
    once = Daemon(config, "--once", "--log-format", "text", now=NOW)
    assert once.wait() == 0, once.log()
    assert not once.records(), "the text format writes no JSON"
    lines = once.lines
    started = next(line for line in lines if " daemon.started " in line)
    assert started.startswith("2026-")
    assert "info" in started
    assert "transport=maildir" in started
    catch_up = next(line for line in lines if " job.catch-up " in line)
    assert "warning" in catch_up
    assert "job=plan" in catch_up
    assert "late_by=" in catch_up
    assert any(" job.done " in line and "job=tick" in line for line in lines)
    assert 'reason="finished (--once)"' in lines[-1]


def test_unknown_log_format_is_refused(tmp_path: Path, planned_url: str) -> None:
    config = daemon_config(tmp_path, planned_url)
    refused = run(config, "daemon", "--log-format", "xml", now=NOW)
    assert refused.returncode == 2
    assert "--log-format" in refused.stderr
