"""Workload 2: dialogs driven through their whole life, one transaction per transition.

(Not named ``transitions.py``: run from bench/, that would shadow the ``transitions``
library the engine imports, for every workload.)

Usage: ``python bench/dialog_transitions.py [--units 40,200] [--no-postgres] [--runs 5]
[--quick] [--out FILE]``.

Each size plans the first dialog round of school year 2026/27 for a generated organisation
(one dialog per unit, seven steps each) once; every run starts from a fresh copy of that
database and takes every dialog through planned → preparing → ready → held → following_up
→ closed, phase by phase, the clock set so each guard lets it through:

- **styrhjul**, through the service layer as the CLI and the web app call it:
  ``fire_trigger(open_preparation)``; the assignee ticks the last required step
  (``complete_step``), which moves the dialog to *ready* in its transaction;
  ``hold`` by the secretary with minutes and one agreement (*held*, then *following_up*
  in the same transaction, with the agreed-action message in the outbox); ``close``
  once the agreement is done. Each call is one transaction that loads the dialog, asks
  its machine, writes the audit rows (and outbox rows) and commits. The timed work is the
  four calls that change the state; the other steps and the agreement are ticked between
  phases, untimed, with one bulk UPDATE (ticking them one by one through the services
  would double the run's time without changing what is measured).
- **floor**: raw ``sqlite3`` on a copy of the same database with the same pragmas: per
  transition ``UPDATE instance`` (state, version, updated_at) + ``INSERT INTO
  audit_event`` + ``COMMIT``, five per dialog.
- **peer**: SpiffWorkflow completing the five user tasks of ``bench/dialog_round.bpmn``
  for as many workflows (started untimed), each completion serialised with
  ``BpmnWorkflowSerializer`` and written with ``UPDATE`` + ``COMMIT`` to a SQLite table.
  The workflows stay in memory between steps (the peer's best case; Styrhjul loads each
  dialog from the database for every transaction).

The unit of work is a transition: five per dialog for every subject. The smallest size
runs again on PostgreSQL (unless ``--no-postgres``): a private, durable server (fsync
and synchronous commit on) started the test suite's way (``tests/pgserver.py``), each
run on a ``CREATE DATABASE ... TEMPLATE`` copy; its floor is the same statements with
psycopg, and it has no peer (SpiffWorkflow's store is SQLite here).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.append(str(Path(__file__).parents[1] / "tests"))  # pgserver: the suite's private server

import psycopg
from harness import Figures, Result, main, peak_rss_bytes, percentile, runs_for
from pgserver import PostgresServer
from plan_year import dialog_round_spec, fresh_peer_table
from scratch import copy_database, open_app, organised, url_of
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # type: ignore[import-untyped]
from SpiffWorkflow.util.task import TaskState  # type: ignore[import-untyped]
from sqlalchemy import select, update

from styrhjul.calendar import SchoolYear
from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.db.models import Agreement, ChecklistItem, Dialog
from styrhjul.services.checklist import complete_step
from styrhjul.services.context import App
from styrhjul.services.dialogs import AgreementInput, close, hold
from styrhjul.services.instances import fire_trigger
from styrhjul.services.planning import plan_round
from styrhjul.vocabulary import SYSTEM

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=STOCKHOLM)
SCHOOL_YEAR = SchoolYear(2026)
SECRETARY = "sekreterare@example.se"  # bench/orggen.py's secretary of the administration
LIFE = ("preparing", "ready", "held", "following_up", "closed")
PER_DIALOG = len(LIFE)
UNIT = "transitions"
BIG = 200
"""From this size on at most three runs."""
FLOOR_UPDATE = "UPDATE instance SET state = ?, updated_at = ?, version = version + 1 WHERE id = ?"
FLOOR_AUDIT = (
    "INSERT INTO audit_event (entity, entity_id, at, actor, trigger, from_state, to_state, reason)"
    " VALUES ('dialog', ?, ?, ?, ?, ?, ?, '')"
)
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
"""The test suite's server runs without durability; a benchmark of commits needs it."""
TARGET = "a persisted transition within 5x of the raw sqlite3 floor"


@dataclass(frozen=True)
class Planned:
    """One planned dialog and what driving it needs: its required steps and their assignees."""

    id: int
    rektor: str
    steps: tuple[tuple[int, str], ...]


def planned_round(
    folder: Path, units: int, url: str | None
) -> tuple[list[Planned], datetime, datetime]:
    """Plan round 1 into ``folder/planned.db`` (or ``url``): its dialogs, last preparation
    start, last end."""
    path = organised(folder / "planned.db", units, NOW, url=url)
    app = open_app(path, FixedClock(NOW), url=url)
    try:
        plan_round(app, SCHOOL_YEAR, 1)
        with app.db.session() as session:
            dialogs = list(session.scalars(select(Dialog).order_by(Dialog.id)))
            found = []
            for dialog in dialogs:
                steps = tuple(
                    (item.id, item.assignee.email)
                    for item in dialog.checklist
                    if item.required and item.assignee is not None
                )
                rektor = next(
                    item.assignee.email
                    for item in dialog.checklist
                    if item.assignee_role == "rektor" and item.assignee is not None
                )
                found.append(Planned(dialog.id, rektor, steps))
            prepare = max(d.prepare_at for d in dialogs if d.prepare_at is not None)
            start = max(d.ends_at for d in dialogs if d.ends_at is not None)
    finally:
        app.close()
    return found, prepare, start


class Stopwatch:
    """Times the calls that change a dialog's state, by trigger, and everything in total."""

    def __init__(self) -> None:
        self.timed = 0.0
        self.by_trigger: dict[str, list[float]] = defaultdict(list)

    def time(self, trigger: str, call: Callable[[], object]) -> None:
        began = time.perf_counter()
        call()
        took = time.perf_counter() - began
        self.timed += took
        self.by_trigger[trigger].append(took)


def tick_all_but_last(app: App, dialogs: list[Planned], table: Any, at: datetime) -> None:
    """Tick every dialog's required steps but the last (or its agreements) in one statement.

    Untimed preparation for the transition that follows; done in bulk, not through the
    service, so that the run's time goes to what is measured.
    """
    ids = [item for dialog in dialogs for item, _ in dialog.steps[:-1]]
    with app.db.session() as session:
        if table is ChecklistItem:
            done = ChecklistItem.id.in_(ids)
        else:
            done = Agreement.instance_id.in_([d.id for d in dialogs])
        session.execute(update(table).where(done).values(done_at=at, done_by=SYSTEM))


def drive(app: App, clock: FixedClock, dialogs: list[Planned], prepare: datetime,
          start: datetime, watch: Stopwatch) -> None:  # fmt: skip
    """Take every dialog from planned to closed through the services, phase by phase."""
    clock.set(prepare)
    for dialog in dialogs:
        watch.time(
            "open_preparation",
            lambda d=dialog: fire_trigger(app, d.id, "open_preparation", actor=SYSTEM),
        )
    clock.advance(timedelta(hours=1))
    tick_all_but_last(app, dialogs, ChecklistItem, clock.now())
    for dialog in dialogs:
        last, assignee = dialog.steps[-1]
        watch.time("mark_ready", lambda i=last, a=assignee: complete_step(app, i, actor=a))
    clock.set(start + timedelta(minutes=5))
    due = clock.today() + timedelta(days=30)
    for dialog in dialogs:
        agreed = [AgreementInput("Analysera resultaten i matematik", dialog.rektor, due)]
        watch.time(
            "hold+follow_up",
            lambda d=dialog, a=agreed: hold(
                app, d.id, actor=SECRETARY, minutes="Resultaten diskuterades.", agreements=a
            ),
        )
    clock.advance(timedelta(days=7))
    tick_all_but_last(app, dialogs, Agreement, clock.now())
    for dialog in dialogs:
        watch.time("close", lambda d=dialog: close(app, d.id, actor=SECRETARY))


def check_closed(app: App, dialogs: list[Planned]) -> None:
    with app.db.session() as session:
        states = set(session.scalars(select(Dialog.state)))
        open_steps = session.scalar(
            select(ChecklistItem.id).where(ChecklistItem.required, ChecklistItem.done_at.is_(None))
        )
    if states != {"closed"} or open_steps is not None or not dialogs:
        raise AssertionError(f"not every dialog closed: states {states}, open step {open_steps}")


def raw_floor(path: Path, dialogs: list[Planned], at: datetime) -> float:
    """Five UPDATE + audit INSERT + COMMIT per dialog with sqlite3; the seconds it took."""
    connection = sqlite3.connect(path)
    try:
        for pragma in ("foreign_keys=ON", "busy_timeout=10000", "journal_mode=WAL"):
            connection.execute(f"PRAGMA {pragma}")
        return timed_floor(connection, "?", dialogs, at)
    finally:
        connection.close()


def timed_floor(connection: Any, mark: str, dialogs: list[Planned], at: datetime) -> float:
    """The floor's transitions on a DB-API ``connection`` (``mark``: its placeholder)."""
    update = FLOOR_UPDATE.replace("?", mark)
    audit = FLOOR_AUDIT.replace("?", mark)
    began = time.perf_counter()
    for before, after in zip(("planned", *LIFE), LIFE, strict=False):
        for dialog in dialogs:
            connection.execute(update, (after, at, dialog.id))
            connection.execute(audit, (dialog.id, at, SECRETARY, after, before, after))
            connection.commit()
    return time.perf_counter() - began


def spiff_life(spec: Any, serializer: Any, dialogs: int, path: Path) -> float:
    """Start ``dialogs`` workflows (untimed), then complete their user tasks; seconds taken."""
    connection = sqlite3.connect(fresh_peer_table(path))
    try:
        workflows = []
        for number in range(dialogs):
            workflow = BpmnWorkflow(spec)
            workflow.do_engine_steps()
            workflows.append(workflow)
            connection.execute(
                "INSERT INTO workflow VALUES (?, ?)", (number, serializer.serialize_json(workflow))
            )
        connection.commit()
        began = time.perf_counter()
        for _ in LIFE:
            for number, workflow in enumerate(workflows):
                (task,) = workflow.get_tasks(state=TaskState.READY, manual=True)
                task.run()
                workflow.do_engine_steps()
                connection.execute(
                    "UPDATE workflow SET state = ? WHERE id = ?",
                    (serializer.serialize_json(workflow), number),
                )
                connection.commit()
        took = time.perf_counter() - began
        if not all(workflow.is_completed() for workflow in workflows):
            raise AssertionError("a SpiffWorkflow dialog did not reach its end")
        return took
    finally:
        connection.close()


class SqliteStore:
    """Runs on copies of a SQLite file; the floor with sqlite3 and the app's pragmas."""

    name = "SQLite"
    floor_label = "sqlite3 UPDATE + INSERT + COMMIT"

    def __init__(self, folder: Path) -> None:
        self.template = folder / "planned.db"
        self.work = folder / "run.db"

    def planned_url(self) -> str | None:
        return None  # the file itself

    def fresh(self) -> str:
        copy_database(self.template, self.work)
        return url_of(self.work)

    def floor(self, dialogs: list[Planned], at: datetime) -> float:
        self.fresh()
        return raw_floor(self.work, dialogs, at)


class PostgresStore:
    """Runs on copies (``CREATE DATABASE ... TEMPLATE``) on a private, durable server."""

    name = "PostgreSQL"
    floor_label = "psycopg UPDATE + INSERT + COMMIT"

    def __init__(self, server: Any) -> None:
        self.server = server

    def planned_url(self) -> str:
        self.server.create_database("planned")
        return str(self.server.url("planned"))

    def fresh(self) -> str:
        self.server.drop_database("run")
        self.server.create_database("run", template="planned")
        return str(self.server.url("run"))

    def floor(self, dialogs: list[Planned], at: datetime) -> float:
        url = self.fresh().replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url) as connection:
            return timed_floor(connection, "%s", dialogs, at)


def one_size(units: int, runs: int, folder: Path, store: SqliteStore | PostgresStore) -> Result:
    dialogs, prepare, start = planned_round(folder, units, store.planned_url())
    ours: list[float] = []
    latencies: dict[str, list[float]] = defaultdict(list)
    for _ in range(runs):
        url = store.fresh()
        clock = FixedClock(NOW)
        app = open_app(folder / "run.db", clock, url=url)
        try:
            watch = Stopwatch()
            drive(app, clock, dialogs, prepare, start, watch)
            ours.append(watch.timed)
            for trigger, took in watch.by_trigger.items():
                latencies[trigger].extend(took)
            check_closed(app, dialogs)
        finally:
            app.close()

    floor = [store.floor(dialogs, start) for _ in range(runs)]
    count = PER_DIALOG * len(dialogs)
    figures = [
        Figures("styrhjul", "through the services", tuple(ours), count, UNIT),
        Figures("floor", store.floor_label, tuple(floor), count, UNIT),
    ]
    if isinstance(store, SqliteStore):
        spec, serializer = dialog_round_spec(), BpmnWorkflowSerializer()
        peer = [spiff_life(spec, serializer, len(dialogs), folder / "peer.db") for _ in range(runs)]
        figures.append(
            Figures("peer", "SpiffWorkflow task + serialise + COMMIT", tuple(peer), count, UNIT)
        )

    every = [took for samples in latencies.values() for took in samples]
    return Result(
        workload="dialog_transitions",
        title="Dialogs planned → closed, a transaction per transition",
        size=f"{len(dialogs):,} dialogs"
        + (", PostgreSQL" if isinstance(store, PostgresStore) else ""),
        figures=figures,
        peak_rss_bytes=peak_rss_bytes(),
        notes={
            "dialogs": len(dialogs),
            "database": store.name,
            "transitions_per_dialog": PER_DIALOG,
            "timed_transactions_per_dialog": len(latencies),
            "transaction_ms": {
                trigger: {
                    "median": statistics.median(took) * 1000,
                    "p99": percentile(took, 99) * 1000,
                }
                for trigger, took in latencies.items()
            },
            "transaction_p99_ms": percentile(every, 99) * 1000,
            "target": TARGET,
        },
    )


def measure(args: argparse.Namespace) -> list[Result]:
    sizes = [5] if args.quick else [int(n) for n in args.units.split(",")]
    results = []
    for units in sizes:
        runs = 1 if args.quick else runs_for(units, BIG, args.runs)
        with tempfile.TemporaryDirectory(prefix="styrhjul-bench-") as folder:
            results.append(one_size(units, runs, Path(folder), SqliteStore(Path(folder))))
    if args.postgres:
        units = min(sizes)
        runs = 1 if args.quick else min(args.runs, 3)
        with (
            tempfile.TemporaryDirectory(prefix="styrhjul-bench-pg-") as folder,
            PostgresServer(Path(folder) / "pg", settings=DURABLE) as server,
        ):
            results.append(one_size(units, runs, Path(folder), PostgresStore(server)))
    return results


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--units", default="40,200", help="sizes (one dialog a unit)")
    parser.add_argument(
        "--postgres",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also the smallest size on a private PostgreSQL server (default: yes)",
    )


if __name__ == "__main__":
    raise SystemExit(main(measure, __doc__, extend=options))
