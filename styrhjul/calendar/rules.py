"""Date rules of the årshjul turned into concrete days and local times for one calendar year.

:func:`resolve_year` takes the rules (see :mod:`styrhjul.calendar.ruletypes` for the
patterns), a :class:`~styrhjul.calendar.workdays.WorkingCalendar` and the school holidays,
and returns every occurrence of the year. A day is *acceptable* for a rule when it is a
Swedish working day (no weekend, public holiday, midsommarafton, julafton or nyårsafton) and,
if the rule avoids school holidays, not a school holiday day.

* Fixed, NthWeekday, IsoWeek and Term give a nominal day; when it is not acceptable it is
  moved to the nearest acceptable day ``earlier`` or ``later``, or the rule is skipped.
* Window takes the first acceptable day in the window, so it is never moved.
* Anchored counts acceptable days of *its own* policy from its anchor's day, strictly after
  (> 0) or before (< 0) it; 0 is the anchor's day, moved if this rule does not accept it.
* Weekly moves or drops each week's day on its own; two weeks moved onto the same day give
  one occurrence.

An occurrence may fall at most :data:`SPILL_DAYS` days outside the calendar year (1 January
moved earlier lands on 30 December); anything further is a :class:`RuleError`, since that
day belongs to another year's plan. Everything is a pure function of the arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from styrhjul.calendar.names import ENGLISH_MONTHS, ENGLISH_WEEKDAYS
from styrhjul.calendar.rulecheck import depends_on, validate_rules
from styrhjul.calendar.ruletypes import (
    WEEKDAYS,
    Anchored,
    Fixed,
    IsoWeek,
    Move,
    NthWeekday,
    Occurrence,
    Part,
    Rule,
    RuleError,
    Term,
    Weekday,
    Weekly,
    When,
    Window,
    term_rule_id,
)
from styrhjul.calendar.workdays import WorkingCalendar, local_datetime
from styrhjul.clock import STOCKHOLM
from styrhjul.errors import InputError

__all__ = [
    "SPILL_DAYS",
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
    "resolve_year",
    "school_holiday_days",
    "term_rule_id",
    "validate_rules",
]

SPILL_DAYS = 7
"""How far outside its calendar year an occurrence may fall after moving or counting."""

_ONE_DAY = timedelta(days=1)
_MIDNIGHT = time(0)
_WEEKEND_REASONS = frozenset({"lördag", "söndag"})
_ORDINALS = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 5: "5th"}
_PART_DAYS: dict[str, tuple[int, int | None]] = {
    "early": (1, 10),
    "mid": (11, 20),
    "late": (21, None),
}

_Placed = tuple[date, date, str | None]  # day, nominal, moved_because


class _Policy:
    """The days one rule accepts, and why a day is not accepted, within one year's limits."""

    def __init__(
        self,
        rule: Rule,
        year: int,
        calendar: WorkingCalendar,
        school_holidays: Mapping[date, str],
    ) -> None:
        self.rule = rule
        self.year = year
        self.calendar = calendar
        self.school = school_holidays if rule.avoid_school_holidays else {}
        self.low = date(year, 1, 1) - timedelta(days=SPILL_DAYS)
        self.high = date(year, 12, 31) + timedelta(days=SPILL_DAYS)

    def accepts(self, d: date) -> bool:
        return d not in self.school and self.calendar.is_working_day(d)

    def reason(self, d: date) -> str | None:
        """Why ``d`` is not accepted, in Swedish; the most specific reason first.

        A holiday's name, then the school holiday's, then the weekday, as the calendar orders
        its own reasons.
        """
        reason = self.calendar.non_working_reason(d)
        school = self.school.get(d)
        if school is not None and (reason is None or reason in _WEEKEND_REASONS):
            return school
        return reason

    def error(self, message: str, field: str | None = None) -> RuleError:
        return RuleError(
            f"{message} (year {self.year})", rule_id=self.rule.id, field=field, year=self.year
        )

    def check_within(self, d: date, what: str) -> None:
        if not self.low <= d <= self.high:
            raise self.error(
                f"{what} is {d.isoformat()}, more than {SPILL_DAYS} days outside the calendar"
                " year; it belongs to another year's plan"
            )

    def move(self, nominal: date, move: Move) -> _Placed | None:
        """``nominal`` if accepted, else the nearest accepted day per ``move`` (None = skip)."""
        self.check_within(nominal, "the day the pattern gives")
        if self.accepts(nominal):
            return nominal, nominal, None
        reason = self.reason(nominal)
        if move == "skip":
            return None
        step = _ONE_DAY if move == "later" else -_ONE_DAY
        d = nominal + step
        while not self.accepts(d):
            if not self.low <= d <= self.high:
                raise self.error(
                    f"{nominal.isoformat()} is not a working day ({reason}) and moving it"
                    f" {move} finds none within {SPILL_DAYS} days of the calendar year"
                )
            d += step
        self.check_within(d, f"{nominal.isoformat()} moved {move}")
        return d, nominal, reason

    def count(self, start: date, n: int) -> date:
        """The ``n``-th accepted day after (n > 0) or before (n < 0) ``start``."""
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        d = start
        remaining = abs(n)
        while remaining:
            d += step
            if not self.low <= d <= self.high:
                raise self.error(
                    f"{n} working days from {start.isoformat()} reach beyond {SPILL_DAYS} days"
                    " outside the calendar year"
                )
            if self.accepts(d):
                remaining -= 1
        return d


def _month_day(policy: _Policy, fixed: Fixed, field: str) -> date:
    try:
        return date(policy.year, fixed.month, fixed.day)
    except ValueError:
        raise policy.error(
            f"{field} is {fixed.month:02d}-{fixed.day:02d}, but {policy.year} is not a leap year"
            f" and has no 29 February",
            field,
        ) from None


def _nth_weekday(policy: _Policy, when: NthWeekday) -> date:
    year = policy.year
    if when.n == -1:
        last = date(year + (when.month == 12), when.month % 12 + 1, 1) - _ONE_DAY
        return last - timedelta(days=(last.weekday() - when.weekday) % 7)
    first = date(year, when.month, 1)
    d = first + timedelta(days=(when.weekday - first.weekday()) % 7 + 7 * (when.n - 1))
    if d.month != when.month:
        raise policy.error(
            f"when.n is {when.n}: {ENGLISH_MONTHS[when.month - 1]} {year} has no"
            f" {_ORDINALS[when.n]} {ENGLISH_WEEKDAYS[when.weekday]}; use n = -1 for the last",
            "when.n",
        )
    return d


def _iso_week(policy: _Policy, when: IsoWeek) -> date:
    try:
        return date.fromisocalendar(policy.year, when.week, when.weekday + 1)
    except ValueError:
        raise policy.error(
            f"when.week is {when.week}, but {policy.year} has only 52 ISO weeks", "when.week"
        ) from None


def _window(policy: _Policy, when: Window) -> date | None:
    year = policy.year
    first_day, last_day = _PART_DAYS[when.part]
    d = date(year, when.month, first_day)
    end = date(year, when.month, last_day) if last_day is not None else _month_end(d)
    while d <= end:
        if (when.weekday is None or d.weekday() == when.weekday) and policy.accepts(d):
            return d
        d += _ONE_DAY
    if policy.rule.move == "skip":
        return None
    which = "working day" if when.weekday is None else f"working {ENGLISH_WEEKDAYS[when.weekday]}"
    avoiding = " outside school holidays" if policy.rule.avoid_school_holidays else ""
    raise policy.error(
        f"empty window: no {which}{avoiding} in {when.part} {ENGLISH_MONTHS[when.month - 1]}"
        f" {year} (days {first_day}-{end.day}); widen the window or set move = 'skip'",
        "when",
    )


def _month_end(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1) - _ONE_DAY


def _anchor_day(
    policy: _Policy, target: str, resolved: Mapping[str, date | None], field: str
) -> date:
    day = resolved[target]
    if day is None:
        raise policy.error(
            f"its anchor {target!r} has no occurrence (it is skipped), so there is no day to"
            " count from",
            field,
        )
    return day


def _place_single(
    policy: _Policy, when: When, resolved: Mapping[str, date | None]
) -> _Placed | None:
    rule = policy.rule
    if isinstance(when, Window):
        day = _window(policy, when)
        return None if day is None else (day, day, None)
    if isinstance(when, Anchored):
        base = _anchor_day(policy, when.anchor, resolved, "when.anchor")
        if when.working_days == 0:
            return policy.move(base, rule.move)
        day = policy.count(base, when.working_days)
        return day, day, None
    if isinstance(when, Fixed):
        nominal = _month_day(policy, when, "when")
    elif isinstance(when, NthWeekday):
        nominal = _nth_weekday(policy, when)
    elif isinstance(when, IsoWeek):
        nominal = _iso_week(policy, when)
    elif isinstance(when, Term):
        base = _anchor_day(policy, term_rule_id(when.edge), resolved, "when.edge")
        nominal = base + timedelta(days=7 * when.weeks)
        if when.weekday is not None:
            nominal += timedelta(days=(when.weekday - nominal.weekday()) % 7)
    else:  # pragma: no cover - validate_rules admits no other pattern
        raise policy.error(f"when is {when!r}, not a single-day pattern", "when")
    return policy.move(nominal, rule.move)


def _place_weekly(policy: _Policy, when: Weekly) -> list[_Placed]:
    start = _month_day(policy, when.first, "when.first")
    end = _month_day(policy, when.last, "when.last")
    nominal = start + timedelta(days=(when.weekday - start.weekday()) % 7)
    placed: list[_Placed] = []
    taken: set[date] = set()
    while nominal <= end:
        result = policy.move(nominal, policy.rule.move)
        if result is not None and result[0] not in taken:
            taken.add(result[0])
            placed.append(result)
        nominal += timedelta(days=7 * when.every)
    placed.sort()
    return placed


def _dependency_order(rules: Sequence[Rule]) -> list[Rule]:
    """The rules with every anchor before the rules counted from it (input order otherwise)."""
    by_id = {rule.id: rule for rule in rules}
    ordered: list[Rule] = []
    placed: set[str] = set()
    for rule in rules:
        chain: list[Rule] = []
        node: Rule | None = rule
        while node is not None and node.id not in placed:
            chain.append(node)
            target = depends_on(node)
            node = by_id[target] if target is not None else None
        for item in reversed(chain):
            placed.add(item.id)
            ordered.append(item)
    return ordered


def _day_start(d: date, tz: ZoneInfo) -> datetime:
    """The first instant of ``d`` in ``tz``: local midnight, or the end of a gap at midnight.

    Europe/Stockholm never skips midnight, but some zones do (Africa/Cairo on 24 April 2026
    goes from 00:00 to 01:00); an all-day event there starts when the day does rather than
    failing over a time the user never wrote.
    """
    wall = datetime.combine(d, _MIDNIGHT, tzinfo=tz)
    return wall.astimezone(UTC).astimezone(tz)


def _occurrence(rule: Rule, seq: int, placed: _Placed, tz: ZoneInfo, year: int) -> Occurrence:
    day, nominal, reason = placed
    try:
        if rule.at is None:
            starts_at = _day_start(day, tz)
            ends_at = _day_start(day + timedelta(days=rule.days), tz)
        else:
            starts_at = local_datetime(day, rule.at, tz)
            # Elapsed time, not wall time: a two-hour meeting is two hours across DST too.
            ends_at = (starts_at.astimezone(UTC) + timedelta(minutes=rule.minutes)).astimezone(tz)
    except InputError as error:
        raise RuleError(
            f"at: {error.detail} (year {year})", rule_id=rule.id, field="at", year=year
        ) from None
    return Occurrence(
        rule_id=rule.id,
        seq=seq,
        day=day,
        nominal=nominal,
        moved_because=reason,
        starts_at=starts_at,
        ends_at=ends_at,
        all_day=rule.at is None,
    )


def resolve_year(
    rules: Sequence[Rule],
    year: int,
    calendar: WorkingCalendar,
    school_holidays: Mapping[date, str] | None = None,
    tz: ZoneInfo = STOCKHOLM,
) -> list[Occurrence]:
    """Every occurrence of every rule in calendar year `year`, sorted by (starts_at, rule_id, seq).

    Raises :class:`RuleError` naming the rule, the field and the year for a wrong rule
    (:func:`validate_rules`) and for one that has no answer in ``year``: 29 February in a
    common year, ISO week 53 in a year of 52, a fifth weekday the month lacks, an empty
    window, a skipped anchor, a wall time that DST skips, or a day more than
    :data:`SPILL_DAYS` days outside the year.
    """
    validate_rules(rules)
    if not MINYEAR + 1 <= year <= MAXYEAR - 1:
        raise RuleError(
            f"year {year} is outside {MINYEAR + 1} to {MAXYEAR - 1}", rule_id=None, year=year
        )
    holidays: Mapping[date, str] = school_holidays if school_holidays is not None else {}
    resolved: dict[str, date | None] = {}
    occurrences: list[Occurrence] = []
    for rule in _dependency_order(rules):
        policy = _Policy(rule, year, calendar, holidays)
        if isinstance(rule.when, Weekly):
            for seq, placed in enumerate(_place_weekly(policy, rule.when)):
                occurrences.append(_occurrence(rule, seq, placed, tz, year))
            continue
        single = _place_single(policy, rule.when, resolved)
        resolved[rule.id] = None if single is None else single[0]
        if single is not None:
            occurrences.append(_occurrence(rule, 0, single, tz, year))
    occurrences.sort(key=lambda o: (o.starts_at.astimezone(UTC), o.rule_id, o.seq))
    return occurrences


def school_holiday_days(periods: Iterable[tuple[str, date, date]]) -> dict[date, str]:
    """Expand named (name, first, last) periods into day -> name (overlaps: first name wins).

    A period whose last day comes before its first is an
    :class:`~styrhjul.errors.InputError` naming it.
    """
    days: dict[date, str] = {}
    for name, first, last in periods:
        if last < first:
            raise InputError(
                f"the last day {last.isoformat()} comes before the first day {first.isoformat()}",
                key=f"school holiday {name!r}",
            )
        d = first
        while d <= last:
            days.setdefault(d, name)
            d += _ONE_DAY
    return days
