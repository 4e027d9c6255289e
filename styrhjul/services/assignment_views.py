"""Read models of plan assignments (VP-uppdrag): the listing and the detail page.

What the director and the area heads ask of an assignment: where it stands, which units it
concerns (and whether they lie outside the responsible's area), its steering group and
support, its steps with the next one due, the last follow-up report to LG and SG, and the
assignment it was revised from or into. CLI, web and JSON all render these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from styrhjul.db.governance import Assignment
from styrhjul.db.models import ChecklistItem, OrgUnit, Person
from styrhjul.errors import NotFound
from styrhjul.services.assignment_rules import outside_area
from styrhjul.services.assignments import REPORT, STEERING_GROUP, SUPPORT
from styrhjul.services.audit import history as audit_history
from styrhjul.services.context import App
from styrhjul.services.views import AuditView


@dataclass(frozen=True)
class AssignmentRow:
    """One assignment in a listing."""

    id: int
    title: str
    school_year: str
    state: str
    state_title: str
    area: str
    area_name: str
    responsible: str
    units: int
    steps_open: int
    next_due_at: datetime | None
    next_step: str | None
    version: int


@dataclass(frozen=True)
class ConcernedUnit:
    """A unit the assignment concerns."""

    code: str
    name: str
    area: str
    outside_area: bool


@dataclass(frozen=True)
class MemberView:
    """A member of the steering group, or a department head supporting the assignment."""

    email: str
    title: str


@dataclass(frozen=True)
class AssignmentStep:
    """A step of an assignment, with what raised it (definition, unit, recurring rule)."""

    id: int
    key: str
    title: str
    assignee_role: str
    assignee: str | None
    required: bool
    origin: str
    due_at: datetime
    done_at: datetime | None
    done_by: str | None


@dataclass(frozen=True)
class ReportView:
    """A follow-up report to LG and SG, as the audit trail holds it."""

    at: datetime
    actor: str
    text: str


@dataclass(frozen=True)
class AssignmentDetail:
    """Everything about one assignment."""

    assignment: AssignmentRow
    description: str
    revised_from_id: int | None
    revised_into_id: int | None
    allowed: list[str]
    units: list[ConcernedUnit]
    steering_group: list[MemberView]
    support: list[MemberView]
    steps: list[AssignmentStep]
    next_due_step: AssignmentStep | None
    last_report: ReportView | None
    history: list[AuditView]


def _next_open(items: list[ChecklistItem]) -> ChecklistItem | None:
    open_items = [i for i in items if i.done_at is None]
    return min(open_items, key=lambda i: (i.due_at, i.position), default=None)


def _row(app: App, assignment: Assignment) -> AssignmentRow:
    definition = app.machine(assignment.workflow, assignment.workflow_version).definition
    nxt = _next_open(assignment.checklist)
    return AssignmentRow(
        id=assignment.id,
        title=assignment.title,
        school_year=assignment.school_year or "",
        state=assignment.state,
        state_title=definition.state_title(assignment.state),
        area=assignment.unit.code,
        area_name=assignment.unit.name,
        responsible=assignment.responsible.email,
        units=len(assignment.units),
        steps_open=sum(1 for i in assignment.checklist if i.done_at is None),
        next_due_at=nxt.due_at.astimezone(app.clock.tz) if nxt else None,
        next_step=nxt.title if nxt else None,
        version=assignment.version,
    )


def list_assignments(
    app: App,
    *,
    school_year: str | None = None,
    state: str | None = None,
    area: str | None = None,
    responsible: str | None = None,
) -> list[AssignmentRow]:
    """Assignments by school year and id, filtered as asked."""
    with app.db.session() as session:
        query = (
            select(Assignment)
            .options(
                selectinload(Assignment.unit),
                selectinload(Assignment.responsible),
                selectinload(Assignment.units),
                selectinload(Assignment.checklist),
            )
            .order_by(Assignment.school_year, Assignment.id)
        )
        if school_year:
            query = query.where(Assignment.school_year == school_year)
        if state:
            query = query.where(Assignment.state == state)
        if area:
            query = query.join(OrgUnit, Assignment.unit_id == OrgUnit.id).where(
                OrgUnit.code == area
            )
        if responsible:
            query = query.join(Person, Assignment.responsible_id == Person.id).where(
                Person.email == responsible.strip().lower()
            )
        return [_row(app, a) for a in session.scalars(query)]


def _step(app: App, item: ChecklistItem) -> AssignmentStep:
    tz = app.clock.tz
    return AssignmentStep(
        id=item.id,
        key=item.key,
        title=item.title,
        assignee_role=item.assignee_role,
        assignee=item.assignee.email if item.assignee else None,
        required=item.required,
        origin=item.origin,
        due_at=item.due_at.astimezone(tz),
        done_at=item.done_at.astimezone(tz) if item.done_at else None,
        done_by=item.done_by,
    )


def assignment_detail(app: App, assignment_id: int) -> AssignmentDetail:
    """One assignment with its units, members, steps, last report and history."""
    with app.db.session() as session:
        assignment = session.get(Assignment, assignment_id)
        if assignment is None:
            raise NotFound("assignment", assignment_id)
        tz = app.clock.tz
        history = audit_history(session, assignment)
        reports = [e for e in history if e.trigger == REPORT]
        nxt = _next_open(assignment.checklist)
        machine = app.machine(assignment.workflow, assignment.workflow_version)
        return AssignmentDetail(
            assignment=_row(app, assignment),
            description=assignment.description,
            revised_from_id=assignment.revised_from_id,
            revised_into_id=session.scalar(
                select(Assignment.id).where(Assignment.revised_from_id == assignment.id)
            ),
            allowed=machine.allowed_triggers(assignment.state),
            units=[
                ConcernedUnit(
                    link.unit.code,
                    link.unit.name,
                    link.unit.parent.code if link.unit.parent else "",
                    outside_area(session, assignment, link.unit),
                )
                for link in assignment.units
            ],
            steering_group=_members(assignment, STEERING_GROUP),
            support=_members(assignment, SUPPORT),
            steps=[_step(app, item) for item in assignment.checklist],
            next_due_step=_step(app, nxt) if nxt else None,
            last_report=(
                ReportView(reports[-1].at.astimezone(tz), reports[-1].actor, reports[-1].reason)
                if reports
                else None
            ),
            history=[
                AuditView(
                    e.at.astimezone(tz), e.actor, e.trigger, e.from_state, e.to_state, e.reason
                )
                for e in history
            ],
        )


def _members(assignment: Assignment, role: str) -> list[MemberView]:
    return [
        MemberView(m.person.email, m.person.title) for m in assignment.members if m.role == role
    ]
