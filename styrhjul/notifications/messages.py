"""The records the service layer fills in to have a meeting notice sent.

They are plain frozen values: no database rows, no behaviour beyond checking themselves, so
that rendering and composing can be tested without the rest of Styrhjul. A record that could
only produce a broken message (a naive time, an address with a line break, an unknown role)
is refused when it is built, naming the field.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, get_args

from styrhjul.errors import InputError

Role = Literal["CHAIR", "REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT"]
Method = Literal["REQUEST", "CANCEL"]

ICAL_ROLES: frozenset[str] = frozenset(get_args(Role))
METHODS: frozenset[str] = frozenset(get_args(Method))
_FORBIDDEN_IN_ADDRESS = frozenset(' \t\r\n<>",;')


def _check_address(address: str, key: str) -> None:
    local_part, at, domain = address.rpartition("@")
    if not (local_part and at and domain) or _FORBIDDEN_IN_ADDRESS & set(address):
        raise InputError(f"not an e-mail address: {address!r}", key=key)


def _check_one_line(value: str, key: str) -> None:
    # Control characters too, not only CR and LF: a title pasted from Word carries its
    # manual line break, U+000B, which icalendar writes raw into an ATTENDEE's CN, and the
    # whole ATTENDEE line is then unreadable (icalendar's own parser drops it). Tab is text.
    if any(unicodedata.category(c) == "Cc" and c != "\t" for c in value):
        raise InputError(f"must be a single line without control characters: {value!r}", key=key)


def require_aware(value: datetime, key: str) -> None:
    """Refuse a naive datetime: it names no instant, so it cannot go in a message."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(f"{value.isoformat()} has no time zone", key=key)


@dataclass(frozen=True, slots=True)
class Party:
    """A person taking part, addressed by their role title ("Rektor, Västra skolan")."""

    email: str
    title: str
    role: Role = "REQ-PARTICIPANT"

    def __post_init__(self) -> None:
        _check_address(self.email, "email")
        _check_one_line(self.title, "title")
        if self.role not in ICAL_ROLES:
            allowed = ", ".join(sorted(ICAL_ROLES))
            raise InputError(f"unknown role {self.role!r}; allowed: {allowed}", key="role")


@dataclass(frozen=True, slots=True)
class ChecklistLine:
    """One preparation step before the meeting; ``mine`` is set per recipient by the caller."""

    title: str
    assignee: str
    due: date
    required: bool
    mine: bool


@dataclass(frozen=True, slots=True)
class MeetingInvite:
    """A meeting as it is announced (``REQUEST``) or called off (``CANCEL``).

    ``uid`` stays the same for the life of the meeting and ``sequence`` grows with every
    change, as calendar programs require. ``reason`` says in Swedish why it changed or was
    cancelled; ``reference`` names the thing in Styrhjul ("dialog 12").
    """

    uid: str
    sequence: int
    method: Method
    summary: str
    description: str
    location: str
    start: datetime
    end: datetime
    organizer: Party
    attendees: tuple[Party, ...]
    checklist: tuple[ChecklistLine, ...]
    reference: str
    reason: str = ""
    alarm_minutes: int = 1440

    def __post_init__(self) -> None:
        where = f"meeting {self.uid!r}"
        if not self.uid or any(c.isspace() for c in self.uid):
            raise InputError(f"{where}: uid must be non-empty without spaces", key="uid")
        if self.method not in METHODS:
            raise InputError(f"{where}: method must be REQUEST or CANCEL", key="method")
        if self.sequence < 0:
            raise InputError(f"{where}: sequence must not be negative", key="sequence")
        if self.alarm_minutes < 0:
            raise InputError(f"{where}: alarm_minutes must not be negative", key="alarm_minutes")
        _check_one_line(self.summary, "summary")
        require_aware(self.start, "start")
        require_aware(self.end, "end")
        if self.end <= self.start:
            raise InputError(f"{where}: end {self.end} is not after start {self.start}", key="end")
        if not self.attendees:
            raise InputError(f"{where}: no attendees", key="attendees")

    @property
    def own_checklist(self) -> tuple[ChecklistLine, ...]:
        """The recipient's own preparation steps, in the caller's order."""
        return tuple(line for line in self.checklist if line.mine)

    @property
    def other_checklist(self) -> tuple[ChecklistLine, ...]:
        """Everyone else's preparation steps, in the caller's order."""
        return tuple(line for line in self.checklist if not line.mine)

    @property
    def updated(self) -> bool:
        """A request that replaces an earlier one (the recipient already has the meeting)."""
        return self.method == "REQUEST" and self.sequence > 0


@dataclass(frozen=True, slots=True)
class Sender:
    """The address messages come from; ``name`` is the display name."""

    address: str
    name: str = "Styrhjul"

    def __post_init__(self) -> None:
        _check_address(self.address, "address")
        _check_one_line(self.name, "name")

    @property
    def domain(self) -> str:
        """The part after "@", used to make Message-IDs."""
        return self.address.rpartition("@")[2]
