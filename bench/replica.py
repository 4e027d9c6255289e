"""A large planned organisation, made fast: one area planned through the services, then copied.

Planning through the service costs about 11 ms a unit, so 10,000 units (or the 25,000
that hold a million steps) would take minutes. Instead :func:`template` imports an
orggen organisation of one area (20 units, two teams each), plans calendar year 2027
through the services (the clock at 1 September 2026), and brings that plan to Wednesday
10 March 2027, 10:00, as an administration that keeps up would have it: every step due
before then done, every reminder due sent, and one catch-up ``run_due`` that sends the
invites and opens the preparations that fell due.

:func:`replicate` then writes ``areas`` copies of that area into an empty, migrated
database with SQLAlchemy Core (``exec_driver_sql`` ``executemany`` of the template's raw
rows): copy ``k`` is area ``k + 1`` with units ``20 k + 1`` to ``20 k + 20``, their teams,
rektorer, team leaders and area head, and everything planned for them (dialogs,
processes, steps, and the area head's place in the management group and its meetings).
What belongs to the administration (the council, boards, departments, groups, their
people, meetings and processes, the årshjul's events) is written once. Each area's
copy is what the service plans for an area, so the daemon's daily plan over the copies
finds nothing missing. The audit rows and the outbox of the template are not copied.
"""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from scratch import open_app, organised
from sqlalchemy import func, select, update

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.db.models import ChecklistItem, Instance, Person
from styrhjul.services.context import App
from styrhjul.services.runner import run_due
from styrhjul.services.yearplan import plan_year

PLAN_AT = datetime(2026, 9, 1, 9, 0, tzinfo=STOCKHOLM)
NOW = datetime(2027, 3, 10, 10, 0, tzinfo=STOCKHOLM)
YEAR = 2027
PER_AREA = 20
"""Units an area holds in orggen's organisations: the template is one area."""
LOCAL_UNITS = ("area", "unit", "team")
TABLES = (
    "org_unit",
    "person",
    "role_assignment",
    "instance",
    "dialog",
    "meeting",
    "assignment",
    "meeting_attendee",
    "agenda_item",
    "agreement",
    "observation",
    "checklist_item",
    "calendar_event",
)
"""What is copied, parents first."""
SCOPE = {
    "role_assignment": ("person_id", "unit_id"),
    "instance": ("unit_id",),
    "dialog": ("id",),
    "meeting": ("id",),
    "assignment": ("id",),
    "meeting_attendee": ("meeting_id", "person_id"),
    "agenda_item": ("meeting_id",),
    "agreement": ("instance_id",),
    "observation": ("instance_id",),
    "checklist_item": ("instance_id",),
    "calendar_event": (),
}
"""A row is copied for every area when one of these columns refers to a row that is."""
CHUNK = 50_000

_NUMBERED = re.compile(r"(enhet[- ]|rektor\.|arbetslagsledare\.)(\d+)", re.IGNORECASE)
_AREA = re.compile(r"(omrade-|verksamhetschef\.|Verksamhetsområde |område )(\d+)")


def settle(app: App) -> int:
    """Bring the open steps to the clock's now as kept up: done if due, reminded if due."""
    now = app.clock.now()
    with app.db.session() as session:
        who = select(Person.email).where(Person.id == ChecklistItem.assignee_id)
        done = session.execute(
            update(ChecklistItem)
            .where(ChecklistItem.done_at.is_(None), ChecklistItem.due_at < now)
            .values(
                done_at=ChecklistItem.due_at,
                done_by=func.coalesce(who.scalar_subquery(), "bench@example.se"),
            )
        )
        session.execute(
            update(ChecklistItem)
            .where(
                ChecklistItem.done_at.is_(None),
                ChecklistItem.reminded_at.is_(None),
                ChecklistItem.remind_at <= now,
            )
            .values(reminded_at=ChecklistItem.remind_at)
        )
    return int(getattr(done, "rowcount", 0) or 0)


def template(path: Path) -> dict[str, Any]:
    """One area planned through the services and brought to ``NOW``; what it took."""
    began = time.perf_counter()
    organised(path, PER_AREA, PLAN_AT, teams=True)
    app = open_app(path, FixedClock(PLAN_AT))
    try:
        plan_year(app, YEAR)
    finally:
        app.close()
    app = open_app(path, FixedClock(NOW))
    try:
        settle(app)
        catch_up = run_due(app, drain=False).summary()
        settle(app)
        with app.db.session() as session:
            steps = session.scalar(select(func.count()).select_from(ChecklistItem)) or 0
            instances = session.scalar(select(func.count()).select_from(Instance)) or 0
    finally:
        app.close()
    return {
        "template_s": time.perf_counter() - began,
        "template_steps": steps,
        "template_instances": instances,
        "template_catch_up": catch_up,
    }


def renamed(value: str, copy: int) -> str:
    """A text of the template as copy ``copy`` has it (copy 0 is the template itself)."""
    value = _NUMBERED.sub(lambda m: f"{m[1]}{copy * PER_AREA + int(m[2])}", value)
    return _AREA.sub(lambda m: f"{m[1]}{copy + int(m[2])}", value)


def _names(value: str) -> bool:
    """Whether ``value`` names a unit, a person or the area of the template's area."""
    return bool(_NUMBERED.search(value) or _AREA.search(value))


def steps_per_area(source: Path) -> tuple[int, int]:
    """The template's steps of its area (copied per area) and of the administration (once)."""
    reader = sqlite3.connect(source)
    try:
        local = len(_local_ids(reader)["checklist_item"])
        total = reader.execute("SELECT count(*) FROM checklist_item").fetchone()[0]
    finally:
        reader.close()
    return local, total - local


def _local_ids(source: sqlite3.Connection) -> dict[str, set[int]]:
    """Per table, the ids of the template's rows that belong to its area."""
    local: dict[str, set[int]] = {}
    marks = ", ".join("?" for _ in LOCAL_UNITS)
    local["org_unit"] = {
        r[0]
        for r in source.execute(f"SELECT id FROM org_unit WHERE kind IN ({marks})", LOCAL_UNITS)  # noqa: S608 - placeholders only
    }
    held = source.execute("SELECT person_id, unit_id FROM role_assignment").fetchall()
    local["person"] = {person for person, unit in held if unit in local["org_unit"]}
    for table in TABLES[2:]:
        links = _links(source, table)
        columns = SCOPE[table]
        found = set()
        if columns:
            for row in source.execute(f"SELECT id, {', '.join(columns)} FROM {table}"):  # noqa: S608 - our own names
                target = [links.get(c, "instance" if c == "id" else "") for c in columns]
                if any(v in local.get(t, ()) for v, t in zip(row[1:], target, strict=True)):
                    found.add(row[0])
        local[table] = found
    return local


def _links(connection: sqlite3.Connection, table: str) -> dict[str, str]:
    """Column -> the table it refers to."""
    return {row[3]: row[2] for row in connection.execute(f"PRAGMA foreign_key_list({table})")}


def replicate(source: Path, target: Path, areas: int) -> dict[str, Any]:
    """Write ``areas`` copies of the template's area into ``target`` (migrated, empty)."""
    began = time.perf_counter()
    reader = sqlite3.connect(source)
    try:
        local = _local_ids(reader)
        offset = 1 + max(
            reader.execute(f"SELECT coalesce(max(id), 0) FROM {t}").fetchone()[0]  # noqa: S608 - our own names
            for t in TABLES
        )
        plans = []
        for table in TABLES:
            columns = [r[1] for r in reader.execute(f"PRAGMA table_info({table})")]
            links = _links(reader, table)
            # (column, the table its ids are in) for the id and every reference
            ids = [
                (i, table if c == "id" else links[c])
                for i, c in enumerate(columns)
                if c == "id" or c in links
            ]
            rows = reader.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608 - our own names
            plans.append((table, columns, ids, rows))
    finally:
        reader.close()
    counts: dict[str, int] = {}
    app = open_app(target, FixedClock(NOW))
    try:
        with app.db.engine.connect() as core:
            # a bulk load of rows that are consistent by construction: no per-row foreign
            # key lookups, and a page cache that holds the indexes being built
            core.exec_driver_sql("PRAGMA foreign_keys=OFF")
            core.exec_driver_sql("PRAGMA cache_size=-262144")
            core.commit()
            for table, columns, ids, rows in plans:
                mine = local.get(table, set())
                references = {i for i, _ in ids}
                texts = [i for i in range(len(columns)) if i not in references]
                marks = ", ".join("?" for _ in columns)
                statement = f"INSERT INTO {table} VALUES ({marks})"  # noqa: S608 - our own names
                batch: list[tuple[Any, ...]] = []
                written = 0
                for row in rows:
                    # what changes from copy to copy, found once a row: the ids of the
                    # area's rows, and the texts that name its units or people
                    shifted = [i for i, refers in ids if row[i] in local.get(refers, ())]
                    named = [i for i in texts if isinstance(row[i], str) and _names(row[i])]
                    for copy in range(areas) if row[0] in mine else range(1):
                        values = list(row)
                        for index in shifted:
                            values[index] += copy * offset
                        for index in named if copy else ():
                            values[index] = renamed(values[index], copy)
                        batch.append(tuple(values))
                    if len(batch) >= CHUNK:
                        core.exec_driver_sql(statement, batch)
                        written += len(batch)
                        batch = []
                if batch:
                    core.exec_driver_sql(statement, batch)
                    written += len(batch)
                counts[table] = written
            core.commit()
            core.exec_driver_sql("PRAGMA foreign_keys=ON")
    finally:
        app.close()
    return {
        "areas": areas,
        "units": areas * PER_AREA,
        "rows_written": counts,
        "replicate_s": time.perf_counter() - began,
    }
