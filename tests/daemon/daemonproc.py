"""What the daemon's process and CLI tests share: a config for a fast daemon, and a real
``styrhjul daemon`` child process whose structured log is read line by line.

Signals, exit codes, the SQLite lock and the log on stderr only exist in a real process,
so these tests start ``python -m styrhjul`` and talk to it the way systemd would. Waits
poll the log with generous deadlines; nothing asserts on how long anything took.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from support import write_config

DEADLINE = 90.0
"""Seconds to wait for a log line or an exit: generous, for a loaded 2-core machine."""

FAST = "\n[daemon]\ntick_seconds = 1\ndrain_seconds = 1\nheartbeat_seconds = 1\n"


def daemon_config(folder: Path, url: str, *, smtp_port: int | None = None) -> Path:
    """A config with a daemon that ticks, drains and beats every second."""
    if smtp_port is None:
        return write_config(folder, url, FAST)
    smtp = f'\n[mail.smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
    return write_config(folder, url, smtp + FAST, transport="smtp")


def styrhjul(config: Path, *args: str, now: str | None = None) -> list[str]:
    """The command line of ``styrhjul [--now NOW] ARGS`` on ``config``."""
    command = [sys.executable, "-m", "styrhjul", "--config", str(config)]
    if now is not None:
        command += ["--now", now]
    return [*command, *args]


class Daemon:
    """``styrhjul daemon`` as a child process; its stderr is collected as it comes."""

    def __init__(self, config: Path, *args: str, now: str | None = None) -> None:
        self.process = subprocess.Popen(
            styrhjul(config, "daemon", *args, now=now),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def records(self) -> list[dict[str, Any]]:
        """The JSON log records so far (lines that are not JSON are skipped)."""
        found = []
        for line in list(self.lines):
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
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            found = self.events(event, **fields)
            if found:
                return found[0]
            if self.process.poll() is not None:
                self._reader.join(timeout=10)
                found = self.events(event, **fields)
                if found:
                    return found[0]
                raise AssertionError(
                    f"the daemon exited with {self.process.returncode} before logging {event}:\n"
                    + self.log()
                )
            time.sleep(0.05)
        raise AssertionError(f"no {event} within {DEADLINE} s:\n{self.log()}")

    def send(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self) -> int:
        """Wait for the exit (the log read to its end); the exit code."""
        try:
            code = self.process.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"the daemon did not exit within {DEADLINE} s:\n{self.log()}"
            ) from None
        self._close()
        return code

    def _close(self) -> None:
        self._reader.join(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.send(signum)
        return self.wait()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=DEADLINE)
        self._close()

    def log(self) -> str:
        return "\n".join(self.lines)


def run(config: Path, *args: str, now: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run a ``styrhjul`` command to its end."""
    return subprocess.run(
        styrhjul(config, *args, now=now),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=DEADLINE,
        check=False,
    )
