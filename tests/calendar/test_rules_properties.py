"""Properties of resolve_year over generated årshjul rule sets, years 1980 to 2150.

Whatever the rules say, an occurrence never falls on a day its rule does not accept, anchored
rules keep their order and their exact count of working days (also in chains), timed
occurrences carry the UTC offset of their own local date, and the same input gives the same
output. Generated sets that have no answer in a year may raise RuleError, but only for the
documented reasons.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from styrhjul.calendar import (
    Anchored,
    Fixed,
    IsoWeek,
    Move,
    NthWeekday,
    Occurrence,
    Rule,
    RuleError,
    Term,
    Weekly,
    When,
    Window,
    WorkingCalendar,
    resolve_year,
    school_holiday_days,
)
from styrhjul.clock import STOCKHOLM

CAL = WorkingCalendar()
EDGES = ("autumn_start", "autumn_end", "spring_start", "spring_end")
EDGE_MONTHS = {"autumn_start": 8, "autumn_end": 12, "spring_start": 1, "spring_end": 6}
TERM_WEEKS = {  # weeks from each edge that stay inside the year
    "autumn_start": (-4, 12),
    "autumn_end": (-12, 0),
    "spring_start": (0, 12),
    "spring_end": (-12, 8),
}
DOCUMENTED = (
    "is not a leap year",  # Fixed 02-29 in a common year
    "has only 52 ISO weeks",  # IsoWeek 53
    "use n = -1 for the last",  # a fifth weekday the month lacks
    "empty window",  # no acceptable day in a window
    "days outside the calendar year",  # moved or counted too far out of the year
    "days of the calendar year",  # ... no acceptable day within reach
    "has no occurrence (it is skipped)",  # an anchor skipped that year
)
SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

weekdays = st.integers(0, 6)
moves: st.SearchStrategy[Move] = st.sampled_from(["earlier", "later"])
clock_times = st.one_of(
    st.none(),
    st.builds(time, st.integers(6, 20), st.sampled_from([0, 15, 30, 45])),
    st.builds(time, st.integers(0, 23), st.integers(0, 59)),
)


@st.composite
def fixed(draw: st.DrawFn, month: int | None = None) -> Fixed:
    m = draw(st.integers(1, 12)) if month is None else month
    last = (date(2000 + (m == 12), m % 12 + 1, 1) - timedelta(days=1)).day  # leap-year length
    return Fixed(m, draw(st.integers(1, last)))


single_patterns = st.one_of(
    fixed(),
    st.builds(NthWeekday, st.integers(1, 12), weekdays, st.sampled_from([1, 2, 3, 4, 5, -1])),
    st.builds(IsoWeek, st.integers(1, 53), weekdays),
    st.builds(
        Window,
        st.integers(1, 12),
        st.sampled_from(["early", "mid", "late"]),
        st.one_of(st.none(), st.integers(0, 4)),
    ),
    st.sampled_from(EDGES).flatmap(
        lambda edge: st.builds(
            Term, st.just(edge), st.integers(*TERM_WEEKS[edge]), st.one_of(st.none(), weekdays)
        )
    ),
)


@st.composite
def rule_of(draw: st.DrawFn, rule_id: str, when: When) -> Rule:
    at = draw(clock_times)
    return Rule(
        rule_id,
        when,
        at=at,
        minutes=draw(st.integers(0, 240)) if at is not None else 0,
        days=draw(st.integers(1, 15)) if at is None else 1,
        move=draw(moves),
        avoid_school_holidays=draw(st.booleans()),
    )


@dataclass(frozen=True)
class Case:
    """One generated årshjul: rules, the year and the school holiday periods."""

    rules: list[Rule]
    year: int
    holidays: dict[date, str]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    year = draw(st.integers(1980, 2150))
    rules = [draw(rule_of(f"term:{edge}", draw(fixed(EDGE_MONTHS[edge])))) for edge in EDGES]
    for i in range(draw(st.integers(1, 6))):
        rules.append(draw(rule_of(f"r{i}", draw(single_patterns))))
    singles = [rule.id for rule in rules]
    for c in range(draw(st.integers(1, 3))):
        anchor = draw(st.sampled_from(singles))
        for link in range(draw(st.integers(2, 4))):
            rule_id = f"c{c}.{link}"
            rules.append(draw(rule_of(rule_id, Anchored(anchor, draw(st.integers(-10, 10))))))
            anchor = rule_id
    if draw(st.booleans()):
        first = draw(fixed())
        last = draw(fixed())
        first, last = sorted([first, last], key=lambda f: (f.month, f.day))
        weekly = Weekly(draw(st.integers(0, 4)), first, last, draw(st.integers(1, 3)))
        rules.append(draw(rule_of("weekly", weekly)))
    rules = draw(st.permutations(rules))
    weeks = draw(st.lists(st.integers(1, 52), max_size=6, unique=True))
    names = ("Sportlov", "Påsklov", "Höstlov", "Jullov")
    periods = []
    for week in weeks:
        monday = date.fromisocalendar(year, week, 1)
        periods.append((draw(st.sampled_from(names)), monday, monday + timedelta(days=6)))
    return Case(rules, year, school_holiday_days(periods))


def resolve(case: Case) -> list[Occurrence] | None:
    """The occurrences, or None when the set legitimately has no answer that year."""
    try:
        return resolve_year(case.rules, case.year, CAL, case.holidays)
    except RuleError as exc:
        failure = exc
    message = str(failure)
    assert any(reason in message for reason in DOCUMENTED), message
    assert str(case.year) in message, message
    assert failure.rule_id is not None
    assert failure.rule_id in message
    return None


def accepts(rule: Rule, case: Case, d: date) -> bool:
    if rule.avoid_school_holidays and d in case.holidays:
        return False
    return CAL.is_working_day(d)


def eu_summer_time(d: date) -> bool:
    """Whether a daytime hour of ``d`` is in summer time by the EU rule (in force since 1996)."""

    def last_sunday(month: int) -> date:
        end = date(d.year, month + 1, 1) - timedelta(days=1)
        return end - timedelta(days=(end.weekday() - 6) % 7)

    return last_sunday(3) <= d < last_sunday(10)


def check_days_are_accepted_and_nearest(case: Case, occurrences: list[Occurrence]) -> None:
    by_id = {rule.id: rule for rule in case.rules}
    low = date(case.year - 1, 12, 24)
    high = date(case.year + 1, 1, 7)
    for o in occurrences:
        rule = by_id[o.rule_id]
        assert accepts(rule, case, o.day), (o, CAL.non_working_reason(o.day))
        assert o.day.weekday() < 5
        assert low <= o.day <= high
        assert (o.moved_because is None) == (o.day == o.nominal), o
        if o.moved_because is not None:
            assert not accepts(rule, case, o.nominal)
            if rule.move == "later":
                assert o.nominal < o.day
                between = [o.nominal + timedelta(days=k) for k in range((o.day - o.nominal).days)]
            else:
                assert o.day < o.nominal
                between = [o.day + timedelta(days=k + 1) for k in range((o.nominal - o.day).days)]
            assert not any(accepts(rule, case, d) for d in between), "not the nearest day"


def check_anchors_keep_order_and_count(case: Case, occurrences: list[Occurrence]) -> None:
    day_of = {o.rule_id: o.day for o in occurrences if o.rule_id != "weekly"}
    for rule in case.rules:
        if not isinstance(rule.when, Anchored):
            continue
        anchor_day = day_of[rule.when.anchor]
        day = day_of[rule.id]
        n = rule.when.working_days
        if n > 0:
            assert anchor_day < day
        elif n < 0:
            assert day < anchor_day
        else:
            assert day == anchor_day or not accepts(rule, case, anchor_day)
            continue
        first, last = sorted([anchor_day, day])
        span = [first + timedelta(days=k + 1) for k in range((last - first).days)]
        if n < 0:  # count days in [day, anchor_day)
            span = [day + timedelta(days=k) for k in range((anchor_day - day).days)]
        assert sum(accepts(rule, case, d) for d in span) == abs(n), (rule, anchor_day, day)
    chains = {r.id for r in case.rules if r.id.startswith("c")}
    assert chains <= set(day_of)


def check_times_carry_their_local_offset(case: Case, occurrences: list[Occurrence]) -> None:
    by_id = {rule.id: rule for rule in case.rules}
    for o in occurrences:
        rule = by_id[o.rule_id]
        assert o.all_day == (rule.at is None)
        assert o.starts_at.tzinfo is STOCKHOLM
        wall = o.starts_at.replace(tzinfo=None)
        if rule.at is None:
            assert wall == datetime.combine(o.day, time(0))
            assert o.ends_at.replace(tzinfo=None) == datetime.combine(
                o.day + timedelta(days=rule.days), time(0)
            )
            continue
        expected = datetime.combine(o.day, rule.at, tzinfo=STOCKHOLM).utcoffset()
        assert o.starts_at.utcoffset() == expected
        assert expected in {timedelta(hours=1), timedelta(hours=2)}
        if o.day.year >= 1996:
            summer = eu_summer_time(o.day)
            assert expected == timedelta(hours=2 if summer else 1), o
        back = o.starts_at.astimezone(UTC).astimezone(STOCKHOLM)
        assert (back.date(), back.time()) == (o.day, rule.at)
        elapsed = o.ends_at.astimezone(UTC) - o.starts_at.astimezone(UTC)
        assert elapsed == timedelta(minutes=rule.minutes)


def check_deterministic_sorted_and_complete(case: Case, occurrences: list[Occurrence]) -> None:
    assert resolve_year(case.rules, case.year, WorkingCalendar(), dict(case.holidays)) == (
        occurrences
    )
    keys = [(o.starts_at.astimezone(UTC), o.rule_id, o.seq) for o in occurrences]
    assert keys == sorted(keys)
    counts: dict[str, int] = {}
    for o in occurrences:
        counts[o.rule_id] = counts.get(o.rule_id, 0) + 1
    for rule in case.rules:
        if isinstance(rule.when, Weekly):
            series = [o for o in occurrences if o.rule_id == rule.id]
            assert [o.seq for o in series] == list(range(len(series)))
            assert all(a.day < b.day for a, b in pairwise(series))
        else:
            # earlier/later never skip, so every single rule occurs exactly once
            assert counts.get(rule.id) == 1, rule


@given(cases())
@SETTINGS
def test_every_generated_year_keeps_every_property(case: Case) -> None:
    # One generated case feeds every check: generating the rule sets is the slow part.
    occurrences = resolve(case)
    if occurrences is None:
        return
    check_days_are_accepted_and_nearest(case, occurrences)
    check_anchors_keep_order_and_count(case, occurrences)
    check_times_carry_their_local_offset(case, occurrences)
    check_deterministic_sorted_and_complete(case, occurrences)
