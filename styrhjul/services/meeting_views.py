"""Read models of group meetings (LG, SG): listings and the detail page, for CLI, web and JSON.

A meeting's detail shows what its minutes hold: the agenda with where each resumed item
came from and where an unresolved one went, who was called and who came, the actions
agreed (and where a carried action went or came from), the steps and the history. For a
meeting not yet held it also lists the open actions of the group's earlier meetings, which
the secretary carries over to it.

The queries shared with the use cases (:func:`open_actions_before`, :func:`states_before`)
live here so that :mod:`styrhjul.services.meetings` can import them without a cycle.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from styrhjul.calendar import local_datetime
from styrhjul.db.governance import AgendaItem, Meeting
from styrhjul.db.models import Agreement, OrgUnit
from styrhjul.engine.definition import STAY
from styrhjul.engine.machine import WorkflowMachine
from styrhjul.errors import NotFound
from styrhjul.services.audit import history
from styrhjul.services.context import App
from styrhjul.services.views import AuditView, StepView

AGENDA_KIND_TITLES = {"information": "Information", "dialog": "Dialog", "decision": "Beslut"}
"""How the minutes name the kinds of agenda item."""


def states_before(machine: WorkflowMachine, trigger: str) -> frozenset[str]:
    """The states from which ``trigger`` can still happen (for a meeting: not yet held)."""
    edges: dict[str, set[str]] = {}
    for t in machine.definition.spec.transition:
        for source in t.source:
            edges.setdefault(t.dest if t.dest != STAY else source, set()).add(source)
    found = set(machine.sources(trigger))
    queue = deque(found)
    while queue:
        for earlier in edges.get(queue.popleft(), ()):
            if earlier not in found:
                found.add(earlier)
                queue.append(earlier)
    return frozenset(found)


def open_actions_before(
    session: Session, group_id: int, before: datetime, exclude_id: int | None = None
) -> list[Agreement]:
    """Open actions (not done, not carried) of the group's meetings starting before ``before``."""
    query = (
        select(Agreement)
        .join(Meeting, Agreement.instance_id == Meeting.id)
        .where(
            Meeting.unit_id == group_id,
            Meeting.starts_at < before,
            Agreement.done_at.is_(None),
            Agreement.carried_to_id.is_(None),
        )
        .order_by(Meeting.starts_at, Agreement.position)
    )
    if exclude_id is not None:
        query = query.where(Meeting.id != exclude_id)
    return list(session.scalars(query))


@dataclass(frozen=True)
class MeetingRow:
    """One meeting in a listing."""

    id: int
    group: str
    group_name: str
    title: str
    state: str
    state_title: str
    starts_at: datetime
    ends_at: datetime
    location: str
    chair: str | None
    secretary: str | None
    agenda_items: int
    open_actions: int
    version: int


@dataclass(frozen=True)
class AgendaItemView:
    """An agenda item with its record, and where a resumed item came from or went."""

    id: int
    position: int
    kind: str
    kind_title: str
    title: str
    presenter: str | None
    notes: str | None
    decision: str | None
    take_up_again: bool
    carried_from_item: int | None
    carried_from_meeting: int | None
    carried_to_item: int | None
    carried_to_meeting: int | None


@dataclass(frozen=True)
class AttendeeView:
    """Someone called to the meeting; ``present`` is None until the meeting is recorded."""

    email: str
    title: str
    present: bool | None


@dataclass(frozen=True)
class ActionView:
    """An action agreed at a meeting (or carried to it)."""

    id: int
    meeting_id: int
    text: str
    owner: str
    due_on: date
    done_at: datetime | None
    done_by: str | None
    carried_to_meeting: int | None
    carried_from_meeting: int | None
    is_open: bool


@dataclass(frozen=True)
class MeetingDetail:
    """Everything about one meeting."""

    meeting: MeetingRow
    minutes: str | None
    allowed: list[str]
    agenda: list[AgendaItemView]
    attendance: list[AttendeeView]
    actions: list[ActionView]
    earlier_open_actions: list[ActionView]
    checklist: list[StepView]
    history: list[AuditView]


def _row(app: App, meeting: Meeting) -> MeetingRow:
    tz = app.clock.tz
    definition = app.machine(meeting.workflow, meeting.workflow_version).definition
    assert meeting.starts_at is not None
    assert meeting.ends_at is not None
    return MeetingRow(
        id=meeting.id,
        group=meeting.unit.code,
        group_name=meeting.unit.name,
        title=meeting.title,
        state=meeting.state,
        state_title=definition.state_title(meeting.state),
        starts_at=meeting.starts_at.astimezone(tz),
        ends_at=meeting.ends_at.astimezone(tz),
        location=meeting.location or "",
        chair=meeting.chair.email if meeting.chair else None,
        secretary=meeting.secretary.email if meeting.secretary else None,
        agenda_items=len(meeting.agenda),
        open_actions=sum(1 for a in meeting.agreements if a.is_open),
        version=meeting.version,
    )


def action_view(app: App, agreement: Agreement, carried_from: int | None = None) -> ActionView:
    """How an action is shown and written as JSON."""
    return ActionView(
        id=agreement.id,
        meeting_id=agreement.instance_id,
        text=agreement.text,
        owner=agreement.owner.email,
        due_on=agreement.due_on,
        done_at=agreement.done_at.astimezone(app.clock.tz) if agreement.done_at else None,
        done_by=agreement.done_by,
        carried_to_meeting=agreement.carried_to_id,
        carried_from_meeting=carried_from,
        is_open=agreement.is_open,
    )


def list_meetings(
    app: App,
    *,
    group: str | None = None,
    from_day: date | None = None,
    to_day: date | None = None,
    state: str | None = None,
) -> list[MeetingRow]:
    """Meetings in date order; ``from_day`` and ``to_day`` are local dates, both included."""
    tz = app.clock.tz
    with app.db.session() as session:
        query = select(Meeting).order_by(Meeting.starts_at, Meeting.id)
        if group:
            query = query.join(OrgUnit, Meeting.unit_id == OrgUnit.id).where(OrgUnit.code == group)
        if from_day:
            query = query.where(Meeting.starts_at >= local_datetime(from_day, _MIDNIGHT, tz))
        if to_day:
            end = local_datetime(to_day + timedelta(days=1), _MIDNIGHT, tz)
            query = query.where(Meeting.starts_at < end)
        if state:
            query = query.where(Meeting.state == state)
        return [_row(app, m) for m in session.scalars(query)]


_MIDNIGHT = datetime.min.time()


def meeting_detail(app: App, meeting_id: int) -> MeetingDetail:
    """One meeting as its detail page shows it."""
    tz = app.clock.tz
    with app.db.session() as session:
        meeting = session.get(Meeting, meeting_id)
        if meeting is None:
            raise NotFound("meeting", meeting_id)
        machine = app.machine(meeting.workflow, meeting.workflow_version)
        item_ids = [i.id for i in meeting.agenda]
        carried_on = {
            i.carried_from_id: i
            for i in session.scalars(
                select(AgendaItem).where(AgendaItem.carried_from_id.in_(item_ids))
            )
        }
        earlier: list[ActionView] = []
        if meeting.state in states_before(machine, "hold"):
            assert meeting.starts_at is not None
            earlier = [
                action_view(app, a)
                for a in open_actions_before(session, meeting.unit_id, meeting.starts_at)
            ]
        return MeetingDetail(
            meeting=_row(app, meeting),
            minutes=meeting.minutes,
            allowed=machine.allowed_triggers(meeting.state),
            agenda=[_item_view(item, carried_on.get(item.id)) for item in meeting.agenda],
            attendance=[
                AttendeeView(a.person.email, a.person.title, a.present) for a in meeting.attendees
            ],
            actions=_actions(app, session, meeting),
            earlier_open_actions=earlier,
            checklist=[
                StepView(
                    i.id,
                    i.key,
                    i.title,
                    i.assignee.email if i.assignee else None,
                    i.required,
                    i.due_at.astimezone(tz),
                    i.remind_at.astimezone(tz) if i.remind_at else i.due_at.astimezone(tz),
                    i.escalate_at.astimezone(tz) if i.escalate_at else i.due_at.astimezone(tz),
                    i.done_at.astimezone(tz) if i.done_at else None,
                    i.done_by,
                )
                for i in meeting.checklist
            ],
            history=[
                AuditView(
                    e.at.astimezone(tz), e.actor, e.trigger, e.from_state, e.to_state, e.reason
                )
                for e in history(session, meeting)
            ],
        )


def _item_view(item: AgendaItem, carried_on: AgendaItem | None) -> AgendaItemView:
    source = item.carried_from
    return AgendaItemView(
        id=item.id,
        position=item.position,
        kind=item.kind,
        kind_title=AGENDA_KIND_TITLES.get(item.kind, item.kind),
        title=item.title,
        presenter=item.presenter.email if item.presenter else None,
        notes=item.notes,
        decision=item.decision,
        take_up_again=item.take_up_again,
        carried_from_item=source.id if source else None,
        carried_from_meeting=source.meeting_id if source else None,
        carried_to_item=carried_on.id if carried_on else None,
        carried_to_meeting=carried_on.meeting_id if carried_on else None,
    )


def _actions(app: App, session: Session, meeting: Meeting) -> list[ActionView]:
    """The meeting's actions; one carried here is matched to its original by text and owner."""
    originals = list(
        session.scalars(
            select(Agreement)
            .where(Agreement.carried_to_id == meeting.id)
            .order_by(Agreement.instance_id, Agreement.position)
        )
    )
    views = []
    for action in meeting.agreements:
        original = next(
            (o for o in originals if (o.text, o.owner_id) == (action.text, action.owner_id)), None
        )
        if original is not None:
            originals.remove(original)
        views.append(action_view(app, action, original.instance_id if original else None))
    return views
