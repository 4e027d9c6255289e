"""Workload 5: a personal ``.ics`` feed of 1,000 and 10,000 events, against icalendar itself.

Usage: ``python bench/feeds.py [--events 1000,10000] [--runs 5] [--quick] [--out FILE]``.

The database holds a generated organisation of 40 units and N årshjul events of the
administration (``sff``), inserted with SQLAlchemy Core, spread over the feed's window
(90 days back, 400 ahead; a tenth all day, one in twenty cancelled with SEQUENCE 1). The
director holds a role there, so each of them concerns her: her feed has N events.

- **styrhjul**: :func:`~styrhjul.services.feed_tokens.feed_for_token`, what the web app's
  ``/kalender/TOKEN.ics`` calls: it looks the token up, records its use (a commit), lists
  the events that concern her, and assembles the feed from the VEVENTs the process keeps
  serialised per UID, reused while the event is unchanged
  (``notifications.feed.VeventCache``). Timed warm, the steady state of a feed polled
  hourly; the first, cold feed (every VEVENT serialised, the cache emptied before each
  run) is in the notes.
- **floor**: icalendar building and serialising the same events directly, with no
  database: a ``Calendar`` with ``Timezone.from_tzid`` and one ``Event`` per event,
  ``to_ical()``. The issue's target is a 10,000-event feed in under 0.5 s, where icalendar
  alone manages about 1,600 events a second; so here the ratio is below 1 when the cache
  does its work.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from harness import Figures, Result, main, runs_for, timed
from icalendar import Calendar, Event, Timezone
from scratch import open_app, organised
from sqlalchemy import insert, select

import styrhjul.services.feeds as feed_service
from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.db.models import CalendarEvent, OrgUnit
from styrhjul.notifications.feed import VeventCache
from styrhjul.services.context import App
from styrhjul.services.feed_tokens import create_token, feed_for_token

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=STOCKHOLM)
SIZES = (1_000, 10_000)
QUICK = 50
UNITS = 40
DIRECTOR = "utbildningsdirektor@example.se"
BIG = 10_000
"""From this size on the slow subjects (the floor, the cold feed) get at most three runs."""
TARGET = "a 10,000-event feed in under 0.5 s (icalendar alone: about 1,600 events/s)"
TITLES = ("Nämndsammanträde", "Ledningsgrupp", "Kvalitetsdialog", "Budgetberedning", "Årsrapport")


def add_events(app: App, count: int, seed: int) -> int:
    """Insert ``count`` årshjul events of the administration with Core; the rows written."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible spread, not a secret
    first, last = feed_service.feed_window(NOW.date())
    span = (last - first).days
    stamp = NOW - timedelta(days=30)
    with app.db.session() as session:
        unit_id = session.scalar(select(OrgUnit.id).where(OrgUnit.code == "sff"))
    rows: list[dict[str, Any]] = []
    for number in range(count):
        day = first + timedelta(days=rng.randrange(span))
        all_day = number % 10 == 0
        if all_day:
            starts = datetime.combine(day, datetime.min.time(), STOCKHOLM)
            ends = starts + timedelta(days=1 + number % 3)
        else:
            starts = datetime(day.year, day.month, day.day, 8 + number % 8, 0, tzinfo=STOCKHOLM)
            ends = starts + timedelta(minutes=90)
        cancelled = number % 20 == 7
        rows.append(
            {
                "key": f"bench:{day.year}:{number}",
                "rule": "bench",
                "year": day.year,
                "seq": number,
                "title": f"{TITLES[number % len(TITLES)]} {number}",
                "ring": "styrning",
                "series": None,
                "unit_id": unit_id,
                "starts_at": starts,
                "ends_at": ends,
                "all_day": all_day,
                "nominal": day,
                "moved_because": None,
                "status": "cancelled" if cancelled else "planned",
                "instance_id": None,
                "ical_uid": f"bench-{number}@styrhjul.example.se",
                "ical_sequence": 1 if cancelled else 0,
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
    with app.db.engine.begin() as connection:
        connection.execute(insert(CalendarEvent), rows)
    return len(rows)


def direct_feed(events: list[CalendarEvent], stamp: datetime) -> bytes:
    """The floor: the same events through icalendar alone, built and serialised anew."""
    calendar = Calendar()
    calendar.add("prodid", "-//bench//floor//SV")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(Timezone.from_tzid("Europe/Stockholm"))
    for row in events:
        event = Event()
        event.add("uid", row.ical_uid)
        event.add("sequence", row.ical_sequence)
        event.add("dtstamp", stamp.astimezone(UTC))
        if row.all_day:
            event.add("dtstart", row.starts_at.astimezone(STOCKHOLM).date())
            event.add("dtend", row.ends_at.astimezone(STOCKHOLM).date())
        else:
            event.add("dtstart", row.starts_at.astimezone(STOCKHOLM))
            event.add("dtend", row.ends_at.astimezone(STOCKHOLM))
        event.add("summary", row.title)
        event.add("status", "CANCELLED" if row.status == "cancelled" else "CONFIRMED")
        event.add("last-modified", row.updated_at.astimezone(UTC))
        calendar.add_component(event)
    return bytes(calendar.to_ical())


def one_size(count: int, runs: int, folder: Path) -> Result:
    began = time.perf_counter()
    path = organised(folder / f"feeds-{count}.db", UNITS, NOW)
    app = open_app(path, FixedClock(NOW))
    try:
        add_events(app, count, seed=count)
        token = create_token(app, person=DIRECTOR, label="bench").token
        with app.db.session() as session:
            rows = list(session.scalars(select(CalendarEvent).order_by(CalendarEvent.id)))
            session.expunge_all()
        built = time.perf_counter() - began
        slow_runs = runs_for(count, BIG, runs)

        def cold() -> None:
            feed_service.CACHE = VeventCache()

        cold_s = timed(lambda: feed_for_token(app, token), slow_runs, setup=cold)
        warm = feed_for_token(app, token)  # fills the cache the timed runs read
        ours = timed(lambda: feed_for_token(app, token), runs)
        floor = timed(lambda: direct_feed(rows, NOW), slow_runs)
        theirs = direct_feed(rows, NOW)
    finally:
        app.close()
    served = warm.count(b"BEGIN:VEVENT")
    if served != count or theirs.count(b"BEGIN:VEVENT") != count:
        raise RuntimeError(f"the feeds hold {served} and {theirs.count(b'BEGIN:VEVENT')} events")
    cold_median = statistics.median_high(cold_s)
    return Result(
        workload="feeds",
        title="A personal .ics feed, against icalendar serialising the same events",
        size=f"{count:,} events",
        figures=[
            Figures("styrhjul", "feed_for_token, the cache warm", ours, count, "events"),
            Figures("floor", "icalendar: build and to_ical()", floor, count, "events"),
        ],
        notes={
            "cold_feed_median_s": cold_median,
            "cold_feed_events_per_s": count / cold_median,
            "cold_feed_over_floor": cold_median / statistics.median_high(floor),
            "feed_bytes": len(warm),
            "floor_bytes": len(theirs),
            "build_s": built,
            "target": TARGET,
        },
    )


def measure(args: argparse.Namespace) -> list[Result]:
    sizes = [QUICK] if args.quick else [int(n) for n in args.events.split(",")]
    runs = 1 if args.quick else args.runs
    with tempfile.TemporaryDirectory(prefix="styrhjul-bench-") as folder:
        return [one_size(count, runs, Path(folder)) for count in sizes]


def options(found: argparse.ArgumentParser) -> None:
    found.add_argument(
        "--events",
        default=",".join(str(n) for n in SIZES),
        help="feed sizes, comma-separated (default 1000,10000)",
    )


if __name__ == "__main__":
    raise SystemExit(main(measure, __doc__, extend=options))
