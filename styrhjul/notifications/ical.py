"""The iCalendar (RFC 5545/5546) part of a meeting notice.

One VEVENT per meeting, with the Stockholm VTIMEZONE it refers to, so that Outlook, Apple
Calendar and Google all place it at the same wall-clock time. ``UID`` and ``SEQUENCE`` come
from the service layer: calendar programs replace an event when a message with the same UID
and a higher SEQUENCE arrives, and remove it on ``METHOD:CANCEL``.

The output depends only on the invite and ``stamp``, so a resend is byte for byte the same.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event, vCalAddress
from icalendar.enums import STATUS, TRANSP

from styrhjul.clock import STOCKHOLM
from styrhjul.notifications.messages import MeetingInvite, Party, require_aware
from styrhjul.notifications.swedish import checklist_item, checklist_sections
from styrhjul.notifications.vtimezone import vtimezone

PRODID = "-//Styrhjul//Styrhjul//SV"
_STATUS = {"REQUEST": STATUS.CONFIRMED, "CANCEL": STATUS.CANCELLED}


def _address(party: Party, *, attendee: bool) -> vCalAddress:
    if not attendee:
        return vCalAddress.new(party.email, cn=party.title)
    return vCalAddress.new(
        party.email,
        cn=party.title,
        role=party.role,
        partstat="NEEDS-ACTION",
        rsvp=True,
        cutype="INDIVIDUAL",
    )


def _description_text(invite: MeetingInvite) -> str:
    """The event's DESCRIPTION: what the meeting is about and who prepares what, in Swedish."""
    parts = [invite.description.strip() or invite.summary, f"Ärende: {invite.reference}"]
    if invite.method == "CANCEL":
        parts.insert(0, "Mötet är inställt.")
    elif invite.updated:
        parts.insert(0, "Ändrad tid.")
    if invite.reason and (invite.method == "CANCEL" or invite.updated):
        parts.append(f"Anledning: {invite.reason}")
    for heading, lines in checklist_sections(invite):
        parts.append("\n".join([f"{heading}:", *(f"- {checklist_item(line)}" for line in lines)]))
    return "\n\n".join(parts)


def render_calendar(invite: MeetingInvite, *, stamp: datetime) -> bytes:
    """The ``text/calendar`` bytes for ``invite``; ``stamp`` (aware) becomes DTSTAMP in UTC."""
    require_aware(stamp, "stamp")
    start = invite.start.astimezone(STOCKHOLM)
    end = invite.end.astimezone(STOCKHOLM)
    event = Event.new(
        uid=invite.uid,
        sequence=invite.sequence,
        stamp=stamp.astimezone(UTC),
        start=start,
        end=end,
        summary=invite.summary,
        description=_description_text(invite),
        organizer=_address(invite.organizer, attendee=False),
        attendees=[_address(party, attendee=True) for party in invite.attendees],
        status=_STATUS[invite.method],
        transparency=TRANSP.OPAQUE,
    )
    if invite.location:
        event.add("location", invite.location)
    if invite.method == "REQUEST":
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"Påminnelse: {invite.summary}")
        alarm.add("trigger", timedelta(minutes=-invite.alarm_minutes))
        event.add_component(alarm)
    calendar = Calendar()  # not Calendar.new(): that adds a random UID to the VCALENDAR
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", invite.method)
    calendar.add_component(vtimezone(STOCKHOLM, start.year, end.year))
    calendar.add_component(event)
    return bytes(calendar.to_ical())
