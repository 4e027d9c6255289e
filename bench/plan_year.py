"""Benchmark: planning a year from the example årshjul for generated organisations.

Usage: ``python bench/plan_year.py [--units 40,1000] [--runs 3] [--quick] [--out FILE]``.
Each run plans calendar year 2027 into a fresh SQLite database (the clock is 1 September
2026, so the whole year is set going: dialogs at every level, the management group's
Tuesdays, processes), then plans it again (nothing to do). Reports the median, min and max
of the first plan, the rows it wrote, and the peak resident size of the process.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).parent))

from orggen import organisation_toml

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.config import load_settings
from styrhjul.db.migrate import upgrade
from styrhjul.db.models import CalendarEvent, ChecklistItem, Instance
from styrhjul.notifications.transports import ConsoleTransport
from styrhjul.services.org_import import import_organisation
from styrhjul.services.yearplan import plan_year
from styrhjul.wiring import build

YEAR = 2027
BIG = 1000
NOW = datetime(2026, 9, 1, 9, 0, tzinfo=STOCKHOLM)


def one_run(units: int, folder: Path) -> dict[str, float]:
    url = f"sqlite:///{folder / 'bench.db'}"
    config = folder / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[mail]\ntransport = "console"\n')
    upgrade(url)
    settings = load_settings(config, environ={})
    app = build(settings, clock=FixedClock(NOW), transport=ConsoleTransport())
    try:
        org = folder / "org.toml"
        org.write_text(organisation_toml(units, seed=units), encoding="utf-8")
        import_organisation(app, org)
        began = time.perf_counter()
        plan_year(app, YEAR)
        first = time.perf_counter() - began
        # peak resident size of the process so far (KiB on Linux); tracemalloc would slow
        # the planning it measures two- to threefold
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        began = time.perf_counter()
        again = plan_year(app, YEAR, apply=True)
        second = time.perf_counter() - began
        assert not again.changes, again.changes[:3]
        with app.db.session() as session:
            rows = sum(
                session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Instance, ChecklistItem, CalendarEvent)
            )
    finally:
        app.close()
    return {"first": first, "again": second, "rows": rows, "peak_mib": peak / 2**20}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", default="40,1000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one small run: the harness works")
    parser.add_argument("--out", type=Path, default=Path("bench/results/plan_year.json"))
    args = parser.parse_args(argv)
    sizes = [10] if args.quick else [int(n) for n in args.units.split(",")]
    results = []
    for units in sizes:
        # a big organisation takes minutes a run: one run is its figure (see the notes)
        runs = 1 if args.quick or units >= BIG else args.runs
        samples = []
        for _ in range(runs):
            with tempfile.TemporaryDirectory(prefix="styrhjul-bench-") as folder:
                samples.append(one_run(units, Path(folder)))
        firsts = [s["first"] for s in samples]
        result = {
            "workload": "plan_year",
            "units": units,
            "runs": runs,
            "median_s": statistics.median(firsts),
            "min_s": min(firsts),
            "max_s": max(firsts),
            "again_median_s": statistics.median(s["again"] for s in samples),
            "rows": samples[0]["rows"],
            "rows_per_s": samples[0]["rows"] / statistics.median(firsts),
            "peak_rss_mib": max(s["peak_mib"] for s in samples),
        }
        results.append(result)
        print(
            f"plan {YEAR}, {units:>6} units: median {result['median_s']:.2f} s"
            f" (min {result['min_s']:.2f}, max {result['max_s']:.2f}),"
            f" {result['rows']} rows, {result['rows_per_s']:.0f} rows/s,"
            f" again {result['again_median_s']:.2f} s, peak RSS {result['peak_rss_mib']:.0f} MiB"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
