"""Workload 3: the daemon's tick over a database of 1,000,000 (and 100,000) checklist steps.

Usage: ``python bench/daemon_tick.py [--steps 1000000,100000] [--runs 5] [--quick] [--out F]``.

The database: a generated organisation of 20 units with their teams is imported and
calendar year 2027 planned through the services (the clock at 1 September 2026). Then the
clock moves to Wednesday 10 March 2027, 10:00, and the plan is brought to that day as an
administration that keeps up would have it: every step due before then is done, every
reminder due is sent, and one catch-up ``run_due`` sends the invites and opens the
preparations that fell due. That *template* (about 800 steps) is copied with SQLAlchemy
Core (``exec_driver_sql`` ``executemany`` of its raw rows: instances, their dialog and
meeting rows, attendees, steps; new ids, keys and UIDs, the same units and people) until
the database holds the size's steps. Most steps are done or not yet due. Then a few
hundred are made due now, at random: 100 reminders and 200 steps reopened that fell due
in the last two weeks (an overdue notice each, and an escalation where its time has come).

- **styrhjul**: ``run_due(app, drain=False)``, what the daemon's tick job calls
  (``styrhjul.daemon.jobs.tick``): it finds what is due and processes it, one transaction
  an item, notices rendered into the outbox. Between runs the due steps are put back as
  they were and the outbox emptied, so every run has the same work (the audit is
  append-only and keeps growing by a few hundred rows, which no query of the tick reads).
- **floor**: the bare indexed SELECTs of the due rows with sqlite3 (reminders, overdue
  notices, escalations), no join, no processing.

Both count the due rows the floor finds, so the ratio is our time to *process* a due row
over the time to *find* one. The notes hold the idle tick (nothing due: the cost of
looking over the whole database, and of retrying preparations a guard still holds back,
which the template has and its copies repeat), what one run did, and the build times.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from harness import Figures, Result, main, timed
from orggen import organisation_toml
from scratch import copy_database, migrated, open_app
from sqlalchemy import func, select, update

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.db.models import ChecklistItem, Instance, Person
from styrhjul.services.context import App
from styrhjul.services.org_import import import_organisation
from styrhjul.services.runner import run_due
from styrhjul.services.yearplan import plan_year

PLAN_AT = datetime(2026, 9, 1, 9, 0, tzinfo=STOCKHOLM)
NOW = datetime(2027, 3, 10, 10, 0, tzinfo=STOCKHOLM)
YEAR = 2027
UNITS = 20
QUICK_UNITS = 2
SIZES = (1_000_000, 100_000)
QUICK_STEPS = 2_000
REMINDERS = 100
"""Reminders made due; twice as many steps are reopened as overdue."""
QUICK_DUE = 5
RECENT = timedelta(days=14)
"""Steps reopened as overdue fell due this long before now at most."""
COPIED = (
    "instance",
    "dialog",
    "meeting",
    "assignment",
    "meeting_attendee",
    "agenda_item",
    "agreement",
    "observation",
    "checklist_item",
)
"""The template's tables that are copied, parents first; other tables are shared."""
UNIQUE_TEXT = {"instance": ("key", "ical_uid")}
"""Text columns that must differ in every copy."""
CHUNK = 50_000


def stored(moment: datetime) -> str:
    """An instant as the schema stores it on SQLite (naive UTC text), for raw SQL."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def settle(app: App) -> int:
    """Bring the open steps to ``NOW`` as kept up: done if due before, reminded if due."""
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


def template(path: Path, units: int) -> dict[str, Any]:
    """Plan ``units`` (with teams) and bring the plan to ``NOW``; what it took."""
    began = time.perf_counter()
    migrated(path)
    org = path.with_suffix(".org.toml")
    org.write_text(organisation_toml(units, seed=units, teams=True), encoding="utf-8")
    app = open_app(path, FixedClock(PLAN_AT))
    try:
        import_organisation(app, org)
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


def grow(path: Path, steps: int) -> dict[str, Any]:
    """Copy the template's instances and steps until ``path`` holds about ``steps`` steps."""
    began = time.perf_counter()
    connection = sqlite3.connect(path)
    try:
        have = connection.execute("SELECT count(*) FROM checklist_item").fetchone()[0]
        copies = max(0, round(steps / have) - 1)
        offset = 1 + max(
            connection.execute(f"SELECT coalesce(max(id), 0) FROM {name}").fetchone()[0]  # noqa: S608 - our own table names
            for name in COPIED
        )
        plans = []
        for name in COPIED:
            info = connection.execute(f"PRAGMA table_info({name})").fetchall()
            columns = [row[1] for row in info]
            links = connection.execute(f"PRAGMA foreign_key_list({name})").fetchall()
            shifted = {"id"} | {row[3] for row in links if row[2] in COPIED}
            unique = UNIQUE_TEXT.get(name, ())
            # (column, 0): an id, shifted by the copy's offset; (column, 1): a suffixed text
            rules = [(i, 0) for i, c in enumerate(columns) if c in shifted]
            rules += [(i, 1) for i, c in enumerate(columns) if c in unique]
            source = connection.execute(f"SELECT * FROM {name}").fetchall()  # noqa: S608
            marks = ", ".join("?" for _ in columns)
            plans.append((f"INSERT INTO {name} VALUES ({marks})", source, rules))  # noqa: S608
    finally:
        connection.close()
    # through Core: the same connection the app would use, raw rows, one executemany a chunk
    app = open_app(path, FixedClock(NOW))
    written = 0
    try:
        with app.db.engine.begin() as core:
            for statement, source, rules in plans:
                batch: list[tuple[Any, ...]] = []
                for copy in range(1, copies + 1):
                    for row in source:
                        values = list(row)
                        for index, kind in rules:
                            if values[index] is None:
                                continue
                            if kind == 0:
                                values[index] += copy * offset
                            else:
                                values[index] = f"{values[index]}~{copy}"
                        batch.append(tuple(values))
                    if len(batch) >= CHUNK:
                        core.exec_driver_sql(statement, batch)
                        written += len(batch)
                        batch = []
                if batch:
                    core.exec_driver_sql(statement, batch)
                    written += len(batch)
    finally:
        app.close()
    return {"copies": copies, "rows_copied": written, "grow_s": time.perf_counter() - began}


def make_due(path: Path, reminders: int, overdue: int, seed: int) -> list[tuple[Any, ...]]:
    """Make ``reminders`` + ``overdue`` steps due now; their rows as due, to reset to."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible choice, not a secret
    now, recent = stored(NOW), stored(NOW - RECENT)
    connection = sqlite3.connect(path)
    try:
        remind = [
            r[0]
            for r in connection.execute(
                "SELECT id FROM checklist_item WHERE done_at IS NULL AND assignee_id IS NOT NULL"
                " AND remind_at <= ? AND due_at > ?",
                (now, now),
            )
        ]
        late = [
            r[0]
            for r in connection.execute(
                "SELECT id FROM checklist_item WHERE done_at IS NOT NULL"
                " AND assignee_id IS NOT NULL AND due_at >= ? AND due_at < ?",
                (recent, now),
            )
        ]
        remind = rng.sample(remind, min(reminders, len(remind)))
        late = rng.sample(late, min(overdue, len(late)))
        with connection:
            connection.executemany(
                "UPDATE checklist_item SET reminded_at = NULL WHERE id = ?",
                [(i,) for i in remind],
            )
            connection.executemany(
                "UPDATE checklist_item SET done_at = NULL, done_by = NULL, reminded_at = remind_at,"
                " overdue_notified_at = NULL, escalation_level = 0 WHERE id = ?",
                [(i,) for i in late],
            )
        chosen = sorted(remind + late)
        marks = ", ".join("?" for _ in chosen)
        return connection.execute(
            "SELECT done_at, done_by, reminded_at, overdue_notified_at, escalation_level,"  # noqa: S608 - placeholders only
            f" escalate_at, id FROM checklist_item WHERE id IN ({marks})",
            chosen,
        ).fetchall()
    finally:
        connection.close()


def reset(path: Path, due: list[tuple[Any, ...]]) -> None:
    """Put the due steps back as they were before a tick, and empty the outbox."""
    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.executemany(
                "UPDATE checklist_item SET done_at = ?, done_by = ?, reminded_at = ?,"
                " overdue_notified_at = ?, escalation_level = ?, escalate_at = ? WHERE id = ?",
                due,
            )
            connection.execute("DELETE FROM outbox_message")
    finally:
        connection.close()


FLOOR = (
    "SELECT id FROM checklist_item WHERE done_at IS NULL AND reminded_at IS NULL"
    " AND remind_at <= :now",
    "SELECT id FROM checklist_item WHERE done_at IS NULL AND overdue_notified_at IS NULL"
    " AND due_at <= :now",
    "SELECT id FROM checklist_item WHERE done_at IS NULL AND escalate_at <= :now"
    " AND escalation_level < 2",
)


def floor_select(path: Path) -> int:
    """The due rows, found by the bare indexed SELECTs: how many."""
    connection = sqlite3.connect(path)
    try:
        now = {"now": stored(NOW)}
        return sum(len(connection.execute(query, now).fetchall()) for query in FLOOR)
    finally:
        connection.close()


def one_size(steps: int, runs: int, source: Path, folder: Path, due: int) -> Result:
    began = time.perf_counter()
    path = copy_database(source, folder / f"tick-{steps}.db")
    grown = grow(path, steps)
    rows = make_due(path, reminders=due, overdue=2 * due, seed=steps)
    built = time.perf_counter() - began
    connection = sqlite3.connect(path)
    try:
        total = connection.execute("SELECT count(*) FROM checklist_item").fetchone()[0]
        outbox = connection.execute("SELECT count(*) FROM outbox_message").fetchone()[0]
    finally:
        connection.close()
    if outbox:
        reset(path, rows)  # the template's catch-up left invites in the outbox
    found = floor_select(path)
    app = open_app(path, FixedClock(NOW))
    summaries: list[dict[str, int]] = []
    try:
        ours = timed(
            lambda: summaries.append(run_due(app, drain=False).summary()),
            runs,
            setup=lambda: reset(path, rows),
        )
        idle = timed(lambda: run_due(app, drain=False), min(runs, 3))
    finally:
        app.close()
    if any(s != summaries[0] for s in summaries):
        raise RuntimeError(f"the runs did different work: {summaries}")
    floor = timed(lambda: floor_select(path), runs)
    label = f"{total:,} steps"
    return Result(
        workload="daemon_tick",
        title="The daemon's tick: find and process what is due",
        size=label,
        figures=[
            Figures(
                "styrhjul", "run_due(drain=False), the tick's service", ours, found, "due rows"
            ),
            Figures(
                "floor",
                "sqlite3: the bare indexed SELECTs of the due rows",
                floor,
                found,
                "due rows",
            ),
        ],
        notes={
            "steps": total,
            "due_rows_found": found,
            "one_run_did": summaries[0],
            "idle_tick_median_s": sorted(idle)[len(idle) // 2],
            "build_s": built,
            **grown,
        },
    )


def measure(args: argparse.Namespace) -> list[Result]:
    sizes = [QUICK_STEPS] if args.quick else [int(n) for n in args.steps.split(",")]
    runs = 1 if args.quick else args.runs
    due = QUICK_DUE if args.quick else REMINDERS
    with tempfile.TemporaryDirectory(prefix="styrhjul-bench-") as folder:
        source = Path(folder) / "template.db"
        made = template(source, QUICK_UNITS if args.quick else UNITS)
        results = [one_size(steps, runs, source, Path(folder), due) for steps in sizes]
    for result in results:
        result.notes.update(made)
    return results


def options(found: argparse.ArgumentParser) -> None:
    found.add_argument(
        "--steps",
        default=",".join(str(n) for n in SIZES),
        help="database sizes in steps, comma-separated (default 1000000,100000)",
    )


if __name__ == "__main__":
    raise SystemExit(main(measure, __doc__, extend=options))
