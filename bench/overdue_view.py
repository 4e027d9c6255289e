"""Benchmark: the directors' overdue view at 100,000 and 1,000,000 checklist steps.

Usage: ``python bench/overdue_view.py [--steps 100000,1000000] [--requests 300] [--quick]
[--out FILE]``. Each size builds a SQLite *file* database (migrated to the head, the
organisation of ``orggen`` with 200 units and their teams), then writes instances and
their steps with Core ``executemany``: instances of the dialog workflows and the quality
report, anchored from three years back to one year ahead, about eight steps each. Past
instances are mostly ended (closed: their optional step stays open, as closing leaves
it; some cancelled: every step stays open), past steps of live ones mostly done, so the
open steps of ended instances lie at the head of the open-step index as they would in a
database that has run for years. ``--stale 0`` leaves them out.

Three latencies, each over ``--requests`` requests (one sample per request, so p99 means
something), for the first page (100 steps, most overdue first) as the director sees it:

* ``floor``: the bare SELECT of that page with ``sqlite3`` (the same joins and
  conditions, hand-written, through the partial index), rows fetched as tuples;
* ``styrhjul`` service: ``overdue_page`` for the director, rows shaped, count included;
* ``styrhjul`` HTTP: ``GET /oversikt/forsenat`` through the ASGI app with Starlette's
  TestClient (in-process, no socket) and a director's session cookie: login check, the
  service, the unit menus and the rendered page.

``--quick`` uses about 2,000 steps and 30 requests: the harness works, in seconds.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

sys.path.insert(0, str(Path(__file__).parent))

from harness import Figures, Result, main, peak_rss_bytes, percentile, timed
from scratch import open_app, organised

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.db.models import ChecklistItem, Dialog, Instance, OrgUnit, Person, RoleAssignment
from styrhjul.services.access import Viewer, viewer_for
from styrhjul.services.accounts import create_account, log_in
from styrhjul.services.context import App
from styrhjul.services.overdue import OverdueFilter, live_instances, overdue_query
from styrhjul.services.overdue_pages import COUNT_CAP, count_select, overdue_page, page_select

NOW = datetime(2026, 10, 14, 10, 0, tzinfo=STOCKHOLM)
UNITS = 200
STEPS_PER_INSTANCE = 8
DIRECTOR = "utbildningsdirektor@example.se"
PASSWORD = "bänkprov-lösenord-2026"  # noqa: S105 - a throwaway account in a temporary database
PAGE = 100
TARGET = (
    "issue 8: the top 100 in about 0.2 ms raw and 2 ms through the ORM;"
    " the HTTP overdue page under 20 ms at p99"
)

# (workflow, kind, dialog level or None, the kind of unit it concerns)
SHAPES = (
    ("dialog_round", "dialog", "area_rektor", "unit"),
    ("team_dialog", "dialog", "rektor_team", "team"),
    ("director_dialog", "dialog", "director_area", "area"),
    ("quality_report", "process", None, "unit"),
)
LIVE = {"dialog_round": "preparing", "team_dialog": "preparing",
        "director_dialog": "preparing", "quality_report": "open"}  # fmt: skip


def _app(folder: Path) -> App:
    database = organised(folder / "bench.db", UNITS, NOW, teams=True)
    return open_app(database, FixedClock(NOW))


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


def populate(app: App, steps: int, *, stale: bool, seed: int = 8) -> dict[str, int]:
    """Write about ``steps`` steps in instances of every shape; counts of what was written."""
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not a secret
    finals = {
        name: sorted(m.definition.final_states)
        for name, m in app.machines.items()
        if "@" not in name
    }
    versions = {m.definition.name: m.definition.version for m in app.machines.values()}
    with app.db.session() as session:
        units: dict[str, list[int]] = {}
        for ident, kind in session.execute(select(OrgUnit.id, OrgUnit.kind)):
            units.setdefault(kind, []).append(ident)
        people = list(session.scalars(select(Person.id)))
        holder = dict(
            session.execute(select(RoleAssignment.unit_id, RoleAssignment.person_id)).all()
        )
    start, span = NOW - timedelta(days=3 * 365), 4 * 365
    instances: list[dict[str, Any]] = []
    dialogs: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    counts = {"instances": 0, "steps": 0, "done": 0, "overdue_live": 0, "open_in_ended": 0}
    for number in range(1, steps // STEPS_PER_INSTANCE + 1):
        workflow, kind, level, unit_kind = SHAPES[number % len(SHAPES)]
        unit_id = rng.choice(units[unit_kind])
        anchor = start + timedelta(days=rng.uniform(0, span))
        old = anchor < NOW - timedelta(days=60)
        state = LIVE[workflow]
        cancelled = False
        if old and rng.random() < 0.95:
            cancelled = rng.random() < 0.1
            state = finals[workflow][-1 if cancelled else 0]
            state = "cancelled" if cancelled and "cancelled" in finals[workflow] else state
        instances.append({
            "id": number, "kind": kind, "key": f"bench:{number}", "workflow": workflow,
            "workflow_version": versions[workflow], "title": f"Bänkprov {number}",
            "unit_id": unit_id, "state": state, "created_at": _utc(anchor - timedelta(days=60)),
            "updated_at": _utc(anchor), "version": 1, "ical_sequence": 0,
        })  # fmt: skip
        if level is not None:
            person = holder.get(unit_id, people[0])
            dialogs.append({
                "id": number, "level": level, "round_no": 1 + number % 3,
                "host_unit_id": unit_id, "organizer_id": person, "participant_id": person,
            })  # fmt: skip
        ended = state not in LIVE.values()
        for position in range(STEPS_PER_INSTANCE):
            due = anchor - timedelta(
                days=3 * (STEPS_PER_INSTANCE - position), hours=rng.randint(0, 8)
            )
            required = position != STEPS_PER_INSTANCE - 1
            if ended:
                done = not cancelled and required if stale else True
            else:
                done = due < NOW and rng.random() < 0.6
            counts["done"] += done
            counts["overdue_live"] += not done and not ended and due <= NOW
            counts["open_in_ended"] += not done and ended
            items.append({
                "instance_id": number, "position": position, "key": f"steg-{position}",
                "title": f"Steg {position + 1}", "assignee_role": "rektor",
                "assignee_id": holder.get(unit_id), "required": required,
                "origin": "definition", "due_at": _utc(due), "escalation_level": 0,
                "notice_round": 0, "done_at": _utc(due) if done else None,
                "done_by": DIRECTOR if done else None,
            })  # fmt: skip
        counts["instances"] += 1
        counts["steps"] += STEPS_PER_INSTANCE
        if len(items) >= BATCH:
            _flush(app, instances, dialogs, items)
    _flush(app, instances, dialogs, items)
    return counts


BATCH = 50_000
"""Steps written a transaction: a million rows of dicts at once would take gigabytes."""


def _flush(app: App, *batches: list[dict[str, Any]]) -> None:
    """Write the instances, dialogs and steps gathered so far (in that order), and forget them."""
    with app.db.engine.begin() as connection:
        for table, rows in zip((Instance, Dialog, ChecklistItem), batches, strict=True):
            if rows:
                connection.execute(insert(table.__table__), rows)
    for rows in batches:
        rows.clear()


FLOOR_SQL = """
SELECT c.id, c.key, c.title, c.required, c.due_at, c.done_at, c.escalation_level,
       i.kind, i.id, i.title, i.state, i.unit_id, d.level, p.email, p.title
FROM checklist_item AS c
JOIN instance AS i ON i.id = c.instance_id
LEFT JOIN dialog AS d ON d.id = i.id
LEFT JOIN person AS p ON p.id = c.assignee_id
WHERE c.done_at IS NULL AND c.due_at <= ? AND {live}
ORDER BY c.due_at, c.id
LIMIT {page}
"""


def floor_query(app: App) -> str:
    """The page's SELECT by hand: the same joins and conditions as the service's.

    "Live" is the service's own condition (:func:`live_instances`) written out for SQLite,
    so that floor and service ask the database the same question.
    """
    live = live_instances(app).compile(
        dialect=sqlite_dialect(), compile_kwargs={"literal_binds": True}
    )
    return FLOOR_SQL.format(live=str(live).replace("instance.", "i."), page=PAGE)


@contextmanager
def _client(app: App) -> Iterator[Any]:
    from fastapi.testclient import TestClient  # noqa: PLC0415 - only the HTTP figures need it

    from styrhjul.web.app import create_web_app  # noqa: PLC0415

    create_account(app, DIRECTOR, password=PASSWORD)
    login = log_in(app, DIRECTOR, PASSWORD)
    with TestClient(create_web_app(app), base_url="http://testserver") as client:
        client.cookies.set("styrhjul_session", login.token)
        yield client


def _checked(work: Callable[[], object], check: Callable[[Any], bool], what: str) -> None:
    found = work()
    if not check(found):
        raise SystemExit(f"{what}: unexpected answer {str(found)[:200]}")


def sampled(work: Callable[[], object], runs: int) -> tuple[tuple[float, ...], dict[str, float]]:
    """Wall seconds of each run (the figures), and the median and p99 of its CPU time in ms.

    The CPU time is what a run costs on an idle machine (SQLite runs in the process); on a
    shared one the wall time also holds the waits for a core.
    """
    wall, used = [], []
    for _ in range(runs):
        began, began_cpu = time.perf_counter(), time.process_time()
        work()
        used.append(time.process_time() - began_cpu)
        wall.append(time.perf_counter() - began)
    return tuple(wall), {
        "median": round(statistics.median(used) * 1000, 3),
        "p99": round(percentile(used, 99) * 1000, 3),
    }


def _parts(app: App, viewer: Viewer, runs: int) -> dict[str, float]:
    """Median wall ms of the service's parts: the capped count, the page through the ORM."""
    with app.db.session() as session:
        query = overdue_query(app, session, OverdueFilter(), viewer)
        count = count_select(query, COUNT_CAP)
        page = page_select(query, None, PAGE)
        return {
            "count": round(statistics.median(timed(lambda: session.scalar(count), runs)) * 1000, 3),
            "orm_page": round(
                statistics.median(timed(lambda: session.execute(page).all(), runs)) * 1000, 3
            ),
        }


def measure_size(steps: int, requests: int, *, stale: bool) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="styrhjul-bench-") as name:
        folder = Path(name)
        app = _app(folder)
        try:
            began = time.perf_counter()
            counts = populate(app, steps, stale=stale)
            built = time.perf_counter() - began
            with app.db.session() as session:
                director = session.scalar(select(Person.id).where(Person.email == DIRECTOR))
            assert director is not None
            viewer = viewer_for(app, director)
            everyone = OverdueFilter()
            cpu: dict[str, dict[str, float]] = {}
            raw = sqlite3.connect(folder / "bench.db")
            sql = floor_query(app)
            now = _utc(NOW).strftime("%Y-%m-%d %H:%M:%S.%f")
            plan = " | ".join(str(r[-1]) for r in raw.execute("EXPLAIN QUERY PLAN " + sql, (now,)))
            expected = min(PAGE, counts["overdue_live"])
            _checked(
                lambda: raw.execute(sql, (now,)).fetchall(), lambda r: len(r) == expected, "floor"
            )
            floor, cpu["floor"] = sampled(lambda: raw.execute(sql, (now,)).fetchall(), requests)
            raw.close()

            def service() -> object:
                return overdue_page(app, viewer, everyone)

            _checked(service, lambda p: len(p.rows) == expected, "service")
            ours, cpu["service"] = sampled(service, requests)
            parts = _parts(app, viewer, requests)
            with _client(app) as client:

                def page() -> object:
                    return client.get("/oversikt/forsenat")

                _checked(page, lambda r: r.status_code == 200 and "Visar" in r.text, "HTTP")
                http, cpu["http"] = sampled(page, requests)
            notes = {**counts, "build_s": round(built, 1), "plan": plan, "target": TARGET,
                     "cpu_ms": cpu, "parts_ms": parts, "load_average": os.getloadavg()[0],
                     "stale_open_steps": stale, "database": "SQLite file",
                     "http_client": "Starlette TestClient (ASGI in-process)"}  # fmt: skip
        finally:
            app.close()
    size = f"{counts['steps']:,} steps" + ("" if stale else ", no stale")
    floor_figures = Figures("floor", "top 100 with sqlite3", floor, requests, "requests", True)
    return [
        Result("overdue_view", "Overdue page: service vs bare SELECT", size,
               [Figures("styrhjul", "overdue_page (first page)", ours, requests, "requests",
                        True), floor_figures],
               peak_rss_bytes(), notes),
        Result("overdue_view", "Overdue page: HTTP vs bare SELECT", f"{size}, HTTP",
               [Figures("styrhjul", "GET /oversikt/forsenat", http, requests, "requests", True),
                floor_figures],
               peak_rss_bytes(), notes),
    ]  # fmt: skip


def measure(args: argparse.Namespace) -> list[Result]:
    sizes = [2_000] if args.quick else [int(n) for n in args.steps.split(",")]
    requests = 30 if args.quick else args.requests
    results = []
    for steps in sizes:
        results += measure_size(steps, requests, stale=args.stale != 0)
    for result in results:
        for figures in result.figures:
            print(
                f"{result.size:<32} {figures.subject:<8} {figures.label:<28}"
                f" median {figures.median_s * 1000:8.3f} ms  p99 {figures.p99_s * 1000:8.3f} ms",
                file=sys.stderr,
            )
    return results


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--steps", default="100000,1000000", help="sizes, comma-separated")
    parser.add_argument("--requests", type=int, default=300, help="requests per subject")
    parser.add_argument(
        "--stale", type=int, default=1, help="1: ended instances keep open steps (default); 0: not"
    )


if __name__ == "__main__":
    raise SystemExit(main(measure, __doc__, extend=_options))
