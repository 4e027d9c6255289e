"""A private PostgreSQL server for the test suite, started with ``initdb`` and ``pg_ctl``.

The suite talks to a real PostgreSQL (STYLE.md, practice 14), never to a shared one: each
test session (or xdist worker) gets its own cluster in a temporary folder, on a free port on
127.0.0.1, with durability switched off for speed. A missing server is an error, never a
skip: the message says how to install it.

PostgreSQL refuses to run as root. When the suite runs as root (containers, CI), the server
commands run as the ``postgres`` system user through ``runuser``, and the folder is handed to
that user.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql

INSTALL_HINT = "install Debian's postgresql package (the test command `make test` does this)"
SERVER_USER = "postgres"
SUPERUSER = "postgres"
DEBIAN_ROOT = Path("/usr/lib/postgresql")
REQUIRED_PROGRAMS = ("initdb", "pg_ctl", "postgres")

# Durability buys nothing in a throwaway cluster; connections are plenty for xdist workers.
FAST_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}

# sun_path holds 108 bytes on Linux (104 on the BSDs) including the terminating NUL.
_MAX_SOCKET_PATH = 103
_LOG_TAIL_LINES = 30
_START_ATTEMPTS = 3


def _version_key(path: Path) -> tuple[int, ...]:
    """Sort key for a Debian version folder such as ``15`` or ``9.6``."""
    return tuple(int(part) for part in path.name.split("."))


def _has_server_programs(bindir: Path) -> bool:
    return all(os.access(bindir / name, os.X_OK) for name in REQUIRED_PROGRAMS)


def find_bindir(pg_config: str = "pg_config", debian_root: Path = DEBIAN_ROOT) -> Path:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``.

    ``pg_config --bindir`` wins when it answers with a folder that holds the server; otherwise
    the highest major version under ``/usr/lib/postgresql/*/bin`` (Debian's layout, where
    ``pg_config`` may come from libpq-dev without any server installed).
    """
    candidates: list[Path] = []
    try:
        found = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=30
        )
        candidates.append(Path(found.stdout.strip()))
    except (OSError, subprocess.SubprocessError):
        pass
    versions = [p for p in debian_root.glob("*") if re.fullmatch(r"\d+(\.\d+)*", p.name)]
    candidates += [p / "bin" for p in sorted(versions, key=_version_key, reverse=True)]
    for bindir in candidates:
        if _has_server_programs(bindir):
            return bindir
    raise RuntimeError(
        f"PostgreSQL server programs ({', '.join(REQUIRED_PROGRAMS)}) not found via "
        f"`pg_config --bindir` or under {debian_root}/*/bin: {INSTALL_HINT}"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _conf_value(value: str) -> str:
    """A value quoted for postgresql.conf."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


class PostgresServer:
    """A throwaway PostgreSQL cluster in ``base_dir``, used as a context manager.

    ``with PostgresServer(tmp_path) as pg:`` runs initdb into ``base_dir/data``, starts the
    server (log in ``base_dir/postgres.log``) and stops it on exit; the files stay for the
    caller's temporary folder to clean up. ``settings`` adds or overrides server settings.
    """

    def __init__(self, base_dir: Path, *, settings: dict[str, str] | None = None) -> None:
        self.base_dir = Path(base_dir).resolve()
        self.data_dir = self.base_dir / "data"
        self.log_path = self.base_dir / "postgres.log"
        self.socket_dir = self.base_dir / "socket"
        self.settings = {**FAST_SETTINGS, **(settings or {})}
        self.port: int | None = None
        self.bindir: Path | None = None
        self._owned_socket_dir: Path | None = None
        self._run_as: tuple[int, int] | None = None

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Create the cluster and start the server; raises RuntimeError with the log's tail."""
        self.bindir = find_bindir()
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self._prepare_user()
        self._prepare_socket_dir()
        self._hand_over(self.base_dir)
        self._initdb()
        self._write_settings()
        for attempt in range(1, _START_ATTEMPTS + 1):
            self.port = free_port()
            result = self._run(
                self._program("pg_ctl"), "start", "-w", "-t", "60",
                "-D", str(self.data_dir), "-l", str(self.log_path), "-o", f"-p {self.port}",
            )  # fmt: skip
            if result.returncode == 0:
                return
            log = self.log_tail()
            self._run(*self._stop_command())
            # Another process may take the port between choosing it and binding it.
            if "could not bind" in log and attempt < _START_ATTEMPTS:
                continue
            self.port = None
            self._remove_owned_socket_dir()
            raise RuntimeError(
                f"PostgreSQL did not start (pg_ctl exit {result.returncode}): "
                f"{result.stdout}{result.stderr}\n"
                f"--- last lines of {self.log_path} ---\n{log}"
            )

    def stop(self) -> None:
        """Stop the server at once (``-m immediate``); the files stay in ``base_dir``."""
        if self.port is None:
            return
        self.port = None
        result = self._run(*self._stop_command())
        self._remove_owned_socket_dir()
        if result.returncode != 0:
            raise RuntimeError(
                f"pg_ctl stop failed (exit {result.returncode}): {result.stdout}{result.stderr}"
            )

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last lines of the server log, for error messages."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return f"(no log: {exc})"
        return "\n".join(text.splitlines()[-lines:])

    # -- databases ---------------------------------------------------------------------------

    def url(self, dbname: str) -> str:
        """A SQLAlchemy URL for ``dbname`` on this server, as the superuser."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self._require_port()}/{dbname}"

    def connect(self, dbname: str = "postgres") -> psycopg.Connection:
        """A psycopg connection in autocommit mode, for administration."""
        return psycopg.connect(
            host="127.0.0.1",
            port=self._require_port(),
            user=SUPERUSER,
            dbname=dbname,
            autocommit=True,
        )

    def create_database(self, name: str, template: str | None = None) -> None:
        """Create ``name``, copied from ``template`` when given (which must be idle)."""
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
        with self.connect() as conn:
            conn.execute(statement)

    def drop_database(self, name: str) -> None:
        """Drop ``name`` if it exists, ending its open connections."""
        statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        with self.connect() as conn:
            conn.execute(statement)

    # -- helpers -----------------------------------------------------------------------------

    def _require_port(self) -> int:
        if self.port is None:
            raise RuntimeError("the PostgreSQL server is not running")
        return self.port

    def _program(self, name: str) -> str:
        if self.bindir is None:
            raise RuntimeError("PostgresServer.start() has not run")
        return str(self.bindir / name)

    def _stop_command(self) -> tuple[str, ...]:
        return (self._program("pg_ctl"), "stop", "-w", "-m", "immediate", "-D", str(self.data_dir))

    def _prepare_user(self) -> None:
        """As root, find the ``postgres`` user the server must run as."""
        if os.geteuid() != 0:
            return
        try:
            entry = pwd.getpwnam(SERVER_USER)
        except KeyError:
            raise RuntimeError(
                f"running as root, but there is no '{SERVER_USER}' user to run PostgreSQL as: "
                f"{INSTALL_HINT}"
            ) from None
        if shutil.which("runuser") is None:
            raise RuntimeError("running as root, but `runuser` (util-linux) is not installed")
        self._run_as = (entry.pw_uid, entry.pw_gid)
        self._make_traversable(self.base_dir.parent)

    def _make_traversable(self, folder: Path) -> None:
        """Let others pass through (not list) every folder above ``base_dir``."""
        for path in (folder, *folder.parents):
            mode = path.stat().st_mode
            if not mode & stat.S_IXOTH:
                path.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)

    def _prepare_socket_dir(self) -> None:
        probe = self.socket_dir / ".s.PGSQL.65535.lock"
        if len(os.fsencode(probe)) > _MAX_SOCKET_PATH:
            # A deep base_dir would overflow sun_path; fall back to a short private folder.
            self.socket_dir = Path(tempfile.mkdtemp(prefix="styrhjul-pg-"))
            self._owned_socket_dir = self.socket_dir
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        self._hand_over(self.socket_dir)

    def _hand_over(self, path: Path) -> None:
        if self._run_as is not None:
            os.chown(path, *self._run_as)

    def _initdb(self) -> None:
        result = self._run(
            self._program("initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
            "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(
                f"initdb failed (exit {result.returncode}) in {self.data_dir}:\n"
                f"{result.stdout}{result.stderr}"
            )

    def _write_settings(self) -> None:
        lines = {
            "listen_addresses": _conf_value("127.0.0.1"),
            "unix_socket_directories": _conf_value(str(self.socket_dir)),
            **{key: _conf_value(value) for key, value in self.settings.items()},
        }
        block = "".join(f"{key} = {value}\n" for key, value in lines.items())
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# Test server settings (tests/pgserver.py)\n" + block)

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        argv = list(command)
        if self._run_as is not None:
            argv = ["runuser", "-u", SERVER_USER, "--", *argv]
        # cwd: the server user may not be allowed into the caller's working directory.
        return subprocess.run(
            argv, cwd=self.base_dir, capture_output=True, text=True, check=False, timeout=120
        )

    def _remove_owned_socket_dir(self) -> None:
        if self._owned_socket_dir is not None:
            shutil.rmtree(self._owned_socket_dir, ignore_errors=True)
            self._owned_socket_dir = None
