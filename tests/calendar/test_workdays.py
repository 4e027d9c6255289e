"""Swedish working days, working-day arithmetic and wall-clock times across DST."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from styrhjul.calendar import WorkingCalendar, local_datetime
from styrhjul.clock import STOCKHOLM
from styrhjul.errors import InputError


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2026, 1, 1), "Nyårsdagen"),
        (date(2026, 1, 6), "Trettondedag jul"),
        (date(2026, 6, 6), "Nationaldagen"),  # a Saturday: the holiday is named, not the weekday
        (date(2026, 6, 19), "Midsommarafton"),
        (date(2026, 6, 20), "Midsommardagen"),
        (date(2026, 10, 31), "Alla helgons dag"),
        (date(2026, 12, 24), "Julafton"),
        (date(2026, 12, 25), "Juldagen"),
        (date(2026, 12, 26), "Annandag jul"),
        (date(2026, 12, 31), "Nyårsafton"),
        (date(2027, 1, 1), "Nyårsdagen"),
        (date(2027, 1, 6), "Trettondedag jul"),
        (date(2027, 3, 26), "Långfredagen"),
        (date(2027, 3, 28), "Påskdagen"),
        (date(2027, 3, 29), "Annandag påsk"),
        (date(2027, 5, 1), "Första maj"),
        (date(2027, 5, 6), "Kristi himmelsfärdsdag"),
        (date(2027, 5, 16), "Pingstdagen"),
        (date(2027, 6, 25), "Midsommarafton"),
        (date(2027, 6, 26), "Midsommardagen"),
        (date(2027, 12, 24), "Julafton"),
        (date(2027, 12, 31), "Nyårsafton"),
    ],
)
def test_holidays_and_eves_are_named_in_swedish(
    cal: WorkingCalendar, day: date, reason: str
) -> None:
    assert cal.non_working_reason(day) == reason
    assert not cal.is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 1, 2),  # Friday after nyårsdagen
        date(2026, 1, 5),  # trettondagsafton is only a half day for banks
        date(2026, 4, 2),  # skärtorsdagen
        date(2026, 4, 30),  # valborgsmässoafton
        date(2026, 5, 15),  # klämdag after Kristi himmelsfärd
        date(2026, 6, 5),  # Friday before nationaldagen
        date(2026, 6, 18),  # day before midsommarafton
        date(2026, 12, 23),
        date(2026, 12, 28),
        date(2026, 12, 30),
        date(2027, 1, 4),
        date(2027, 3, 25),  # skärtorsdagen 2027
        date(2027, 3, 30),  # Tuesday after annandag påsk
    ],
)
def test_ordinary_weekdays_are_working_days(cal: WorkingCalendar, day: date) -> None:
    assert cal.non_working_reason(day) is None
    assert cal.is_working_day(day)


def test_weekends_are_named_by_weekday(cal: WorkingCalendar) -> None:
    assert cal.non_working_reason(date(2026, 3, 7)) == "lördag"
    assert cal.non_working_reason(date(2026, 3, 8)) == "söndag"
    # Påskafton and pingstafton are not public holidays; they are non-working as weekend days.
    assert cal.non_working_reason(date(2027, 3, 27)) == "lördag"
    assert cal.non_working_reason(date(2026, 5, 23)) == "lördag"


def test_first_working_day_after_new_year(cal: WorkingCalendar) -> None:
    # 2027-01-01 is a Friday holiday, then a weekend.
    assert cal.shift_to_working_day(date(2027, 1, 1), "later") == date(2027, 1, 4)
    assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    # ... and the last one before it is the Wednesday before nyårsafton.
    assert cal.shift_to_working_day(date(2027, 1, 1), "earlier") == date(2026, 12, 30)


def test_shift_leaves_a_working_day_alone(cal: WorkingCalendar) -> None:
    assert cal.shift_to_working_day(date(2026, 12, 23), "earlier") == date(2026, 12, 23)
    assert cal.shift_to_working_day(date(2026, 12, 23), "later") == date(2026, 12, 23)


def test_shift_across_christmas(cal: WorkingCalendar) -> None:
    assert cal.shift_to_working_day(date(2026, 12, 24), "later") == date(2026, 12, 28)
    assert cal.shift_to_working_day(date(2026, 12, 27), "earlier") == date(2026, 12, 23)


def test_shift_rejects_an_unknown_direction(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="'earlier' or 'later'"):
        cal.shift_to_working_day(date(2026, 12, 24), "sideways")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 12, 22), 1, date(2026, 12, 23)),
        (date(2026, 12, 23), 1, date(2026, 12, 28)),  # over julafton, juldagen and a weekend
        (date(2026, 12, 23), 3, date(2026, 12, 30)),
        (date(2026, 12, 23), 4, date(2027, 1, 4)),  # over nyårsafton, nyårsdagen, weekend
        (date(2026, 12, 23), 6, date(2027, 1, 7)),  # ... and trettondedag jul
        (date(2026, 12, 24), 1, date(2026, 12, 28)),  # a non-working start is not counted
        (date(2027, 1, 7), -1, date(2027, 1, 5)),
        (date(2027, 1, 7), -3, date(2026, 12, 30)),
        (date(2027, 1, 7), -6, date(2026, 12, 23)),
        (date(2026, 12, 28), -1, date(2026, 12, 23)),
        (date(2026, 12, 26), -1, date(2026, 12, 23)),
        (date(2026, 3, 6), 1, date(2026, 3, 9)),  # Friday to Monday
        (date(2026, 3, 9), -1, date(2026, 3, 6)),  # Monday to Friday
        (date(2026, 3, 9), 10, date(2026, 3, 23)),  # two ordinary weeks
        (date(2027, 3, 25), 1, date(2027, 3, 30)),  # over påsk 2027
        (date(2027, 3, 30), -1, date(2027, 3, 25)),
    ],
)
def test_add_working_days(cal: WorkingCalendar, start: date, n: int, expected: date) -> None:
    assert cal.add_working_days(start, n) == expected


def test_add_zero_working_days(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2026, 12, 23), 0) == date(2026, 12, 23)
    with pytest.raises(ValueError, match=r"2026-12-25 is not a working day \(Juldagen\)"):
        cal.add_working_days(date(2026, 12, 25), 0)


def test_working_days_between(cal: WorkingCalendar) -> None:
    # Dec 28, 29, 30 and Jan 4, 5, 7.
    assert cal.working_days_between(date(2026, 12, 23), date(2027, 1, 7)) == 6
    assert cal.working_days_between(date(2027, 1, 7), date(2026, 12, 23)) == -6
    assert cal.working_days_between(date(2026, 12, 23), date(2026, 12, 23)) == 0
    assert cal.working_days_between(date(2026, 12, 23), date(2026, 12, 27)) == 0
    assert cal.working_days_between(date(2026, 3, 6), date(2026, 3, 9)) == 1


@pytest.mark.parametrize("n", [-15, -6, -4, -1, 0, 1, 4, 6, 15])
def test_between_inverts_add_from_a_working_day(cal: WorkingCalendar, n: int) -> None:
    start = date(2026, 12, 23)
    assert cal.working_days_between(start, cal.add_working_days(start, n)) == n


def test_closed_days_are_non_working_with_their_names() -> None:
    autumn_break = {date(2026, 10, 26) + timedelta(days=i): "Höstlov" for i in range(5)}
    closures = {**autumn_break, date(2026, 12, 25): "Stängt", date(2026, 11, 7): "Inventering"}
    cal = WorkingCalendar(closures)
    assert cal.non_working_reason(date(2026, 10, 28)) == "Höstlov"
    assert cal.add_working_days(date(2026, 10, 23), 1) == date(2026, 11, 2)
    assert cal.add_working_days(date(2026, 11, 2), -1) == date(2026, 10, 23)
    assert cal.working_days_between(date(2026, 10, 23), date(2026, 11, 2)) == 1
    # A holiday keeps its own name; a closure on a Saturday is named by the closure.
    assert cal.non_working_reason(date(2026, 12, 25)) == "Juldagen"
    assert cal.non_working_reason(date(2026, 11, 7)) == "Inventering"
    # The mapping is copied: changing it afterwards does not change the calendar.
    closures[date(2026, 11, 3)] = "Studiedag"
    assert cal.is_working_day(date(2026, 11, 3))


def test_default_calendar_has_no_closures(cal: WorkingCalendar) -> None:
    assert cal.is_working_day(date(2026, 10, 28))


def test_spring_forward_day_offsets() -> None:
    before = local_datetime(date(2026, 3, 29), time(1, 30))
    after = local_datetime(date(2026, 3, 29), time(3, 30))
    assert before.tzinfo is STOCKHOLM
    assert before.utcoffset() == timedelta(hours=1)
    assert after.utcoffset() == timedelta(hours=2)
    # 01:30 to 03:30 on the wall is one real hour.
    assert after.astimezone(UTC) - before.astimezone(UTC) == timedelta(hours=1)
    assert before.astimezone(UTC) == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert after.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_nonexistent_wall_time_is_an_input_error() -> None:
    with pytest.raises(InputError) as caught:
        local_datetime(date(2026, 3, 29), time(2, 30))
    message = str(caught.value)
    assert "2026-03-29 02:30 does not exist in Europe/Stockholm" in message
    assert "UTC+01:00 to UTC+02:00" in message
    # 02:00 itself is inside the gap too; 03:00 is the first valid time.
    with pytest.raises(InputError):
        local_datetime(date(2026, 3, 29), time(2, 0))
    assert local_datetime(date(2026, 3, 29), time(3, 0)).utcoffset() == timedelta(hours=2)


def test_fall_back_day_offsets_and_ambiguous_time() -> None:
    before = local_datetime(date(2026, 10, 25), time(1, 30))
    ambiguous = local_datetime(date(2026, 10, 25), time(2, 30))
    after = local_datetime(date(2026, 10, 25), time(3, 30))
    assert before.utcoffset() == timedelta(hours=2)
    assert ambiguous.utcoffset() == timedelta(hours=2)  # first occurrence, summer time
    assert after.utcoffset() == timedelta(hours=1)
    assert ambiguous.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    # An explicit fold=1 is overridden: the same input always gives the same instant.
    assert local_datetime(date(2026, 10, 25), time(2, 30, fold=1)) == ambiguous
    # 01:30 to 03:30 on the wall is three real hours.
    assert after.astimezone(UTC) - before.astimezone(UTC) == timedelta(hours=3)


def test_ordinary_days_have_standard_and_summer_offsets() -> None:
    assert local_datetime(date(2026, 1, 15), time(9, 0)).utcoffset() == timedelta(hours=1)
    assert local_datetime(date(2026, 7, 15), time(9, 0)).utcoffset() == timedelta(hours=2)


def test_local_datetime_rejects_an_aware_time() -> None:
    with pytest.raises(ValueError, match="naive wall-clock time"):
        local_datetime(date(2026, 1, 15), time(9, 0, tzinfo=UTC))


def test_timedelta_across_dst_in_wall_time() -> None:
    saturday_noon = local_datetime(date(2026, 3, 28), time(12, 0))
    sunday_noon = local_datetime(date(2026, 3, 29), time(12, 0))
    # Between the two noons lie only 23 real hours: the night lost an hour.
    assert sunday_noon.astimezone(UTC) - saturday_noon.astimezone(UTC) == timedelta(hours=23)
    # Python's aware arithmetic within one zone is wall-time arithmetic: +1 day (or even
    # +24 hours) lands on noon again, and subtracting gives 24 hours, not 23.
    assert saturday_noon + timedelta(days=1) == sunday_noon
    assert saturday_noon + timedelta(hours=24) == sunday_noon
    assert sunday_noon - saturday_noon == timedelta(hours=24)
    # 24 real hours later, the wall clock shows 13:00.
    real_day_later = (saturday_noon.astimezone(UTC) + timedelta(hours=24)).astimezone(STOCKHOLM)
    assert real_day_later.isoformat() == "2026-03-29T13:00:00+02:00"
    # In October the night is 25 hours long and the same instant shows 11:00.
    october = local_datetime(date(2026, 10, 24), time(12, 0))
    later = (october.astimezone(UTC) + timedelta(hours=24)).astimezone(STOCKHOLM)
    assert later.isoformat() == "2026-10-25T11:00:00+01:00"


def test_remembered_answers_are_the_computed_ones() -> None:
    """The memo of reasons and sums answers as a calendar asked for the first time does.

    A small memo limit makes it start over many times on the way, over Christmas and New
    Year (holidays, eves and a year boundary), with a closure.
    """
    closed = {date(2026, 12, 28): "Jullov"}
    remembered = WorkingCalendar(closed)
    remembered.MEMO_LIMIT = 7
    days = [date(2026, 12, 10) + timedelta(days=i) for i in range(40)]
    for _ in range(2):  # the second pass is answered from the memo where it still holds
        for day in days:
            fresh = WorkingCalendar(closed)
            assert remembered.non_working_reason(day) == fresh.non_working_reason(day)
            for n in (-6, -1, 1, 6):
                assert remembered.add_working_days(day, n) == fresh.add_working_days(day, n)
