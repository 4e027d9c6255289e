"""Recording a group meeting (LG, SG): attendance, the record per item, actions; carrying.

A command line cannot hold minutes comfortably, so they may come from a TOML file
(:func:`read_minutes`); the service takes the same record as values
(:class:`MeetingRecord`). Everything is validated before anything is written: an unknown
e-mail, an item that is not on this meeting's agenda or a due date in the past is refused
naming the entry (and, for a file, its line). Then the meeting becomes held, and every
item marked "take up again" lands on the group's next meeting if one is scheduled.

Minutes file::

    notes = "Tema: verksamhetsplanering"        # optional, the meeting's general notes
    absent = ["verksamhetschef.forskola@example.se"]   # everyone else called was present
    guests = ["chefscontroller@example.se"]     # present without being called

    [[item]]                                    # the record of an agenda item, by id
    id = 12
    notes = "Förslaget presenterades."
    decision = "Ledningsgruppen ställer sig bakom förslaget."
    take_up_again = true                        # "vi tar upp frågan igen vid nästa möte"

    [[action]]                                  # an action agreed: what, who, by when
    text = "Skickar mer information om förslaget via mejl till ledningsgruppen"
    owner = "avdelningschef.pedagogiskt-center@example.se"
    due = 2026-09-15
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import Field
from sqlalchemy.orm import Session

from styrhjul.db.governance import AgendaItem, Meeting, MeetingAttendee
from styrhjul.db.models import Agreement, Person
from styrhjul.errors import InputError, NotFound
from styrhjul.services.checklist import carry_agreement
from styrhjul.services.context import App
from styrhjul.services.instances import fire, ref, require_runner
from styrhjul.services.meetings import (
    hand_on,
    meeting_transaction,
    next_meeting,
    not_yet_held,
)
from styrhjul.services.org import person_by_email
from styrhjul.tomlpos import PathPart, dotted
from styrhjul.validation import EMAIL_PATTERN, Source, StrictModel, read_toml, validate


@dataclass(frozen=True)
class ItemRecord:
    """What the minutes say about one agenda item."""

    item_id: int
    notes: str = ""
    decision: str = ""
    take_up_again: bool = False


@dataclass(frozen=True)
class ActionInput:
    """An action agreed at the meeting: what, whose, by when."""

    text: str
    owner: str
    due_on: date


@dataclass(frozen=True)
class MeetingRecord:
    """The minutes as the secretary records them."""

    notes: str = ""
    absent: Sequence[str] = ()
    guests: Sequence[str] = ()
    items: Sequence[ItemRecord] = ()
    actions: Sequence[ActionInput] = ()


@dataclass(frozen=True)
class Held:
    """What recording the meeting did."""

    state: str
    present: int
    absent: int
    actions: list[int] = field(default_factory=list)
    resumed_at: int | None = None
    """The meeting the items marked "take up again" went to at once (None: none scheduled)."""
    take_up_again: list[str] = field(default_factory=list)


# --- the minutes file ----------------------------------------------------------------------

Email = Annotated[str, Field(pattern=EMAIL_PATTERN)]


class _ItemEntry(StrictModel):
    id: int
    notes: str = ""
    decision: str = ""
    take_up_again: bool = False


class _ActionEntry(StrictModel):
    text: Annotated[str, Field(min_length=1)]
    owner: Email
    due: date


class _MinutesFile(StrictModel):
    notes: str = ""
    absent: list[Email] = Field(default_factory=list)
    guests: list[Email] = Field(default_factory=list)
    item: list[_ItemEntry] = Field(default_factory=list)
    action: list[_ActionEntry] = Field(default_factory=list)


def read_minutes(path: Path) -> tuple[MeetingRecord, Source]:
    """Read a minutes file (see the module docstring); errors name file, line and key."""
    source, data = read_toml(path, InputError)
    parsed = validate(source, data, _MinutesFile, InputError)
    return (
        MeetingRecord(
            notes=parsed.notes,
            absent=tuple(parsed.absent),
            guests=tuple(parsed.guests),
            items=tuple(
                ItemRecord(i.id, i.notes, i.decision, i.take_up_again) for i in parsed.item
            ),
            actions=tuple(ActionInput(a.text, a.owner, a.due) for a in parsed.action),
        ),
        source,
    )


# --- hold ----------------------------------------------------------------------------------


def hold_meeting(
    app: App,
    meeting_id: int,
    record: MeetingRecord,
    *,
    actor: str,
    expected_version: int | None = None,
    source: Source | None = None,
) -> Held:
    """Record the meeting as held: attendance, the record of each item, the actions agreed.

    ``source`` is the minutes file the record was read from, so that errors name its lines.
    """
    with meeting_transaction(app, meeting_id, expected_version) as (session, meeting):
        checked = _Checked(app, session, meeting, record, source)
        present = len(meeting.attendees) - len(checked.absent) + len(checked.guests)
        summary = (
            f"{present} närvarande, {len(checked.absent)} frånvarande,"
            f" {len(record.actions)} åtgärder"
        )
        state = fire(app, session, meeting, "hold", actor, summary)
        for attendee in meeting.attendees:
            attendee.present = attendee.person_id not in checked.absent
        meeting.attendees.extend(MeetingAttendee(person=p, present=True) for p in checked.guests)
        items = {i.id: i for i in meeting.agenda}
        marked: list[AgendaItem] = []
        for entry in record.items:
            item = items[entry.item_id]
            item.notes = entry.notes.strip() or None
            item.decision = entry.decision.strip() or None
            item.take_up_again = entry.take_up_again
            if entry.take_up_again:
                marked.append(item)
        meeting.minutes = record.notes.strip() or None
        added = [
            Agreement(
                position=len(meeting.agreements) + n,
                text=action.text.strip(),
                owner=owner,
                due_on=action.due_on,
            )
            for n, (action, owner) in enumerate(
                zip(record.actions, checked.owners, strict=True), start=1
            )
        ]
        meeting.agreements.extend(added)
        session.flush()
        target = hand_on(app, session, marked, meeting, actor) if marked else None
        return Held(
            state=state,
            present=present,
            absent=len(checked.absent),
            actions=[a.id for a in added],
            resumed_at=target.id if target else None,
            take_up_again=[i.title for i in marked],
        )


def hold_meeting_from_file(
    app: App, meeting_id: int, path: Path, *, actor: str, expected_version: int | None = None
) -> Held:
    """:func:`hold_meeting` with the record read from a minutes file."""
    record, source = read_minutes(path)
    return hold_meeting(
        app, meeting_id, record, actor=actor, expected_version=expected_version, source=source
    )


class _Checked:
    """The record checked against the meeting and the organisation, before any write."""

    def __init__(
        self,
        app: App,
        session: Session,
        meeting: Meeting,
        record: MeetingRecord,
        source: Source | None,
    ) -> None:
        self.source = source
        self.session = session
        called = {a.person.email: a.person_id for a in meeting.attendees}
        self.absent: set[int] = set()
        for i, email in enumerate(record.absent):
            person = self._person(email, ("absent", i))
            if person.email not in called:
                raise self._fail(("absent", i), f"{email} was not called to {ref(meeting)}")
            if person.id in self.absent:
                raise self._fail(("absent", i), f"{email} is named twice")
            self.absent.add(person.id)
        self.guests: list[Person] = []
        for i, email in enumerate(record.guests):
            person = self._person(email, ("guests", i))
            if person.email in called or person in self.guests:
                raise self._fail(
                    ("guests", i), f"{email} is already called or named (called are present)"
                )
            self.guests.append(person)
        agenda = [i.id for i in meeting.agenda]
        seen: set[int] = set()
        for i, entry in enumerate(record.items):
            if entry.item_id not in agenda:
                listed = ", ".join(str(n) for n in agenda) or "none"
                raise self._fail(
                    ("item", i, "id"),
                    f"{ref(meeting)} has no agenda item {entry.item_id}; its items are {listed}",
                )
            if entry.item_id in seen:
                raise self._fail(("item", i, "id"), f"agenda item {entry.item_id} is named twice")
            seen.add(entry.item_id)
        today = app.clock.today()
        self.owners: list[Person] = []
        for i, action in enumerate(record.actions):
            what = f"action {i + 1} ({action.text.strip()[:40]!r})"
            if not action.text.strip():
                raise self._fail(("action", i, "text"), f"action {i + 1} has no text")
            if action.due_on < today:
                raise self._fail(
                    ("action", i, "due"), f"{what}: due date {action.due_on} is in the past"
                )
            self.owners.append(self._person(action.owner, ("action", i, "owner"), what))

    def _person(self, email: str, key: tuple[PathPart, ...], what: str = "") -> Person:
        try:
            return person_by_email(self.session, email)
        except NotFound as exc:
            raise self._fail(key, f"{what}: {exc}" if what else str(exc)) from None

    def _fail(self, key: tuple[PathPart, ...], message: str) -> InputError:
        if self.source is not None:
            return self.source.error(InputError, key, message)
        return InputError(message, key=dotted(key))


# --- carrying an action ----------------------------------------------------------------------


@dataclass(frozen=True)
class Carried:
    """An action carried over: the new one on the later meeting."""

    action_id: int
    from_meeting: int
    to_meeting: int
    new_action_id: int


def carry_action(
    app: App,
    action_id: int,
    *,
    actor: str,
    to_meeting: int | None = None,
    due_on: date | None = None,
) -> Carried:
    """Carry an open action to a later meeting of the group (by default the next one).

    The action is closed on its meeting (``carried_to_id``) and continues on the later one,
    with the same text and owner and, unless ``due_on`` is given, the same due date.
    """
    with app.db.session() as session:
        agreement = session.get(Agreement, action_id)
        if agreement is None or agreement.instance.kind != "meeting":
            what = agreement.instance.kind if agreement else "nothing"
            raise NotFound("action of a meeting", f"{action_id} (it belongs to {what})")
        meeting_id = agreement.instance_id
    with meeting_transaction(app, meeting_id) as (session, meeting):
        require_runner(app, session, meeting, actor, "carry its actions")
        action = next(a for a in meeting.agreements if a.id == action_id)
        target = _target(app, session, meeting, to_meeting)
        copy = carry_agreement(
            app,
            session,
            meeting,
            action,
            target,
            actor=actor,
            due_on=due_on,
            noun="åtgärd",
            trigger="carry_action",
        )
        return Carried(action.id, meeting.id, target.id, copy.id)


def _target(app: App, session: Session, meeting: Meeting, to_meeting: int | None) -> Meeting:
    assert meeting.starts_at is not None
    if to_meeting is None:
        target = next_meeting(app, session, meeting.unit_id, meeting.starts_at, meeting.id)
        if target is None:
            raise InputError(
                f"no later meeting of {meeting.unit.code} is scheduled; schedule one first",
                key="to",
            )
        return target
    target = session.get(Meeting, to_meeting)
    if target is None:
        raise NotFound("meeting", to_meeting)
    if target.unit_id != meeting.unit_id:
        raise InputError(
            f"meeting {to_meeting} is a meeting of {target.unit.code}, not of {meeting.unit.code}",
            key="to",
        )
    later = target.starts_at is not None and target.starts_at > meeting.starts_at
    if not not_yet_held(app, target) or not later:
        raise InputError(
            f"meeting {to_meeting} ({target.state}) is not a later meeting still to be held",
            key="to",
        )
    return target
