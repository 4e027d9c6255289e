"""English date and time wording for messages to people whose locale is "en".

Swedish stays the default (:mod:`.swedish`); these filters exist beside it for the second
locale. English capitalises weekday and month names ("Tuesday 6 October 2026", day before
month as British English writes it, which is also how the Swedish text orders it) and
uses a 24-hour clock with a colon ("09:00"), so a time never needs am/pm. Instants are
shown in Stockholm time, like the Swedish text, whoever reads them.
"""

from __future__ import annotations

from datetime import date, datetime

from styrhjul.calendar.names import ENGLISH_MONTHS, ENGLISH_WEEKDAYS
from styrhjul.notifications.messages import ChecklistLine, MeetingInvite
from styrhjul.notifications.swedish import EN_DASH, local


def en_date(day: date) -> str:
    """The day as English writes it, "Tuesday 6 October 2026" (in Stockholm time)."""
    if isinstance(day, datetime):
        day = local(day).date()
    weekday, month = ENGLISH_WEEKDAYS[day.weekday()], ENGLISH_MONTHS[day.month - 1]
    return f"{weekday} {day.day} {month} {day.year}"


def en_time(moment: datetime) -> str:
    """The Stockholm wall-clock time on a 24-hour clock: "09:00", "16:30"."""
    wall = local(moment)
    return f"{wall.hour:02d}:{wall.minute:02d}"


def en_datetime(moment: datetime) -> str:
    """Day and time: "Tuesday 6 October 2026 at 09:00"."""
    return f"{en_date(moment)} at {en_time(moment)}"


def en_span(start: datetime, end: datetime) -> str:
    """A meeting's time, "Tuesday 6 October 2026, 09:00–10:30"; both days past midnight."""
    if local(start).date() == local(end).date():
        return f"{en_date(start)}, {en_time(start)}{EN_DASH}{en_time(end)}"
    return f"{en_datetime(start)} {EN_DASH} {en_datetime(end)}"


def en_working_days(days: int) -> str:
    """Working days counted in English: "1 working day", "3 working days"."""
    return f"{days} working day" if days == 1 else f"{days} working days"


def en_checklist_item(line: ChecklistLine) -> str:
    """One preparation step as the English messages write it."""
    optional = " (optional)" if not line.required else ""
    return f"{line.title}{optional}, by {en_date(line.due)}. Responsible: {line.assignee}."


def en_checklist_sections(invite: MeetingInvite) -> list[tuple[str, tuple[ChecklistLine, ...]]]:
    """The recipient's own steps, then everyone else's, under headings; empty ones left out."""
    sections = (
        ("Your preparations", invite.own_checklist),
        ("Other preparations", invite.other_checklist),
    )
    return [(heading, lines) for heading, lines in sections if lines]


FILTERS = {
    "en_date": en_date,
    "en_time": en_time,
    "en_datetime": en_datetime,
    "en_span": en_span,
    "en_working_days": en_working_days,
    "en_checklist_item": en_checklist_item,
    "en_checklist_sections": en_checklist_sections,
}
"""The filters English templates use, by name."""
