"""What the daemon's process, CLI and crash tests share: a config for a fast daemon, and a real
``styrhjul daemon`` child process whose structured log is read line by line.

Signals, exit codes, the SQLite lock, a SIGKILL and the log on stderr only exist in a real
process, so these tests start ``python -m styrhjul`` and talk to it the way systemd would.
Its stderr goes to a file: a killed daemon's log is still there to read, up to the line
the kill cut. Waits poll the log with generous deadlines; nothing asserts on how long
anything took.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from support import write_config

DEADLINE = 120.0
"""Seconds any one wait may take before the test fails (generous: a loaded 2-core box)."""

FAST = "\n[daemon]\ntick_seconds = 1\ndrain_seconds = 1\nheartbeat_seconds = 1\n"


def daemon_config(folder: Path, url: str, *, smtp_port: int | None = None) -> Path:
    """A config with a daemon that ticks, drains and beats every second (and logs JSON).

    With ``smtp_port`` it sends to the SMTP server on that port of 127.0.0.1.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if smtp_port is None:
        return write_config(folder, url, FAST)
    smtp = f'\n[mail.smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
    return write_config(folder, url, smtp + FAST, transport="smtp")


def styrhjul(config: Path, *args: str, now: str | datetime | None = None) -> list[str]:
    """The command line of ``styrhjul [--now NOW] ARGS`` on ``config``."""
    command = [sys.executable, "-m", "styrhjul", "--config", str(config)]
    if now is not None:
        command += ["--now", now if isinstance(now, str) else now.isoformat()]
    return [*command, *args]


def wait_until(what: str, check: Callable[[], bool], deadline: float = DEADLINE) -> None:
    """Poll ``check`` every 50 ms until it holds; fail naming ``what`` after ``deadline``."""
    end = time.monotonic() + deadline
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"gave up after {deadline:.0f} s waiting for {what}")
        time.sleep(0.05)


class Daemon:
    """``styrhjul daemon ARGS`` as a child process, its log in the file ``log``.

    Without ``log`` the file is a fresh one beside ``config``.
    """

    def __init__(
        self,
        config: Path,
        *args: str,
        now: str | datetime | None = None,
        log: Path | None = None,
    ) -> None:
        if log is None:
            handle, name = tempfile.mkstemp(dir=config.parent, prefix="daemon-", suffix=".log")
            os.close(handle)
            log = Path(name)
        self.path = log
        with log.open("wb") as stderr:
            self.process = subprocess.Popen(
                styrhjul(config, "daemon", *args, now=now),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def lines(self) -> list[str]:
        """The log's lines so far."""
        return self.path.read_text(encoding="utf-8", errors="replace").splitlines()

    @property
    def worker(self) -> str:
        """The name its claims carry (``host:pid``), as it logged it at start."""
        return str(self.wait_for("daemon.started")["worker"])

    def records(self) -> list[dict[str, Any]]:
        """The JSON log records so far; a line that is not JSON (torn by a kill) is skipped."""
        found = []
        for line in self.lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                found.append(record)
        return found

    def events(self, event: str, **fields: Any) -> list[dict[str, Any]]:
        """The records of ``event`` whose fields include ``fields``."""
        return [
            r
            for r in self.records()
            if r.get("event") == event and all(r.get(k) == v for k, v in fields.items())
        ]

    def wait_for(self, event: str, **fields: Any) -> dict[str, Any]:
        """The first record of ``event`` (with ``fields``); fails if the daemon exits first."""
        end = time.monotonic() + DEADLINE
        while True:
            exited = self.process.poll() is not None  # before reading: the log is complete
            found = self.events(event, **fields)
            if found:
                return found[0]
            if exited:
                raise AssertionError(
                    f"the daemon exited with {self.process.returncode} before logging"
                    f" {event}:\n{self.log()}"
                )
            if time.monotonic() > end:
                raise AssertionError(f"no {event} within {DEADLINE:.0f} s:\n{self.log()}")
            time.sleep(0.05)

    def send(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self) -> int:
        """Wait for the exit; the exit code."""
        try:
            return self.process.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"the daemon did not exit within {DEADLINE:.0f} s:\n{self.log()}"
            ) from None

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.send(signum)
        return self.wait()

    def kill(self) -> None:
        """SIGKILL, and reap it (so that its pid is gone and others see it dead)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=DEADLINE)

    def log(self, last: int = 60) -> str:
        """The log's last ``last`` lines, for assertion messages."""
        return "\n".join(self.lines[-last:])


def run(
    config: Path, *args: str, now: str | datetime | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a ``styrhjul`` command to its end."""
    return subprocess.run(
        styrhjul(config, *args, now=now),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=DEADLINE,
        check=False,
    )
