"""Swedish working days and local wall-clock times.

Deadlines in the governance calendar are counted in working days ("three working days before
the board meeting"), so this module decides which days count. A day is *not* a working day
when it is

* a Saturday or a Sunday,
* a Swedish public holiday (allmän helgdag, from the ``holidays`` package),
* midsommarafton, julafton or nyårsafton, which the Annual Leave Act (semesterlag 1977:480,
  3 a §) treats as Sundays although they are not public holidays, or
* a configured closure (``closed_days``), such as a school holiday or a closed office.

Why the eves are computed here rather than taken from ``holidays``: the package moved them
between categories. Before 0.88 they were among its default holidays; since then
(vacanza/holidays#3138) they are in a separate ``DE_FACTO`` category that a default query
does not return. Computing the three dates gives the same answer on every version the
project allows.

Everything is a pure function of its arguments: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from holidays.countries.sweden import Sweden

from styrhjul.clock import STOCKHOLM
from styrhjul.errors import InputError

__all__ = ["Direction", "WorkingCalendar", "local_datetime"]

Direction = Literal["earlier", "later"]

_SATURDAY = 5
_SUNDAY = 6
_FRIDAY = 4
_ONE_DAY = timedelta(days=1)


def _swedish_holidays(year: int) -> dict[date, str]:
    """Public holidays and the three de facto non-working eves of ``year``, Swedish names."""
    # include_sundays=False: older versions of the package mark every Sunday as a holiday
    # named "Söndag"; weekends are handled by the calendar itself. language="sv": without it
    # the package guesses a language from the process locale (LANG=C.UTF-8 gives English).
    public = Sweden(years=year, language="sv", include_sundays=False)
    days: dict[date, str] = dict(public.items())
    midsummer_eve = date(year, 6, 19) + timedelta(days=(_FRIDAY - date(year, 6, 19).weekday()) % 7)
    days.setdefault(midsummer_eve, "Midsommarafton")
    days.setdefault(date(year, 12, 24), "Julafton")
    days.setdefault(date(year, 12, 31), "Nyårsafton")
    return days


class WorkingCalendar:
    """Which days are Swedish working days, and arithmetic in working days.

    ``closed_days`` maps extra non-working dates to the name shown as the reason (for example
    ``{date(2026, 11, 2): "Höstlov"}``). Holidays are computed per year on first use and
    cached on the instance.

    When several reasons apply, the most specific one is reported: a holiday name first
    ("Nationaldagen" on a Saturday), then the configured closure, then the weekday.

    Every answer is a pure function of the date (and the closed days, fixed at
    construction), and planning a year asks about the same few hundred dates a million
    times: each date's reason is remembered once asked, and so is each
    :meth:`add_working_days` answer, up to :data:`MEMO_LIMIT` entries, after which the
    memo starts over (a daemon running for years does not grow without bound).
    """

    MEMO_LIMIT = 100_000

    def __init__(self, closed_days: Mapping[date, str] | None = None) -> None:
        self._closed: dict[date, str] = dict(closed_days or {})
        self._holidays: dict[int, dict[date, str]] = {}
        self._reasons: dict[date, str | None] = {}
        self._added: dict[tuple[date, int], date] = {}

    def _holidays_of(self, year: int) -> dict[date, str]:
        days = self._holidays.get(year)
        if days is None:
            days = _swedish_holidays(year)
            self._holidays[year] = days
        return days

    def non_working_reason(self, d: date) -> str | None:
        """Why ``d`` is not a working day, in Swedish, or ``None`` if it is one.

        Holiday names are capitalised as proper names ("Juldagen", "Midsommarafton"); the
        weekdays are lower case as Swedish writes them ("lördag", "söndag").
        """
        try:
            return self._reasons[d]
        except KeyError:
            pass
        if len(self._reasons) >= self.MEMO_LIMIT:
            self._reasons.clear()
        reason = self._reason(d)
        self._reasons[d] = reason
        return reason

    def _reason(self, d: date) -> str | None:
        holiday = self._holidays_of(d.year).get(d)
        if holiday is not None:
            return holiday
        closed = self._closed.get(d)
        if closed is not None:
            return closed
        if d.weekday() == _SATURDAY:
            return "lördag"
        if d.weekday() == _SUNDAY:
            return "söndag"
        return None

    def is_working_day(self, d: date) -> bool:
        return self.non_working_reason(d) is None

    def shift_to_working_day(self, d: date, direction: Direction) -> date:
        """``d`` if it is a working day, else the nearest working day ``direction`` of it."""
        step = self._step(direction)
        while not self.is_working_day(d):
            d += step
        return d

    def add_working_days(self, d: date, n: int) -> date:
        """The date ``n`` working days after ``d`` (``n > 0``) or before it (``n < 0``).

        Only working days are counted, and ``d`` itself is never counted: one working day
        after a Friday is the next Monday, one after a Saturday is also that Monday, and one
        working day before a Monday is the Friday before. The result is always a working day.

        ``n == 0`` returns ``d`` when it is a working day. When it is not, there is no
        answer that is right for both deadlines ("no later than") and start dates, so a
        :class:`ValueError` naming the date and the reason is raised; call
        :meth:`shift_to_working_day` with the direction that fits instead.
        """
        if n == 0:
            reason = self.non_working_reason(d)
            if reason is not None:
                raise ValueError(
                    f"{d.isoformat()} is not a working day ({reason}); adding 0 working days"
                    " has no answer, shift it earlier or later explicitly"
                )
            return d
        key = (d, n)
        found = self._added.get(key)
        if found is not None:
            return found
        step = self._step("later" if n > 0 else "earlier")
        remaining = abs(n)
        while remaining:
            d += step
            if self.is_working_day(d):
                remaining -= 1
        if len(self._added) >= self.MEMO_LIMIT:
            self._added.clear()
        self._added[key] = d
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """The number of working days ``d`` with ``a < d <= b``; negative when ``b < a``.

        When ``b < a`` the result is minus the count of working days ``d`` with
        ``b < d <= a``. For a working day ``a``,
        ``working_days_between(a, add_working_days(a, n)) == n`` for every ``n``.
        """
        if b < a:
            return -self.working_days_between(b, a)
        count = 0
        d = a + _ONE_DAY
        while d <= b:
            if self.is_working_day(d):
                count += 1
            d += _ONE_DAY
        return count

    @staticmethod
    def _step(direction: Direction) -> timedelta:
        if direction == "later":
            return _ONE_DAY
        if direction == "earlier":
            return -_ONE_DAY
        raise ValueError(f"direction must be 'earlier' or 'later', not {direction!r}")


def _offset_text(offset: timedelta | None) -> str:
    """``+01:00`` for a UTC offset (whole minutes, as every zone in use today has)."""
    minutes = int((offset or timedelta(0)).total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def local_datetime(d: date, t: time, tz: ZoneInfo = STOCKHOLM) -> datetime:
    """The aware instant at which the wall clocks in ``tz`` show ``t`` on ``d``.

    ``t`` is a naive wall-clock time. Across daylight saving time:

    * a time that does not exist (02:30 on the last Sunday of March in Europe/Stockholm, when
      the clocks go from 02:00 to 03:00) raises :class:`~styrhjul.errors.InputError`: a
      meeting or a deadline at a time no clock shows is a mistake in the input, and moving
      it silently would hide that;
    * a time that occurs twice (02:30 on the last Sunday of October, when the clocks go from
      03:00 back to 02:00) is taken at its first occurrence (``fold=0``, still summer time),
      whatever ``t.fold`` says, so that the same input always gives the same instant.
    """
    if t.tzinfo is not None:
        raise ValueError(f"local_datetime expects a naive wall-clock time, got {t.isoformat()}")
    wall = datetime.combine(d, t.replace(fold=0))
    instant = wall.replace(tzinfo=tz)
    # zoneinfo accepts a nonexistent wall time; a round trip through UTC moves it out of
    # the gap, which is how the gap is detected.
    if instant.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        before = instant.utcoffset()
        after = instant.replace(fold=1).utcoffset()
        shift = abs((after or timedelta(0)) - (before or timedelta(0)))
        raise InputError(
            f"{wall:%Y-%m-%d %H:%M} does not exist in {tz.key}: that night the clocks are put"
            f" forward by {shift} ({_offset_text(before)} to {_offset_text(after)});"
            " choose a time before or after the gap"
        )
    return instant
