"""Back up and restore a SQLite database while the daemon may be running.

Why not ``cp``: a SQLite database in WAL mode is the main file *plus* its ``-wal`` file, and
a copy taken while the daemon writes can catch a half-written page. :func:`backup_sqlite`
uses SQLite's online backup API instead: one read transaction sees one snapshot, so the copy
is consistent, and in WAL mode the daemon goes on writing meanwhile. The copy is checked
(``PRAGMA quick_check``), made a single self-contained file (``journal_mode=DELETE``),
written under a temporary name and renamed into place, so a backup file is whole or absent.

:func:`restore_sqlite` checks that the file is a Styrhjul database at a revision this
version knows, keeps the live database as ``<db>.before-restore`` (again with the backup
API), then copies the backup *into* the live database with the backup API. That copy is one
write transaction: other connections see the old database or the new one, never a mix.
Renaming the backup over the live file would not be safe: a process that has the database
open would go on writing to the renamed-away file, and a ``-wal`` file left beside it would
be replayed onto the restored database. The restore holds the single-daemon lock
(:mod:`styrhjul.db.lock`) throughout: it is refused while a daemon runs, and no daemon starts
on a half-restored database.

PostgreSQL is backed up with its own tools (``pg_dump -Fc``, ``pg_restore``): they know
roles, extensions and parallel dumps, and a wrapper here would tie Styrhjul to the server's
version. For such a URL both functions raise an :class:`InputError` that says so.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import make_url

from styrhjul.db.lock import SqliteDaemonLock
from styrhjul.db.migrate import alembic_config, head_revision
from styrhjul.errors import InputError

SQLITE_HEADER = b"SQLite format 3\x00"
BEFORE_RESTORE = ".before-restore"


@dataclass(frozen=True)
class BackupReport:
    """What ``db backup`` wrote."""

    database: Path
    backup: Path
    bytes: int
    revision: str | None


@dataclass(frozen=True)
class RestoreReport:
    """What ``db restore`` did; ``needs_upgrade`` says to run ``styrhjul db upgrade``."""

    database: Path
    backup: Path
    kept: Path | None
    revision: str
    head: str | None

    @property
    def needs_upgrade(self) -> bool:
        return self.revision != self.head


def sqlite_file(url: str, action: str) -> Path:
    """The database file of a SQLite ``url``; a clear refusal for anything else."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        shown = parsed.render_as_string(hide_password=True)
        raise InputError(
            f"'styrhjul db {action}' handles SQLite databases; this one is"
            f" {parsed.get_backend_name()} ({shown}): use PostgreSQL's own tools,"
            " pg_dump -Fc to back up and pg_restore to restore (see README, Operations)",
            key="database.url",
        )
    if not parsed.database or parsed.database == ":memory:":
        raise InputError(
            f"'styrhjul db {action}' needs a database file, not an in-memory database",
            key="database.url",
        )
    return Path(parsed.database).resolve()


def backup_sqlite(url: str, target: Path, *, force: bool = False) -> BackupReport:
    """Copy the SQLite database of ``url`` to ``target``, consistently and atomically."""
    database = sqlite_file(url, "backup")
    if not database.is_file():
        raise InputError(f"no database at {database}", key="database.url")
    target = target.resolve()
    if target == database:
        raise InputError(f"{target} is the database itself; name another file", key="PATH")
    if target.exists() and not force:
        raise InputError(f"{target} exists; --force replaces it", key="PATH")
    if not target.parent.is_dir():
        raise InputError(f"folder {target.parent} does not exist", key="PATH")
    with _partial(target) as partial:
        with closing(_open(database)) as source:
            _copy(source, partial)
        revision = _check(partial, target)
        os.replace(partial, target)
    return BackupReport(database, target, target.stat().st_size, revision)


def restore_sqlite(url: str, backup: Path, *, force: bool = False) -> RestoreReport:
    """Replace the SQLite database of ``url`` with ``backup``; keep the old one beside it.

    Refused (AlreadyRunning) while a daemon runs on the database.
    """
    database = sqlite_file(url, "restore")
    lock = SqliteDaemonLock(database)
    lock.acquire(RESTORE_REFUSAL)
    try:
        return _restore(database, backup, force=force)
    finally:
        lock.release()


RESTORE_REFUSAL = (
    "a daemon ({holder}) runs on {database}: stop it before restoring (systemctl stop styrhjul)"
)


def _restore(database: Path, backup: Path, *, force: bool) -> RestoreReport:
    backup = backup.resolve()
    if not backup.is_file():
        raise InputError(f"no backup file at {backup}", key="PATH")
    if backup == database:
        raise InputError(f"{backup} is the database itself; name a backup file", key="PATH")
    revision = _check(backup, backup)
    kept: Path | None = None
    database.parent.mkdir(parents=True, exist_ok=True)
    if database.exists():
        kept = database.with_name(database.name + BEFORE_RESTORE)
        if kept.exists() and not force:
            raise InputError(
                f"{kept} exists (left by an earlier restore); move it away, or --force"
                " replaces it with the database as it is now",
                key="PATH",
            )
        with _partial(kept) as partial:
            with closing(_open(database)) as live:
                _copy(live, partial)
            os.replace(partial, kept)
        with closing(_open(backup)) as source, closing(_open(database)) as live:
            try:
                source.backup(live)
            except sqlite3.Error as exc:  # e.g. another page size: the database is unchanged
                raise InputError(
                    f"cannot copy {backup} into {database}: {exc}; the database is unchanged,"
                    f" and as it was in {kept}",
                    key="PATH",
                ) from None
    else:
        with _partial(database) as partial:
            with closing(_open(backup)) as source:
                _copy(source, partial)
            os.replace(partial, database)
    return RestoreReport(database, backup, kept, revision, head_revision())


def _open(path: Path) -> sqlite3.Connection:
    # read-write even to read: a read-only connection cannot open a WAL database whose
    # -shm file is missing, and reading changes nothing in the file
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA busy_timeout=10000")
    return connection


def _copy(source: sqlite3.Connection, partial: Path) -> None:
    """One online backup of ``source`` into the new file ``partial``, as one plain file."""
    with closing(sqlite3.connect(partial, isolation_level=None)) as copy:
        source.backup(copy)  # all pages in one step: one read transaction, one snapshot
        copy.execute("PRAGMA journal_mode=DELETE")
    os.chmod(partial, 0o600)  # personal data: only the service user reads it


def _check(path: Path, named: Path) -> str:
    """``path`` is a sound Styrhjul database at a known revision; returns that revision.

    ``named`` is the file the user named, for the messages (``path`` may be a temporary).
    """
    with path.open("rb") as file:
        if file.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise InputError(f"{named} is not a SQLite database", key="PATH")
    with closing(_open(path)) as connection:
        try:
            (verdict,) = connection.execute("PRAGMA quick_check").fetchone()
            tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
            rows = (
                connection.execute("SELECT version_num FROM alembic_version").fetchall()
                if "alembic_version" in tables
                else []
            )
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{named} cannot be read as a database: {exc}", key="PATH") from None
    if verdict != "ok":
        raise InputError(f"{named} is damaged: quick_check says {verdict}", key="PATH")
    if len(rows) != 1:
        raise InputError(
            f"{named} is not a Styrhjul database (no migration revision recorded)", key="PATH"
        )
    revision: str = rows[0][0]
    if revision not in _known_revisions():
        raise InputError(
            f"{named} is at migration revision {revision}, which this version of Styrhjul"
            f" does not know (newest known: {head_revision()}); restore it with the version"
            " that wrote it, or upgrade Styrhjul first",
            key="PATH",
        )
    return revision


def _known_revisions() -> set[str]:
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    try:
        return {r.revision for r in scripts.walk_revisions()}
    except CommandError as exc:  # a broken migration chain is a packaging bug: say which
        raise InputError(f"the migration scripts do not form a chain: {exc}") from None


@contextmanager
def _partial(final: Path) -> Iterator[Path]:
    """A fresh temporary path beside ``final``, removed unless it was renamed into place."""
    handle, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".partial")
    os.close(handle)
    partial = Path(name)
    partial.unlink()  # sqlite3 creates the file itself; mkstemp only reserved the name
    try:
        yield partial
    finally:
        for leftover in (partial, partial.with_name(partial.name + "-journal")):
            leftover.unlink(missing_ok=True)
