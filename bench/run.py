"""The one benchmark command: every workload in its own process, joined into one table.

Usage: ``python bench/run.py [--quick] [--only NAME,NAME] [--results DIR] [--budget SECONDS]``
(``make bench`` runs it in full).

Each workload of :data:`WORKLOADS` runs as ``python bench/<name>.py --out
<results>/<name>.json`` in a process of its own, so its peak memory is its own and one
workload's caches do not warm the next. A script that is missing is reported and skipped;
one that fails is reported, and the others still run. Then the workloads' JSON is joined
into ``results.json`` and ``results.md``: a header with the date, the machine (CPU model,
cores, RAM), Python, SQLite and the libraries' versions, and one table with, for each
workload and size, each subject's median, min and max, p99 for per-item latencies, rate,
the process's peak memory and the ratios (our time over theirs per unit of work, see
``bench/harness.py``). Each workload's wall time is printed, and the total against the
budget (10 minutes on a 2-core machine). ``--quick`` passes ``--quick`` to every
workload: the test suite's smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from styrhjul.clock import SystemClock

BENCH = Path(__file__).resolve().parent
WORKLOADS = (
    "plan_year",
    "dialog_transitions",
    "daemon_tick",
    "overdue_view",
    "feeds",
    "outbox_drain",
    "memory",
)
"""Every workload, in the order they run and appear in the table (``bench/<name>.py``)."""
LIBRARIES = ("sqlalchemy", "transitions", "icalendar", "SpiffWorkflow", "fastapi")
BUDGET_S = 600.0
GRACE_S = 30.0
"""How long a workload over the budget has to stop its servers after Ctrl-C."""
SUBJECT_ORDER = ("styrhjul", "floor", "peer")


@dataclass
class Outcome:
    """How one workload's run went and what it wrote."""

    name: str
    status: str
    """``ok``, ``missing``, ``failed`` (with the exit code), ``interrupted`` (over the budget),
    ``not run`` (the budget spent before it) or ``bad output``."""
    wall_s: float = 0.0
    results: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "wall_s": self.wall_s,
            "results": self.results,
        }


def run_workload(name: str, *, bench: Path, results: Path, quick: bool, timeout: float) -> Outcome:
    """Run ``bench/<name>.py`` in its own process; what it wrote, or why nothing."""
    script = bench / f"{name}.py"
    if not script.is_file():
        return Outcome(name, "missing")
    out = results / f"{name}.json"
    out.unlink(missing_ok=True)
    command = [sys.executable, str(script), "--out", str(out), *(["--quick"] if quick else [])]
    began = time.perf_counter()
    process = subprocess.Popen(command)
    try:
        code = process.wait(timeout=max(timeout, 1.0))
    except subprocess.TimeoutExpired:
        stop(process)
        took = time.perf_counter() - began
        return Outcome(name, f"interrupted: over the budget after {took:.0f} s", took)
    except BaseException:  # Ctrl-C: the workload gets it too, and may clean up first
        stop(process)
        raise
    wall = time.perf_counter() - began
    if code != 0:
        return Outcome(name, f"failed (exit {code})", wall)
    try:
        found = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return Outcome(name, f"bad output: {out} unreadable ({exc})", wall)
    if not isinstance(found, list) or not all(
        isinstance(r, dict) and "figures" in r for r in found
    ):
        return Outcome(name, f"bad output: {out} is not in bench/harness.py's format", wall)
    return Outcome(name, "ok", wall, found)


def stop(process: subprocess.Popen[bytes]) -> None:
    """End a workload as Ctrl-C would, so its servers and temporary files go with it."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def machine() -> dict[str, Any]:
    """CPU model, cores and RAM of this machine (from /proc, where there is one)."""
    cpu = platform.processor() or platform.machine()
    ram = 0
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) * 1024
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count() or 0,
        "ram_bytes": ram,
        "system": f"{platform.system()} {platform.release()}",
    }


def versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for library in LIBRARIES:
        try:
            found[library] = version(library)
        except PackageNotFoundError:
            found[library] = "not installed"
    return found


def commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=BENCH,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def duration(seconds: float) -> str:
    """A time a reader takes in at a glance: µs, ms or s with three significant digits."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def rate(value: float, unit: str) -> str:
    if value >= 100:
        return f"{value:,.0f} {unit}/s"
    return f"{value:.3g} {unit}/s"


def table(outcomes: list[Outcome]) -> list[str]:
    """The Markdown table: one row per workload, size and subject; ratios beside theirs."""
    lines = [
        "| Workload | Size | Subject | What | Median | Min | Max | p99 | Rate | Peak RSS "
        "| Ratio (ours/theirs) |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for outcome in outcomes:
        for result in outcome.results:
            ratios = result.get("ratios", {})
            figures = sorted(
                result["figures"],
                key=lambda f: (
                    SUBJECT_ORDER.index(f["subject"])
                    if f["subject"] in SUBJECT_ORDER
                    else len(SUBJECT_ORDER)
                ),
            )
            for i, f in enumerate(figures):
                ratio = ratios.get(f"styrhjul/{f['subject']}")
                lines.append(
                    "| "
                    + " | ".join(
                        [
                            result["workload"] if i == 0 else "",
                            result["size"] if i == 0 else "",
                            f["subject"],
                            f["label"],
                            duration(f["median_s"]),
                            duration(f["min_s"]),
                            duration(f["max_s"]),
                            duration(f["p99_s"]) if f.get("per_item") else "–",
                            rate(f["rate_per_s"], f["unit"]),
                            f"{result['peak_rss_bytes'] / 2**20:,.0f} MiB" if i == 0 else "",
                            f"**{ratio:.2f}×**" if ratio is not None else "",
                        ]
                    )
                    + " |"
                )
    return lines


def markdown(report: dict[str, Any], outcomes: list[Outcome]) -> str:
    """results.md: the header (date, machine, versions), the table, what did not run."""
    host, found = report["machine"], report["versions"]
    libraries = ", ".join(f"{name} {found[name]}" for name in LIBRARIES)
    lines = [
        "# Benchmark results" + (" (quick smoke run: not figures)" if report["quick"] else ""),
        "",
        f"- Date: {report['date']} (commit {report['commit']})",
        f"- Machine: {host['cpu']}, {host['cores']} cores,"
        f" {host['ram_bytes'] / 2**30:.1f} GiB RAM, {host['system']}",
        f"- Python {found['python']}, SQLite {found['sqlite']}; {libraries}",
        f"- Total wall time: {report['total_s']:.0f} s (budget {report['budget_s']:.0f} s)",
        "",
        "Times are per run of the whole size (per request where a p99 is given); a ratio is",
        "Styrhjul's time over that subject's for the same unit of work (2.00× = twice as slow).",
        "",
        *table(outcomes),
        "",
        "| Workload | Status | Wall time |",
        "|---|---|---:|",
        *(f"| {o.name} | {o.status} | {o.wall_s:.0f} s |" for o in outcomes),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None, *, bench: Path = BENCH) -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--quick", action="store_true", help="smoke run: --quick to every one")
    options.add_argument("--only", help=f"comma-separated workloads, of: {', '.join(WORKLOADS)}")
    options.add_argument("--results", type=Path, default=bench / "results", help="output folder")
    options.add_argument("--budget", type=float, default=BUDGET_S, help="seconds for the whole run")
    args = options.parse_args(argv)
    names = list(WORKLOADS)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in WORKLOADS]
        if unknown:
            options.error(f"--only: unknown workload(s) {', '.join(unknown)}; known: {WORKLOADS}")
    args.results.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    outcomes = []
    for name in names:
        left = args.budget - (time.perf_counter() - began)
        print(f"== {name}", file=sys.stderr, flush=True)
        if left < 1:
            outcome = Outcome(name, "not run: the budget was spent")
        else:
            outcome = run_workload(
                name, bench=bench, results=args.results, quick=args.quick, timeout=left
            )
        outcomes.append(outcome)
        if outcome.status == "missing":
            print(f"== {name}: bench/{name}.py is missing; skipped", file=sys.stderr, flush=True)
        else:
            print(
                f"== {name}: {outcome.status}, {outcome.wall_s:.1f} s", file=sys.stderr, flush=True
            )
    total = time.perf_counter() - began
    report = {
        "date": SystemClock(ZoneInfo("UTC")).now().strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit(),
        "quick": args.quick,
        "machine": machine(),
        "versions": versions(),
        "total_s": total,
        "budget_s": args.budget,
        "workloads": [o.as_dict() for o in outcomes],
    }
    (args.results / "results.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (args.results / "results.md").write_text(markdown(report, outcomes), encoding="utf-8")
    over = " OVER BUDGET" if total > args.budget else ""
    print(
        f"== total {total:.0f} s of {args.budget:.0f} s{over}; results in {args.results}",
        file=sys.stderr,
    )
    broken = [o.name for o in outcomes if o.status not in ("ok", "missing")]
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
