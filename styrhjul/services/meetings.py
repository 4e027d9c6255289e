"""Meetings of the director's groups (ledningsgrupp LG, styrgrupp SG): schedule to close.

Each use case is one transaction on the generic instance machinery
(:mod:`styrhjul.services.instances`) plus what only a meeting has: its group, chair,
secretary, agenda and attendance, and the carry-over between a group's meetings.

Carry-over, as the minutes practise it ("vi tar upp frågan igen vid nästa möte"): an
agenda item marked ``take_up_again`` lands on the group's next meeting that is not yet
held, as "Återupptas: <title>" linked back by ``carried_from_id``. If that meeting is
already scheduled when the item is marked, it goes there at once; otherwise scheduling
the next meeting picks it up. An item is never dropped silently: removing a resumed item
from an agenda, or cancelling the meeting it landed on, hands it on to the following
meeting in the same way. Open actions are carried by the secretary (see
:func:`styrhjul.services.meeting_minutes.carry_action`); scheduling lists them.

Who may do what comes from the definition (``workflows/group_meeting.toml``): the roles
that may fire its transitions (secretary, director) run a meeting and edit its agenda;
the chair approves the minutes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from styrhjul.db.governance import AgendaItem, Meeting
from styrhjul.db.models import OrgUnit, Person
from styrhjul.engine.definition import START
from styrhjul.engine.machine import WorkflowMachine
from styrhjul.errors import InputError, PermissionDenied, TransitionRefused
from styrhjul.services.audit import audit_instance
from styrhjul.services.batch import audit_row, insert_audits
from styrhjul.services.context import App
from styrhjul.services.instances import (
    fire,
    instance_transaction,
    redate_step,
    ref,
    runner_roles,
)
from styrhjul.services.meeting_notices import enqueue_meeting_notice
from styrhjul.services.meeting_rows import (
    MEETING_WORKFLOW,
    MeetingSlot,
    meeting_key,
    meeting_title,
    write_meetings,
)
from styrhjul.services.meeting_views import ActionView, action_view, open_actions_before
from styrhjul.services.meeting_views import states_before as _states_before
from styrhjul.services.org import holder_over, holders, person_by_email, roles_of, unit_by_code
from styrhjul.services.schedule import due_times, require_within_horizon
from styrhjul.vocabulary import ROLES, SYSTEM

RESUMED = "Återupptas: "
"""Prefix of an agenda item taken up again from an earlier meeting."""
DEFAULT_LENGTH = timedelta(hours=3)
"""LG met 13.00-16.00 (minutes of 21 January 2020)."""
TICKED_BY = {"send_agenda": ("call_for_items", "send_agenda"), "approve": ("approve_minutes",)}
"""Steps a trigger completes: sending the agenda ends the call for items, too."""


@contextmanager
def meeting_transaction(
    app: App, meeting_id: int, expected_version: int | None = None
) -> Iterator[tuple[Session, Meeting]]:
    """Load a meeting for change (see :func:`instance_transaction`)."""
    with instance_transaction(app, meeting_id, expected_version, model=Meeting) as pair:
        yield pair


def machine_of(app: App, meeting: Meeting) -> WorkflowMachine:
    return app.machine(meeting.workflow, meeting.workflow_version)


def not_yet_held(app: App, meeting: Meeting) -> bool:
    return meeting.state in _states_before(machine_of(app, meeting), "hold")


def require_not_yet_held(app: App, meeting: Meeting, what: str) -> None:
    if not not_yet_held(app, meeting):
        before = ", ".join(sorted(_states_before(machine_of(app, meeting), "hold")))
        raise TransitionRefused(
            ref(meeting),
            what,
            meeting.state,
            [],
            reason=f"only possible before it is held ({before})",
        )


def next_meeting(
    app: App, session: Session, group_id: int, after: datetime, exclude_id: int | None = None
) -> Meeting | None:
    """The group's first meeting after ``after`` that is not yet held."""
    states = _states_before(app.machine(MEETING_WORKFLOW), "hold")
    query = (
        select(Meeting)
        .where(Meeting.unit_id == group_id, Meeting.starts_at > after, Meeting.state.in_(states))
        .order_by(Meeting.starts_at, Meeting.id)
    )
    if exclude_id is not None:
        query = query.where(Meeting.id != exclude_id)
    return session.scalars(query).first()


def carry_item(app: App, session: Session, item: AgendaItem, target: Meeting, actor: str) -> None:
    """Put ``item`` on ``target``'s agenda as "Återupptas: ...", linked back to it."""
    resumed = AgendaItem(
        position=len(target.agenda) + 1,
        kind=item.kind,
        title=RESUMED + item.title.removeprefix(RESUMED),
        presenter_id=item.presenter_id,
        take_up_again=False,
        carried_from_id=item.id,
    )
    target.agenda.append(resumed)
    audit_instance(
        session,
        target,
        at=app.clock.now(),
        actor=actor,
        trigger="carry_item",
        from_state=target.state,
        reason=f"punkt {item.id} från möte {item.meeting_id}: {item.title}",
    )


def hand_on(
    app: App, session: Session, items: list[AgendaItem], after: Meeting, actor: str
) -> Meeting | None:
    """Carry ``items`` to the group's next meeting after ``after``, if one is scheduled."""
    assert after.starts_at is not None
    target = next_meeting(app, session, after.unit_id, after.starts_at, exclude_id=after.id)
    if target is not None:
        for item in items:
            carry_item(app, session, item, target, actor)
    return target


def renumber(meeting: Meeting) -> None:
    """Number the agenda 1, 2, ... in its current order."""
    for position, item in enumerate(meeting.agenda, start=1):
        item.position = position


def _local_day(app: App, moment: datetime) -> date:
    return moment.astimezone(app.clock.tz).date()


def _check_time(app: App, starts_at: datetime, key: str = "starts_at") -> None:
    """A meeting is held on a working day, in the future; refusals say why."""
    if starts_at.tzinfo is None:
        raise InputError("the time needs a time zone", key=key)
    require_within_horizon(app, starts_at, key)
    day = _local_day(app, starts_at)
    if not app.calendar.is_working_day(day):
        raise InputError(
            f"{day} is not a working day ({app.calendar.non_working_reason(day)})", key=key
        )
    if starts_at <= app.clock.now():
        raise InputError(f"{starts_at.astimezone(app.clock.tz):%Y-%m-%d %H:%M} has passed", key=key)


def _require_day_free(session: Session, group: OrgUnit, day: date, exclude_id: int = 0) -> None:
    other = session.scalar(
        select(Meeting).where(Meeting.key == meeting_key(group, day), Meeting.id != exclude_id)
    )
    if other is not None:
        raise InputError(
            f"{group.code} already meets on {day}: meeting {other.id}", key="starts_at"
        )


# --- schedule ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scheduled:
    """What scheduling did: the meeting, the items it resumes, the actions still open."""

    meeting_id: int
    title: str
    starts_at: datetime
    attendees: list[str]
    resumed_items: list[str] = field(default_factory=list)
    open_actions: list[ActionView] = field(default_factory=list)


def schedule_meeting(
    app: App,
    group: str,
    starts_at: datetime,
    *,
    actor: str,
    place: str,
    ends_at: datetime | None = None,
) -> Scheduled:
    """Schedule a meeting of ``group`` (a unit of kind group, e.g. ``lg``) at ``starts_at``.

    Everyone holding a role in the group on the day is called; the chair is the director
    over the group, the secretary the secretary of the group. Items of earlier meetings
    marked "take up again" and not yet carried land on its agenda; the open actions of
    earlier meetings are listed, for the secretary to carry.
    """
    (scheduled,) = schedule_series(
        app, group, [(starts_at, ends_at or starts_at + DEFAULT_LENGTH)], actor=actor, place=place
    )
    return scheduled


def schedule_series(
    app: App,
    group: str,
    slots: Sequence[tuple[datetime, datetime]],
    *,
    actor: str,
    place: str,
) -> list[Scheduled]:
    """Schedule one meeting of ``group`` per (start, end), in one transaction, in time order.

    What the yearly plan does with a group's Tuesdays; each meeting is scheduled as
    :func:`schedule_meeting` would, and a refusal of any of them saves none.
    """
    for starts_at, ends_at in slots:
        _check_time(app, starts_at)
        if ends_at <= starts_at:
            raise InputError("the meeting must end after it starts", key="ends_at")
    if not place.strip():
        raise InputError("a place is required (a room, or Teams)", key="place")
    with app.db.session() as session:
        unit = unit_by_code(session, group)
        if unit.kind != "group":
            raise InputError(
                f"{group!r} is a {unit.kind}, not a group such as lg or sg", key="group"
            )
        runners = runner_roles(app.machine(MEETING_WORKFLOW))
        held = (
            {SYSTEM}
            if actor == SYSTEM
            else roles_of(session, person_by_email(session, actor), unit, app.clock.today())
        )
        if actor != SYSTEM and not held & runners:
            raise PermissionDenied(
                f"only {', '.join(sorted(runners))} may schedule meetings of {group}; "
                f"{actor} holds {', '.join(sorted(held)) or 'no role'} there"
            )
        ordered = [
            _resolve(app, session, unit, starts_at, ends_at, taken)
            for taken in [_days_taken(app, session, unit, slots)]
            for starts_at, ends_at in sorted(slots)
        ]
        ids = write_meetings(app, session, unit, ordered, place=place.strip())
        # Items waiting to be taken up again all land on the first meeting of the series,
        # and the open actions are listed for it alone: the later ones start empty.
        resumed = _audit_and_take_up(app, session, unit, ids, ordered, actor=actor, place=place)
        return [
            Scheduled(
                meeting_id=meeting_id,
                title=meeting_title(unit, one.day),
                starts_at=one.starts_at.astimezone(app.clock.tz),
                attendees=[p.email for p in one.called],
                resumed_items=resumed if meeting_id == ids[0] else [],
                open_actions=[
                    action_view(app, a)
                    for a in open_actions_before(session, unit.id, one.starts_at, meeting_id)
                ]
                if meeting_id == ids[0]
                else [],
            )
            for meeting_id, one in zip(ids, ordered, strict=True)
        ]


def _days_taken(
    app: App, session: Session, unit: OrgUnit, slots: Sequence[tuple[datetime, datetime]]
) -> dict[str, int]:
    """The group's meetings already on the days of ``slots``: id by key, in one query.

    Filled in by :func:`_resolve` as the series takes its days, so a day named twice is
    refused like a day taken before.
    """
    keys = [meeting_key(unit, _local_day(app, starts_at)) for starts_at, _ in slots]
    query = select(Meeting.key, Meeting.id).where(Meeting.key.in_(keys))
    return {key: id_ for key, id_ in session.execute(query)}  # noqa: C416 - rows, not pairs


def _resolve(
    app: App,
    session: Session,
    unit: OrgUnit,
    starts_at: datetime,
    ends_at: datetime,
    taken: dict[str, int],
) -> MeetingSlot:
    """Check a meeting's day and find its chair, secretary and members (refusals say why)."""
    day = _local_day(app, starts_at)
    key = meeting_key(unit, day)
    if key in taken:
        other = f"meeting {taken[key]}" if taken[key] else "twice in the series"
        raise InputError(f"{unit.code} already meets on {day}: {other}", key="starts_at")
    taken[key] = 0
    chair = holder_over(session, unit, "director", day)
    secretary = holder_over(session, unit, "secretary", day)
    if chair is None:
        raise InputError(f"no director over {unit.code} on {day}", key="group")
    if secretary is None:
        raise InputError(f"no secretary over {unit.code} on {day}", key="group")
    return MeetingSlot(starts_at, ends_at, day, chair, secretary, _members(session, unit, day))


def _audit_and_take_up(
    app: App,
    session: Session,
    unit: OrgUnit,
    ids: list[int],
    slots: list[MeetingSlot],
    *,
    actor: str,
    place: str,
) -> list[str]:
    """Audit the scheduling of each meeting; carry waiting items to the first. Their titles.

    The audit rows go in as the ORM wrote them meeting by meeting: the first meeting's
    "schedule", its carried items' rows, then the other meetings' "schedule". So the
    insert is split only when something is carried; carrying goes through the ORM
    (:func:`carry_item`), on the first meeting loaded from its rows.
    """
    definition = app.machine(MEETING_WORKFLOW).definition
    now = app.clock.now()
    rows = [
        audit_row(
            entity="meeting",
            entity_id=id_,
            at=now,
            actor=actor,
            trigger="schedule",
            from_state=None,
            to_state=definition.spec.workflow.initial,
            reason=f"planerat {one.starts_at.astimezone(app.clock.tz):%Y-%m-%d %H:%M}, {place}",
        )
        for id_, one in zip(ids, slots, strict=True)
    ]
    items = _uncarried_items(session, unit.id, slots[0].starts_at)
    if not items:
        insert_audits(session, rows)
        return []
    insert_audits(session, rows[:1])
    meeting = session.get(Meeting, ids[0])
    assert meeting is not None
    for item in items:
        carry_item(app, session, item, meeting, actor)
    session.flush()
    insert_audits(session, rows[1:])
    return [i.title for i in meeting.agenda]


def _members(session: Session, unit: OrgUnit, day: date) -> list[Person]:
    """Everyone holding any role in the group itself on ``day``, by e-mail."""
    found: dict[int, Person] = {}
    for role in ROLES:
        for person in holders(session, unit, role, day):
            found.setdefault(person.id, person)
    return sorted(found.values(), key=lambda p: p.email)


def _uncarried_items(session: Session, group_id: int, before: datetime) -> list[AgendaItem]:
    """Items of the group's earlier meetings marked "take up again" and not carried yet."""
    later = aliased(AgendaItem)
    return list(
        session.scalars(
            select(AgendaItem)
            .join(Meeting, AgendaItem.meeting_id == Meeting.id)
            .where(
                Meeting.unit_id == group_id,
                Meeting.starts_at < before,
                AgendaItem.take_up_again.is_(True),
                ~exists().where(later.carried_from_id == AgendaItem.id),
            )
            .order_by(Meeting.starts_at, AgendaItem.position)
        )
    )


# --- moving it along -----------------------------------------------------------------------


def tick(app: App, meeting: Meeting, trigger: str, actor: str) -> None:
    """Mark done the open steps ``trigger`` completes (see :data:`TICKED_BY`)."""
    for item in meeting.checklist:
        if item.key in TICKED_BY.get(trigger, ()) and item.done_at is None:
            item.done_at, item.done_by = app.clock.now(), actor


def send_agenda(
    app: App, meeting_id: int, *, actor: str, expected_version: int | None = None
) -> int:
    """Send the agenda to everyone called (a calendar invitation); returns messages queued."""
    with meeting_transaction(app, meeting_id, expected_version) as (session, meeting):
        # the role check first (in fire): someone who may not send it learns nothing of the
        # agenda; the error rolls the transition back
        fire(app, session, meeting, "send_agenda", actor, f"{len(meeting.agenda)} punkter")
        if not meeting.agenda:
            raise InputError(f"{ref(meeting)}: the agenda is empty; add items first", key="agenda")
        tick(app, meeting, "send_agenda", actor)
        return enqueue_meeting_notice(app, session, meeting, method="REQUEST")


def approve_minutes(
    app: App, meeting_id: int, *, actor: str, expected_version: int | None = None
) -> str:
    """The chair approves (justerar) the minutes."""
    with meeting_transaction(app, meeting_id, expected_version) as (session, meeting):
        state = fire(app, session, meeting, "approve", actor)
        tick(app, meeting, "approve", actor)
        return state


def close_meeting(
    app: App,
    meeting_id: int,
    *,
    actor: str,
    reason: str = "",
    expected_version: int | None = None,
) -> str:
    """Close the meeting; refused while an action agreed at it is open."""
    with meeting_transaction(app, meeting_id, expected_version) as (session, meeting):
        return fire(app, session, meeting, "close", actor, reason)


def _invited(app: App, meeting: Meeting) -> bool:
    """Whether invitations went out: they do with the agenda, leaving the initial state."""
    return meeting.state != machine_of(app, meeting).definition.spec.workflow.initial


def cancel_meeting(
    app: App, meeting_id: int, *, actor: str, reason: str, expected_version: int | None = None
) -> str:
    """Cancel the meeting; its resumed items are handed on, invitees get a cancellation.

    Its date is freed for a new meeting of the group. Actions carried to it stay open on it
    and are listed, with the group's other open actions, for the next meeting.
    """
    if not reason.strip():
        raise InputError("a reason is required to cancel a meeting", key="reason")
    with meeting_transaction(app, meeting_id, expected_version) as (session, meeting):
        invited = _invited(app, meeting)
        state = fire(app, session, meeting, "cancel", actor, reason)
        meeting.key = f"{meeting.key}:cancelled:{meeting.id}"
        resumed = [i for i in meeting.agenda if i.carried_from is not None]
        origins = [i.carried_from for i in resumed if i.carried_from is not None]
        for item in resumed:
            meeting.agenda.remove(item)
        renumber(meeting)
        session.flush()
        hand_on(app, session, origins, meeting, actor)
        if invited:
            meeting.ical_sequence += 1
            enqueue_meeting_notice(app, session, meeting, method="CANCEL", reason=reason)
        return state


def postpone_meeting(
    app: App,
    meeting_id: int,
    *,
    actor: str,
    starts_at: datetime,
    reason: str,
    expected_version: int | None = None,
) -> Meeting:
    """Move the meeting (same length); step dates follow, invitees get an update."""
    _check_time(app, starts_at)
    if not reason.strip():
        raise InputError("a reason is required to move a meeting", key="reason")
    with meeting_transaction(app, meeting_id, expected_version) as (session, meeting):
        assert meeting.starts_at is not None
        assert meeting.ends_at is not None
        day = _local_day(app, starts_at)
        _require_day_free(session, meeting.unit, day, exclude_id=meeting.id)
        old = meeting.starts_at
        fire(app, session, meeting, "postpone", actor, reason, new_starts_at=starts_at)
        meeting.ends_at = starts_at + (meeting.ends_at - meeting.starts_at)
        meeting.starts_at = starts_at
        meeting.key = meeting_key(meeting.unit, day)
        definition = machine_of(app, meeting).definition
        for spec in definition.steps_raised_in(None):
            item = next((i for i in meeting.checklist if i.key == spec.key), None)
            if spec.anchor == START and item is not None and item.done_at is None:
                redate_step(item, *due_times(app, definition.spec.timing, starts_at, spec.offset))
        if _invited(app, meeting):
            meeting.ical_sequence += 1
            moved = f"{reason.strip()} (flyttat från {old.astimezone(app.clock.tz):%Y-%m-%d %H:%M})"
            enqueue_meeting_notice(app, session, meeting, method="REQUEST", reason=moved)
        return meeting
