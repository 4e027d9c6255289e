"""The fast feed path: plain rows and cached VEVENT text give the same bytes as building
every event on its own, a change in the database reaches the next feed, and a feed costs
the same few statements however many events it holds.

The database is the example organisation with round 1 of 2026/27 planned and the årshjul
of 2026 and 2027 on top (as in ``test_feeds``), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlcount import statements

import styrhjul.services.feeds as feeds
from styrhjul.clock import FixedClock
from styrhjul.db.models import CalendarEvent, Dialog, Instance, OrgUnit, Person
from styrhjul.errors import InputError
from styrhjul.notifications.feed import FeedEvent, VeventCache, render_feed
from styrhjul.services.calendar_events import list_events
from styrhjul.services.context import App
from styrhjul.services.feed_tokens import create_token, feed_for_token
from styrhjul.services.feeds import TITLE_PREFIX, feed_window, person_feed, unit_feed
from styrhjul.services.yearplan import plan_year

PRINCIPAL = "rektor.vastra-skolan@example.se"
DIRECTOR = "utbildningsdirektor@example.se"


@pytest.fixture
def feed_app(planned_app: App) -> App:
    plan_year(planned_app, 2026)
    plan_year(planned_app, 2027)
    return planned_app


def _one_by_one(app: App, *, person: str | None = None, unit: str | None = None) -> bytes:
    """The feed as it was built before: the listing, then each event's row read on its own
    through the ORM, every VEVENT serialised anew (an empty cache)."""
    first, last = feed_window(app.clock.today())
    events = []
    with app.db.session() as session:
        if person is not None:
            name = session.scalars(select(Person.title).where(Person.email == person)).one()
        else:
            name = session.scalars(select(OrgUnit.name).where(OrgUnit.code == unit)).one()
        for row in list_events(app, first, last, person=person, unit=unit, cancelled=True):
            if row.uid is None:
                continue
            location = None
            if row.kind == "event":
                stored = session.scalars(
                    select(CalendarEvent).where(CalendarEvent.ical_uid == row.uid)
                ).one()
                changed = stored.updated_at
            else:
                instance = session.scalars(
                    select(Instance).where(Instance.ical_uid == row.uid)
                ).one()
                changed, location = instance.updated_at, instance.location
            events.append(
                FeedEvent(
                    uid=row.uid,
                    sequence=row.sequence,
                    summary=row.title,
                    start=row.starts_at,
                    end=row.ends_at,
                    last_modified=changed,
                    all_day=row.all_day,
                    cancelled=row.status == "cancelled",
                    location=location,
                )
            )
    return render_feed(
        TITLE_PREFIX + name,
        events,
        tz=app.clock.tz,
        window=(first, last),
        stamp=app.clock.now(),
        cache=VeventCache(),
    )


def test_the_fast_feed_is_the_one_built_event_by_event(feed_app: App) -> None:
    for scope in ({"person": PRINCIPAL}, {"person": DIRECTOR}, {"unit": "vastra-skolan"}):
        expected = _one_by_one(feed_app, **scope)
        assert expected.count(b"BEGIN:VEVENT") >= 20, scope  # the example data fills it
        if "person" in scope:
            cold, warm = (
                person_feed(feed_app, scope["person"]),
                person_feed(feed_app, scope["person"]),
            )
        else:
            cold, warm = unit_feed(feed_app, scope["unit"]), unit_feed(feed_app, scope["unit"])
        assert cold == expected, scope
        assert warm == expected, scope


def test_a_change_in_the_database_reaches_the_next_feed(feed_app: App) -> None:
    before = unit_feed(feed_app, "vastra-skolan")
    first, last = feed_window(feed_app.clock.today())
    listed = list_events(feed_app, first, last, unit="vastra-skolan")
    uid = next(r.uid for r in reversed(listed) if r.kind == "event" and not r.all_day)
    with feed_app.db.session() as session:
        arshjul = session.scalars(select(CalendarEvent).where(CalendarEvent.ical_uid == uid)).one()
        dialog = session.scalars(
            select(Dialog)
            .where(Dialog.title == "Verksamhetsdialog Västra skolan")
            .order_by(Dialog.starts_at)
        ).first()
        assert dialog is not None
        old_title = arshjul.title
        assert f"SUMMARY:{old_title}".encode() in before
        # neither SEQUENCE nor the time of the last change moves: only the text does
        arshjul.title = "Omdöpt möte"
        dialog.location = "Aulan, plan 2"
        uids = {arshjul.ical_uid, dialog.ical_uid}
    hits, misses = feeds.CACHE.hits, feeds.CACHE.misses
    after = unit_feed(feed_app, "vastra-skolan")
    assert b"SUMMARY:Omd\xc3\xb6pt m\xc3\xb6te" in after
    assert b"LOCATION:Aulan\\, plan 2" in after
    assert feeds.CACHE.misses - misses == len(uids)  # only the changed ones made anew
    assert feeds.CACHE.hits - hits == after.count(b"BEGIN:VEVENT") - len(uids)
    assert after == _one_by_one(feed_app, unit="vastra-skolan")


def test_a_feed_costs_the_same_statements_however_many_events_it_holds(
    planned_app: App,
) -> None:
    token = create_token(planned_app, person=DIRECTOR, token="d" * 43).token
    counts = []
    sizes = []
    for year in (None, 2026, 2027):
        if year is not None:
            plan_year(planned_app, year)
        feed_for_token(planned_app, token)  # warm: every event serialised once
        with statements(planned_app) as seen:
            data = feed_for_token(planned_app, token)
        counts.append(len(seen))
        sizes.append(data.count(b"BEGIN:VEVENT"))
    assert sizes[0] < sizes[1] < sizes[2]
    # the token with its owner, the use recorded, the person, the units of her roles and
    # those above them, the årshjul events, the dialogs and meetings
    assert counts == [6, 6, 6]


def _dtstamp(moment: dt.datetime) -> bytes:
    return f"DTSTAMP:{moment.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}".encode()


def test_the_stamp_is_the_feeds_and_the_rest_is_cached_text(
    feed_app: App, clock: FixedClock
) -> None:
    first = unit_feed(feed_app, "sff")
    was = _dtstamp(clock.now())
    clock.advance(dt.timedelta(hours=1))
    hits = feeds.CACHE.hits
    second = unit_feed(feed_app, "sff")
    assert feeds.CACHE.hits - hits == second.count(b"BEGIN:VEVENT")
    stamps = {line for line in second.split(b"\r\n") if line.startswith(b"DTSTAMP:")}
    assert stamps == {_dtstamp(clock.now())}
    assert second.replace(_dtstamp(clock.now()), was) == first


# --- the cache on its own ------------------------------------------------------------------


def _plain(number: int, *, sequence: int = 0, start: dt.datetime | None = None) -> FeedEvent:
    if start is None:
        start = dt.datetime(2027, 1, 4, 8, 0, tzinfo=dt.UTC) + dt.timedelta(hours=number)
    return FeedEvent(
        uid=f"event-{number}@example.se",
        sequence=sequence,
        summary=f"Möte {number}",
        start=start,
        end=start + dt.timedelta(minutes=45),
        last_modified=start,
    )


def test_a_new_sequence_replaces_the_cached_event_and_a_new_zone_empties_the_cache() -> None:
    cache = VeventCache()
    stockholm, utc = ZoneInfo("Europe/Stockholm"), ZoneInfo("UTC")
    first = cache.bodies([_plain(1)], stockholm)
    (moved,) = cache.bodies([_plain(1, sequence=1, start=_plain(2).start)], stockholm)
    assert len(cache) == 1  # one entry per UID: the old SEQUENCE is not kept beside it
    assert b"SEQUENCE:1" in moved
    assert cache.bodies([_plain(1)], stockholm) == first  # made anew, the same text
    assert (cache.hits, cache.misses) == (0, 3)
    (in_utc,) = cache.bodies([_plain(1)], utc)
    assert b"DTSTART:20270104T090000Z" in in_utc
    assert (cache.hits, cache.misses, len(cache)) == (0, 4, 1)
    cache.bodies([_plain(1)], stockholm)
    assert cache.misses == 5  # the zone changed back: nothing of the other zone is used


def test_a_naive_time_is_refused_even_when_the_aware_one_is_cached() -> None:
    cache = VeventCache()
    aware = _plain(1)
    naive = aware._replace(start=aware.start.replace(tzinfo=None))
    for events in ([aware], [naive]):
        call = functools.partial(
            render_feed,
            "A",
            events,
            tz=ZoneInfo("Europe/Stockholm"),
            window=(dt.date(2027, 1, 1), dt.date(2027, 12, 31)),
            stamp=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
            cache=cache,
        )
        if events[0] is aware:
            assert b"UID:event-1@example.se" in call()
        else:
            with pytest.raises(InputError, match=r"event-1@example\.se: start"):
                call()
