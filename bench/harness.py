"""What every benchmark shares: timing, figures, ratios, and the JSON each workload writes.

A workload is a script ``bench/<name>.py`` whose ``__main__`` calls :func:`main` with a
function ``measure(args) -> list[Result]``. Each :class:`Result` is one workload at one
size (``"1,000 units"``): the figures of each *subject* measured in the same process and
run (Styrhjul itself, and the floor or peer it is held against), and the ratios between
them. ``bench/run.py`` runs every workload in its own process (so peak memory is that
workload's own) and joins their JSON into one file and one Markdown table.

The subjects' names are fixed words so the table reads the same for every workload:
``styrhjul`` (our code through its services), ``floor`` (what the machine and the same
libraries can do at all) and ``peer`` (the best alternative, SpiffWorkflow). A ratio is
written ``styrhjul/floor`` or ``styrhjul/peer`` and is always *our time over theirs* for
the same work: 2.0 means Styrhjul takes twice as long; below 1 it is faster.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUBJECTS = ("styrhjul", "floor", "peer")


@dataclass(frozen=True)
class Figures:
    """The times of one subject over several runs, each doing ``count`` units of work."""

    subject: str
    label: str
    """What was measured, in a few words (``"plan_year through the service"``)."""
    seconds: tuple[float, ...]
    count: int
    unit: str
    """What ``count`` counts (``"rows"``, ``"transitions"``, ``"messages"``, ``"requests"``)."""
    per_item: bool = False
    """Whether each sample is one item's latency (then p99 is meaningful) rather than a run."""

    def __post_init__(self) -> None:
        if self.subject not in SUBJECTS:
            raise ValueError(f"subject {self.subject!r} is none of {SUBJECTS}")
        if not self.seconds:
            raise ValueError(f"{self.subject}: no samples")

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)

    @property
    def min_s(self) -> float:
        return min(self.seconds)

    @property
    def max_s(self) -> float:
        return max(self.seconds)

    @property
    def p99_s(self) -> float:
        return percentile(self.seconds, 99)

    @property
    def rate_per_s(self) -> float:
        """Units of work a second at the median (for latencies: requests a second, serial)."""
        per_sample = 1 if self.per_item else self.count
        return per_sample / self.median_s if self.median_s > 0 else math.inf

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "label": self.label,
            "samples": len(self.seconds),
            "count": self.count,
            "unit": self.unit,
            "per_item": self.per_item,
            "median_s": self.median_s,
            "min_s": self.min_s,
            "max_s": self.max_s,
            "p99_s": self.p99_s,
            "rate_per_s": self.rate_per_s,
        }


@dataclass
class Result:
    """One workload at one size: its subjects' figures, their ratios, and notes."""

    workload: str
    """The workload's id, its script's name (``"plan_year"``)."""
    title: str
    size: str
    figures: list[Figures]
    peak_rss_bytes: int = 0
    notes: dict[str, Any] = field(default_factory=dict)
    """Anything else worth keeping (rows written, the target, why a subject is missing)."""

    def subject(self, name: str) -> Figures | None:
        return next((f for f in self.figures if f.subject == name), None)

    @property
    def ratios(self) -> dict[str, float]:
        """``styrhjul/floor`` and ``styrhjul/peer``: our median time over theirs."""
        ours = self.subject("styrhjul")
        found: dict[str, float] = {}
        if ours is None:
            return found
        for other in ("floor", "peer"):
            theirs = self.subject(other)
            if theirs is not None and theirs.median_s > 0:
                # per unit of work, so subjects may do different amounts of it
                mine = ours.median_s / (1 if ours.per_item else ours.count)
                them = theirs.median_s / (1 if theirs.per_item else theirs.count)
                found[f"styrhjul/{other}"] = mine / them
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "title": self.title,
            "size": self.size,
            "figures": [f.as_dict() for f in self.figures],
            "ratios": self.ratios,
            "peak_rss_bytes": self.peak_rss_bytes or peak_rss_bytes(),
            "notes": self.notes,
        }


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct``-th percentile by the nearest-rank method (p99 of 100 samples: the 99th)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def timed(
    work: Callable[[], object],
    runs: int,
    *,
    setup: Callable[[], object] | None = None,
) -> tuple[float, ...]:
    """Seconds of ``work`` over ``runs`` runs; ``setup`` (untimed) before each."""
    samples = []
    for _ in range(runs):
        if setup is not None:
            setup()
        began = time.perf_counter()
        work()
        samples.append(time.perf_counter() - began)
    return tuple(samples)


def runs_for(size: int, big: int, runs: int) -> int:
    """``runs``, but at most three from size ``big`` on, where a run takes long."""
    return min(runs, 3) if size >= big else runs


def peak_rss_bytes() -> int:
    """The peak resident size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def parser(description: str | None) -> argparse.ArgumentParser:
    """The options every workload takes: ``--quick``, ``--runs``, ``--out``."""
    found = argparse.ArgumentParser(description=description)
    found.add_argument("--quick", action="store_true", help="a small smoke run: the harness works")
    found.add_argument("--runs", type=int, default=5, help="timed runs per subject (default 5)")
    found.add_argument("--out", type=Path, help="write the results as JSON to this file")
    return found


def main(
    measure: Callable[[argparse.Namespace], list[Result]],
    description: str | None,
    *,
    argv: list[str] | None = None,
    extend: Callable[[argparse.ArgumentParser], None] | None = None,
) -> int:
    """Parse the options, measure, print one line per subject, write the JSON."""
    options = parser(description)
    if extend is not None:
        extend(options)
    args = options.parse_args(argv)
    if args.runs < 1:
        options.error(f"--runs must be at least 1, got {args.runs}")
    results = measure(args)
    for result in results:
        for figures in result.figures:
            print(
                f"{result.workload} [{result.size}] {figures.subject:<8} {figures.label}:"
                f" median {figures.median_s * 1000:.2f} ms"
                f" (min {figures.min_s * 1000:.2f}, max {figures.max_s * 1000:.2f}),"
                f" {figures.rate_per_s:,.0f} {figures.unit}/s",
                file=sys.stderr,
            )
        for name, value in result.ratios.items():
            print(f"{result.workload} [{result.size}] {name} = {value:.2f}", file=sys.stderr)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            json.dumps([r.as_dict() for r in results], indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
    return 0


__all__ = [
    "SUBJECTS",
    "Figures",
    "Result",
    "main",
    "peak_rss_bytes",
    "percentile",
    "runs_for",
    "timed",
]
