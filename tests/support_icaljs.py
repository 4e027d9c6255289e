"""A second, independent reading of every .ics the tests make: Mozilla's ical.js under node.

``tests/icaljs_check.mjs`` parses the files with ical.js (Thunderbird's parser), which
converts TZID times to UTC through the file's own VTIMEZONE. Python's icalendar converts
the same times through the tz database. So when both agree on every UID and every UTC
start and end, the VTIMEZONE we write says what tzdata says, and the file is well-formed
for two unrelated parsers.

node is required (it is installed on the development machines and in CI): a machine
without it fails the test, naming the package, rather than skipping a check nobody would
notice was gone. ical.js itself comes from ``npm ci`` (``make test``); its absence fails
the test with the command to run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

ROOT = Path(__file__).parent.parent
SCRIPT = ROOT / "tests" / "icaljs_check.mjs"
ICALJS = ROOT / "node_modules" / "ical.js" / "package.json"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the ical.js cross-check needs it (apt install nodejs)")
    if not ICALJS.exists():
        pytest.fail(f"{ICALJS.parent} is missing: run 'npm ci' in {ROOT} (make test does)")
    return node


def icaljs_read(*paths: Path) -> list[dict[str, Any]]:
    """ical.js's reading of each file (see tests/icaljs_check.mjs); fails on any error."""
    result = subprocess.run(
        [_node(), str(SCRIPT), *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    readings = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    errors = {r["file"]: r["errors"] for r in readings if r["errors"]}
    assert result.returncode == 0, f"ical.js: {errors or result.stderr}"
    assert len(readings) == len(paths), result.stderr
    return readings


def _when(value: date | datetime) -> str:
    if isinstance(value, datetime):
        assert value.tzinfo is not None, f"floating time {value}"
        return f"{value.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
    return value.isoformat()


def icalendar_read(data: bytes) -> dict[str, dict[str, Any]]:
    """icalendar's reading, in the same form as ical.js's: UID -> sequence, status, times."""
    events: dict[str, dict[str, Any]] = {}
    for event in Calendar.from_ical(data).walk("VEVENT"):
        start = event.decoded("dtstart")
        if "dtend" in event:
            end = event.decoded("dtend")
        elif "duration" in event:
            end = start + event.decoded("duration")
        else:  # RFC 5545 3.6.1: a date lasts the day, a date-time no time
            end = start + timedelta(days=1) if not isinstance(start, datetime) else start
        uid = str(event["uid"])
        assert uid not in events, f"UID {uid} twice"
        events[uid] = {
            "sequence": int(event.get("sequence", 0)),
            "status": str(event["status"]) if "status" in event else None,
            "all_day": not isinstance(start, datetime),
            "start": _when(start),
            "end": _when(end),
        }
    return events


def check_with_icaljs(data: bytes, path: Path) -> dict[str, Any]:
    """Write ``data`` to ``path``, read it with both parsers, and require that they agree.

    Returns ical.js's reading (its ``events`` as a dict by UID under ``by_uid``).
    """
    path.write_bytes(data)
    (reading,) = icaljs_read(path)
    ours = icalendar_read(data)
    theirs = {e["uid"]: e for e in reading["events"]}
    assert len(theirs) == len(reading["events"]), "ical.js saw a UID twice"
    assert sorted(theirs) == sorted(ours), "the parsers see different UIDs"
    for uid, expected in ours.items():
        seen = {k: theirs[uid][k] for k in expected}
        assert seen == expected, f"{uid}: ical.js {seen} != icalendar {expected}"
    return {**reading, "by_uid": theirs}
