"""Writing a group's new meetings as rows: one ``executemany`` per table, as in planning.

:func:`styrhjul.services.meetings.schedule_series` checks the meetings and finds their
people (a :class:`MeetingSlot` each); this module writes them. The rows are the ones the
ORM left when each :class:`~styrhjul.db.governance.Meeting` was flushed with its attendees
and :func:`~styrhjul.services.instances.raise_steps`' steps, then given its calendar UID
(see ``tests/services/test_planning_batch.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from styrhjul.db.governance import Meeting, MeetingAttendee
from styrhjul.db.models import Instance, OrgUnit, Person
from styrhjul.services.batch import (
    Resolver,
    flatten,
    insert_instances,
    insert_rows,
    insert_steps,
    instance_row,
    raised_step_rows,
    table_of,
)
from styrhjul.services.context import App

MEETING_WORKFLOW = "group_meeting"
"""The workflow of a group's meetings (``workflows/group_meeting.toml``)."""


def meeting_key(group: OrgUnit, day: date) -> str:
    """The natural key of a group's meeting on a day: one meeting a group a day."""
    return f"meeting:{group.code}:{day.isoformat()}"


@dataclass(frozen=True)
class MeetingSlot:
    """One meeting of a series, checked and with its people, before anything is written."""

    starts_at: datetime
    ends_at: datetime
    day: date
    chair: Person
    secretary: Person
    called: list[Person]


def meeting_title(unit: OrgUnit, day: date) -> str:
    return f"{unit.name} {day.isoformat()}"


def write_meetings(
    app: App, session: Session, unit: OrgUnit, slots: list[MeetingSlot], *, place: str
) -> list[int]:
    """Write the meetings of ``slots`` (in order), one ``executemany`` per table; their ids.

    The rows are those flushing a :class:`Meeting` with its attendees and
    :func:`raise_steps`' steps made, meeting by meeting: ids rise in the order of the
    slots, the attendees by e-mail. The calendar UID names the meeting's id, so it is set
    by one UPDATE after the insert, as the ORM's second flush did (raising the version to
    2). No meeting, attendee or step object enters the session: nothing here reads them.
    """
    definition = app.machine(MEETING_WORKFLOW).definition
    now = app.clock.now()
    state = definition.spec.workflow.initial
    keys = [meeting_key(unit, one.day) for one in slots]
    found = insert_instances(
        session,
        [
            instance_row(
                key=key,
                kind="meeting",
                workflow=definition.name,
                workflow_version=definition.version,
                title=meeting_title(unit, one.day),
                unit_id=unit.id,
                state=state,
                starts_at=one.starts_at,
                ends_at=one.ends_at,
                location=place,
                created_at=now,
                updated_at=now,
            )
            for key, one in zip(keys, slots, strict=True)
        ],
    )
    ids = [found[key] for key in keys]
    pairs = list(zip(ids, slots, strict=True))
    insert_rows(
        session,
        Meeting,
        [
            {"id": id_, "chair_id": one.chair.id, "secretary_id": one.secretary.id}
            for id_, one in pairs
        ],
    )
    instances = table_of(Instance)
    session.connection().execute(
        update(instances)
        .where(instances.c.id == bindparam("meeting_id"))
        .values(ical_uid=bindparam("uid"), version=instances.c.version + 1),
        [{"meeting_id": id_, "uid": f"meeting-{id_}@{app.sender.domain}"} for id_ in ids],
    )
    insert_rows(
        session,
        MeetingAttendee,
        [
            {"meeting_id": id_, "person_id": person.id, "present": None}
            for id_, one in pairs
            for person in one.called
        ],
    )
    resolver = Resolver(app, session)
    insert_steps(
        session,
        flatten(
            raised_step_rows(
                resolver,
                definition,
                instance_id=id_,
                unit=unit,
                starts_at=one.starts_at,
                created_at=now,
            )
            for id_, one in pairs
        ),
    )
    return ids
