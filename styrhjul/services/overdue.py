"""Read models of steps: what is overdue anywhere in the chain, and one person's steps.

Directors "see overdue steps, anywhere in the chain, at a glance". The listing is one SQL
query over the open steps of live instances (an instance in a final state has nothing
left to do), filtered in the database by unit subtree and level, sorted most overdue
first; it serves the CLI and the web page alike and must stay fast at 100,000 steps, so
nothing here loops over steps in Python except to shape the rows it returns. Units are
few (hundreds), so the tree is read once per call to find subtrees and areas.

Days overdue are Swedish working days after the day the step was due, up to today.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, false, not_, or_, select
from sqlalchemy.orm import Session

from styrhjul.db.models import ChecklistItem, Dialog, Instance, OrgUnit, Person, RoleAssignment
from styrhjul.errors import InputError
from styrhjul.services.access import Viewer
from styrhjul.services.context import App
from styrhjul.services.org import person_by_email, unit_by_code, valid_on
from styrhjul.vocabulary import INSTANCE_KINDS

AREA_KINDS = ("area", "department")
"""What the listing calls a unit's area: its operational area, or its department."""


def live_instances(app: App) -> ColumnElement[bool]:
    """SQL: the instance is not in a final state of its workflow (any version loaded)."""
    finals: dict[str, set[str]] = {}
    for machine in app.machines.values():
        definition = machine.definition
        finals.setdefault(definition.name, set()).update(definition.final_states)
    ended = [
        and_(Instance.workflow == name, Instance.state.in_(sorted(states)))
        for name, states in sorted(finals.items())
        if states
    ]
    return not_(or_(false(), *ended))


@dataclass(frozen=True)
class StepRow:
    """One step in a listing, with its instance, unit, area and assignee."""

    id: int
    key: str
    title: str
    required: bool
    instance_kind: str
    instance_id: int
    instance_title: str
    instance_state: str
    level: str
    unit: str
    unit_name: str
    area: str
    area_name: str
    assignee: str | None
    assignee_title: str | None
    due_at: datetime
    done_at: datetime | None
    days_overdue: int
    escalation_level: int


class _Tree:
    """The organisation's units in memory: subtrees and areas by unit id."""

    def __init__(self, session: Session) -> None:
        rows = session.execute(
            select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.code, OrgUnit.name, OrgUnit.kind)
        ).all()
        self.units = {r.id: r for r in rows}
        self.children: dict[int, list[int]] = {}
        for r in rows:
            if r.parent_id is not None:
                self.children.setdefault(r.parent_id, []).append(r.id)

    def subtree(self, roots: Iterable[int]) -> set[int]:
        found: set[int] = set()
        stack = list(roots)
        while stack:
            unit_id = stack.pop()
            if unit_id not in found:
                found.add(unit_id)
                stack.extend(self.children.get(unit_id, ()))
        return found

    def area(self, unit_id: int) -> tuple[str, str]:
        """The code and name of the nearest area or department at or above the unit."""
        current: int | None = unit_id
        while current is not None:
            unit = self.units[current]
            if unit.kind in AREA_KINDS:
                return unit.code, unit.name
            current = unit.parent_id
        return "", ""


def _steps_query(app: App) -> Select[*tuple[Any, ...]]:
    dialog = Dialog.__table__
    return (
        select(
            ChecklistItem.id,
            ChecklistItem.key,
            ChecklistItem.title,
            ChecklistItem.required,
            ChecklistItem.due_at,
            ChecklistItem.done_at,
            ChecklistItem.escalation_level,
            Instance.kind.label("instance_kind"),
            Instance.id.label("instance_id"),
            Instance.title.label("instance_title"),
            Instance.state.label("instance_state"),
            Instance.unit_id,
            dialog.c.level.label("dialog_level"),
            Person.email.label("assignee"),
            Person.title.label("assignee_title"),
        )
        .select_from(ChecklistItem)
        .join(Instance, Instance.id == ChecklistItem.instance_id)
        .outerjoin(dialog, dialog.c.id == Instance.id)
        .outerjoin(Person, Person.id == ChecklistItem.assignee_id)
        .where(live_instances(app))
        .order_by(ChecklistItem.due_at, ChecklistItem.id)
    )


def _rows(app: App, tree: _Tree, rows: Iterable[Row[*tuple[Any, ...]]]) -> list[StepRow]:
    """Shape the query's rows; days overdue and places are worked out once per date and unit."""
    tz = app.clock.tz
    today = app.clock.today()
    now = app.clock.now()
    days: dict[date, int] = {}
    places: dict[int, tuple[str, str, str, str]] = {}
    result = []
    for (
        ident, key, title, required, due_at, done_at, escalation_level, instance_kind,
        instance_id, instance_title, instance_state, unit_id, dialog_level, assignee,
        assignee_title,
    ) in rows:  # fmt: skip
        due = due_at.astimezone(tz)
        overdue = 0
        if done_at is None and due_at <= now:
            day = due.date()
            if day not in days:
                days[day] = max(app.calendar.working_days_between(day, today), 0)
            overdue = days[day]
        if unit_id not in places:
            unit = tree.units[unit_id]
            places[unit_id] = (unit.code, unit.name, *tree.area(unit_id))
        unit_code, unit_name, area, area_name = places[unit_id]
        result.append(
            StepRow(
                id=ident, key=key, title=title, required=required, instance_kind=instance_kind,
                instance_id=instance_id, instance_title=instance_title,
                instance_state=instance_state, level=dialog_level or instance_kind,
                unit=unit_code, unit_name=unit_name, area=area, area_name=area_name,
                assignee=assignee, assignee_title=assignee_title, due_at=due,
                done_at=done_at.astimezone(tz) if done_at else None, days_overdue=overdue,
                escalation_level=escalation_level,
            )
        )  # fmt: skip
    return result


def levels(app: App) -> list[str]:
    """What ``--level`` accepts: every dialog level, and every instance kind."""
    dialog_levels = {
        m.definition.schedule.level for m in app.machines.values() if m.definition.kind == "dialog"
    }
    return sorted(dialog_levels | set(INSTANCE_KINDS))


MAX_MIN_DAYS = 400
"""The largest ``min_days`` a listing accepts (more than a year of working days)."""


def _late_since(app: App, min_days: int) -> datetime:
    """The instant before which a step must be due to be ``min_days`` working days overdue.

    Days overdue are the working days after the due day up to today, so a step is at
    least N days overdue when its due day lies before the Nth working day counted back
    from today (today included): that day's midnight is the bound, one SQL condition.
    """
    day = app.clock.today()
    found = 0
    while True:
        if app.calendar.is_working_day(day):
            found += 1
            if found == min_days:
                return datetime.combine(day, datetime.min.time(), app.clock.tz)
        day -= timedelta(days=1)


def overdue_steps(
    app: App,
    *,
    unit: str | None = None,
    level: str | None = None,
    limit: int | None = None,
    viewer: Viewer | None = None,
    assignee: str | None = None,
    min_days: int = 0,
) -> list[StepRow]:
    """Every open step past its due instant, in live instances, most overdue first.

    ``unit`` (a code) keeps the steps of instances in that unit or anywhere under it (an
    area code gives its schools and their teams); ``level`` keeps one dialog level
    (``area_rektor``) or one instance kind (``assignment``; ``dialog`` is every level).
    ``viewer`` keeps what that person may read (the steps of their units' instances and
    the steps assigned to them), ``assignee`` (an e-mail address) the steps one person
    holds, ``min_days`` the steps at least that many working days overdue.
    """
    if not 0 <= min_days <= MAX_MIN_DAYS:
        raise InputError(
            f"min_days is {min_days}; it must be from 0 to {MAX_MIN_DAYS}", key="min_days"
        )
    if level is not None and level not in levels(app):
        raise InputError(
            f"unknown level {level!r}; levels are: {', '.join(levels(app))}", key="level"
        )
    with app.db.session() as session:
        tree = _Tree(session)
        query = _steps_query(app).where(
            ChecklistItem.done_at.is_(None), ChecklistItem.due_at <= app.clock.now()
        )
        if unit is not None:
            root = unit_by_code(session, unit).id
            query = query.where(Instance.unit_id.in_(sorted(tree.subtree([root]))))
        if level is not None:
            query = query.where(or_(Dialog.__table__.c.level == level, Instance.kind == level))
        if viewer is not None and viewer.units is not None:
            query = query.where(
                or_(
                    Instance.unit_id.in_(sorted(viewer.units)),
                    ChecklistItem.assignee_id == viewer.person_id,
                )
            )
        if assignee:
            query = query.where(Person.email == assignee.strip().lower())
        if min_days > 0:
            query = query.where(ChecklistItem.due_at < _late_since(app, min_days))
        if limit is not None:
            query = query.limit(limit)
        return _rows(app, tree, session.execute(query))


def list_steps(
    app: App, actor: str, *, mine: bool = False, open_only: bool = False
) -> list[StepRow]:
    """The steps ``actor`` answers for, by due date.

    With ``mine``: the steps assigned to them. Without: also every step of the instances
    in the units where they hold a role today and the units under those (a rektor sees
    their school's, an area head their area's, the director everyone's).
    """
    with app.db.session() as session:
        person = person_by_email(session, actor)
        tree = _Tree(session)
        query = _steps_query(app)
        if mine:
            query = query.where(ChecklistItem.assignee_id == person.id)
        else:
            today = app.clock.today()
            held = session.scalars(
                select(RoleAssignment.unit_id).where(
                    RoleAssignment.person_id == person.id,
                    *valid_on(today),
                )
            )
            query = query.where(
                or_(
                    ChecklistItem.assignee_id == person.id,
                    Instance.unit_id.in_(sorted(tree.subtree(held))),
                )
            )
        if open_only:
            query = query.where(ChecklistItem.done_at.is_(None))
        return _rows(app, tree, session.execute(query))
