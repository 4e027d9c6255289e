"""Workload 1: planning a year for generated organisations, against its floor and its peer.

Usage: ``python bench/plan_year.py [--units 40,1000] [--runs 5] [--quick] [--out FILE]``.

- **styrhjul**: :func:`~styrhjul.services.yearplan.plan_year` plans calendar year 2027 into
  a fresh copy of a database holding the organisation (the clock is 1 September 2026, so
  the whole year is set going: dialogs at every level, the groups' meetings, processes),
  as ``styrhjul plan`` does. The application is built before the clock starts.
- **floor**: the very rows that plan wrote (read back from its database: every table, every
  column, ids kept) inserted into a fresh copy of the same organised database with
  SQLAlchemy Core ``executemany``, one statement per table, in one transaction.
- **peer**: SpiffWorkflow starting as many instances of ``bench/dialog_round.bpmn`` as the
  plan made instances (dialogs, meetings, processes), serialising each with
  ``BpmnWorkflowSerializer`` and storing the JSON in a SQLite table in one transaction.

All three count the same unit of work, the plan's instances, so the ratios are per
instance. The rows per table, and a second plan of the same year (which must change
nothing), are in the notes. 10,000 units are left out of the default sizes: one run of
them (Styrhjul, floor and peer) takes about 40 s besides importing the organisation, a
third of the whole run's budget at three runs (``--units 10000`` does it: 13.5 s, 1.61×
the floor and 0.72× SpiffWorkflow's time, on 7 December 2026).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from harness import Figures, Result, main, peak_rss_bytes, runs_for
from scratch import copy_database, new_rows, open_app, organised, tables, url_of
from SpiffWorkflow.bpmn.parser import BpmnParser  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # type: ignore[import-untyped]

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.db.database import Database
from styrhjul.services.yearplan import plan_year

YEAR = 2027
NOW = datetime(2026, 9, 1, 9, 0, tzinfo=STOCKHOLM)
BPMN = Path(__file__).parent / "dialog_round.bpmn"
PROCESS = "dialog_round"
UNIT = "instances"
BIG = 1000
"""From this size on at most three runs: a run takes many seconds."""
TARGET = "within 2x of the Core executemany floor; at least 10x SpiffWorkflow's rate"


def dialog_round_spec() -> Any:
    """The peer's process: the dialog round as BPMN, parsed once."""
    parser = BpmnParser()
    parser.add_bpmn_file(str(BPMN))
    return parser.get_spec(PROCESS)


def spiff_start(spec: Any, serializer: Any, instances: int, path: Path) -> None:
    """Start and serialise ``instances`` workflows; store them in one transaction."""
    stored = []
    for number in range(instances):
        workflow = BpmnWorkflow(spec)
        workflow.do_engine_steps()  # to the first user task, where a plan leaves a dialog
        stored.append((number, serializer.serialize_json(workflow)))
    with sqlite3.connect(path) as connection:
        connection.executemany("INSERT INTO workflow (id, state) VALUES (?, ?)", stored)
    connection.close()


def fresh_peer_table(path: Path) -> Path:
    """A new SQLite file at ``path`` (WAL) with the peer's one table of serialised workflows."""
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE workflow (id INTEGER PRIMARY KEY, state TEXT NOT NULL)")
    connection.close()
    return path


def one_size(units: int, runs: int, folder: Path) -> Result:
    """Plan, insert and start the same work ``runs`` times each; the figures and notes."""
    template = organised(folder / "organisation.db", units, NOW)
    work = folder / "plan.db"
    ours: list[float] = []
    again: list[float] = []
    for _ in range(runs):
        copy_database(template, work)
        app = open_app(work, FixedClock(NOW))
        try:
            began = time.perf_counter()
            plan_year(app, YEAR)
            ours.append(time.perf_counter() - began)
            began = time.perf_counter()
            second = plan_year(app, YEAR, apply=True)
            again.append(time.perf_counter() - began)
            if second.changes:
                raise AssertionError(f"planning {YEAR} again changed {second.changes[:3]}")
        finally:
            app.close()
    rows = new_rows(template, work)
    instances = len(rows.get("instance", ()))

    floor: list[float] = []
    target = folder / "floor.db"
    for _ in range(runs):
        copy_database(template, target)
        database = Database(url_of(target))
        try:
            with database.engine.connect() as connection:
                began = time.perf_counter()
                with connection.begin():
                    connection.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
                    for table in tables():
                        if rows.get(table.name):
                            connection.execute(table.insert(), rows[table.name])
                floor.append(time.perf_counter() - began)
        finally:
            database.dispose()

    spec, serializer = dialog_round_spec(), BpmnWorkflowSerializer()
    peer: list[float] = []
    for _ in range(runs):
        store = fresh_peer_table(folder / "peer.db")
        began = time.perf_counter()
        spiff_start(spec, serializer, instances, store)
        peer.append(time.perf_counter() - began)

    written = sum(len(batch) for batch in rows.values())
    return Result(
        workload="plan_year",
        title=f"Planning year {YEAR}",
        size=f"{units:,} units",
        figures=[
            Figures(
                "styrhjul", "plan_year through the service", tuple(ours), instances, "instances"
            ),
            Figures(
                "floor", "the same rows, Core executemany", tuple(floor), instances, "instances"
            ),
            Figures("peer", "SpiffWorkflow start + serialise", tuple(peer), instances, "instances"),
        ],
        peak_rss_bytes=peak_rss_bytes(),
        notes={
            "units": units,
            "instances": instances,
            "rows": written,
            "rows_per_table": {name: len(batch) for name, batch in rows.items()},
            "again_median_s": statistics.median_high(again),
            "target": TARGET,
        },
    )


def measure(args: argparse.Namespace) -> list[Result]:
    sizes = [10] if args.quick else [int(n) for n in args.units.split(",")]
    results = []
    for units in sizes:
        runs = 1 if args.quick else runs_for(units, BIG, args.runs)
        with tempfile.TemporaryDirectory(prefix="styrhjul-bench-") as folder:
            results.append(one_size(units, runs, Path(folder)))
    return results


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--units", default="40,1000", help="sizes, comma separated")


if __name__ == "__main__":
    raise SystemExit(main(measure, __doc__, extend=options))
