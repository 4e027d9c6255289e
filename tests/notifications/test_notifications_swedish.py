import datetime as dt

import pytest

from styrhjul.clock import STOCKHOLM
from styrhjul.errors import InputError
from styrhjul.notifications.swedish import sv_date, sv_datetime, sv_span, sv_time


def test_date_is_written_out_in_swedish() -> None:
    assert sv_date(dt.date(2026, 10, 12)) == "måndag 12 oktober 2026"
    assert sv_date(dt.date(2027, 1, 3)) == "söndag 3 januari 2027"


def test_every_month_and_weekday_has_its_swedish_name() -> None:
    months = [sv_date(dt.date(2026, month, 1)).split()[2] for month in range(1, 13)]
    assert months == [
        "januari", "februari", "mars", "april", "maj", "juni",
        "juli", "augusti", "september", "oktober", "november", "december",
    ]  # fmt: skip
    weekdays = [sv_date(dt.date(2026, 10, day)).split()[0] for day in range(5, 12)]
    assert weekdays == ["måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"]


def test_time_uses_a_dot_between_hours_and_minutes() -> None:
    moment = dt.datetime(2026, 10, 6, 9, 0, tzinfo=STOCKHOLM)
    assert sv_datetime(moment) == "tisdag 6 oktober 2026 kl. 09.00"
    assert sv_time(moment.replace(hour=14, minute=5)) == "14.05"


@pytest.mark.parametrize(
    ("utc", "shown"),
    [
        # spring forward on 29 March 2026: 02.00 local does not exist
        (dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC), "söndag 29 mars 2026 kl. 01.30"),
        (dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC), "söndag 29 mars 2026 kl. 03.30"),
        # fall back on 25 October 2026: 02.30 local happens twice
        (dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC), "söndag 25 oktober 2026 kl. 02.30"),
        (dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC), "söndag 25 oktober 2026 kl. 02.30"),
        (dt.datetime(2026, 10, 25, 2, 30, tzinfo=dt.UTC), "söndag 25 oktober 2026 kl. 03.30"),
        # the same 09.00 meeting is 07.00 UTC in summer and 08.00 UTC in winter
        (dt.datetime(2026, 6, 1, 7, 0, tzinfo=dt.UTC), "måndag 1 juni 2026 kl. 09.00"),
        (dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC), "tisdag 1 december 2026 kl. 09.00"),
    ],
)
def test_instants_are_shown_in_stockholm_time_across_summer_time(
    utc: dt.datetime, shown: str
) -> None:
    assert sv_datetime(utc) == shown


def test_date_of_an_instant_is_the_stockholm_date() -> None:
    late_evening_utc = dt.datetime(2026, 10, 11, 22, 30, tzinfo=dt.UTC)  # 00.30 on the 12th
    assert sv_date(late_evening_utc) == "måndag 12 oktober 2026"


def test_span_within_a_day_and_past_midnight() -> None:
    start = dt.datetime(2026, 10, 6, 9, 0, tzinfo=STOCKHOLM)
    assert sv_span(start, start + dt.timedelta(minutes=90)) == (
        "tisdag 6 oktober 2026 kl. 09.00\N{EN DASH}10.30"
    )
    evening = start.replace(hour=22)
    assert sv_span(evening, evening + dt.timedelta(hours=3)) == (
        "tisdag 6 oktober 2026 kl. 22.00 \N{EN DASH} onsdag 7 oktober 2026 kl. 01.00"
    )


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(InputError, match="no time zone"):
        sv_datetime(dt.datetime(2026, 10, 6, 9, 0))  # noqa: DTZ001 - the point of the test
