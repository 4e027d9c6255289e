"""School years: parsing, membership and placing month/day dates."""

from datetime import date, timedelta

import pytest

from styrhjul.calendar import SchoolYear
from styrhjul.errors import InputError


@pytest.mark.parametrize(
    ("text", "start"),
    [("2026/27", 2026), ("2026/2027", 2026), ("1999/00", 1999), ("1999/2000", 1999)],
)
def test_parse_accepts_both_forms(text: str, start: int) -> None:
    assert SchoolYear.parse(text) == SchoolYear(start)


@pytest.mark.parametrize(
    "text",
    [
        "2026/28",
        "2026/2028",
        "2026/26",
        "2026-27",
        "2026/027",
        "26/27",
        "2026",
        "",
        " 2026/27",
        "2026/27 ",
        "läsår 2026/27",
        "\uff12\uff10\uff12\uff16/27",  # full-width digits are digits to \d in a regex, not to us
    ],
)
def test_parse_rejects_anything_else(text: str) -> None:
    with pytest.raises(InputError, match=r"expected a school year such as '2026/27'"):
        SchoolYear.parse(text)


def test_parse_names_the_following_year() -> None:
    with pytest.raises(InputError, match=r"second year must follow the first \(2026/27\)"):
        SchoolYear.parse("2026/28")


def test_label_and_str() -> None:
    assert SchoolYear(2026).label == "2026/27"
    assert str(SchoolYear(2026)) == "2026/27"
    assert SchoolYear(2099).label == "2099/00"
    assert SchoolYear.parse(SchoolYear(2009).label) == SchoolYear(2009)


@pytest.mark.parametrize(
    ("day", "start"),
    [
        (date(2026, 8, 1), 2026),
        (date(2026, 12, 31), 2026),
        (date(2027, 1, 1), 2026),
        (date(2027, 7, 31), 2026),
        (date(2026, 7, 31), 2025),
        (date(2027, 8, 1), 2027),
    ],
)
def test_of(day: date, start: int) -> None:
    year = SchoolYear.of(day)
    assert year == SchoolYear(start)
    assert year.starts <= day <= year.ends


def test_starts_ends_next_and_order() -> None:
    year = SchoolYear(2026)
    assert year.starts == date(2026, 8, 1)
    assert year.ends == date(2027, 7, 31)
    assert year.next() == SchoolYear(2027)
    assert year.next().starts == year.ends + timedelta(days=1)
    assert sorted([SchoolYear(2027), SchoolYear(2025), year]) == [
        SchoolYear(2025),
        year,
        SchoolYear(2027),
    ]
    assert {year, SchoolYear(2026)} == {year}


@pytest.mark.parametrize(
    ("month", "day", "expected"),
    [
        (8, 1, date(2026, 8, 1)),
        (8, 20, date(2026, 8, 20)),
        (12, 31, date(2026, 12, 31)),
        (1, 1, date(2027, 1, 1)),
        (3, 15, date(2027, 3, 15)),
        (7, 31, date(2027, 7, 31)),
    ],
)
def test_date_for(month: int, day: int, expected: date) -> None:
    assert SchoolYear(2026).date_for(month, day) == expected


def test_date_for_leap_day() -> None:
    assert SchoolYear(2027).date_for(2, 29) == date(2028, 2, 29)
    with pytest.raises(InputError, match=r"day 29 of month 2 is not a date in school year 2026/27"):
        SchoolYear(2026).date_for(2, 29)


@pytest.mark.parametrize(("month", "day"), [(2, 30), (4, 31), (9, 0), (0, 1), (13, 1)])
def test_date_for_rejects_impossible_dates(month: int, day: int) -> None:
    with pytest.raises(InputError):
        SchoolYear(2026).date_for(month, day)


def test_start_year_must_fit_a_date() -> None:
    with pytest.raises(ValueError, match="school year must start between"):
        SchoolYear(9999)
    with pytest.raises(InputError):
        SchoolYear.parse("9999/00")
    with pytest.raises(InputError):
        SchoolYear.parse("0000/01")
