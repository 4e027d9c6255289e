"""Date rules of the årshjul resolved into real Swedish dates, and every error they give.

The dates are checked against the calendar as it was: the management group's 2022 plan (third
and last Tuesday of May, proposals eight working days before), Swedish holidays and the
daylight saving changes of 2026.
"""

from datetime import UTC, date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from styrhjul.calendar import (
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
    Window,
    WorkingCalendar,
    resolve_year,
    school_holiday_days,
    validate_rules,
)
from styrhjul.clock import STOCKHOLM
from styrhjul.errors import InputError, exit_code

MON, TUE, WED, THU, FRI = range(5)
CAL = WorkingCalendar()  # holidays are cached per year on the instance; sharing it is safe


def one(rule: Rule, year: int, **kwargs: object) -> Occurrence:
    occurrences = resolve_year([rule], year, CAL, **kwargs)  # type: ignore[arg-type]
    assert len(occurrences) == 1, occurrences
    return occurrences[0]


def days(rules: list[Rule], year: int, **kwargs: object) -> dict[str, date]:
    return {o.rule_id: o.day for o in resolve_year(rules, year, CAL, **kwargs)}  # type: ignore[arg-type]


def error(rules: list[Rule], year: int = 2022, **kwargs: object) -> RuleError:
    with pytest.raises(RuleError) as info:
        resolve_year(rules, year, CAL, **kwargs)  # type: ignore[arg-type]
    return info.value


# --- The management group's 2022 plan -------------------------------------------------------

PLAN_2022 = [
    Rule("lg-sg-check", NthWeekday(month=5, weekday=TUE, n=3), at=time(9), minutes=120),
    Rule("lg-check", NthWeekday(month=5, weekday=TUE, n=-1), at=time(9), minutes=120),
    Rule("proposals", Anchored("lg-sg-check", -8)),
    Rule("vp-done", Window(month=8, part="early", weekday=TUE)),
]


def test_the_2022_plan_falls_on_the_dates_in_the_minutes() -> None:
    assert days(PLAN_2022, 2022) == {
        "lg-sg-check": date(2022, 5, 17),
        "lg-check": date(2022, 5, 31),
        "proposals": date(2022, 5, 5),
        "vp-done": date(2022, 8, 2),
    }


def test_occurrences_are_sorted_by_start_and_carry_times() -> None:
    occurrences = resolve_year(PLAN_2022, 2022, CAL)
    assert [o.rule_id for o in occurrences] == ["proposals", "lg-sg-check", "lg-check", "vp-done"]
    check = occurrences[1]
    assert not check.all_day
    assert check.starts_at.isoformat() == "2022-05-17T09:00:00+02:00"
    assert check.ends_at.isoformat() == "2022-05-17T11:00:00+02:00"
    proposals = occurrences[0]
    assert proposals.all_day
    assert (proposals.nominal, proposals.moved_because, proposals.seq) == (
        date(2022, 5, 5),
        None,
        0,
    )
    assert proposals.starts_at.isoformat() == "2022-05-05T00:00:00+02:00"
    assert proposals.ends_at.isoformat() == "2022-05-06T00:00:00+02:00"


def test_an_all_day_event_of_several_days_ends_at_midnight_after_its_last_day() -> None:
    round_ = one(Rule("round-1", Fixed(9, 14), days=21), 2026)
    assert round_.ends_at.isoformat() == "2026-10-05T00:00:00+02:00"


def test_rules_may_come_in_any_order_of_their_anchors() -> None:
    assert days(list(reversed(PLAN_2022)), 2022) == days(PLAN_2022, 2022)


# --- Moving off holidays ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("move", "expected"),
    [("earlier", date(2022, 6, 3)), ("later", date(2022, 6, 7))],
)
def test_nationaldagen_moves_to_the_nearest_working_day(move: str, expected: date) -> None:
    occurrence = one(Rule("national", Fixed(6, 6), move=move), 2022)  # type: ignore[arg-type]
    assert occurrence.day == expected
    assert occurrence.nominal == date(2022, 6, 6)
    assert occurrence.moved_because == "Nationaldagen"


def test_skip_gives_no_occurrence_that_year_only() -> None:
    assert resolve_year([Rule("national", Fixed(6, 6), move="skip")], 2022, CAL) == []
    rule = Rule("june-5", Fixed(6, 5), move="skip")
    assert resolve_year([rule], 2022, CAL) == []  # Pingstdagen, a Sunday
    assert one(rule, 2023).day == date(2023, 6, 5)  # a Monday


def test_midsommarafton_is_not_a_working_day() -> None:
    later = one(Rule("party", Fixed(6, 24), move="later"), 2022)
    assert (later.day, later.moved_because) == (date(2022, 6, 27), "Midsommarafton")
    earlier = one(Rule("party", Fixed(6, 24), move="earlier"), 2022)
    assert earlier.day == date(2022, 6, 23)


def test_an_anchored_rule_counts_over_kristi_himmelsfard() -> None:
    rules = [
        Rule("board", Fixed(5, 25)),  # Wednesday; 26 May 2022 is Kristi himmelsfärdsdag
        Rule("minutes-due", Anchored("board", 2)),
        Rule("agenda-due", Anchored("minutes-due", -2)),
    ]
    assert CAL.non_working_reason(date(2022, 5, 26)) == "Kristi himmelsfärdsdag"
    assert days(rules, 2022) == {
        "board": date(2022, 5, 25),
        "minutes-due": date(2022, 5, 30),
        "agenda-due": date(2022, 5, 25),
    }


def test_anchored_zero_is_the_anchor_day_moved_by_its_own_policy() -> None:
    holidays = school_holiday_days([("Höstlov", date(2022, 10, 31), date(2022, 11, 4))])
    rules = [
        Rule("board", Fixed(11, 2)),
        Rule("school-visit", Anchored("board", 0), move="later", avoid_school_holidays=True),
    ]
    visit = resolve_year(rules, 2022, CAL, holidays)[1]
    assert (visit.rule_id, visit.day, visit.nominal) == (
        "school-visit",
        date(2022, 11, 7),
        date(2022, 11, 2),
    )
    assert visit.moved_because == "Höstlov"


def test_anchored_counting_skips_school_holidays_only_for_a_rule_that_avoids_them() -> None:
    holidays = school_holiday_days([("Sportlov", date(2022, 2, 28), date(2022, 3, 4))])
    rules = [
        Rule("board", Fixed(2, 25)),  # Friday before sportlov
        Rule("office-task", Anchored("board", 1)),
        Rule("school-task", Anchored("board", 1), avoid_school_holidays=True),
    ]
    assert days(rules, 2022, school_holidays=holidays) == {
        "board": date(2022, 2, 25),
        "office-task": date(2022, 2, 28),
        "school-task": date(2022, 3, 7),
    }


def test_a_school_holiday_is_named_over_the_weekday_but_not_over_a_holiday() -> None:
    holidays = {date(2022, 3, 5): "Sportlov", date(2022, 4, 15): "Påsklov"}  # Sat, Långfredagen
    rules = [
        Rule("a", Fixed(3, 5), avoid_school_holidays=True),
        Rule("b", Fixed(4, 15), avoid_school_holidays=True),
        Rule("c", Fixed(3, 5)),
    ]
    reasons = {o.rule_id: o.moved_because for o in resolve_year(rules, 2022, CAL, holidays)}
    assert reasons == {"a": "Sportlov", "b": "Långfredagen", "c": "lördag"}


def test_new_year_moved_earlier_may_spill_into_the_year_before() -> None:
    occurrence = one(Rule("kickoff", Fixed(1, 1), move="earlier"), 2023)  # a Sunday
    assert occurrence.day == date(2022, 12, 30)  # 31 Dec is nyårsafton, a Saturday anyway
    assert occurrence.moved_because == "Nyårsdagen"


def test_a_term_rule_counts_weeks_from_the_term_edge() -> None:
    rules = [
        Rule("term:autumn_start", Fixed(8, 17)),  # Wednesday 2022
        Rule("round-1", Term("autumn_start", weeks=4, weekday=MON), days=14),
        Rule("kickoff", Term("autumn_start")),
    ]
    assert days(rules, 2022) == {
        "term:autumn_start": date(2022, 8, 17),
        "round-1": date(2022, 9, 19),
        "kickoff": date(2022, 8, 17),
    }


def test_a_term_rule_is_moved_off_a_holiday() -> None:
    rules = [
        Rule("term:spring_start", Fixed(1, 10)),
        Rule("follow-up", Term("spring_start", weeks=-1, weekday=THU), move="later"),
    ]
    follow_up = resolve_year(rules, 2022, CAL)[0]  # Thursday 6 January: Trettondedag jul
    assert (follow_up.rule_id, follow_up.day, follow_up.moved_because) == (
        "follow-up",
        date(2022, 1, 7),
        "Trettondedag jul",
    )


def test_iso_week_44_monday() -> None:
    assert one(Rule("hostlov-check", IsoWeek(44, MON)), 2022).day == date(2022, 10, 31)
    assert one(Rule("w53", IsoWeek(53, WED)), 2026).day == date(2026, 12, 30)


# --- Windows ---------------------------------------------------------------------------------

HOSTLOV_2022 = school_holiday_days([("Höstlov", date(2022, 10, 31), date(2022, 11, 4))])


def test_a_window_takes_its_first_working_day() -> None:
    # 1 January 2022 is a Saturday, 3 January a Monday, 6 January Trettondedag jul.
    assert one(Rule("w", Window(1, "early")), 2022).day == date(2022, 1, 3)
    assert one(Rule("w", Window(1, "early", FRI)), 2022).day == date(2022, 1, 7)
    assert one(Rule("w", Window(2, "late")), 2022).day == date(2022, 2, 21)
    assert one(Rule("w", Window(12, "late", FRI)), 2022).day == date(2022, 12, 23)
    occurrence = one(Rule("w", Window(4, "mid")), 2022)  # 11 April, a Monday
    assert (occurrence.day, occurrence.nominal, occurrence.moved_because) == (
        date(2022, 4, 11),
        date(2022, 4, 11),
        None,
    )


def test_a_window_without_a_working_day_of_its_weekday() -> None:
    # The only Thursday in 1-10 January 2022 is Trettondedag jul.
    exc = error([Rule("w", Window(1, "early", THU))])
    assert_names(exc, "w", "empty window", "Thursday", "early January 2022", "days 1-10")
    assert "school holidays" not in str(exc)


def test_a_window_over_a_school_holiday() -> None:
    rule = Rule("dialog", Window(11, "early", FRI), avoid_school_holidays=True)
    # Friday 4 November is the only Friday in 1-10 November 2022, and it is höstlov.
    message = str(error([rule], school_holidays=HOSTLOV_2022))
    for part in ("dialog", "empty window", "Friday", "early November 2022", "school holidays"):
        assert part in message, message
    skipping = Rule("dialog", Window(11, "early", FRI), move="skip", avoid_school_holidays=True)
    assert resolve_year([skipping], 2022, CAL, HOSTLOV_2022) == []
    not_avoiding = Rule("dialog", Window(11, "early", FRI))
    assert one(not_avoiding, 2022, school_holidays=HOSTLOV_2022).day == date(2022, 11, 4)


# --- Weekly series ---------------------------------------------------------------------------


def test_a_weekly_series_drops_a_holiday_tuesday_when_it_skips() -> None:
    rule = Rule(
        "lg",
        Weekly(TUE, first=Fixed(1, 1), last=Fixed(1, 31)),
        at=time(13),
        minutes=90,
        move="skip",
    )
    occurrences = resolve_year([rule], 2026, CAL)  # Tuesday 6 January is Trettondedag jul
    assert [(o.seq, o.day) for o in occurrences] == [
        (0, date(2026, 1, 13)),
        (1, date(2026, 1, 20)),
        (2, date(2026, 1, 27)),
    ]
    assert occurrences[0].ends_at.isoformat() == "2026-01-13T14:30:00+01:00"


def test_a_weekly_series_moves_a_holiday_tuesday_when_told_to() -> None:
    rule = Rule("lg", Weekly(TUE, first=Fixed(1, 1), last=Fixed(1, 14)), move="later")
    occurrences = resolve_year([rule], 2026, CAL)
    assert [(o.seq, o.day, o.nominal, o.moved_because) for o in occurrences] == [
        (0, date(2026, 1, 7), date(2026, 1, 6), "Trettondedag jul"),
        (1, date(2026, 1, 13), date(2026, 1, 13), None),
    ]


def test_every_other_week_from_the_first_matching_day() -> None:
    rule = Rule("sg", Weekly(WED, first=Fixed(3, 1), last=Fixed(3, 31), every=2))
    assert [o.day for o in resolve_year([rule], 2022, CAL)] == [
        date(2022, 3, 2),
        date(2022, 3, 16),
        date(2022, 3, 30),
    ]


def test_weeks_moved_onto_the_same_day_give_one_occurrence() -> None:
    holidays = school_holiday_days([("Sommarlov", date(2022, 6, 13), date(2022, 8, 12))])
    rule = Rule(
        "lg",
        Weekly(TUE, first=Fixed(6, 1), last=Fixed(8, 31)),
        move="earlier",
        avoid_school_holidays=True,
    )
    occurrences = resolve_year([rule], 2022, CAL, holidays)
    assert [o.day for o in occurrences][:3] == [
        date(2022, 6, 7),
        date(2022, 6, 10),
        date(2022, 8, 16),
    ]
    assert [o.seq for o in occurrences] == list(range(len(occurrences)))


# --- Daylight saving time --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "offset"),
    [
        (date(2026, 3, 23), "+01:00"),  # Monday before the spring change
        (date(2026, 3, 30), "+02:00"),  # Monday after it (29 March)
        (date(2026, 10, 19), "+02:00"),
        (date(2026, 10, 26), "+01:00"),  # Monday after the autumn change (25 October)
    ],
)
def test_a_morning_meeting_has_the_offset_of_its_own_day(day: date, offset: str) -> None:
    occurrence = one(Rule("lg", Fixed(day.month, day.day), at=time(9), minutes=60), 2026)
    assert occurrence.starts_at.isoformat() == f"{day.isoformat()}T09:00:00{offset}"


def test_a_night_time_on_the_change_sundays_lands_on_the_monday() -> None:
    # The changes are always on a Sunday, which is never a working day in Sweden, so a rule
    # for 02:30 that night is moved before a time is put on it.
    spring = one(Rule("night", Fixed(3, 29), at=time(2, 30)), 2026)
    assert spring.starts_at.isoformat() == "2026-03-30T02:30:00+02:00"
    autumn = one(Rule("night", Fixed(10, 25), at=time(2, 30), move="earlier"), 2026)
    assert autumn.starts_at.isoformat() == "2026-10-23T02:30:00+02:00"


def test_a_wall_time_in_a_dst_gap_is_an_error_naming_the_rule() -> None:
    # Israel puts its clocks forward on a Friday (27 March 2026, 02:00 -> 03:00).
    rule = Rule("night-batch", Fixed(3, 27), at=time(2, 30))
    message = str(error([rule], 2026, tz=ZoneInfo("Asia/Jerusalem")))
    for part in ("night-batch", "at", "2026-03-27 02:30", "does not exist", "2026"):
        assert part in message, message


def test_an_ambiguous_wall_time_is_its_first_occurrence() -> None:
    # Egypt puts its clocks back at midnight on Thursday 29 October 2026 (24:00 -> 23:00).
    rule = Rule("late", Fixed(10, 29), at=time(23, 30), minutes=60)
    occurrence = one(rule, 2026, tz=ZoneInfo("Africa/Cairo"))
    assert occurrence.starts_at.isoformat() == "2026-10-29T23:30:00+03:00"
    assert occurrence.ends_at.isoformat() == "2026-10-29T23:30:00+02:00"  # one hour later


def test_a_timed_event_across_the_change_lasts_its_minutes() -> None:
    rule = Rule("vigil", Fixed(10, 23), at=time(22), minutes=72 * 60)  # Friday 22:00
    occurrence = one(rule, 2026)
    # Subtracting two datetimes of one zone gives wall time in Python; compare in UTC.
    elapsed = occurrence.ends_at.astimezone(UTC) - occurrence.starts_at.astimezone(UTC)
    assert elapsed == timedelta(hours=72)
    assert occurrence.ends_at.isoformat() == "2026-10-26T21:00:00+01:00"


def test_an_all_day_event_starts_when_a_day_without_midnight_starts() -> None:
    # Egypt goes from 00:00 to 01:00 on Friday 24 April 2026.
    occurrence = one(Rule("day", Fixed(4, 24)), 2026, tz=ZoneInfo("Africa/Cairo"))
    assert occurrence.starts_at.isoformat() == "2026-04-24T01:00:00+03:00"
    assert occurrence.ends_at.isoformat() == "2026-04-25T00:00:00+03:00"


# --- Errors that only show in a year ---------------------------------------------------------


def assert_names(exc: RuleError, *parts: str) -> None:
    message = str(exc)
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"
    assert isinstance(exc, InputError)
    assert exit_code(exc) == 2


def test_29_february_in_a_common_year_names_the_year() -> None:
    rule = Rule("leap", Fixed(2, 29), move="later")
    assert one(rule, 2024).day == date(2024, 2, 29)
    exc = error([rule], 2023)
    assert_names(exc, "leap", "02-29", "2023", "not a leap year")
    assert (exc.rule_id, exc.field, exc.year, exc.key) == ("leap", "when", 2023, "leap")


def test_week_53_in_a_year_of_52() -> None:
    assert_names(error([Rule("w53", IsoWeek(53, MON))], 2022), "w53", "when.week", "53", "2022")


def test_a_fifth_weekday_the_month_lacks() -> None:
    rule = Rule("fifth", NthWeekday(5, TUE, 5))
    assert one(rule, 2022).day == date(2022, 5, 31)
    exc = error([rule], 2021)
    assert_names(exc, "fifth", "when.n", "5th Tuesday", "May 2021", "use n = -1 for the last")


def test_an_anchor_that_is_skipped_that_year() -> None:
    rules = [Rule("june-5", Fixed(6, 5), move="skip"), Rule("after", Anchored("june-5", 1))]
    assert days(rules, 2023) == {"june-5": date(2023, 6, 5), "after": date(2023, 6, 7)}
    assert_names(error(rules, 2022), "after", "'june-5'", "skipped", "2022")
    assert error(rules, 2022).field == "when.anchor"
    term = [Rule("term:spring_end", Fixed(6, 5), move="skip"), Rule("t", Term("spring_end", 1))]
    exc = error(term, 2022)
    assert_names(exc, "t", "'term:spring_end'", "skipped", "2022")
    assert exc.field == "when.edge"


def test_a_move_may_not_leave_the_year_by_more_than_a_week() -> None:
    holidays = school_holiday_days([("Jullov", date(2022, 12, 19), date(2023, 1, 9))])
    rule = Rule("x", Fixed(12, 21), move="later", avoid_school_holidays=True)
    assert_names(error([rule], school_holidays=holidays), "x", "2022-12-21", "7 days", "2022")
    counting = [Rule("a", Fixed(12, 20)), Rule("b", Anchored("a", 15))]
    assert_names(error(counting), "b", "15 working days", "2022-12-20", "2022")


# --- Errors in the rules themselves ----------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "parts"),
    [
        (Rule("r", Fixed(13, 1)), ("when.month", "13")),
        (Rule("r", Fixed(2, 30)), ("when", "02-30", "no day 30")),
        (Rule("r", Fixed(4, 31)), ("when", "04-31")),
        (Rule("r", Fixed(1, 0)), ("when.day", "0")),
        (Rule("r", NthWeekday(5, 9, 1)), ("when.weekday", "9")),
        (Rule("r", NthWeekday(5, TUE, 0)), ("when.n", "0", "-1 for the last")),
        (Rule("r", NthWeekday(5, TUE, 6)), ("when.n", "6")),
        (Rule("r", IsoWeek(0, MON)), ("when.week", "0")),
        (Rule("r", IsoWeek(54, MON)), ("when.week", "54")),
        (Rule("r", IsoWeek(10, -1)), ("when.weekday", "-1")),
        (Rule("r", Window(5, "soon")), ("when.part", "'soon'", "early")),  # type: ignore[arg-type]
        (Rule("r", Window(5, "early", 7)), ("when.weekday", "7")),
        (Rule("r", Weekly(TUE, Fixed(1, 1), Fixed(6, 1), every=0)), ("when.every", "0")),
        (Rule("r", Weekly(TUE, Fixed(9, 1), Fixed(2, 1))), ("when.first", "New Year")),
        (Rule("r", Weekly(TUE, Fixed(1, 1), Fixed(6, 31))), ("when.last", "06-31")),
        (Rule("r", Term("autumn_start", weekday=8)), ("when.weekday", "8")),
        (Rule("r", Fixed(5, 1), days=0), ("days", "0")),
        (Rule("r", Fixed(5, 1), at=time(9), minutes=-5), ("minutes", "-5")),
        (Rule("r", Fixed(5, 1), minutes=30), ("minutes", "30", "at is not set")),
        (Rule("r", Fixed(5, 1), at=time(9), days=2), ("days", "2", "all-day")),
        (Rule("r", Fixed(5, 1), move="never"), ("move", "'never'")),  # type: ignore[arg-type]
        (Rule("r", Fixed(5, True)), ("when.day", "True")),  # type: ignore[arg-type]
        (Rule("r", Fixed(5, 1), at=time(9, tzinfo=STOCKHOLM)), ("at",)),
        (Rule("r", "15 April"), ("when", "'15 April'")),  # type: ignore[arg-type]
    ],
)
def test_a_bad_field_names_the_rule_the_field_and_the_value(
    rule: Rule, parts: tuple[str, ...]
) -> None:
    with pytest.raises(RuleError) as info:
        validate_rules([rule])
    assert_names(info.value, "r:", *parts)
    assert info.value.field == parts[0]
    # resolve_year checks the rules first, in every year
    assert_names(error([rule], 2030), *parts)


def test_an_unknown_anchor_suggests_close_ids() -> None:
    rules = [Rule("lg-check", Fixed(5, 31)), Rule("due", Anchored("lg-chek", -3))]
    assert_names(error(rules), "due", "when.anchor", "'lg-chek'", "did you mean 'lg-check'")
    far = [Rule("lg-check", Fixed(5, 31)), Rule("due", Anchored("budget", -3))]
    exc = error(far)
    assert_names(exc, "due", "'budget'", "not the id of any rule")
    assert "did you mean" not in str(exc)


def test_a_missing_term_rule_lists_the_defined_edges() -> None:
    rules = [
        Rule("term:autumn_start", Fixed(8, 17)),
        Rule("term:spring_start", Fixed(1, 10)),
        Rule("round", Term("autumn_end", weeks=1)),
    ]
    assert_names(error(rules), "round", "when.edge", "'autumn_end'", "autumn_start, spring_start")
    assert_names(error(rules[2:]), "defined term edges: none")


def test_a_loop_of_anchors_is_named_whole() -> None:
    rules = [
        Rule("a", Anchored("b", 1)),
        Rule("b", Anchored("c", 1)),
        Rule("c", Anchored("a", -1)),
        Rule("d", Anchored("a", 2)),
    ]
    assert_names(error(rules), "a -> b -> c -> a")
    assert_names(error([Rule("self", Anchored("self", 1))]), "self -> self")
    term_loop = [Rule("term:autumn_start", Term("autumn_start", weeks=1))]
    assert_names(error(term_loop), "term:autumn_start -> term:autumn_start")


def test_an_anchor_on_a_weekly_series_is_ambiguous() -> None:
    rules = [
        Rule("lg", Weekly(TUE, Fixed(1, 1), Fixed(12, 31))),
        Rule("prep", Anchored("lg", -1)),
    ]
    assert_names(error(rules), "prep", "when.anchor", "'lg'", "weekly series", "ambiguous")


def test_duplicate_ids() -> None:
    rules = [Rule("lg", Fixed(5, 2)), Rule("lg", Fixed(5, 3))]
    assert_names(error(rules), "lg", "used by more than one rule")


# --- Small pieces ----------------------------------------------------------------------------


def test_weekday_names_in_english_and_swedish() -> None:
    assert WEEKDAYS["tue"] == WEEKDAYS["tuesday"] == WEEKDAYS["tisdag"] == TUE
    assert WEEKDAYS["lördag"] == WEEKDAYS["sat"] == 5
    assert WEEKDAYS["söndag"] == WEEKDAYS["sunday"] == 6
    assert len(WEEKDAYS) == 21
    with pytest.raises(TypeError):
        WEEKDAYS["fre"] = 4  # type: ignore[index]


def test_school_holiday_days_first_name_wins_on_overlap() -> None:
    holidays = school_holiday_days(
        [
            ("Sportlov", date(2026, 2, 23), date(2026, 2, 27)),
            ("Studiedag", date(2026, 2, 27), date(2026, 3, 2)),
        ]
    )
    assert holidays[date(2026, 2, 23)] == "Sportlov"
    assert holidays[date(2026, 2, 27)] == "Sportlov"
    assert holidays[date(2026, 3, 2)] == "Studiedag"
    assert len(holidays) == 8
    with pytest.raises(InputError, match=r"Påsklov.*2026-04-01 comes before .* 2026-04-06"):
        school_holiday_days([("Påsklov", date(2026, 4, 6), date(2026, 4, 1))])


def test_resolving_is_pure_and_repeatable() -> None:
    rules = [*PLAN_2022, Rule("lg", Weekly(TUE, Fixed(1, 1), Fixed(12, 31)), at=time(13))]
    first = resolve_year(rules, 2022, WorkingCalendar())
    assert resolve_year(rules, 2022, CAL) == first
    assert resolve_year(rules, 2022, CAL) == first


def test_a_year_of_forty_rules_gives_every_rule_its_dates() -> None:
    rules = [Rule("lg", Weekly(TUE, Fixed(1, 1), Fixed(12, 31)), at=time(13), minutes=90)]
    for i in range(13):
        month = i % 12 + 1
        rules += [
            Rule(f"check-{i}", NthWeekday(month, TUE, 3), at=time(9), minutes=60),
            Rule(f"due-{i}", Anchored(f"check-{i}", -8)),
            Rule(f"round-{i}", Window(month, "mid", WED), days=10, avoid_school_holidays=True),
        ]
    holidays = school_holiday_days([("Höstlov", date(2026, 10, 26), date(2026, 10, 30))])
    found = resolve_year(rules, 2026, CAL, holidays)
    per_rule: dict[str, int] = {}
    for o in found:
        per_rule[o.rule_id] = per_rule.get(o.rule_id, 0) + 1
    assert per_rule.pop("lg") == 52  # every Tuesday of 2026; Trettondedag jul moved a day
    assert per_rule == {rule.id: 1 for rule in rules[1:]}
    due = {o.rule_id: o.day for o in found if o.rule_id.startswith(("due-", "check-"))}
    for i in range(13):
        assert CAL.working_days_between(due[f"due-{i}"], due[f"check-{i}"]) == 8
