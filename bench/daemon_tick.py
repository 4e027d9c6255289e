"""Workload 3: the daemon's tick over a database of 1,000,000 (and 100,000) checklist steps.

Usage: ``python bench/daemon_tick.py [--steps 1000000] [--runs 5] [--quick] [--out F]``.

The database: one area of a generated organisation (20 units and their teams) planned
through the services and brought to Wednesday 10 March 2027, 10:00, then copied with
SQLAlchemy Core, area by area, until it holds the size's steps (see ``replica``: a million
steps is about 1,200 areas, 24,000 units). Most steps are done or not yet due. Then a few
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
looking over the whole database), what one run did, and the build times.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from harness import Figures, Result, main, runs_for, timed
from replica import NOW, replicate, steps_per_area, template
from scratch import migrated, open_app

from styrhjul.clock import FixedClock
from styrhjul.services.runner import run_due

SIZES = (1_000_000,)
QUICK_STEPS = 5_000
BIG = 500_000
"""From this size on the tick gets at most three runs (and two idle ones)."""
REMINDERS = 100
"""Reminders made due; twice as many steps are reopened as overdue."""
QUICK_DUE = 5
RECENT = timedelta(days=14)
"""Steps reopened as overdue fell due this long before now at most."""


def stored(moment: datetime) -> str:
    """An instant as the schema stores it on SQLite (naive UTC text), for raw SQL."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


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
    path = migrated(folder / f"tick-{steps}.db")
    per_area, once = steps_per_area(source)
    areas = max(1, round((steps - once) / per_area))
    grown = replicate(source, path, areas)
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
        # a tick at a million steps takes seconds: three runs of it, two idle ones
        slow = runs_for(steps, BIG, runs)
        ours = timed(
            lambda: summaries.append(run_due(app, drain=False).summary()),
            slow,
            setup=lambda: reset(path, rows),
        )
        idle = timed(lambda: run_due(app, drain=False), min(slow, 2))
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
            "idle_tick_median_s": statistics.median_high(idle),
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
        made = template(source)
        results = [one_size(steps, runs, source, Path(folder), due) for steps in sizes]
    for result in results:
        result.notes.update(made)
    return results


def options(found: argparse.ArgumentParser) -> None:
    found.add_argument(
        "--steps",
        default=",".join(str(n) for n in SIZES),
        help="database sizes in steps, comma-separated (default 1000000; add 100000 for the curve)",
    )


if __name__ == "__main__":
    raise SystemExit(main(measure, __doc__, extend=options))
