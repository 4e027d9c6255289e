"""Subscription feeds: a person's or a unit's calendar as one ``.ics`` (``styrhjul feed``).

What concerns whom is decided in one place, :func:`styrhjul.services.calendar_events.
list_events` (the same scoping as ``styrhjul events``); this module adds what a calendar
needs beyond that list (last change, place) and hands plain data to
:func:`styrhjul.notifications.feed.render_feed`.

The feed covers :data:`DAYS_BACK` days back and :data:`DAYS_AHEAD` days ahead of today.
Dialogs, meetings and årshjul events that were cancelled stay in it with
``STATUS:CANCELLED`` and a higher SEQUENCE, so a calendar that holds the invite, or an
earlier copy of the feed, shows them as cancelled. A dialog or meeting without an
iCalendar UID (never scheduled) is left out: there is no invite for it to match.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from styrhjul.db.models import CalendarEvent, Instance
from styrhjul.notifications.feed import FeedEvent, VeventCache, render_feed
from styrhjul.services.calendar_events import EventRow, list_events
from styrhjul.services.context import App
from styrhjul.services.org import person_by_email, unit_by_code

DAYS_BACK = 90
"""How far back a feed reaches: last term's dialogs stay visible."""
DAYS_AHEAD = 400
"""How far ahead a feed reaches: the whole next school year."""
TITLE_PREFIX = "Styrhjul – "

CACHE = VeventCache()
"""The serialised events every feed of this process shares (see ``notifications.feed``)."""

_CHUNK = 500  # uids per IN (...) query: well under SQLite's and PostgreSQL's limits


@dataclass(frozen=True, slots=True)
class _Detail:
    updated_at: datetime
    location: str | None


def feed_window(today: date) -> tuple[date, date]:
    """The first and last day a feed made on ``today`` covers."""
    return today - timedelta(days=DAYS_BACK), today + timedelta(days=DAYS_AHEAD)


def person_feed(app: App, email: str) -> bytes:
    """The feed of everything that concerns the person with ``email``."""
    with app.db.session() as session:
        person = person_by_email(session, email)
        name, address = person.title, person.email
    return _feed(app, TITLE_PREFIX + name, person=address)


def unit_feed(app: App, code: str) -> bytes:
    """The feed of everything that concerns the unit ``code`` (and the units below it)."""
    with app.db.session() as session:
        unit = unit_by_code(session, code)
        name, code = unit.name, unit.code
    return _feed(app, TITLE_PREFIX + name, unit=code)


def _feed(app: App, name: str, *, person: str | None = None, unit: str | None = None) -> bytes:
    first, last = feed_window(app.clock.today())
    rows = [
        r for r in list_events(app, first, last, person=person, unit=unit, cancelled=True) if r.uid
    ]
    details = _details(app, rows)
    events = [_event(row, details[(row.kind == "event", row.uid or "")]) for row in rows]
    return render_feed(
        name, events, tz=app.clock.tz, window=(first, last), stamp=app.clock.now(), cache=CACHE
    )


def _event(row: EventRow, detail: _Detail) -> FeedEvent:
    return FeedEvent(
        uid=row.uid or "",
        sequence=row.sequence,
        summary=row.title,
        start=row.starts_at,
        end=row.ends_at,
        last_modified=detail.updated_at,
        all_day=row.all_day,
        cancelled=row.status == "cancelled",
        location=detail.location,
    )


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for index in range(0, len(values), _CHUNK):
        yield values[index : index + _CHUNK]


def _details(app: App, rows: list[EventRow]) -> dict[tuple[bool, str], _Detail]:
    """(is an årshjul event, uid) -> when it last changed and where, in one query per chunk."""
    event_uids = sorted({r.uid for r in rows if r.uid and r.kind == "event"})
    instance_uids = sorted({r.uid for r in rows if r.uid and r.kind != "event"})
    found: dict[tuple[bool, str], _Detail] = {}
    with app.db.session() as session:
        for chunk in _chunks(event_uids):
            events = select(CalendarEvent.ical_uid, CalendarEvent.updated_at).where(
                CalendarEvent.ical_uid.in_(chunk)
            )
            for uid, updated_at in session.execute(events):
                found[(True, uid)] = _Detail(updated_at, None)
        for chunk in _chunks(instance_uids):
            instances = select(Instance.ical_uid, Instance.updated_at, Instance.location).where(
                Instance.ical_uid.in_(chunk)
            )
            for instance_uid, updated_at, location in session.execute(instances):
                found[(False, instance_uid or "")] = _Detail(updated_at, location)
    return found
