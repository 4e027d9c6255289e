"""The årshjul file: the administration's yearly calendar as date rules, loaded and checked.

An administration changes its governance calendar by editing one TOML file, not code. The
file names the wheel's rings, the school holidays, and one ``[[event]]`` per rule: when it
falls (a fixed day, the nth weekday of a month, an ISO week, an early/mid/late window, a
weekly series, an offset in working days from another event, or weeks from a term edge),
what happens when that day is not a working day (``move``), its time and length, and what
it sets going: a process to start, a dialog round to plan, a group's meetings.

Loading checks everything that does not need the database (keys, rings, anchors, loops,
patterns) and reports file, line and key. Whether a named workflow, dialog level or group
exists is checked by the planning service, which knows them.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from styrhjul.calendar.rules import (
    WEEKDAYS,
    Anchored,
    Fixed,
    IsoWeek,
    NthWeekday,
    Occurrence,
    Rule,
    RuleError,
    Term,
    Weekly,
    When,
    Window,
    resolve_year,
    school_holiday_days,
    validate_rules,
)
from styrhjul.calendar.workdays import WorkingCalendar
from styrhjul.errors import DefinitionError
from styrhjul.tomlpos import PathPart
from styrhjul.validation import Source, StrictModel, read_toml, validate

__all__ = ["Arshjul", "EventSpec", "load_arshjul"]

_Fail = Callable[[tuple[PathPart, ...], str], DefinitionError]
_MONTH_DAY = r"^[0-9]{2}-[0-9]{2}$"
_CLOCK = r"^[0-2][0-9]:[0-5][0-9]$"


class WhenModel(StrictModel):
    """``when = {...}``: exactly one date pattern; which keys are given decides which."""

    on: str | None = Field(default=None, pattern=_MONTH_DAY)
    nth: int | None = None
    last: str | None = None
    weekday: str | None = None
    month: int | None = None
    week: int | None = None
    part: Literal["early", "mid", "late"] | None = None
    after: str | None = None
    before: str | None = None
    working_days: int | None = None
    every: str | None = None
    from_: str | None = Field(default=None, alias="from", pattern=_MONTH_DAY)
    to: str | None = Field(default=None, pattern=_MONTH_DAY)
    weeks: int | None = None
    term: str | None = None


class DialogsModel(StrictModel):
    """``dialogs = {level, round}``: the event is the window of a dialog round at a level."""

    level: str
    round: int = Field(ge=1)


class EventModel(StrictModel):
    """One ``[[event]]``: a date rule and what it sets going."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*(:[a-z0-9_]+)?$", max_length=100)
    title: str = Field(min_length=1, max_length=200)
    ring: str
    when: WhenModel
    move: Literal["earlier", "later", "skip"]
    at: str | None = Field(default=None, pattern=_CLOCK)
    minutes: int = Field(default=0, ge=0, le=24 * 60)
    days: int = Field(default=1, ge=1, le=120)
    avoid_school_holidays: bool = False
    series: str | None = Field(default=None, max_length=200)
    unit: str | None = None
    workflow: str | None = None
    dialogs: DialogsModel | None = None
    meeting: str | None = None
    period: Literal["year", "next_year", "school_year"] = "year"
    for_each: str | None = None
    description: str = ""

    @field_validator("title")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value or "\r" in value:
            raise ValueError("a title is one line")
        return value


class RingModel(StrictModel):
    """``[[ring]]``: one ring of the wheel, from the inside out."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1)
    colour: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")


class HolidayModel(StrictModel):
    """``[[school_holiday]]``: an ISO week every year, or fixed dates of one year."""

    name: str = Field(min_length=1)
    week: int | None = Field(default=None, ge=1, le=53)
    first: date | None = None
    last: date | None = None


class HeaderModel(StrictModel):
    """``[arshjul]``: what the file is, and whose calendar it is."""

    title: str = Field(min_length=1)
    unit: str
    invite_working_days_ahead: int = Field(default=20, ge=0, le=200)
    holiday_ring: str | None = None
    """The ring the wheel draws school holidays on (default: the outermost ring)."""


class ArshjulFile(StrictModel):
    """The whole årshjul file."""

    arshjul: HeaderModel
    ring: list[RingModel] = Field(min_length=1)
    school_holiday: list[HolidayModel] = Field(default_factory=list)
    event: list[EventModel] = Field(min_length=1)


@dataclass(frozen=True)
class EventSpec:
    """What an event rule is for, beside its dates (those are in :attr:`rule`)."""

    rule: Rule
    title: str
    ring: str
    index: int
    series: str | None = None
    unit: str | None = None
    workflow: str | None = None
    dialog_level: str | None = None
    dialog_round: int | None = None
    meeting: str | None = None
    period: str = "year"
    """The period a started process is for: the event's year, the next, or its school year."""
    for_each: str | None = None
    """Start the process for every unit of this kind instead of the årshjul's own unit."""
    description: str = ""

    @property
    def id(self) -> str:
        return self.rule.id


@dataclass(frozen=True)
class Ring:
    """A ring of the wheel (the drawing's data, kept free of the drawing module)."""

    key: str
    title: str
    colour: str | None = None


@dataclass
class Arshjul:
    """A loaded, checked årshjul: rings, school holidays and event rules."""

    title: str
    unit: str
    invite_working_days_ahead: int
    holiday_ring: str
    rings: list[Ring]
    events: list[EventSpec]
    source: Source
    holiday_weeks: list[tuple[str, int]] = field(default_factory=list)
    holiday_dates: list[tuple[str, date, date]] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.source.path

    def event(self, rule_id: str) -> EventSpec:
        for spec in self.events:
            if spec.id == rule_id:
                return spec
        raise KeyError(rule_id)

    def school_holidays(self, year: int) -> dict[date, str]:
        """The school holidays that touch calendar year ``year``, day by day.

        Dated periods win over the weekly rule of the same name in the years they cover,
        so one year's exception (sportlov in week 8) needs one dated entry.
        """
        dated = [(n, a, b) for n, a, b in self.holiday_dates if a.year <= year <= b.year]
        covered = {n for n, _, _ in dated}
        periods = list(dated)
        for name, week in self.holiday_weeks:
            if name in covered:
                continue
            try:
                monday = date.fromisocalendar(year, week, 1)
            except ValueError:
                continue  # week 53 in a year that has none
            periods.append((name, monday, monday + timedelta(days=4)))
        return school_holiday_days(periods)

    def resolve(self, year: int, calendar: WorkingCalendar) -> list[Occurrence]:
        """Every occurrence of every rule in ``year``; an unsatisfiable rule names its line."""
        try:
            return resolve_year(
                [e.rule for e in self.events], year, calendar, self.school_holidays(year)
            )
        except RuleError as exc:
            raise self._located(exc) from None

    def _located(self, exc: RuleError) -> DefinitionError:
        rule_id = exc.key or ""
        index = next((e.index for e in self.events if e.id == rule_id), None)
        where: tuple[PathPart, ...] = ("event", index, "when") if index is not None else ()
        error = self.source.error(DefinitionError, where, exc.detail)
        assert isinstance(error, DefinitionError)
        return error


def load_arshjul(path: Path, text: str | None = None) -> Arshjul:
    """Read, validate and check the årshjul at ``path`` (or ``text``, as if read there)."""
    source, data = read_toml(path, DefinitionError, text=text)
    spec = validate(source, data, ArshjulFile, DefinitionError)

    def fail(key: tuple[PathPart, ...], message: str) -> DefinitionError:
        error = source.error(DefinitionError, key, message)
        assert isinstance(error, DefinitionError)
        return error

    rings = [Ring(r.key, r.title, r.colour) for r in spec.ring]
    ring_keys = [r.key for r in rings]
    for i, ring in enumerate(spec.ring):
        if ring_keys.index(ring.key) != i:
            raise fail(("ring", i, "key"), f"ring {ring.key!r} is defined twice")
    if spec.arshjul.holiday_ring is not None and spec.arshjul.holiday_ring not in ring_keys:
        raise fail(
            ("arshjul", "holiday_ring"),
            f"unknown ring {spec.arshjul.holiday_ring!r}; rings are: {', '.join(ring_keys)}",
        )
    events: list[EventSpec] = []
    seen: dict[str, int] = {}
    for i, event in enumerate(spec.event):
        if event.id in seen:
            raise fail(
                ("event", i, "id"),
                f"event {event.id!r} is also defined as event {seen[event.id] + 1}",
            )
        seen[event.id] = i
        events.append(_event_spec(i, event, ring_keys, fail))
    weeks, dated = _holidays(spec.school_holiday, fail)
    arshjul = Arshjul(
        title=spec.arshjul.title,
        unit=spec.arshjul.unit,
        invite_working_days_ahead=spec.arshjul.invite_working_days_ahead,
        holiday_ring=spec.arshjul.holiday_ring or ring_keys[-1],
        rings=rings,
        events=events,
        source=source,
        holiday_weeks=weeks,
        holiday_dates=dated,
    )
    try:
        validate_rules([e.rule for e in events])
    except RuleError as exc:
        raise arshjul._located(exc) from None
    return arshjul


def _event_spec(i: int, event: EventModel, ring_keys: list[str], fail: _Fail) -> EventSpec:
    key: tuple[PathPart, ...] = ("event", i)
    if event.ring not in ring_keys:
        raise fail(
            (*key, "ring"),
            f"unknown ring {event.ring!r}{_hint(event.ring, ring_keys)};"
            f" rings are: {', '.join(ring_keys)}",
        )
    links = [k for k in ("workflow", "dialogs", "meeting") if getattr(event, k) is not None]
    if len(links) > 1:
        raise fail(
            (*key, links[1]), f"an event sets one thing going, not both {links[0]} and {links[1]}"
        )
    if event.workflow is None and (event.for_each or event.period != "year"):
        raise fail(
            (*key, "for_each" if event.for_each else "period"),
            "only an event that starts a workflow has a period or for_each",
        )
    if event.at is None and event.minutes:
        raise fail(
            (*key, "minutes"),
            "minutes is the length of a timed event; give 'at' too,"
            " or use 'days' for an all-day event",
        )
    if event.at is not None and event.days != 1:
        raise fail(
            (*key, "days"), "days is the length of an all-day event; a timed event has 'minutes'"
        )
    if event.at is not None and not event.minutes:
        raise fail((*key, "at"), "a timed event needs its length in minutes")
    return EventSpec(
        rule=Rule(
            id=event.id,
            when=_pattern(event.when, (*key, "when"), fail),
            at=_clock(event.at, (*key, "at"), fail),
            minutes=event.minutes,
            days=event.days,
            move=event.move,
            avoid_school_holidays=event.avoid_school_holidays,
        ),
        title=event.title,
        ring=event.ring,
        index=i,
        series=event.series,
        unit=event.unit,
        workflow=event.workflow,
        dialog_level=event.dialogs.level if event.dialogs else None,
        dialog_round=event.dialogs.round if event.dialogs else None,
        meeting=event.meeting,
        period=event.period,
        for_each=event.for_each,
        description=event.description,
    )


def _holidays(
    holidays: list[HolidayModel], fail: _Fail
) -> tuple[list[tuple[str, int]], list[tuple[str, date, date]]]:
    weeks: list[tuple[str, int]] = []
    dated: list[tuple[str, date, date]] = []
    for i, holiday in enumerate(holidays):
        if holiday.week is not None and (holiday.first or holiday.last):
            raise fail(
                ("school_holiday", i, "week"), "give either week or first and last, not both"
            )
        if holiday.week is not None:
            weeks.append((holiday.name, holiday.week))
            continue
        if holiday.first is None or holiday.last is None:
            raise fail(("school_holiday", i), "a school holiday needs week, or first and last")
        if holiday.last < holiday.first:
            raise fail(
                ("school_holiday", i, "last"),
                f"last ({holiday.last}) is before first ({holiday.first})",
            )
        dated.append((holiday.name, holiday.first, holiday.last))
    return weeks, dated


def _hint(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _weekday(text: str | None, key: tuple[PathPart, ...], fail: _Fail) -> int:
    if text is None:
        raise fail(key, "a weekday is required here")
    value = WEEKDAYS.get(text.lower())
    if value is None:
        raise fail(key, f"unknown weekday {text!r}; write it as 'tisdag' or 'tue'")
    return value


def _month_day(text: str, key: tuple[PathPart, ...], fail: _Fail) -> Fixed:
    month, day = (int(p) for p in text.split("-"))
    try:
        date(2000, month, day)  # a leap year: 02-29 is a day some years have
    except ValueError:
        raise fail(key, f"{text!r} is not a day of the year (MM-DD)") from None
    return Fixed(month, day)


_KINDS: Mapping[str, tuple[frozenset[str], frozenset[str]]] = {
    # kind: (required keys, allowed optional keys)
    "on": (frozenset({"on"}), frozenset()),
    "nth": (frozenset({"nth", "weekday", "month"}), frozenset()),
    "last": (frozenset({"last", "month"}), frozenset()),
    "week": (frozenset({"week", "weekday"}), frozenset()),
    "part": (frozenset({"month", "part"}), frozenset({"weekday"})),
    "after": (frozenset({"after", "working_days"}), frozenset()),
    "before": (frozenset({"before", "working_days"}), frozenset()),
    "every": (frozenset({"every", "from_", "to"}), frozenset({"weeks"})),
    "term": (frozenset({"term"}), frozenset({"weeks", "weekday"})),
}
_PATTERNS = (
    "on = 'MM-DD' | nth = N, weekday, month | last = weekday, month | week = N, weekday"
    " | month, part = early/mid/late [, weekday] | after/before = id, working_days = N"
    " | every = weekday, from = 'MM-DD', to = 'MM-DD' [, weeks] | term = edge [, weeks, weekday]"
)


def _pattern(when: WhenModel, key: tuple[PathPart, ...], fail: _Fail) -> When:  # noqa: PLR0911
    given = {name for name in WhenModel.model_fields if getattr(when, name) is not None}
    kind = next(
        (
            k
            for k in ("on", "nth", "last", "week", "after", "before", "every", "term", "part")
            if k in given
        ),
        None,
    )
    if kind is None:
        raise fail(key, f"no date pattern; use one of: {_PATTERNS}")
    required, optional = _KINDS[kind]
    missing = required - given
    if missing:
        names = ", ".join(sorted(m.rstrip("_") for m in missing))
        raise fail(key, f"a '{kind}' date also needs: {names}")
    extra = given - required - optional
    if extra:
        names = ", ".join(sorted(e.rstrip("_") for e in extra))
        raise fail(
            (*key, sorted(extra)[0].rstrip("_")),
            f"{names} does not belong to a '{kind}' date; patterns are: {_PATTERNS}",
        )
    if kind == "on":
        assert when.on is not None
        return _month_day(when.on, (*key, "on"), fail)
    if kind == "nth":
        assert when.nth is not None
        assert when.month is not None
        return NthWeekday(when.month, _weekday(when.weekday, (*key, "weekday"), fail), when.nth)
    if kind == "last":
        assert when.month is not None
        return NthWeekday(when.month, _weekday(when.last, (*key, "last"), fail), -1)
    if kind == "week":
        assert when.week is not None
        return IsoWeek(when.week, _weekday(when.weekday, (*key, "weekday"), fail))
    if kind == "part":
        assert when.month is not None
        assert when.part is not None
        day = _weekday(when.weekday, (*key, "weekday"), fail) if when.weekday else None
        return Window(when.month, when.part, day)
    if kind in ("after", "before"):
        anchor = when.after if kind == "after" else when.before
        assert anchor is not None
        assert when.working_days is not None
        if when.working_days < 0:
            raise fail(
                (*key, "working_days"),
                f"working_days counts {kind} the anchor; write a positive number",
            )
        return Anchored(anchor, when.working_days if kind == "after" else -when.working_days)
    if kind == "every":
        assert when.from_ is not None
        assert when.to is not None
        first = _month_day(when.from_, (*key, "from"), fail)
        last = _month_day(when.to, (*key, "to"), fail)
        return Weekly(_weekday(when.every, (*key, "every"), fail), first, last, when.weeks or 1)
    assert when.term is not None
    day = _weekday(when.weekday, (*key, "weekday"), fail) if when.weekday else None
    return Term(when.term, when.weeks or 0, day)


def _clock(text: str | None, key: tuple[PathPart, ...], fail: _Fail) -> time | None:
    if text is None:
        return None
    hours, minutes = (int(p) for p in text.split(":"))
    if hours > 23:
        raise fail(key, f"{text!r} is not a time of day (HH:MM, 00:00-23:59)")
    return time(hours, minutes)
