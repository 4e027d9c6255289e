"""Plan assignment (VP-uppdrag) use cases: create, change units, move on, report, revise.

The director gives each assignment to an area head (verksamhetschef), who plans it from a
situation analysis, carries it out and follows it up; its steering group and supporting
department heads are recorded with it. Every use case is one transaction on the generic
instance machinery (:mod:`styrhjul.services.instances`): the definition
``workflows/vp_assignment.toml`` decides who may do what in which state, and this module
adds what only an assignment has: its units concerned with their per-unit dialog steps
(:mod:`styrhjul.services.assignment_rules`), the follow-up report to LG and SG that
satisfies the yearly rule (:mod:`styrhjul.services.recurring`), and the revision into next
school year's plan. Read models are in :mod:`styrhjul.services.assignment_views`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from styrhjul.calendar import SchoolYear
from styrhjul.db.governance import Assignment, AssignmentMember, AssignmentUnit
from styrhjul.db.models import Instance, OrgUnit, Person
from styrhjul.errors import InputError, PermissionDenied, TransitionRefused
from styrhjul.services.acknowledgements import acknowledge
from styrhjul.services.assignment_rules import (
    CREATOR_ROLE,
    RESPONSIBLE_ROLE,
    concerned_units,
    drop_unit_step,
    people,
    raise_unit_steps,
    require_editor,
    require_support_role,
    responsible_area,
)
from styrhjul.services.audit import audit_instance
from styrhjul.services.context import App
from styrhjul.services.instances import actor_roles, fire, instance_transaction, ref
from styrhjul.services.org import holder_over, holders, person_by_email, roles_of, unit_by_code
from styrhjul.services.recurring import satisfy_recurring

WORKFLOW = "vp_assignment"
STEERING_GROUP = "steering_group"
SUPPORT = "support"
REPORT = "report"
REVISE = "revise"
NEEDS_REASON = frozenset({"withdraw", "cancel"})
"""Triggers that end an assignment early: the history must say why."""
DEFAULT_REPORT_TO = ("lg", "sg")


@dataclass(frozen=True)
class NewAssignment:
    """A plan assignment as the director gives it."""

    title: str
    responsible: str
    school_year: SchoolYear
    description: str = ""
    units: Sequence[str] = ()
    steering_group: Sequence[str] = ()
    support: Sequence[str] = ()


@dataclass(frozen=True)
class UnitsChange:
    """What a change of the units concerned did."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    steps_raised: list[int] = field(default_factory=list)
    steps_dropped: list[str] = field(default_factory=list)


@contextmanager
def assignment_transaction(
    app: App, assignment_id: int, expected_version: int | None = None
) -> Iterator[tuple[Session, Assignment]]:
    """Load an assignment for change (see :func:`instance_transaction`)."""
    with instance_transaction(app, assignment_id, expected_version, model=Assignment) as pair:
        yield pair


def create_assignment(app: App, new: NewAssignment, *, actor: str) -> int:
    """The director gives an area head a plan assignment for a school year: a draft."""
    title = new.title.strip()
    if not title:
        raise InputError("a plan assignment needs a title", key="title")
    if len(title) > 300:
        raise InputError(f"the title is {len(title)} characters; at most 300", key="title")
    with app.db.session() as session:
        responsible = person_by_email(session, new.responsible)
        area = responsible_area(app, session, responsible)
        creator = person_by_email(session, actor)
        held = roles_of(session, creator, area, app.clock.today())
        if CREATOR_ROLE not in held:
            raise PermissionDenied(
                f"only the director gives plan assignments; {actor} holds "
                f"{', '.join(sorted(held)) or 'no role'} over {area.code}"
            )
        assignment = _new_assignment(
            app,
            session,
            title=title,
            description=new.description.strip(),
            responsible=responsible,
            area=area,
            year=new.school_year,
            units=concerned_units(session, new.units),
            members=_members(app, session, new.steering_group, new.support),
        )
        audit_instance(
            session,
            assignment,
            at=app.clock.now(),
            actor=actor,
            trigger="create",
            from_state=None,
            reason=f"given to {responsible.email} for {new.school_year.label}",
        )
        _acknowledge_units(
            app, session, assignment, [link.unit for link in assignment.units], actor
        )
        return assignment.id


def _acknowledge_units(
    app: App, session: Session, assignment: Assignment, units: Sequence[OrgUnit], actor: str
) -> None:
    """Every rektor of a unit the assignment now concerns gets a kvittens of it."""
    for unit in units:
        acknowledge(
            app,
            session,
            unit,
            what=f"Enheten berörs av VP-uppdraget ”{assignment.title}” "
            f"(läsåret {assignment.school_year}).",
            actor=actor,
            key=f"assignment-unit:{assignment.id}:{unit.code}",
        )


def _members(
    app: App, session: Session, steering_group: Sequence[str], support: Sequence[str]
) -> list[tuple[Person, str]]:
    steering = people(session, steering_group, "steering_group")
    helpers = people(session, support, "support")
    for person in helpers:
        require_support_role(app, session, person)
        if person in steering:
            raise InputError(
                f"{person.email} is named both in the steering group and as support; "
                "a person takes part in one way",
                key="support",
            )
    return [(p, STEERING_GROUP) for p in steering] + [(p, SUPPORT) for p in helpers]


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:200] or "uppdrag"


def _new_assignment(
    app: App,
    session: Session,
    *,
    title: str,
    description: str,
    responsible: Person,
    area: OrgUnit,
    year: SchoolYear,
    units: Sequence[OrgUnit],
    members: Sequence[tuple[Person, str]],
    revised_from: Assignment | None = None,
) -> Assignment:
    key = f"assignment:{year.label}:{_slug(title)}"
    existing = session.scalar(select(Instance).where(Instance.key == key))
    if existing is not None:
        raise InputError(
            f"{title!r} is too like {existing.title!r}, the title of {ref(existing)} in "
            f"{year.label}; give each assignment of a school year its own title",
            key="title",
        )
    definition = app.machine(WORKFLOW).definition
    now = app.clock.now()
    assignment = Assignment(
        key=key,
        workflow=definition.name,
        workflow_version=definition.version,
        title=title,
        description=description,
        unit=area,
        school_year=year.label,
        state=definition.spec.workflow.initial,
        responsible=responsible,
        revised_from_id=revised_from.id if revised_from else None,
        ical_sequence=0,
        created_at=now,
        updated_at=now,
    )
    assignment.units = [AssignmentUnit(unit=u) for u in units]
    assignment.members = [AssignmentMember(person=p, role=role) for p, role in members]
    session.add(assignment)
    session.flush()
    return assignment


def change_units(
    app: App,
    assignment_id: int,
    *,
    actor: str,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    expected_version: int | None = None,
) -> UnitsChange:
    """Add and remove units concerned, until the assignment ends; dialog steps follow."""
    if not add and not remove:
        raise InputError("name a unit to add or to remove", key="unit")
    with assignment_transaction(app, assignment_id, expected_version) as (session, assignment):
        definition = app.machine(assignment.workflow, assignment.workflow_version).definition
        if assignment.state in definition.final_states:
            raise TransitionRefused(
                ref(assignment),
                "change units",
                assignment.state,
                (),
                reason=f"it has ended ({definition.state_title(assignment.state)})",
            )
        require_editor(actor_roles(app, session, assignment, actor), assignment, actor)
        current = [link.unit for link in assignment.units]
        adding = concerned_units(session, add)
        removing = [unit_by_code(session, code) for code in remove]
        for unit in adding:
            if unit in current:
                raise InputError(f"{ref(assignment)} already concerns {unit.code}", key="unit")
        dropped = []
        for unit in removing:
            if unit not in current:
                raise InputError(f"{ref(assignment)} does not concern {unit.code}", key="unit")
            assignment.units = [link for link in assignment.units if link.unit is not unit]
            if (item := drop_unit_step(assignment, unit)) is not None:
                dropped.append(item.key)
        assignment.units.extend(AssignmentUnit(unit=u) for u in adding)
        _acknowledge_units(app, session, assignment, adding, actor)
        raised = raise_unit_steps(app, assignment)
        parts = [f"added {', '.join(u.code for u in adding)}"] if adding else []
        parts += [f"removed {', '.join(u.code for u in removing)}"] if removing else []
        audit_instance(
            session,
            assignment,
            at=app.clock.now(),
            actor=actor,
            trigger="units",
            from_state=assignment.state,
            reason="; ".join(parts),
        )
        session.flush()
        return UnitsChange(
            added=[u.code for u in adding],
            removed=[u.code for u in removing],
            steps_raised=[item.id for item in raised],
            steps_dropped=dropped,
        )


def move(
    app: App,
    assignment_id: int,
    trigger: str,
    *,
    actor: str,
    reason: str = "",
    override: bool = False,
    expected_version: int | None = None,
) -> str:
    """Move the assignment on by ``trigger``; entering work gives each unit its dialog step.

    With ``override`` the director passes a refusing guard, giving a reason (audited).
    Reports and revisions have their own use cases, since they carry more than a trigger.
    """
    if trigger == REPORT:
        raise InputError("a follow-up report needs a summary: use report_follow_up", key="trigger")
    if trigger == REVISE:
        raise InputError("revising creates next year's draft: use revise", key="trigger")
    if trigger in NEEDS_REASON and not reason.strip():
        raise InputError(f"'{trigger}' needs a reason", key="reason")
    with assignment_transaction(app, assignment_id, expected_version) as (session, assignment):
        state = fire(app, session, assignment, trigger, actor, reason, override=override)
        raise_unit_steps(app, assignment)
        return state


def report_follow_up(
    app: App,
    assignment_id: int,
    *,
    actor: str,
    summary: str,
    to: Sequence[str] = DEFAULT_REPORT_TO,
    expected_version: int | None = None,
) -> list[str]:
    """Record that follow-up was reported to LG and SG; it counts as this school year's report.

    The open yearly report step is completed (or, if not raised yet, recorded as done so
    that it will not be). Returns the keys of those steps.
    """
    if not summary.strip():
        raise InputError("a follow-up report needs a summary of what was reported", key="summary")
    if not to:
        raise InputError("name the groups the follow-up was reported to", key="to")
    with assignment_transaction(app, assignment_id, expected_version) as (session, assignment):
        groups = []
        for code in dict.fromkeys(to):
            group = unit_by_code(session, code)
            if group.kind != "group":
                raise InputError(f"{code!r} is a {group.kind}, not a group such as LG", key="to")
            groups.append(group.code.upper())
        fire(
            app,
            session,
            assignment,
            REPORT,
            actor,
            f"reported to {', '.join(groups)}: {summary.strip()}",
        )
        steps = satisfy_recurring(app, session, assignment, actor=actor, at=app.clock.now())
        return [item.key for item in steps]


def revise(
    app: App,
    assignment_id: int,
    *,
    actor: str,
    reason: str = "",
    expected_version: int | None = None,
) -> int:
    """Revise an evaluated assignment into next school year's plan: the id of the new draft.

    The draft keeps title, description, units, steering group and support; its responsible
    is the same area head, or whoever leads the area now.
    """
    with assignment_transaction(app, assignment_id, expected_version) as (session, old):
        fire(app, session, old, REVISE, actor, reason)
        today = app.clock.today()
        responsible = old.responsible
        if responsible not in holders(session, old.unit, RESPONSIBLE_ROLE, today):
            successor = holder_over(session, old.unit, RESPONSIBLE_ROLE, today)
            if successor is None:
                raise InputError(
                    f"{old.unit.code} has no area head on {today} to take the revised assignment",
                    key="responsible",
                )
            responsible = successor
        year = SchoolYear.parse(old.school_year or "").next()
        draft = _new_assignment(
            app,
            session,
            title=old.title,
            description=old.description,
            responsible=responsible,
            area=old.unit,
            year=year,
            units=[link.unit for link in old.units],
            members=[(m.person, m.role) for m in old.members],
            revised_from=old,
        )
        audit_instance(
            session,
            draft,
            at=app.clock.now(),
            actor=actor,
            trigger="create",
            from_state=None,
            reason=f"revised from {ref(old)} ({old.school_year}) for {year.label}",
        )
        return draft.id
