"""Operations (issue 6): the systemd unit, backup and restore, the README's operations section.

The unit is checked by ``systemd-analyze verify`` (offline, with ExecStart pointed at this
venv's console script) and key by key; its command line is run for real (``--once``).
Backups are taken while another connection writes, restored, and compared table by table.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path

import click
import pytest
from support import Cli, write_config

from styrhjul.cli.main import cli as root_command
from styrhjul.cli.main import main
from styrhjul.config import load_settings
from styrhjul.db.lock import SqliteDaemonLock
from styrhjul.db.migrate import head_revision, upgrade
from styrhjul.errors import EXIT_CODES, AlreadyRunning, InputError

ROOT = Path(__file__).parent.parent
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "styrhjul.service"
VENV_SCRIPT = Path(sys.executable).parent / "styrhjul"
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


# --- the systemd unit ----------------------------------------------------------------------


def unit_entries(text: str) -> dict[str, dict[str, list[str]]]:
    """Section -> key -> every value in order (systemd allows a key more than once)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{UNIT}:{number}: a key before any section"
        key, sep, value = line.partition("=")
        assert sep, f"{UNIT}:{number}: not 'key=value': {line!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


@pytest.fixture(scope="module")
def unit() -> dict[str, dict[str, list[str]]]:
    return unit_entries(UNIT.read_text(encoding="utf-8"))


def one(unit: dict[str, dict[str, list[str]]], section: str, key: str) -> str:
    values = unit[section].get(key, [])
    assert len(values) == 1, f"{UNIT}: [{section}] {key}: expected one value, got {values}"
    return values[0]


def test_systemd_analyze_verifies_the_unit(tmp_path: Path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    # verify insists that ExecStart's program exists: point it at this venv's script
    text = UNIT.read_text(encoding="utf-8").replace("/opt/styrhjul/bin/styrhjul", str(VENV_SCRIPT))
    copy = tmp_path / "styrhjul.service"
    copy.write_text(text, encoding="utf-8")
    result = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, check=False
    )
    # an unknown or misplaced key is only a warning (exit 0): any output is a failure
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""


def test_the_unit_runs_the_daemon_hardened_and_does_not_loop_on_refusals(unit):
    service = unit["Service"]
    assert one(unit, "Service", "Type") in {"simple", "exec"}
    assert one(unit, "Service", "User") == "styrhjul"
    assert one(unit, "Service", "KillSignal") == "SIGTERM"
    assert one(unit, "Service", "Restart") == "on-failure"
    assert int(one(unit, "Service", "TimeoutStopSec")) >= 30
    assert "STYRHJUL_CONFIG=/etc/styrhjul/config.toml" in service["Environment"]
    assert one(unit, "Service", "EnvironmentFile").lstrip("-") == "/etc/styrhjul/styrhjul.env"
    no_restart = one(unit, "Service", "RestartPreventExitStatus").split()
    assert str(EXIT_CODES[AlreadyRunning]) in no_restart  # a second daemon on SQLite
    assert str(EXIT_CODES[InputError]) in no_restart  # a wrong configuration
    for key, value in [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
    ]:
        assert one(unit, "Service", key) == value, key
    writable = one(unit, "Service", "ReadWritePaths").split()
    assert one(unit, "Service", "WorkingDirectory") in writable
    # the deployed configuration writes only where the unit lets it
    settings = load_settings(DEPLOY / "config.toml", environ={})
    database = Path(settings.database_url.removeprefix("sqlite:///"))
    for path in (database, settings.maildir_path):
        assert any(path.is_relative_to(w) for w in writable), f"{path} is not writable"


def test_exec_start_is_a_real_command_line(unit, tmp_path: Path, capsys):
    program, *args = shlex.split(one(unit, "Service", "ExecStart"))
    assert program == "/opt/styrhjul/bin/styrhjul"
    assert main([*args, "--help"]) == 0
    assert "Run the daemon" in capsys.readouterr().out
    # the same arguments, run by the console script under the unit's environment
    upgrade(f"sqlite:///{tmp_path / 'styrhjul.db'}")
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'styrhjul.db'}")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("STYRHJUL_")}
    environment["STYRHJUL_CONFIG"] = str(config)
    result = subprocess.run(
        [str(VENV_SCRIPT), "--now", "2026-09-01 09:00", *args, "--once"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line)["event"] for line in result.stderr.splitlines()]  # JSON lines
    assert events[-1] == "daemon.stopped"


def test_the_environment_file_names_only_variables_styrhjul_reads():
    text = (DEPLOY / "styrhjul.env.example").read_text(encoding="utf-8")
    names = set(re.findall(r"^#?\s*(STYRHJUL_[A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert "STYRHJUL_DATABASE_URL" in names
    assert "STYRHJUL_SMTP_PASSWORD" in names
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "styrhjul").rglob("*.py"))
    unknown = sorted(n for n in names if n not in source)
    assert not unknown, f"styrhjul.env.example names variables Styrhjul never reads: {unknown}"


# --- backup and restore (SQLite) -----------------------------------------------------------


def row_counts(path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as connection:
        tables = [
            r[0]
            for r in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


class Writer(threading.Thread):
    """Writes to the database through its own connection until told to stop.

    Each transaction inserts two rows, so a consistent copy holds an even number of them.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.stop = threading.Event()
        self.transactions = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with closing(sqlite3.connect(self.path, isolation_level=None)) as connection:
                connection.execute("PRAGMA busy_timeout=10000")
                while not self.stop.is_set():
                    connection.execute("BEGIN IMMEDIATE")
                    connection.execute("INSERT INTO probe (n) VALUES (1), (2)")
                    connection.execute("COMMIT")
                    self.transactions += 1
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error

    def wait_for(self, transactions: int) -> None:
        deadline = threading.Event()
        for _ in range(6000):  # up to a minute on a loaded machine
            if self.transactions >= transactions or self.error is not None:
                return
            deadline.wait(0.01)
        raise AssertionError(f"the writer made only {self.transactions} transactions")


@sqlite_only
def test_backup_while_another_connection_writes_then_restore(planned_cli: Cli, planned_url: str):
    database = Path(planned_url.removeprefix("sqlite:///"))
    with closing(sqlite3.connect(database)) as connection:
        connection.execute("CREATE TABLE probe (n INTEGER NOT NULL)")
        connection.commit()
    planned = row_counts(database)
    assert planned["outbox_message"] == 80  # the planned round: a real database to copy
    writer = Writer(database)
    writer.start()
    try:
        backups = []
        for number in range(3):
            writer.wait_for(writer.transactions + 5)
            backup = database.parent / f"backup-{number}.db"
            out = planned_cli.ok("db", "backup", str(backup))
            assert f"to {backup}" in out
            assert f"revision {head_revision()})" in out
            backups.append(backup)
        writer.wait_for(writer.transactions + 5)  # still writing after the backups
    finally:
        writer.stop.set()
        writer.join(timeout=60)
    assert writer.error is None, writer.error
    for backup in backups:
        counts = row_counts(backup)
        assert counts["probe"] % 2 == 0, f"{backup}: half a transaction copied"
        assert {t: n for t, n in counts.items() if t != "probe"} == {
            t: n for t, n in planned.items() if t != "probe"
        }
        assert oct(backup.stat().st_mode & 0o777) == oct(0o600)
        with closing(sqlite3.connect(backup)) as copy:
            assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not list(database.parent.glob(".*.partial*"))
    assert row_counts(backups[-1])["probe"] < row_counts(database)["probe"]

    # change the live database, then restore the last backup over it
    with closing(sqlite3.connect(database)) as connection:
        connection.execute("DELETE FROM outbox_message")
        connection.commit()
    changed = row_counts(database)
    out = planned_cli.ok("db", "restore", str(backups[-1]))
    assert f"restored {database}" in out
    assert "db upgrade" not in out  # the backup is at the newest revision
    assert row_counts(database) == row_counts(backups[-1])
    assert row_counts(database)["outbox_message"] == 80
    kept = database.with_name(database.name + ".before-restore")
    assert f"the database as it was: {kept}" in out
    assert row_counts(kept) == changed
    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # the application works on the restored database
    assert len(planned_cli.json("outbox", "list")) == 80

    # a second restore would replace the kept database: only with --force
    err = planned_cli.fails(2, "db", "restore", str(backups[0]))
    assert f"{kept} exists" in err
    assert "--force" in err
    in_use = row_counts(database)  # outbox list stored the workflow definitions
    planned_cli.ok("db", "restore", "--force", str(backups[0]))
    assert row_counts(kept) == in_use
    assert row_counts(database) == row_counts(backups[0])


@sqlite_only
def test_backup_refuses_to_overwrite_without_force(cli: Cli, db_url: str, tmp_path: Path):
    target = tmp_path / "backup.db"
    target.write_text("an earlier backup", encoding="utf-8")
    err = cli.fails(2, "db", "backup", str(target))
    assert f"PATH: {target} exists; --force replaces it" in err
    assert target.read_text(encoding="utf-8") == "an earlier backup"
    cli.ok("db", "backup", "--force", str(target))
    assert target.read_bytes().startswith(b"SQLite format 3\x00")
    err = cli.fails(2, "db", "backup", str(tmp_path / "no-such-folder" / "b.db"))
    assert "no-such-folder does not exist" in err
    err = cli.fails(2, "db", "backup", db_url.removeprefix("sqlite:///"))
    assert "is the database itself" in err


@sqlite_only
def test_restore_is_refused_while_a_daemon_holds_the_database(cli: Cli, db_url: str, tmp_path):
    database = Path(db_url.removeprefix("sqlite:///"))
    backup = tmp_path / "backup.db"
    cli.ok("db", "backup", str(backup))
    before = database.read_bytes()
    lock = SqliteDaemonLock(database)
    lock.acquire()
    try:
        err = cli.fails(8, "db", "restore", str(backup))
    finally:
        lock.release()
    assert f"a daemon (pid {os.getpid()} on " in err
    assert f"runs on {database}: stop it before restoring" in err
    assert database.read_bytes() == before
    assert not database.with_name(database.name + ".before-restore").exists()
    cli.ok("db", "restore", str(backup))  # once the daemon has stopped


@sqlite_only
def test_restore_refuses_what_is_not_a_styrhjul_database(cli: Cli, db_url: str, tmp_path):
    database = Path(db_url.removeprefix("sqlite:///"))
    before = database.read_bytes()
    text = tmp_path / "notes.txt"
    text.write_text("not a database", encoding="utf-8")
    assert f"{text} is not a SQLite database" in cli.fails(2, "db", "restore", str(text))
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as connection:
        connection.execute("CREATE TABLE t (x)")
    err = cli.fails(2, "db", "restore", str(other))
    assert f"{other} is not a Styrhjul database (no migration revision recorded)" in err
    newer = tmp_path / "newer.db"
    cli.ok("db", "backup", str(newer))
    with closing(sqlite3.connect(newer)) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
        connection.commit()
    err = cli.fails(2, "db", "restore", str(newer))
    assert f"{newer} is at migration revision 9999, which this version" in err
    assert "no backup file at" in cli.fails(2, "db", "restore", str(tmp_path / "missing.db"))
    assert database.read_bytes() == before


@sqlite_only
def test_an_older_backup_is_restored_then_upgraded(cli: Cli, db_url: str, tmp_path: Path):
    old = tmp_path / "old" / "styrhjul.db"
    old.parent.mkdir()
    upgrade(f"sqlite:///{old}", "0004")
    backup = tmp_path / "old-backup.db"
    Cli(write_config(old.parent, f"sqlite:///{old}"), cli.capsys).ok("db", "backup", str(backup))
    out = cli.ok("db", "restore", str(backup))
    assert "(revision 0004)" in out
    assert f"the backup is older than this version ({head_revision()}): styrhjul db upgrade" in out
    assert "current: 0004" in cli.ok("db", "current")
    cli.ok("db", "upgrade")
    assert f"current: {head_revision()}" in cli.ok("db", "current")


def test_restore_into_a_missing_database_creates_it(tmp_path: Path, capsys):
    source = tmp_path / "source.db"
    upgrade(f"sqlite:///{source}")
    backup = tmp_path / "backup.db"
    Cli(write_config(tmp_path, f"sqlite:///{source}"), capsys).ok("db", "backup", str(backup))
    fresh = tmp_path / "new-server" / "data" / "styrhjul.db"
    (tmp_path / "new-server").mkdir()
    restored = Cli(write_config(tmp_path / "new-server", f"sqlite:///{fresh}"), capsys)
    out = restored.ok("db", "restore", str(backup))
    assert "the database as it was" not in out
    assert row_counts(fresh) == row_counts(source)


def test_postgresql_is_backed_up_with_its_own_tools(tmp_path: Path, capsys):
    url = "postgresql+psycopg://styrhjul:s3cret@db.example.se/styrhjul"
    cli = Cli(write_config(tmp_path, url), capsys)
    err = cli.fails(2, "db", "backup", str(tmp_path / "b.dump"))
    assert "'styrhjul db backup' handles SQLite databases; this one is postgresql" in err
    assert "pg_dump -Fc" in err
    assert "db.example.se" in err
    assert "s3cret" not in err
    assert "pg_restore" in cli.fails(2, "db", "restore", str(tmp_path / "b.dump"))
    assert not (tmp_path / "b.dump").exists()


# --- the README's operations section -------------------------------------------------------


def operations_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("\n## Operations\n")
    end = readme.index("\n## ", start + 1)
    return readme[start:end]


def documented_commands(section: str) -> list[list[str]]:
    """The words after ``styrhjul`` of every code-block line that runs the CLI."""
    found = []
    for block in re.findall(r"```(?:sh|console)?\n(.*?)```", section, flags=re.DOTALL):
        for line in block.splitlines():
            words = line.split("#", 1)[0].split()
            if words and words[0] in {"styrhjul", "/opt/styrhjul/bin/styrhjul"}:
                found.append(words[1:])
    return found


def command_path(words: list[str]) -> tuple[list[str], click.Command, list[str]]:
    """The leading words that name a command, that command, and the words after them."""
    command: click.Command = root_command
    path: list[str] = []
    for word in words:
        if not isinstance(command, click.Group) or word not in command.commands:
            break
        path.append(word)
        command = command.commands[word]
    return path, command, words[len(path) :]


def test_every_command_of_the_operations_section_exists(capsys: pytest.CaptureFixture[str]):
    commands = documented_commands(operations_section())
    paths = {" ".join(command_path(words)[0]) for words in commands}
    for needed in ("init", "db backup", "db restore", "db upgrade", "daemon status"):
        assert needed in paths, f"README Operations does not show 'styrhjul {needed}'"
    for words in commands:
        shown = f"'styrhjul {' '.join(words)}'"
        path, command, after = command_path(words)
        assert path, f"README Operations: {shown} is no command"
        if isinstance(command, click.Group) and after and not after[0].startswith("-"):
            raise AssertionError(f"README Operations: {shown}: no such command")
        assert main([*path, "--help"]) == 0, shown
        usage = capsys.readouterr().out
        for option in (w.split("=")[0] for w in after if w.startswith("--")):
            assert option in usage, f"README Operations: {shown}: no option {option}"
