"""Subscription feeds: what is in them, in which form, and read back by ical.js and icalendar.

The planned database holds round 1 of 2026/27; the årshjul of 2026 and 2027 is planned on
top, so a feed made on 1 September 2026 (90 days back, 400 ahead) holds dialogs in summer
time (5-7 October), in winter time (November to March), after the spring change (28 March
2027), and all-day årshjul events.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import select
from support_icaljs import check_with_icaljs

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.db.models import CalendarEvent, Dialog
from styrhjul.errors import NotFound
from styrhjul.notifications.feed import FeedEvent, VeventCache, render_feed
from styrhjul.services.calendar_events import list_events
from styrhjul.services.context import App
from styrhjul.services.dialogs import cancel
from styrhjul.services.feeds import feed_window, person_feed, unit_feed
from styrhjul.services.yearplan import plan_year

PRINCIPAL = "rektor.vastra-skolan@example.se"
STAMP = dt.datetime(2026, 9, 1, 7, 0, tzinfo=dt.UTC)


@pytest.fixture
def feed_app(planned_app: App) -> App:
    plan_year(planned_app, 2026)
    plan_year(planned_app, 2027)
    return planned_app


def _lines(data: bytes) -> list[str]:
    return data.decode("utf-8").replace("\r\n ", "").split("\r\n")


def _expected(app: App, **scope: str) -> dict[str, tuple[dt.datetime, dt.datetime, bool]]:
    first, last = feed_window(app.clock.today())
    return {
        r.uid: (r.starts_at, r.ends_at, r.all_day)
        for r in list_events(app, first, last, **scope)
        if r.uid
    }


def _utc(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"


def _check_times(reading: dict, expected: dict) -> None:
    """ical.js's instants are the database's; all-day events are local dates."""
    assert set(reading["by_uid"]) == set(expected)
    for uid, (start, end, all_day) in expected.items():
        seen = reading["by_uid"][uid]
        if all_day:
            assert seen["all_day"]
            assert seen["start"] == start.astimezone(STOCKHOLM).date().isoformat()
            assert seen["end"] == end.astimezone(STOCKHOLM).date().isoformat()
        else:
            assert (seen["start"], seen["end"]) == (_utc(start), _utc(end)), uid


def test_a_persons_feed_reads_the_same_in_icaljs(feed_app: App, tmp_path: Path) -> None:
    data = person_feed(feed_app, PRINCIPAL)
    lines = _lines(data)
    assert lines[:9] == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Styrhjul//Styrhjul//SV",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "NAME:Styrhjul – Rektor Västra skolan",
        "X-WR-CALNAME:Styrhjul – Rektor Västra skolan",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    assert data.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in lines  # the rule-based VTIMEZONE
    assert set(lines) >= {"DTSTAMP:20260901T070000Z", "STATUS:CONFIRMED"}
    expected = _expected(feed_app, person=PRINCIPAL)
    reading = check_with_icaljs(data, tmp_path / "person.ics")
    _check_times(reading, expected)
    starts = [s for s, _, all_day in expected.values() if not all_day]
    assert any(s.astimezone(STOCKHOLM).dst() for s in starts if s.year == 2026)  # CEST
    assert any(not s.astimezone(STOCKHOLM).dst() for s in starts)  # CET
    assert any(s > dt.datetime(2027, 3, 28, tzinfo=dt.UTC) for s in starts)  # CEST again
    assert any(all_day for *_, all_day in expected.values())
    assert any(line.startswith("DTSTART;VALUE=DATE:") for line in lines)
    summaries = {e["summary"] for e in reading["events"]}
    assert "Verksamhetsdialog Västra skolan" in summaries  # the principal's own dialog


def test_a_units_feed_reads_the_same_in_icaljs(feed_app: App, tmp_path: Path) -> None:
    data = unit_feed(feed_app, "vastra-skolan")
    assert "NAME:Styrhjul – Västra skolan" in _lines(data)
    expected = _expected(feed_app, unit="vastra-skolan")
    reading = check_with_icaljs(data, tmp_path / "unit.ics")
    _check_times(reading, expected)
    summaries = {e["summary"] for e in reading["events"]}
    # the unit's own dialog and its teams' (the subtree), and the administration's årshjul
    assert "Verksamhetsdialog Västra skolan" in summaries
    assert "Dialog med arbetslag Arbetslag F–3" in summaries
    assert any(e["all_day"] for e in reading["events"])


def test_uid_and_sequence_are_the_invites_and_a_cancellation_shows(
    feed_app: App, tmp_path: Path
) -> None:
    with feed_app.db.session() as session:
        dialog = session.scalars(
            select(Dialog)
            .where(Dialog.title == "Verksamhetsdialog Västra skolan")
            .order_by(Dialog.starts_at)
        ).first()
        assert dialog is not None
        dialog_id, uid, sequence = dialog.id, dialog.ical_uid, dialog.ical_sequence
        organizer = dialog.organizer.email
    assert uid is not None
    before = check_with_icaljs(person_feed(feed_app, PRINCIPAL), tmp_path / "before.ics")
    assert before["by_uid"][uid]["sequence"] == sequence
    assert before["by_uid"][uid]["status"] == "CONFIRMED"
    cancel(feed_app, dialog_id, actor=organizer, reason="Krockar med nämnden")
    after = check_with_icaljs(person_feed(feed_app, PRINCIPAL), tmp_path / "after.ics")
    assert after["by_uid"][uid]["status"] == "CANCELLED"
    assert after["by_uid"][uid]["sequence"] > sequence


def test_an_arshjul_event_whose_rule_was_removed_shows_as_cancelled(
    feed_app: App, tmp_path: Path
) -> None:
    with feed_app.db.session() as session:
        event = session.scalars(
            select(CalendarEvent).where(CalendarEvent.key == "internal_budget:2026:0")
        ).one()
        uid, sequence = event.ical_uid, event.ical_sequence
        event.status = "cancelled"  # what plan_year --apply does when the rule is removed
        event.ical_sequence += 1
    reading = check_with_icaljs(unit_feed(feed_app, "sff"), tmp_path / "sff.ics")
    assert reading["by_uid"][uid]["status"] == "CANCELLED"
    assert reading["by_uid"][uid]["sequence"] == sequence + 1


def test_the_feed_window_is_90_days_back_and_400_ahead(feed_app: App) -> None:
    today = feed_app.clock.today()
    first, last = feed_window(today)
    assert (today - first).days == 90
    assert (last - today).days == 400
    events = Calendar.from_ical(unit_feed(feed_app, "vastra-skolan")).walk("VEVENT")
    starts = [e.decoded("dtstart") for e in events]
    days = [s.astimezone(STOCKHOLM).date() if isinstance(s, dt.datetime) else s for s in starts]
    assert min(days) >= first - dt.timedelta(days=31)  # a long event may begin before it
    assert max(days) <= last


def test_unknown_person_and_unit_are_not_found(app: App) -> None:
    with pytest.raises(NotFound, match=r"person 'nobody@example\.se'"):
        person_feed(app, "nobody@example.se")
    with pytest.raises(NotFound, match="unit 'no-such-unit'"):
        unit_feed(app, "no-such-unit")


# --- the pure renderer: names, escaping, the cache ----------------------------------------


def _event(number: int, **changes: object) -> FeedEvent:
    start = dt.datetime(2027, 1, 4, 8, 0, tzinfo=STOCKHOLM) + dt.timedelta(hours=number)
    values: dict[str, object] = {
        "uid": f"event-{number}@example.se",
        "sequence": 0,
        "summary": f"Möte {number}",
        "start": start,
        "end": start + dt.timedelta(minutes=45),
        "last_modified": STAMP,
    }
    values.update(changes)
    return FeedEvent(**values)  # type: ignore[arg-type]


WINDOW = (dt.date(2026, 6, 3), dt.date(2027, 10, 6))


def test_names_and_titles_with_line_breaks_quotes_html_and_aao_stay_intact(
    tmp_path: Path,
) -> None:
    title = 'Möte "Ö" <b>&</b>; a, b\r\nBCC: x@example.se'
    data = render_feed(
        'Styrhjul – Åsa "Ö"\r\nX-INJECTED:1',
        [_event(1, summary=title, location="Rum 3\nvåning 2")],
        tz=STOCKHOLM,
        window=WINDOW,
        stamp=STAMP,
        cache=VeventCache(),
    )
    lines = _lines(data)
    assert not any(line.startswith(("X-INJECTED", "BCC")) for line in lines)
    assert 'NAME:Styrhjul – Åsa "Ö" X-INJECTED:1' in lines  # one line, nothing lost
    calendar = Calendar.from_ical(data)
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == 'Möte "Ö" <b>&</b>; a, b\nBCC: x@example.se'
    reading = check_with_icaljs(data, tmp_path / "escaped.ics")
    assert reading["events"][0]["summary"] == 'Möte "Ö" <b>&</b>; a, b\nBCC: x@example.se'


def test_each_event_is_serialised_once_per_uid_and_sequence() -> None:
    cache = VeventCache()
    events = [_event(n) for n in range(3)]
    first = render_feed("A", events, tz=STOCKHOLM, window=WINDOW, stamp=STAMP, cache=cache)
    later = STAMP + dt.timedelta(hours=1)
    second = render_feed("A", events, tz=STOCKHOLM, window=WINDOW, stamp=later, cache=cache)
    assert (cache.misses, cache.hits) == (3, 3)
    assert first.count(b"DTSTAMP:20260901T070000Z") == 3
    assert second.count(b"DTSTAMP:20260901T080000Z") == 3  # the stamp is the feed's, not cached
    assert second.replace(b"T080000Z", b"T070000Z") == first
    # a change without a new SEQUENCE is still seen: the cached data must match too
    renamed = [_event(0, summary="Nytt namn"), *events[1:]]
    third = render_feed("A", renamed, tz=STOCKHOLM, window=WINDOW, stamp=STAMP, cache=cache)
    assert b"SUMMARY:Nytt namn" in third
    assert b"SUMMARY:M\xc3\xb6te 0" not in third
    small = VeventCache(size=2)
    render_feed("A", events, tz=STOCKHOLM, window=WINDOW, stamp=STAMP, cache=small)
    assert len(small) == 2


def test_an_all_day_event_is_a_date_with_an_exclusive_end() -> None:
    start = dt.datetime(2027, 3, 29, tzinfo=STOCKHOLM)
    event = _event(0, start=start, end=start + dt.timedelta(days=5), all_day=True)
    data = render_feed("A", [event], tz=STOCKHOLM, window=WINDOW, stamp=STAMP, cache=VeventCache())
    lines = _lines(data)
    assert "DTSTART;VALUE=DATE:20270329" in lines
    assert "DTEND;VALUE=DATE:20270403" in lines
    assert "TRANSP:TRANSPARENT" in lines


def test_a_thousand_events(tmp_path: Path) -> None:
    """The feed of 1,000 events: cold (every VEVENT serialised) and from the cache."""
    events = [_event(n, sequence=n % 3) for n in range(1000)]
    cache = VeventCache()
    clock = FixedClock(STAMP)
    timings = []
    for _ in range(2):
        began = time.perf_counter()
        data = render_feed(
            "Tusen", events, tz=STOCKHOLM, window=WINDOW, stamp=clock.now(), cache=cache
        )
        timings.append(time.perf_counter() - began)
    assert (cache.misses, cache.hits) == (1000, 1000)
    print(f"1,000 events: cold {timings[0] * 1000:.0f} ms, cached {timings[1] * 1000:.1f} ms")
    reading = check_with_icaljs(data, tmp_path / "thousand.ics")
    assert len(reading["events"]) == 1000
