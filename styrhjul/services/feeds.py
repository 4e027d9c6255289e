"""Subscription feeds: a person's or a unit's calendar as one ``.ics`` (``styrhjul feed``).

What concerns whom is decided in one place, :mod:`styrhjul.services.calendar_events` (the
same scope as ``styrhjul events``). With its filters, :func:`feed_events` reads what a
calendar shows (with the last change and the place) as plain rows, not ORM objects: a
feed holds thousands of events, and building objects for them cost more than all the rest
of a warm feed. :func:`styrhjul.notifications.feed.render_feed` assembles the feed from
VEVENTs serialised once per version of each event and kept in :data:`CACHE`.

The feed covers :data:`DAYS_BACK` days back and :data:`DAYS_AHEAD` days ahead of today.
Dialogs, meetings and årshjul events that were cancelled stay in it with
``STATUS:CANCELLED`` and a higher SEQUENCE, so a calendar that holds the invite, or an
earlier copy of the feed, shows them as cancelled. A dialog or meeting without an
iCalendar UID (never scheduled) is left out: there is no invite for it to match.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from styrhjul.db.models import CalendarEvent, Instance
from styrhjul.notifications.feed import FeedEvent, VeventCache, render_feed
from styrhjul.services.calendar_events import (
    event_filter,
    instance_filter,
    period_instants,
    units_in_scope,
)
from styrhjul.services.context import App
from styrhjul.services.org import person_by_email, unit_by_code

DAYS_BACK = 90
"""How far back a feed reaches: last term's dialogs stay visible."""
DAYS_AHEAD = 400
"""How far ahead a feed reaches: the whole next school year."""
TITLE_PREFIX = "Styrhjul – "

CACHE = VeventCache()
"""The serialised events every feed of this process shares (see ``notifications.feed``)."""


def feed_window(today: date) -> tuple[date, date]:
    """The first and last day a feed made on ``today`` covers."""
    return today - timedelta(days=DAYS_BACK), today + timedelta(days=DAYS_AHEAD)


def person_feed(app: App, email: str) -> bytes:
    """The feed of everything that concerns the person with ``email``."""
    with app.db.session() as session:
        person = person_by_email(session, email)
        name, address = person.title, person.email
    return feed_of_person(app, address, name)


def unit_feed(app: App, code: str) -> bytes:
    """The feed of everything that concerns the unit ``code`` (and the units below it)."""
    with app.db.session() as session:
        unit = unit_by_code(session, code)
        name, code = unit.name, unit.code
    return feed_of_unit(app, code, name)


def feed_of_person(app: App, email: str, name: str) -> bytes:
    """The feed of the person with ``email``, called ``name``, both as stored (no lookup)."""
    return _feed(app, TITLE_PREFIX + name, person=email)


def feed_of_unit(app: App, code: str, name: str) -> bytes:
    """The feed of the unit ``code``, called ``name``, both as stored (no lookup)."""
    return _feed(app, TITLE_PREFIX + name, unit=code)


def feed_events(
    app: App, first: date, last: date, *, unit: str | None = None, person: str | None = None
) -> list[FeedEvent]:
    """The events of the feed of ``unit`` or ``person`` from ``first`` to ``last``.

    Those of ``list_events(..., cancelled=True)``, in its order (start, kind, key), less
    the dialogs and meetings without a UID; in the same few statements however many.
    """
    start, end = period_instants(app, first, last)
    with app.db.session() as session:
        event_units, instance_units, person_id = units_in_scope(session, app, unit, person)
        rows = _arshjul(session, event_filter(start, end, event_units, cancelled=True))
        where = instance_filter(start, end, instance_units, person_id)
        if where is not None:
            rows += _instances(session, where)
    # (start, kind, key) is unique (a key is unique per table, and "event" is no instance
    # kind), so the tuples sort as list_events' key does and never compare the events
    rows.sort()
    return [row[3] for row in rows]


_Sortable = tuple[datetime, str, str, FeedEvent]


def _arshjul(session: Session, where: list[ColumnElement[bool]]) -> list[_Sortable]:
    query = select(
        CalendarEvent.key,
        CalendarEvent.ical_uid,
        CalendarEvent.ical_sequence,
        CalendarEvent.title,
        CalendarEvent.starts_at,
        CalendarEvent.ends_at,
        CalendarEvent.all_day,
        CalendarEvent.status,
        CalendarEvent.updated_at,
    ).where(*where)
    # through the connection: the session's ORM result would add a step per row
    found = session.connection().execute(query).all()
    return [
        (
            starts,
            "event",
            key,
            FeedEvent(uid, seq, title, starts, ends, changed, all_day, status == "cancelled"),
        )
        for key, uid, seq, title, starts, ends, all_day, status, changed in found
    ]


def _instances(session: Session, where: list[ColumnElement[bool]]) -> list[_Sortable]:
    query = select(
        Instance.kind,
        Instance.key,
        Instance.ical_uid,
        Instance.ical_sequence,
        Instance.title,
        Instance.starts_at,
        Instance.ends_at,
        Instance.state,
        Instance.updated_at,
        Instance.location,
    ).where(*where, Instance.ical_uid.is_not(None))
    rows: list[_Sortable] = []
    for kind, key, uid, seq, title, starts, ends, state, changed, place in session.execute(query):
        assert uid is not None  # the query's condition
        assert starts is not None  # and the period's
        assert ends is not None
        cancelled = state == "cancelled"
        event = FeedEvent(uid, seq, title, starts, ends, changed, False, cancelled, place)
        rows.append((starts, kind, key, event))
    return rows


def _feed(app: App, name: str, *, person: str | None = None, unit: str | None = None) -> bytes:
    first, last = feed_window(app.clock.today())
    events = feed_events(app, first, last, person=person, unit=unit)
    return render_feed(
        name, events, tz=app.clock.tz, window=(first, last), stamp=app.clock.now(), cache=CACHE
    )
