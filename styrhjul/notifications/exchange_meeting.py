"""What the Exchange transport needs from an invite: the VEVENT of its ``text/calendar`` part.

The outbox hands every transport the same iMIP mail (see :mod:`styrhjul.notifications.compose`);
to make a meeting in the organiser's calendar instead, the Exchange transport reads back the
calendar part it carries. Kept apart from the EWS calls so that it can be read (and tested)
without exchangelib.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from icalendar import Calendar

from styrhjul.errors import DeliveryFailed

__all__ = ["Meeting", "calendar_part", "read_meeting"]

METHODS = frozenset({"REQUEST", "CANCEL"})


@dataclass(frozen=True)
class Meeting:
    """One VEVENT of a REQUEST or CANCEL, in the terms an Exchange calendar item uses."""

    method: str
    uid: str
    sequence: int
    subject: str
    location: str
    start: datetime
    end: datetime
    organizer: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    body: str


def calendar_part(message: EmailMessage) -> bytes | None:
    """The bytes of the message's ``text/calendar`` part, or None for a plain notice."""
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else None
    return None


def _mailto(value: object) -> str:
    text = str(value)
    return text[len("mailto:") :] if text.lower().startswith("mailto:") else text


def read_meeting(message: EmailMessage, calendar: bytes, *, where: str) -> Meeting:
    """The meeting ``calendar`` describes; ``where`` names the message in errors.

    A calendar that cannot be read, has another METHOD or lacks UID, times or organiser is a
    permanent failure: sending the same bytes again cannot help.
    """
    try:
        parsed = Calendar.from_ical(calendar)
    except ValueError as error:
        raise DeliveryFailed(
            f"{where}: unreadable text/calendar part: {error}", permanent=True
        ) from error
    method = str(parsed.get("METHOD", "")).upper()
    if method not in METHODS:
        raise DeliveryFailed(
            f"{where}: calendar METHOD {method or '(none)'} is not REQUEST or CANCEL",
            permanent=True,
        )
    events = list(parsed.walk("VEVENT"))
    if len(events) != 1:
        raise DeliveryFailed(f"{where}: expected one VEVENT, found {len(events)}", permanent=True)
    event = events[0]
    missing = [name for name in ("UID", "DTSTART", "DTEND", "ORGANIZER") if name not in event]
    if missing:
        raise DeliveryFailed(f"{where}: the VEVENT lacks {', '.join(missing)}", permanent=True)
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    if not isinstance(start, datetime) or start.tzinfo is None or not isinstance(end, datetime):
        raise DeliveryFailed(f"{where}: DTSTART/DTEND must be zoned date-times", permanent=True)
    attendees = event.get("ATTENDEE", [])
    if not isinstance(attendees, list):
        attendees = [attendees]
    organizer = _mailto(event["ORGANIZER"])
    required: list[str] = []
    optional: list[str] = []
    for attendee in attendees:
        address = _mailto(attendee)
        role = str(attendee.params.get("ROLE", "REQ-PARTICIPANT")).upper()
        # The organiser owns the meeting in Exchange; listed as CHAIR, they are no attendee.
        if role != "NON-PARTICIPANT" and address.lower() != organizer.lower():
            (optional if role == "OPT-PARTICIPANT" else required).append(address)
    plain = message.get_body(preferencelist=("plain",))
    body = str(plain.get_content()) if plain is not None else str(event.get("DESCRIPTION", ""))
    return Meeting(
        method=method,
        uid=str(event["UID"]),
        sequence=int(event.get("SEQUENCE", 0)),
        subject=str(event.get("SUMMARY", message.get("Subject", ""))),
        location=str(event.get("LOCATION", "")),
        start=start,
        end=end,
        organizer=organizer,
        required=tuple(required),
        optional=tuple(optional),
        body=body,
    )
