"""A VTIMEZONE component in the form Outlook reads correctly, derived from tzdata.

icalendar can build a VTIMEZONE from zoneinfo (``Timezone.from_tzid``), but it lists every
transition as an ``RDATE``. Outlook for Windows is known to misread RDATE-only time zones and
show meetings an hour off in summer; it expects one ``STANDARD`` and one ``DAYLIGHT`` rule
with a yearly ``RRULE`` ("last Sunday of March"), as Outlook and Google write themselves.

So the transitions are read from zoneinfo for the years around the meeting, and when every
one of those years follows the same yearly rule, that rule is written as an ``RRULE``. The
rule is never typed in by hand, so a change in tzdata (should the EU drop summer time) is
followed. If the years disagree, or there is no summer time, the transitions are listed.
"""

from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True, slots=True)
class _Rule:
    """When a transition happens, as a yearly rule, and what it changes to."""

    month: int
    weekday: int
    nth: int  # 1..4 counted from the start of the month, -1 for the last one
    wall: time  # local time before the change, as RFC 5545 wants for DTSTART
    offset_from: timedelta
    offset_to: timedelta
    name: str
    daylight: bool


@dataclass(frozen=True, slots=True)
class _Transition:
    wall: datetime  # naive local time before the change
    rule: _Rule


def _offset(tz: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(tz).utcoffset()
    if offset is None:  # pragma: no cover - zoneinfo always gives an offset
        raise ValueError(f"{tz.key} gives no offset at {instant}")
    return offset


@functools.lru_cache(maxsize=128)
def _transitions(tz: ZoneInfo, year: int) -> tuple[_Transition, ...]:
    """The changes of UTC offset during ``year``, to the minute (at most one a day).

    Kept per zone and year: finding them asks the zone about every day of the year (some
    4 ms), and every invite and every feed asks again for the same two or three years.
    """
    found: list[_Transition] = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    before = _offset(tz, day)
    while day.year == year:
        following = day + timedelta(days=1)
        after = _offset(tz, following)
        if after != before:
            low, high = 0, 24 * 60  # minutes after ``day``: old offset at low, new at high
            while high - low > 1:
                middle = (low + high) // 2
                if _offset(tz, day + timedelta(minutes=middle)) == before:
                    low = middle
                else:
                    high = middle
            instant = day + timedelta(minutes=high)
            wall = (instant + before).replace(tzinfo=None)
            last_day = calendar.monthrange(wall.year, wall.month)[1]
            local = instant.astimezone(tz)
            rule = _Rule(
                month=wall.month,
                weekday=wall.weekday(),
                nth=-1 if wall.day + 7 > last_day else (wall.day - 1) // 7 + 1,
                wall=wall.time(),
                offset_from=before,
                offset_to=after,
                name=local.tzname() or tz.key,
                daylight=bool(local.dst()),
            )
            found.append(_Transition(wall, rule))
        before = after
        day = following
    return tuple(found)


def _observance(daylight: bool) -> TimezoneDaylight | TimezoneStandard:
    return TimezoneDaylight() if daylight else TimezoneStandard()


def _listed(tz: ZoneInfo, first_year: int, transitions: list[_Transition]) -> Timezone:
    """Every transition written out: DTSTART and RDATEs per kind of change.

    Not ``Timezone.from_tzid``: icalendar 7 writes a DAYLIGHT onset in the local time after
    the change (03.00 rather than 02.00), an hour later than RFC 5545 means.
    """
    component = Timezone()
    component.add("tzid", tz.key)
    opening = datetime(first_year, 1, 1, tzinfo=tz)  # local midnight
    offset = _offset(tz, opening)
    initial = _observance(bool(opening.dst()))
    initial.add("dtstart", opening.replace(tzinfo=None))
    initial.add("tzoffsetfrom", offset)
    initial.add("tzoffsetto", offset)
    initial.add("tzname", opening.tzname() or tz.key)
    component.add_component(initial)
    groups: dict[tuple[timedelta, timedelta, str, bool], list[datetime]] = {}
    for transition in transitions:
        rule = transition.rule
        key = (rule.offset_from, rule.offset_to, rule.name, rule.daylight)
        groups.setdefault(key, []).append(transition.wall)
    for (offset_from, offset_to, name, daylight), walls in groups.items():
        observance = _observance(daylight)
        observance.add("dtstart", walls[0])
        if walls[1:]:
            observance.add("rdate", walls[1:])
        observance.add("tzoffsetfrom", offset_from)
        observance.add("tzoffsetto", offset_to)
        observance.add("tzname", name)
        component.add_component(observance)
    return component


def vtimezone(tz: ZoneInfo, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE for ``tz`` valid for events from ``first_year`` through ``last_year``.

    The rules start a year earlier, so that an event in January falls after a STANDARD onset.
    """
    years = range(first_year - 1, last_year + 1)
    per_year = [_transitions(tz, year) for year in years]
    rules = [transition.rule for transition in per_year[0]]
    if not rules or any([t.rule for t in transitions] != rules for transitions in per_year[1:]):
        return _listed(tz, years[0], [t for transitions in per_year for t in transitions])
    component = Timezone()
    component.add("tzid", tz.key)
    for transition in per_year[0]:
        rule = transition.rule
        observance = _observance(rule.daylight)
        observance.add("dtstart", transition.wall)
        observance.add(
            "rrule",
            {"freq": "YEARLY", "bymonth": rule.month, "byday": f"{rule.nth}{_BYDAY[rule.weekday]}"},
        )
        observance.add("tzoffsetfrom", rule.offset_from)
        observance.add("tzoffsetto", rule.offset_to)
        observance.add("tzname", rule.name)
        component.add_component(observance)
    return component
