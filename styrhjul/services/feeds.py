"""Subscription feeds: a person's or a unit's calendar as one ``.ics`` (``styrhjul feed``).

What concerns whom is decided in one place, :mod:`styrhjul.services.calendar_events` (the
same scoping as ``styrhjul events``), whose ``list_feed_entries`` also reads what a calendar
needs beyond that list (last change, place) as plain rows; this module hands them on as
plain data to :func:`styrhjul.notifications.feed.render_feed`, which assembles the feed from
VEVENTs serialised once per version and kept in :data:`CACHE`.

The feed covers :data:`DAYS_BACK` days back and :data:`DAYS_AHEAD` days ahead of today.
Dialogs, meetings and årshjul events that were cancelled stay in it with
``STATUS:CANCELLED`` and a higher SEQUENCE, so a calendar that holds the invite, or an
earlier copy of the feed, shows them as cancelled. A dialog or meeting without an
iCalendar UID (never scheduled) is left out: there is no invite for it to match.
"""

from __future__ import annotations

from datetime import date, timedelta

from styrhjul.notifications.feed import FeedEvent, VeventCache, render_feed
from styrhjul.services.calendar_events import list_feed_entries
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


def _feed(app: App, name: str, *, person: str | None = None, unit: str | None = None) -> bytes:
    first, last = feed_window(app.clock.today())
    events = [
        FeedEvent(
            row.uid,
            row.sequence,
            row.title,
            row.starts_at,
            row.ends_at,
            row.updated_at,
            row.all_day,
            row.status == "cancelled",
            row.location,
        )
        for row in list_feed_entries(app, first, last, person=person, unit=unit)
    ]
    return render_feed(
        name, events, tz=app.clock.tz, window=(first, last), stamp=app.clock.now(), cache=CACHE
    )
