"""Swedish date and time wording for messages, independent of the machine's locale.

Swedish writes a weekday and month in lower case ("tisdag 6 oktober 2026") and separates
hours from minutes with a dot ("kl. 09.00"). Instants are shown in Stockholm time, whatever
zone they arrive in, so that a meeting reads the same across a daylight-saving change.
"""

from __future__ import annotations

from datetime import date, datetime

from styrhjul.calendar.names import MONTHS, WEEKDAYS
from styrhjul.clock import STOCKHOLM
from styrhjul.errors import InputError
from styrhjul.notifications.messages import ChecklistLine, MeetingInvite

EN_DASH = "\N{EN DASH}"  # Swedish writes time ranges with it; spelled out for the linter


def local(moment: datetime) -> datetime:
    """``moment`` in Stockholm time; a naive datetime is refused, it names no instant."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InputError(f"{moment.isoformat()} has no time zone; cannot show it in Swedish time")
    return moment.astimezone(STOCKHOLM)


def sv_date(day: date) -> str:
    """The day as Swedish writes it, "måndag 12 oktober 2026" (a datetime in Stockholm time)."""
    if isinstance(day, datetime):
        day = local(day).date()
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def sv_time(moment: datetime) -> str:
    """The Stockholm wall-clock time with a dot between hours and minutes: "09.00"."""
    wall = local(moment)
    return f"{wall.hour:02d}.{wall.minute:02d}"


def sv_datetime(moment: datetime) -> str:
    """Day and time: "tisdag 6 oktober 2026 kl. 09.00"."""
    return f"{sv_date(moment)} kl. {sv_time(moment)}"


def sv_span(start: datetime, end: datetime) -> str:
    """A meeting's time, "tisdag 6 oktober 2026 kl. 09.00-10.30" with an en dash.

    Both days are written out when the meeting runs past midnight.
    """
    if local(start).date() == local(end).date():
        return f"{sv_datetime(start)}{EN_DASH}{sv_time(end)}"
    return f"{sv_datetime(start)} {EN_DASH} {sv_datetime(end)}"


def checklist_item(line: ChecklistLine) -> str:
    """One preparation step as every message writes it (text, HTML and the calendar entry)."""
    optional = "" if line.required else " (frivillig)"
    return f"{line.title}{optional}, senast {sv_date(line.due)}. Ansvarig: {line.assignee}."


def checklist_sections(invite: MeetingInvite) -> list[tuple[str, tuple[ChecklistLine, ...]]]:
    """The recipient's own steps, then everyone else's, under headings; empty ones left out."""
    sections = (
        ("Dina förberedelser", invite.own_checklist),
        ("Övriga förberedelser", invite.other_checklist),
    )
    return [(heading, lines) for heading, lines in sections if lines]
