"""One daemon per SQLite database: an exclusive ``flock`` on a file beside the database.

SQLite cannot share its work between processes the way PostgreSQL's row locks can, so a
second daemon on the same file refuses to start and names the first one. The kernel drops
the lock when the holder exits, however it dies, so a crash never leaves a stale lock.
A restore (``services.backup``) holds the same lock, so it never runs under a daemon. It
lives with the database, below the services, so that both the daemon and the services
can take it.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from styrhjul.errors import AlreadyRunning, InputError

DAEMON_REFUSAL = (
    "another daemon ({holder}) already runs on {database}: a SQLite database has one daemon;"
    " stop that one first, or use PostgreSQL to run several"
)


class SqliteDaemonLock:
    """Held while the daemon runs; :meth:`release` (or process exit) lets it go."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = database.with_name(database.name + ".daemon.lock")
        self._file: IO[str] | None = None

    def acquire(self, refusal: str = DAEMON_REFUSAL) -> None:
        """Take the lock, or raise AlreadyRunning with ``refusal`` filled in.

        ``refusal`` may name ``{holder}`` (the pid and host written in the lock file) and
        ``{database}``: a daemon and a restore say different things.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise AlreadyRunning(refusal.format(holder=holder, database=self.database)) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def sqlite_lock(url: str) -> SqliteDaemonLock | None:
    """The lock a daemon on ``url`` must hold, or None for a server database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise InputError(
            "the daemon needs a database file or server, not an in-memory SQLite database",
            key="database.url",
        )
    return SqliteDaemonLock(Path(parsed.database).resolve())
