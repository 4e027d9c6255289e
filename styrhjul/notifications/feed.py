"""A subscription feed (``.ics``, ``METHOD:PUBLISH``) of the events that concern someone.

Calendar programs poll a feed (Outlook about hourly, Google far less often) and replace
their copy with what they get, so the feed carries the same ``UID`` and ``SEQUENCE`` as
the invites: an event that arrived both ways is recognised as one.

The calendar's name goes in both ``NAME`` (RFC 7986) and ``X-WR-CALNAME`` (what Outlook and
Apple read), the refresh interval in ``REFRESH-INTERVAL;VALUE=DURATION`` (RFC 7986 requires
the parameter, which icalendar leaves out) and in ``X-PUBLISHED-TTL`` as the text ``PT1H``.
icalendar types ``NAME`` and ``X-WR-CALNAME`` as unknown and would write a line break in a
name unescaped, so both are given as text.

icalendar serialises about 1,600 events a second, and every person's feed repeats the
administration's årshjul. So each VEVENT is serialised once per version of the event (its
UID, SEQUENCE and data) and kept in a :class:`VeventCache`; only ``DTSTAMP`` (when the feed
was made) is spliced in per feed, and the header with its VTIMEZONE is made once per name
and years.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vText
from icalendar.enums import STATUS, TRANSP

from styrhjul.notifications.ical import PRODID
from styrhjul.notifications.messages import require_aware
from styrhjul.notifications.vtimezone import vtimezone

REFRESH = timedelta(hours=1)
"""How often a subscribed calendar should fetch the feed again."""

_BEGIN = b"BEGIN:VEVENT\r\n"
_END_CALENDAR = b"END:VCALENDAR\r\n"


class FeedEvent(NamedTuple):
    """One event of a feed, as plain data. Times are aware; an all-day event's end is exclusive.

    A tuple, so that making ten thousand and comparing them with the cached ones is cheap.
    Times are checked when the event is serialised (:func:`_vevent`): a naive time never
    equals an aware one, so it can never be answered from the cache unchecked.
    """

    uid: str
    sequence: int
    summary: str
    start: datetime
    end: datetime
    last_modified: datetime
    all_day: bool = False
    cancelled: bool = False
    location: str | None = None


class VeventCache:
    """Serialised VEVENTs by UID, with the event each was made from; the oldest go past ``size``.

    What is kept is the VEVENT from the line after ``BEGIN:VEVENT`` to ``END:VEVENT``,
    without DTSTAMP (see :func:`render_feed`). An entry is used only when the event is
    unchanged, so the version an entry belongs to is the whole event: a new SEQUENCE, or a
    title edited without one, is serialised anew and replaces it. Entries are for one time
    zone (a process has one, its clock's): another zone empties the cache. Safe to share
    between threads and feeds.

    The event is kept as a plain tuple of strings, numbers and instants, which the garbage
    collector stops tracking: ten thousand entries then cost a full collection nothing.
    """

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self.hits = 0
        self.misses = 0
        self._zone: ZoneInfo | None = None
        self._entries: OrderedDict[str, tuple[tuple[object, ...], bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def bodies(self, events: Sequence[FeedEvent], tz: ZoneInfo) -> list[bytes]:
        """Each event's serialised VEVENT (as described above), from the cache or made now.

        The lock is taken twice per feed, not per event; the missing events are serialised
        between, so other feeds are not held up by icalendar.
        """
        found: list[bytes] = []
        missing: list[int] = []
        with self._lock:
            if tz != self._zone:
                self._entries.clear()
                self._zone = tz
            entries = self._entries
            for index, event in enumerate(events):
                entry = entries.get(event.uid)
                if entry is not None and entry[0] == event:
                    entries.move_to_end(event.uid)
                    found.append(entry[1])
                else:
                    found.append(b"")
                    missing.append(index)
            self.hits += len(events) - len(missing)
        made = [_vevent(events[index], tz) for index in missing]
        with self._lock:
            self.misses += len(made)
            for index, body in zip(missing, made, strict=True):
                found[index] = body
                event = events[index]
                if tz == self._zone:  # unless a feed in another zone came in between
                    entries[event.uid] = (tuple(event), body)
                    entries.move_to_end(event.uid)
            while len(entries) > self.size:
                entries.popitem(last=False)
        return found


def _local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def _vevent(event: FeedEvent, tz: ZoneInfo) -> bytes:
    """The VEVENT's bytes after ``BEGIN:VEVENT`` to ``END``, with no DTSTAMP."""
    for key in ("start", "end", "last_modified"):
        require_aware(getattr(event, key), f"{event.uid}: {key}")
    component = Event()
    component.add("uid", event.uid)
    component.add("sequence", event.sequence)
    if event.all_day:
        first = _local_date(event.start, tz)
        after = max(_local_date(event.end, tz), first + timedelta(days=1))
        component.add("dtstart", first)
        component.add("dtend", after)
        component.add("transp", TRANSP.TRANSPARENT)
    else:
        component.add("dtstart", event.start.astimezone(tz))
        component.add("dtend", event.end.astimezone(tz))
        component.add("transp", TRANSP.OPAQUE)
    component.add("summary", event.summary)
    if event.location:
        component.add("location", event.location)
    component.add("status", STATUS.CANCELLED if event.cancelled else STATUS.CONFIRMED)
    component.add("last-modified", event.last_modified.astimezone(UTC))
    return bytes(component.to_ical()).removeprefix(_BEGIN)


def _one_line(text: str) -> str:
    """A calendar name is one line: line breaks and runs of spaces become one space."""
    return " ".join(text.split())


@functools.lru_cache(maxsize=256)
def _header(name: str, tz: ZoneInfo, first_year: int, last_year: int) -> bytes:
    """The VCALENDAR's properties and VTIMEZONE, without ``END:VCALENDAR``.

    Kept per (name, zone, years): the VTIMEZONE is read from tzdata day by day, and a
    process serves the same few feeds all day.
    """
    calendar = Calendar()  # not Calendar.new(): that adds a random UID to the VCALENDAR
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", vText(_one_line(name)))
    calendar.add("x-wr-calname", vText(_one_line(name)))
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vText("PT1H"))
    calendar.add_component(vtimezone(tz, first_year, last_year))
    return bytes(calendar.to_ical()).removesuffix(_END_CALENDAR)


def render_feed(
    name: str,
    events: Sequence[FeedEvent],
    *,
    tz: ZoneInfo,
    window: tuple[date, date],
    stamp: datetime,
    cache: VeventCache,
) -> bytes:
    """The whole ``.ics`` feed: header, the VTIMEZONE for ``window``'s years, the events.

    ``stamp`` (aware) is when the feed is made; it becomes every event's DTSTAMP in UTC, as
    RFC 5545 asks of an object with a METHOD. It goes right after each ``BEGIN:VEVENT``, so
    the feed is the cached bodies joined by that one line pair, in one join.
    """
    require_aware(stamp, "stamp")
    bodies = cache.bodies(events, tz)  # first: it checks that the events' times are aware
    first, last = window
    years = [first.year, last.year]
    timed = [e.start for e in events if not e.all_day]
    if timed:
        # a local year only grows with the instant (no zone steps back across New Year),
        # so the earliest and the latest start give the range of the years of all of them
        years += [_local_date(min(timed), tz).year, _local_date(max(timed), tz).year]
    header = _header(name, tz, min(years), max(years))
    dtstamp = f"DTSTAMP:{stamp.astimezone(UTC):%Y%m%dT%H%M%SZ}\r\n".encode("ascii")
    return (_BEGIN + dtstamp).join([header, *bodies]) + _END_CALENDAR
