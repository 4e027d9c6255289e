"""Scratch databases for the workloads: an organisation imported once, copied per run.

Importing a generated organisation of 1,000 units takes seconds; copying the SQLite file it
left takes milliseconds. So a workload imports once per size into a *template* file
(:func:`organised`) and gives every timed run a fresh copy (:func:`copy_database`), made
with SQLite's backup API, which is consistent under WAL. :func:`open_app` builds the
application on such a file the way the CLI does (wiring's ``build``), with a fixed clock
and the console transport, so no mail leaves the machine.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from orggen import organisation_toml
from sqlalchemy import Table, select

import styrhjul.db  # noqa: F401 - registers the governance and web tables in the metadata
from styrhjul.clock import FixedClock
from styrhjul.config import load_settings
from styrhjul.db.database import Database
from styrhjul.db.migrate import upgrade
from styrhjul.db.models import Base
from styrhjul.notifications.transports import ConsoleTransport, Transport
from styrhjul.services.context import App
from styrhjul.services.org_import import import_organisation
from styrhjul.wiring import build


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


def open_app(
    path: Path, clock: FixedClock, *, url: str | None = None, transport: Transport | None = None
) -> App:
    """The application on the SQLite file ``path`` (or on ``url``), at ``clock``'s time.

    The database must be migrated already; the configuration is written beside ``path``.
    Mail goes to ``transport``, the console if none.
    """
    config = path.with_suffix(".toml")
    config.write_text(
        f'[database]\nurl = "{url or url_of(path)}"\n[mail]\ntransport = "console"\n',
        encoding="utf-8",
    )
    settings = load_settings(config, environ={})
    return build(settings, clock=clock, transport=transport or ConsoleTransport())


def migrated(path: Path) -> Path:
    """A fresh SQLite file at ``path`` with the schema at the head revision."""
    upgrade(url_of(path))
    return path


def organised(
    path: Path, units: int, now: datetime, *, url: str | None = None, teams: bool = False
) -> Path:
    """A migrated database holding a generated organisation of ``units`` units.

    The SQLite file ``path``, or the database at ``url`` (files beside ``path`` then);
    ``teams`` gives the units their teams, as :func:`orggen.organisation_toml` does.
    """
    upgrade(url or url_of(path))
    org = path.with_suffix(".org.toml")
    org.write_text(organisation_toml(units, seed=units, teams=teams), encoding="utf-8")
    app = open_app(path, FixedClock(now), url=url)
    try:
        import_organisation(app, org)
    finally:
        app.close()
    return path


def copy_database(source: Path, target: Path) -> Path:
    """A consistent copy of the SQLite file ``source`` at ``target`` (replaced if present)."""
    for stale in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)
    with sqlite3.connect(source) as reader, sqlite3.connect(target) as writer:
        reader.backup(writer)
    reader.close()
    writer.close()
    return target


def tables() -> list[Table]:
    """Every table of the schema, parents before children."""
    return list(Base.metadata.sorted_tables)


def new_rows(before: Path, after: Path) -> dict[str, list[dict[str, Any]]]:
    """The rows ``after`` holds that ``before`` did not (by primary key), per table, in order.

    What a service wrote between two copies of one database: the yearly plan's rows.
    Updated rows are not included, only inserted ones.
    """
    found: dict[str, list[dict[str, Any]]] = {}
    old, new = Database(url_of(before)), Database(url_of(after))
    try:
        with old.engine.connect() as was, new.engine.connect() as now:
            for table in tables():
                primary = list(table.primary_key.columns)
                names = [column.key for column in table.columns]
                at = [names.index(column.key) for column in primary]
                seen = {tuple(row) for row in was.execute(select(*primary))}
                rows = [
                    dict(zip(names, row, strict=True))
                    for row in now.execute(select(table).order_by(*primary))
                    if tuple(row[i] for i in at) not in seen
                ]
                if rows:
                    found[table.name] = rows
    finally:
        old.dispose()
        new.dispose()
    return found
