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
administration's årshjul. So each VEVENT is serialised once per (UID, SEQUENCE) and kept in
a :class:`VeventCache`; only ``DTSTAMP`` (when the feed was made) is spliced in per feed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
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


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One event of a feed, as plain data. Times are aware; an all-day event's end is exclusive."""

    uid: str
    sequence: int
    summary: str
    start: datetime
    end: datetime
    last_modified: datetime
    all_day: bool = False
    cancelled: bool = False
    location: str | None = None

    def __post_init__(self) -> None:
        for key in ("start", "end", "last_modified"):
            require_aware(getattr(self, key), f"{self.uid}: {key}")


class VeventCache:
    """Serialised VEVENTs (without DTSTAMP) by (UID, SEQUENCE); the oldest go past ``size``.

    A hit is used only when the event's data is unchanged too: a title edited without a
    new SEQUENCE still reaches the feed. Safe to share between threads and between feeds.
    """

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[tuple[str, int], tuple[FeedEvent, ZoneInfo, bytes]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, event: FeedEvent, tz: ZoneInfo) -> bytes:
        key = (event.uid, event.sequence)
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] == event and found[1] == tz:
                self._entries.move_to_end(key)
                self.hits += 1
                return found[2]
        body = _vevent(event, tz)
        with self._lock:
            self.misses += 1
            self._entries[key] = (event, tz, body)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return body


def _local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def _vevent(event: FeedEvent, tz: ZoneInfo) -> bytes:
    """The VEVENT's bytes, ``BEGIN`` to ``END``, with no DTSTAMP (see :func:`render_feed`)."""
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
    return bytes(component.to_ical())


def _one_line(text: str) -> str:
    """A calendar name is one line: line breaks and runs of spaces become one space."""
    return " ".join(text.split())


def _header(name: str, tz: ZoneInfo, first_year: int, last_year: int) -> bytes:
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
    return bytes(calendar.to_ical())


def render_feed(
    name: str,
    events: list[FeedEvent],
    *,
    tz: ZoneInfo,
    window: tuple[date, date],
    stamp: datetime,
    cache: VeventCache,
) -> bytes:
    """The whole ``.ics`` feed: header, the VTIMEZONE for ``window``'s years, the events.

    ``stamp`` (aware) is when the feed is made; it becomes every event's DTSTAMP in UTC, as
    RFC 5545 asks of an object with a METHOD.
    """
    require_aware(stamp, "stamp")
    first, last = window
    years = [first.year, last.year]
    years += [_local_date(e.start, tz).year for e in events if not e.all_day]
    header = _header(name, tz, min(years), max(years))
    dtstamp = f"DTSTAMP:{stamp.astimezone(UTC):%Y%m%dT%H%M%SZ}\r\n".encode("ascii")
    parts = [header.removesuffix(_END_CALENDAR)]
    for event in events:
        body = cache.get(event, tz)
        parts.append(_BEGIN + dtstamp + body.removeprefix(_BEGIN))
    parts.append(_END_CALENDAR)
    return b"".join(parts)
