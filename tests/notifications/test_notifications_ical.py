import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event, Timezone
from support import DIRECTOR, PRINCIPAL, STAMP, check_golden, make_invite

from styrhjul.clock import STOCKHOLM
from styrhjul.errors import InputError
from styrhjul.notifications.ical import render_calendar
from styrhjul.notifications.vtimezone import vtimezone


def parse(data: bytes) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(data)
    (event,) = calendar.events
    return calendar, event


def assert_same_offsets(
    component: Timezone, zone: ZoneInfo, first: dt.datetime, last: dt.datetime
) -> None:
    """The VTIMEZONE, read on its own (not looked up by name), agrees with tzdata.

    Checked every six hours, and every ten minutes on the days the offset changes.
    """
    tz = component.to_tz(lookup_tzid=False)
    day = first
    while day < last:
        following = day + dt.timedelta(days=1)
        changes = day.astimezone(zone).utcoffset() != following.astimezone(zone).utcoffset()
        step = dt.timedelta(minutes=10 if changes else 360)
        moment = day
        while moment < following:
            assert moment.astimezone(tz).utcoffset() == moment.astimezone(zone).utcoffset(), moment
            moment += step
        day = following


def test_request_header_and_event_fields() -> None:
    calendar, event = parse(render_calendar(make_invite(), stamp=STAMP))
    assert calendar["PRODID"] == "-//Styrhjul//Styrhjul//SV"
    assert calendar["VERSION"] == "2.0"
    assert calendar["METHOD"] == "REQUEST"
    assert "UID" not in calendar  # no random calendar UID: the same invite gives the same bytes
    assert event["UID"] == "dialog-12@styrhjul.skola.helsingborg.test"
    assert event["SEQUENCE"] == 0
    assert event["SUMMARY"] == "Budgetdialog, Västra skolan"
    assert event["LOCATION"] == "Stadshuset, rum Kärnan"
    assert event["STATUS"] == "CONFIRMED"
    assert event["TRANSP"] == "OPAQUE"
    assert event.DTSTAMP == STAMP
    assert event.DTSTAMP.utcoffset() == dt.timedelta(0)  # icalendar parses "Z" as ZoneInfo("UTC")
    assert event["DTSTAMP"].to_ical() == b"20260901T061500Z"


def test_times_are_local_with_the_stockholm_tzid() -> None:
    _, event = parse(render_calendar(make_invite(), stamp=STAMP))
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert event["DTEND"].params["TZID"] == "Europe/Stockholm"
    assert event["DTSTART"].to_ical() == b"20261006T090000"
    assert event["DTEND"].to_ical() == b"20261006T103000"
    assert event.start == dt.datetime(2026, 10, 6, 9, 0, tzinfo=STOCKHOLM)


def test_a_start_given_in_utc_is_written_in_stockholm_time_on_both_sides_of_summer_time() -> None:
    summer = make_invite(
        start=dt.datetime(2026, 10, 6, 7, 0, tzinfo=dt.UTC),
        end=dt.datetime(2026, 10, 6, 8, 0, tzinfo=dt.UTC),
    )
    winter = make_invite(
        start=dt.datetime(2026, 11, 3, 8, 0, tzinfo=dt.UTC),
        end=dt.datetime(2026, 11, 3, 9, 0, tzinfo=dt.UTC),
    )
    assert parse(render_calendar(summer, stamp=STAMP))[1]["DTSTART"].to_ical() == b"20261006T090000"
    assert parse(render_calendar(winter, stamp=STAMP))[1]["DTSTART"].to_ical() == b"20261103T090000"


def test_vtimezone_has_yearly_rules_for_standard_and_daylight_time() -> None:
    calendar, _ = parse(render_calendar(make_invite(), stamp=STAMP))
    (timezone,) = calendar.timezones
    assert timezone["TZID"] == "Europe/Stockholm"
    (daylight,) = timezone.walk("DAYLIGHT")
    (standard,) = timezone.walk("STANDARD")
    # RFC 5545: DTSTART is the local time *before* the change, in TZOFFSETFROM
    assert daylight["DTSTART"].to_ical() == b"20250330T020000"
    assert daylight["RRULE"].to_ical() == b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3"
    assert daylight["TZOFFSETFROM"].to_ical() == "+0100"
    assert daylight["TZOFFSETTO"].to_ical() == "+0200"
    assert standard["DTSTART"].to_ical() == b"20251026T030000"
    assert standard["RRULE"].to_ical() == b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"
    assert "RDATE" not in daylight
    assert "RDATE" not in standard  # Outlook misreads RDATE-only time zones
    assert_same_offsets(
        timezone,
        STOCKHOLM,
        dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        dt.datetime(2029, 1, 1, tzinfo=dt.UTC),
    )


def test_vtimezone_covers_a_meeting_across_new_year() -> None:
    invite = make_invite(
        start=dt.datetime(2026, 12, 31, 22, 0, tzinfo=STOCKHOLM),
        end=dt.datetime(2027, 1, 1, 1, 0, tzinfo=STOCKHOLM),
    )
    calendar, event = parse(render_calendar(invite, stamp=STAMP))
    assert event["DTEND"].to_ical() == b"20270101T010000"
    assert_same_offsets(
        calendar.timezones[0],
        STOCKHOLM,
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        dt.datetime(2028, 1, 1, tzinfo=dt.UTC),
    )


def test_vtimezone_falls_back_to_listed_dates_when_the_rule_changed() -> None:
    new_york = ZoneInfo("America/New_York")  # US summer time moved in 2007
    component = vtimezone(new_york, 2007, 2007)
    assert any("RDATE" in sub for sub in component.subcomponents)
    assert_same_offsets(
        component,
        new_york,
        dt.datetime(2006, 1, 1, 6, tzinfo=dt.UTC),
        dt.datetime(2008, 1, 1, tzinfo=dt.UTC),
    )


def test_vtimezone_without_summer_time_has_one_observance() -> None:
    component = vtimezone(ZoneInfo("Asia/Tokyo"), 2026, 2026)
    (standard,) = component.subcomponents
    assert standard.name == "STANDARD"
    assert "RRULE" not in standard
    assert standard["TZOFFSETTO"].to_ical() == "+0900"


def test_organizer_and_attendees() -> None:
    _, event = parse(render_calendar(make_invite(), stamp=STAMP))
    assert event["ORGANIZER"] == f"mailto:{DIRECTOR.email}"
    assert event["ORGANIZER"].params["CN"] == "Utbildningsdirektör"
    attendees = {str(address): address.params for address in event.attendees}
    assert set(attendees) == {f"mailto:{DIRECTOR.email}", f"mailto:{PRINCIPAL.email}"}
    principal = attendees[f"mailto:{PRINCIPAL.email}"]
    assert principal["CN"] == "Rektor, Västra skolan"
    assert principal["ROLE"] == "REQ-PARTICIPANT"
    assert attendees[f"mailto:{DIRECTOR.email}"]["ROLE"] == "CHAIR"
    for params in attendees.values():
        assert params["PARTSTAT"] == "NEEDS-ACTION"
        assert params["RSVP"] == "TRUE"
        assert params["CUTYPE"] == "INDIVIDUAL"


def test_request_has_a_display_alarm() -> None:
    _, event = parse(render_calendar(make_invite(alarm_minutes=90), stamp=STAMP))
    (alarm,) = event.walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY"
    assert alarm["DESCRIPTION"] == "Påminnelse: Budgetdialog, Västra skolan"
    assert alarm["TRIGGER"].dt == dt.timedelta(minutes=-90)
    _, default = parse(render_calendar(make_invite(), stamp=STAMP))
    # icalendar writes -PT1440M as the equal -P1D
    assert default.walk("VALARM")[0]["TRIGGER"].dt == dt.timedelta(days=-1)


def test_description_lists_own_preparations_first_in_swedish() -> None:
    _, event = parse(render_calendar(make_invite(), stamp=STAMP))
    description = str(event["DESCRIPTION"])
    assert description.startswith("Genomgång av budget och verksamhetsplan.")
    assert "Ärende: dialog 12" in description
    own = description.index("Dina förberedelser:")
    others = description.index("Övriga förberedelser:")
    assert own < description.index("Skicka budgetunderlag") < others
    assert others < description.index("Läs verksamhetsplanen")
    assert "- Skicka budgetunderlag, senast måndag 28 september 2026." in description
    assert "Förbered frågor om elevhälsan (frivillig)" in description


def test_cancel() -> None:
    invite = make_invite(method="CANCEL", sequence=2, reason="Dialogen flyttas till våren.")
    calendar, event = parse(render_calendar(invite, stamp=STAMP))
    assert calendar["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 2
    assert event["UID"] == invite.uid
    assert not event.walk("VALARM")
    assert len(event.attendees) == 2
    assert "Anledning: Dialogen flyttas till våren." in str(event["DESCRIPTION"])


def test_same_invite_gives_the_same_bytes() -> None:
    invite = make_invite(sequence=1, reason="Krock med nämndens sammanträde.")
    first = render_calendar(invite, stamp=STAMP)
    assert first == render_calendar(replace(invite), stamp=STAMP)
    assert b"\r\n" in first
    assert b"\n" not in first.replace(b"\r\n", b"")
    # unfolded, so that no line of the golden file ends in a space an editor would trim
    check_golden("invite_updated.ics", first.decode("utf-8").replace("\r\n ", ""))


def test_naive_stamp_is_refused() -> None:
    with pytest.raises(InputError, match="stamp"):
        render_calendar(make_invite(), stamp=dt.datetime(2026, 9, 1, 8, 0))  # noqa: DTZ001
