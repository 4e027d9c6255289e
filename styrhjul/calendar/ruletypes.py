"""The vocabulary of date rules: patterns (``When``), rules, occurrences and their error.

The årshjul is kept as rules about dates ("the third Tuesday of May", "eight working days
before the joint check"), not as a list of dates, so that it repeats every year without being
typed in again. This module only names the shapes; :mod:`styrhjul.calendar.rulecheck`
validates them and :mod:`styrhjul.calendar.rules` turns them into dates. Import all of them
from :mod:`styrhjul.calendar.rules` (or :mod:`styrhjul.calendar`).

The patterns are plain frozen dataclasses without checks of their own, so that a loader can
build them from a file first and then get one error that names the rule, the field and the
value from :func:`~styrhjul.calendar.rulecheck.validate_rules`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from types import MappingProxyType
from typing import Literal

from styrhjul.calendar.names import ENGLISH_WEEKDAYS
from styrhjul.calendar.names import WEEKDAYS as SWEDISH_WEEKDAYS
from styrhjul.errors import InputError

__all__ = [
    "WEEKDAYS",
    "Anchored",
    "Fixed",
    "IsoWeek",
    "Move",
    "NthWeekday",
    "Occurrence",
    "Part",
    "Rule",
    "RuleError",
    "Term",
    "Weekday",
    "Weekly",
    "When",
    "Window",
    "term_rule_id",
]

Weekday = int  # 0 = Monday ... 6 = Sunday, as date.weekday()
Move = Literal["earlier", "later", "skip"]
Part = Literal["early", "mid", "late"]  # early = days 1-10, mid = 11-20, late = 21-end of month

_ENGLISH = tuple(name.lower() for name in ENGLISH_WEEKDAYS)

WEEKDAYS: Mapping[str, int] = MappingProxyType(
    {
        **{name[:3]: number for number, name in enumerate(_ENGLISH)},
        **{name: number for number, name in enumerate(_ENGLISH)},
        **{name: number for number, name in enumerate(SWEDISH_WEEKDAYS)},
    }
)
"""Accepted weekday names (lower case) to ``date.weekday()`` numbers: "tue", "tuesday", "tisdag"."""


@dataclass(frozen=True)
class Fixed:
    """The same month and day every year ("15 April")."""

    month: int
    day: int


@dataclass(frozen=True)
class NthWeekday:
    """The ``n``-th weekday of a month ("the third Tuesday of May"); ``n = -1`` is the last."""

    month: int
    weekday: Weekday
    n: int


@dataclass(frozen=True)
class IsoWeek:
    """A weekday of an ISO week of the year ("Monday of week 44", as Swedish calendars count)."""

    week: int
    weekday: Weekday


@dataclass(frozen=True)
class Window:
    """The first acceptable day in a third of a month ("early August"), of ``weekday`` if given.

    Minutes say "early August" or "late May" rather than a date; the window picks the first
    working day in it, so a move policy is not needed (``move = "skip"`` turns an empty window
    from an error into no occurrence).
    """

    month: int
    part: Part
    weekday: Weekday | None = None


@dataclass(frozen=True)
class Anchored:
    """A number of working days before (< 0) or after (> 0) another rule's day; 0 = that day.

    Deadlines hang on meetings ("proposals eight working days before the joint check"), so
    moving the meeting moves the deadline with it.
    """

    anchor: str
    working_days: int


@dataclass(frozen=True)
class Weekly:
    """A series every ``every`` weeks on ``weekday`` from ``first`` to ``last`` of the year.

    ``first`` and ``last`` are month/day within one calendar year; a series that wraps around
    New Year is written as two rules.
    """

    weekday: Weekday
    first: Fixed
    last: Fixed
    every: int = 1


@dataclass(frozen=True)
class Term:
    """Calendar weeks after the rule ``term:<edge>`` ("two weeks after the autumn term starts").

    The term dates differ per municipality and year, so they are ordinary rules with the ids
    ``term:autumn_start``, ``term:autumn_end``, ``term:spring_start`` and ``term:spring_end``.
    The day is that rule's day plus ``weeks * 7`` days, then, if ``weekday`` is given, the
    first day on or after it with that weekday.
    """

    edge: str
    weeks: int = 0
    weekday: Weekday | None = None


When = Fixed | NthWeekday | IsoWeek | Window | Anchored | Weekly | Term


def term_rule_id(edge: str) -> str:
    """The id of the rule that defines a term edge: ``term:autumn_start``."""
    return f"term:{edge}"


@dataclass(frozen=True)
class Rule:
    """One line of the årshjul: an id, a date pattern, a time and what to do on a holiday.

    ``at`` is the wall-clock start in the calendar's zone (Europe/Stockholm), ``None`` for an
    all-day event lasting ``days`` days (a dialog round is a window of several days). ``move``
    says what happens when the pattern gives a day that is not a working day: the nearest
    acceptable day ``earlier`` or ``later``, or ``skip`` (no occurrence that year; for a
    :class:`Weekly` series, that week's occurrence is dropped). With
    ``avoid_school_holidays`` the configured school holidays count as closed for this rule.
    """

    id: str
    when: When
    at: time | None = None
    minutes: int = 0
    days: int = 1
    move: Move = "later"
    avoid_school_holidays: bool = False


@dataclass(frozen=True)
class Occurrence:
    """One concrete event of a rule in a year.

    ``nominal`` is the day the pattern gave and ``day`` the day it falls on after moving;
    ``moved_because`` is the Swedish reason the nominal day was not used ("Nationaldagen",
    "Sportlov"), ``None`` when it was. ``seq`` numbers a :class:`Weekly` series 0, 1, 2, ...
    in date order and is 0 for every other rule. All-day events run from local midnight of
    ``day`` to local midnight after their last day.
    """

    rule_id: str
    seq: int
    day: date
    nominal: date
    moved_because: str | None
    starts_at: datetime
    ends_at: datetime
    all_day: bool


class RuleError(InputError):
    """A rule that is wrong, or that has no answer in a year; ``key`` is the rule's id.

    ``field`` names the offending field ("when.month") when there is one, and ``year`` the
    calendar year being resolved when the problem shows only in that year. The message says
    both, so that ``str(error)`` alone tells the user what to change.
    """

    def __init__(
        self,
        message: str,
        *,
        rule_id: str | None,
        field: str | None = None,
        year: int | None = None,
    ) -> None:
        self.rule_id = rule_id
        self.field = field
        self.year = year
        super().__init__(message, key=rule_id)
