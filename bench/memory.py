"""Workload 7: the resident size of the daemon with 10,000 units (and their teams) planned.

Usage: ``python bench/memory.py [--units 10000] [--runs 2] [--quick] [--out FILE]``.

The database: a generated organisation of 10,000 units with two teams each is imported
through the service. Planning it through the service would take minutes (1,000 units take
about 11 s), more than this workload's budget, so the plan is *inserted with Core*
instead: 20 units with their teams are planned through the service (calendar year 2027,
the clock at 1 September 2026) and brought to Wednesday 10 March 2027 as in
``daemon_tick`` (steps due before then done, the invites sent, preparations opened);
then that plan's instances, dialogs, meetings, attendees and steps are written with
``exec_driver_sql`` ``executemany``, once for every 20 units of the large organisation,
each copy mapped to its own units, teams, rektorer, team leaders and area head (orggen
gives every 20 units one area), and once for the administration's own instances and
the årshjul's events. The result is the plan the service would have written, by unit:
the daemon's daily plan finds nothing missing. The audit rows of the plan are left out.

Each run copies that database, starts ``styrhjul daemon --now 2027-03-10T10:00`` as a
real process on it (console transport, JSON log on stderr, a tick every 2 s), waits for
its catch-up (the daily plan over all 10,000 units, the weekly digest, one tick, one
drain) and one scheduled tick after it, reads ``VmRSS`` and ``VmHWM`` from
``/proc/PID/status``, and stops it with SIGTERM.

- **styrhjul**: the seconds from the start of the process to its first completed tick
  (the catch-up's); the bytes are in the notes. There is no floor or peer: the figure
  stands alone.
"""

from __future__ import annotations

import argparse
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from daemon_tick import NOW, PLAN_AT, template
from harness import Figures, Result, main
from orggen import organisation_toml
from scratch import copy_database, migrated, open_app

from styrhjul.clock import FixedClock
from styrhjul.services.org_import import import_organisation

UNITS = 10_000
QUICK_UNITS = 40
PER_AREA = 20
"""orggen gives every 20 units one area: the template is one area's worth."""
COPIED = ("instance", "dialog", "meeting", "meeting_attendee", "checklist_item")
"""The plan's tables copied per area; ``calendar_event`` is copied once."""
LOCAL = ("unit", "team", "area")
"""Instances of these units are copied for every area; the others (administration,
boards, groups) once."""
TICK_SECONDS = 2
MAX_RUNS = 2
DEADLINE = 600.0
CHUNK = 50_000


class Mapping:
    """How copy ``k`` of the template renames a unit, a person or a text.

    Template unit ``i`` (1..20) becomes unit ``20 k + i`` of the large organisation, whose
    area is the one orggen gives it; the template's one area becomes area ``k + 1``, for
    the instances held by the area itself.
    """

    def __init__(self, copy: int, areas: int) -> None:
        self.copy = copy
        self.areas = areas
        self.area = copy + 1

    def unit(self, number: int) -> int:
        return self.copy * PER_AREA + number

    def within(self, number: int | None) -> Mapping:
        """The mapping for an instance of template unit ``number`` (None: of the area)."""
        if number is not None:
            self.area = (self.unit(number) - 1) % self.areas + 1
        else:
            self.area = self.copy + 1
        return self

    def text(self, value: str) -> str:
        value = _UNIT.sub(lambda m: f"{m[1]}{self.unit(int(m[2]))}", value)
        value = _PERSON.sub(lambda m: f"{m[1]}{self.unit(int(m[2]))}{m[3]}", value)
        return _AREA.sub(lambda m: f"{m[1]}{self.area}", value)


_UNIT = re.compile(r"(enhet[- ])(\d+)", re.IGNORECASE)
_PERSON = re.compile(r"(rektor\.|arbetslagsledare\.)(\d+)([.@])")
_AREA = re.compile(r"(omrade-|verksamhetschef\.|Verksamhetsområde |område )(\d+)")
_NUMBER = re.compile(r"^enhet-(\d+)")


def big_organisation(path: Path, units: int) -> float:
    """Import the large organisation through the service; the seconds it took."""
    began = time.perf_counter()
    migrated(path)
    org = path.with_suffix(".org.toml")
    org.write_text(organisation_toml(units, seed=units, teams=True), encoding="utf-8")
    app = open_app(path, FixedClock(PLAN_AT))
    try:
        import_organisation(app, org)
    finally:
        app.close()
    return time.perf_counter() - began


def _read(connection: sqlite3.Connection, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    columns = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
    return columns, connection.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608


def plan_rows(source: Path, target: Path, units: int) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of the large plan: the template's, copied and mapped per area."""
    areas = max(1, units // PER_AREA)
    if units % PER_AREA:
        raise ValueError(f"--units must be a multiple of {PER_AREA}, not {units}")
    old = sqlite3.connect(source)
    new = sqlite3.connect(target)
    try:
        unit_code = dict(old.execute("SELECT id, code FROM org_unit").fetchall())
        unit_kind = dict(old.execute("SELECT id, kind FROM org_unit").fetchall())
        email = dict(old.execute("SELECT id, email FROM person").fetchall())
        unit_id = {code: i for i, code in new.execute("SELECT id, code FROM org_unit")}
        person_id = {mail: i for i, mail in new.execute("SELECT id, email FROM person")}
        holder = dict(old.execute("SELECT id, unit_id FROM instance").fetchall())
        local = {i for i, u in holder.items() if unit_kind[u] in LOCAL}
        highest = "SELECT coalesce(max(id), 0) FROM {}"
        offset = 1 + max(old.execute(highest.format(t)).fetchone()[0] for t in COPIED)
        tables = {t: (_read(old, t), _links(old, t)) for t in (*COPIED, "calendar_event")}
        meeting_of = dict(old.execute("SELECT id, meeting_id FROM meeting_attendee").fetchall())
    finally:
        old.close()
        new.close()

    def instance_of(table: str, row: dict[str, Any]) -> int | None:
        if table in {"instance", "dialog", "meeting"}:
            return int(row["id"])
        if table == "meeting_attendee":
            return int(meeting_of[row["id"]])
        return row.get("instance_id")

    out: dict[str, list[tuple[Any, ...]]] = {}
    for table, ((columns, rows), links) in tables.items():
        found: list[tuple[Any, ...]] = []
        for raw in rows:
            row = dict(zip(columns, raw, strict=True))
            instance = instance_of(table, row)
            copies = range(areas) if instance in local and table != "calendar_event" else (0,)
            for copy in copies:
                mapping = Mapping(copy, areas)
                if instance in local:
                    code = unit_code[holder[instance]]
                    number = _NUMBER.match(code)
                    mapping.within(int(number[1]) if number else None)
                found.append(
                    tuple(
                        _value(
                            name,
                            value,
                            links.get(name, "id" if name == "id" else ""),
                            mapping if instance in local else None,
                            copy * offset,
                            local,
                            unit_code,
                            email,
                            unit_id,
                            person_id,
                        )
                        for name, value in row.items()
                    )
                )
        out[table] = found
    return out


def _links(connection: sqlite3.Connection, table: str) -> dict[str, str]:
    """Column -> the table it refers to."""
    return {row[3]: row[2] for row in connection.execute(f"PRAGMA foreign_key_list({table})")}


def _value(  # noqa: PLR0911 - one column's mapping, case by case
    name: str,
    value: Any,
    target: str,
    mapping: Mapping | None,
    shift: int,
    local: set[int],
    unit_code: dict[int, str],
    email: dict[int, str],
    unit_id: dict[str, int],
    person_id: dict[str, int],
) -> Any:
    if value is None:
        return None
    if target == "org_unit":
        code = unit_code[value]
        return unit_id[mapping.text(code) if mapping else code]
    if target == "person":
        mail = email[value]
        return person_id[mapping.text(mail) if mapping else mail]
    if target in {"instance", "meeting", "dialog"}:
        return value + shift if value in local else value
    if target == "id":
        return value + shift
    if mapping is not None and isinstance(value, str):
        return mapping.text(value)
    return value


def fill(target: Path, rows: dict[str, list[tuple[Any, ...]]]) -> int:
    """Write ``rows`` with Core, one transaction; the rows written."""
    app = open_app(target, FixedClock(PLAN_AT))
    written = 0
    try:
        with app.db.engine.begin() as core:
            core.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            for table in (*COPIED, "calendar_event"):
                batch = rows[table]
                if not batch:
                    continue
                marks = ", ".join("?" for _ in batch[0])
                statement = f"INSERT INTO {table} VALUES ({marks})"  # noqa: S608
                for start in range(0, len(batch), CHUNK):
                    core.exec_driver_sql(statement, batch[start : start + CHUNK])
                written += len(batch)
    finally:
        app.close()
    return written


def status(pid: int) -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` of process ``pid``, in bytes."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        key, _, rest = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            found[key] = int(rest.split()[0]) * 1024  # the kernel writes kB
    return found


def wait_until(what: str, check: Callable[[], bool], process: subprocess.Popen[bytes]) -> None:
    end = time.monotonic() + DEADLINE
    while not check():
        if process.poll() is not None:
            raise RuntimeError(f"the daemon exited with {process.returncode} before {what}")
        if time.monotonic() > end:
            raise RuntimeError(f"no {what} within {DEADLINE:.0f} s")
        time.sleep(0.05)


def one_daemon(database: Path, folder: Path) -> dict[str, Any]:
    """Start the daemon on a copy of ``database``; its first tick's time and its memory."""
    path = copy_database(database, folder / "daemon.db")
    config = folder / "daemon.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{path}"\n[mail]\ntransport = "console"\n'
        f"[daemon]\ntick_seconds = {TICK_SECONDS}\n",
        encoding="utf-8",
    )
    log = folder / "daemon.log"
    command = [sys.executable, "-m", "styrhjul", "--config", str(config)]
    command += ["--now", NOW.replace(tzinfo=None).isoformat(timespec="minutes"), "daemon"]
    began = time.perf_counter()
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr
        )
    try:

        def text() -> str:
            return log.read_text(encoding="utf-8", errors="replace")

        def ticked() -> bool:
            return any(
                '"job.done"' in line and '"job": "tick"' in line for line in text().splitlines()
            )

        wait_until("first tick", ticked, process)
        first_tick = time.perf_counter() - began
        wait_until("catch-up", lambda: "daemon.caught-up" in text(), process)

        def ticks() -> int:
            with sqlite3.connect(path) as reader:
                found = reader.execute("SELECT runs FROM daemon_job WHERE job = 'tick'").fetchone()
            return int(found[0]) if found else 0

        wait_until("a scheduled tick", lambda: ticks() >= 2, process)
        memory = status(process.pid)
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=DEADLINE)
        if code != 0:
            raise RuntimeError(f"the daemon exited with {code}:\n{text()[-3000:]}")
        plan = [line for line in text().splitlines() if '"job": "plan"' in line]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return {"first_tick_s": first_tick, "plan_log": plan[-1] if plan else "", **memory}


def measure(args: argparse.Namespace) -> list[Result]:
    units = QUICK_UNITS if args.quick else args.units
    # each run is a whole catch-up of the large plan: two are enough for a median
    runs = 1 if args.quick else min(args.runs, MAX_RUNS)
    with tempfile.TemporaryDirectory(prefix="styrhjul-bench-") as scratch:
        folder = Path(scratch)
        made = template(folder / "template.db", PER_AREA)
        big = folder / "big.db"
        imported = big_organisation(big, units)
        began = time.perf_counter()
        rows = plan_rows(folder / "template.db", big, units)
        written = fill(big, rows)
        inserted = time.perf_counter() - began
        samples = []
        for number in range(runs):
            run = folder / f"run-{number}"
            run.mkdir()
            samples.append(one_daemon(big, run))
    steps = len(rows["checklist_item"])
    return [
        Result(
            workload="memory",
            title="The daemon's resident size with the units planned",
            size=f"{units:,} units",
            figures=[
                Figures(
                    "styrhjul",
                    "styrhjul daemon: start to its first completed tick",
                    tuple(s["first_tick_s"] for s in samples),
                    1,
                    "daemons",
                )
            ],
            peak_rss_bytes=max(s["VmHWM"] for s in samples),
            notes={
                "vm_rss_bytes": [s["VmRSS"] for s in samples],
                "vm_hwm_bytes": [s["VmHWM"] for s in samples],
                "instances": len(rows["instance"]),
                "steps": steps,
                "plan_rows_inserted_with_core": written,
                "organisation_import_s": imported,
                "plan_insert_s": inserted,
                "daemon_plan_job": samples[-1]["plan_log"],
                "planned_with_core": "the plan is inserted with Core from a planned template"
                " of 20 units (see the docstring): planning 10,000 units through the service"
                " takes minutes",
                **made,
            },
        )
    ]


def options(found: argparse.ArgumentParser) -> None:
    found.add_argument(
        "--units",
        type=int,
        default=UNITS,
        help=f"units planned, a multiple of 20 (default {UNITS})",
    )


if __name__ == "__main__":
    raise SystemExit(main(measure, __doc__, extend=options))
