"""Workload 7: the resident size of the daemon with 10,000 units (and their teams) planned.

Usage: ``python bench/memory.py [--units 10000] [--runs 2] [--quick] [--out FILE]``.

The database: 10,000 units (500 areas) with their teams and their plan for calendar year
2027, brought to Wednesday 10 March 2027. Planning them through the service takes about
14 s after importing the organisation (1,000 units take 1.3 s), slower than copying, so one area is
planned through the services and the rest *inserted with Core*, area by area (see
``replica``); the daemon's daily plan finds nothing missing in it.

Each run copies that database, starts ``styrhjul daemon --now 2027-03-10T10:00`` as a
real process on it (console transport, JSON log on stderr, a tick every 2 s), waits for
its catch-up (the daily plan over all 10,000 units, the weekly digest, one tick, one
drain) and one scheduled tick after it, reads ``VmRSS`` and ``VmHWM`` from
``/proc/PID/status``, and stops it with SIGTERM.

- **styrhjul**: the seconds from the start of the process to its first completed tick
  (the catch-up's). The bytes are in the notes, and the daemon's ``VmHWM`` is the
  result's peak resident size. There is no floor or peer: the figure stands alone.
"""

from __future__ import annotations

import argparse
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

from harness import Figures, Result, main
from replica import NOW, PER_AREA, replicate, template
from scratch import copy_database, migrated

UNITS = 10_000
QUICK_UNITS = 40
TICK_SECONDS = 2
MAX_RUNS = 2
DEADLINE = 600.0


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
    if units % PER_AREA:
        raise SystemExit(f"--units must be a multiple of {PER_AREA}, not {units}")
    # each run is a whole catch-up of the large plan: two are enough for a median
    runs = 1 if args.quick else min(args.runs, MAX_RUNS)
    with tempfile.TemporaryDirectory(prefix="styrhjul-bench-") as scratch:
        folder = Path(scratch)
        made = template(folder / "template.db")
        big = migrated(folder / "big.db")
        grown = replicate(folder / "template.db", big, units // PER_AREA)
        samples = []
        for number in range(runs):
            run = folder / f"run-{number}"
            run.mkdir()
            samples.append(one_daemon(big, run))
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
                "instances": grown["rows_written"]["instance"],
                "steps": grown["rows_written"]["checklist_item"],
                "daemon_plan_job": samples[-1]["plan_log"],
                "planned_with_core": "one area planned through the services, the other areas"
                " inserted with Core (bench/replica.py): planning 10,000 units through the"
                " service takes about 14 s more",
                **made,
                **grown,
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
