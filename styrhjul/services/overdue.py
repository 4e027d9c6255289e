"""Read models of steps: what is overdue anywhere in the chain, and one person's steps.

Directors "see overdue steps, anywhere in the chain, at a glance". The listing is one SQL
query over the open steps of live instances (an instance in a final state has nothing
left to do), filtered in the database by unit subtree, level, assignee, days overdue and
what the viewer reads, sorted most overdue first (by due instant, then id, so the order is
total and stable). It must stay fast at a million steps: the page of a listing
(:mod:`styrhjul.services.overdue_pages`) walks the partial index of open steps by
``(due_at, id)`` and stops after one page, and nothing here loops over steps in Python
except to shape the rows it returns. A page's units and their areas are read with one
query up the tree from those units alone, never the whole organisation.

Days overdue are Swedish working days after the day the step was due, up to today.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    false,
    not_,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.orm import Session

from styrhjul.calendar import WorkingCalendar
from styrhjul.db.models import ChecklistItem, Dialog, Instance, OrgUnit, Person, RoleAssignment
from styrhjul.errors import InputError
from styrhjul.services.access import Viewer
from styrhjul.services.context import App
from styrhjul.services.org import ids_below, person_by_email, unit_by_code, valid_on
from styrhjul.vocabulary import INSTANCE_KINDS

AREA_KINDS = ("area", "department")
"""What the listing calls a unit's area: its operational area, or its department."""


def live_instances(app: App) -> ColumnElement[bool]:
    """SQL: the instance is not in a final state of its workflow (any version loaded)."""
    finals: dict[str, set[str]] = {}
    others: set[str] = set()
    for machine in app.machines.values():
        definition = machine.definition
        finals.setdefault(definition.name, set()).update(definition.final_states)
        others.update(s.name for s in definition.spec.state if not s.final)
    ended = tuple((name, tuple(sorted(states))) for name, states in sorted(finals.items()))
    return _not_ended(ended, frozenset(others))


@lru_cache(maxsize=32)
def _not_ended(
    finals: tuple[tuple[str, tuple[str, ...]], ...], others: frozenset[str]
) -> ColumnElement[bool]:
    """The condition for these final states, built once (a few dozen terms cost milliseconds).

    When no state is final in one workflow and not in another (so far none is), the state
    alone tells: one IN list, which the database checks for each step it passes over in
    half the time of a term per workflow.
    """
    names = sorted({state for _, states in finals for state in states})
    if not set(names) & others:
        return Instance.state.not_in(names) if names else true()
    ended = [
        and_(Instance.workflow == name, Instance.state.in_(states))
        for name, states in finals
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


Place = tuple[str, str, str, str]
"""A unit's code and name, and its area's code and name ("" for both when it has none)."""


_UP = text(
    "WITH RECURSIVE up (start, code, name, kind, parent_id, depth) AS ("
    " SELECT id, code, name, kind, parent_id, 0 FROM org_unit WHERE id IN :units"
    " UNION ALL"
    " SELECT up.start, o.code, o.name, o.kind, o.parent_id, up.depth + 1"
    " FROM up JOIN org_unit AS o ON o.id = up.parent_id"
    " WHERE up.kind NOT IN :areas)"
    " SELECT start, code, name, kind, depth FROM up"
).bindparams(bindparam("units", expanding=True), bindparam("areas", expanding=True))
"""From each unit up to its area or department (or the top). Written as text: the same
CTE built with the expression language cost a millisecond a page to key and compile."""


def places(session: Session, unit_ids: Iterable[int]) -> dict[int, Place]:
    """The code, name and area of each unit, from one walk up the tree from those units.

    The recursive query climbs from each unit until it reaches an area or department (or
    the top), so it reads a few rows per unit whatever the size of the organisation.
    """
    wanted = sorted(set(unit_ids))
    if not wanted:
        return {}
    own: dict[int, tuple[str, str]] = {}
    areas: dict[int, tuple[int, str, str]] = {}
    found = session.connection().execute(_UP, {"units": wanted, "areas": list(AREA_KINDS)}).all()
    for start, code, name, kind, depth in found:
        if depth == 0:
            own[start] = (code, name)
        if kind in AREA_KINDS and (start not in areas or depth < areas[start][0]):
            areas[start] = (depth, code, name)
    return {
        unit_id: (*own[unit_id], *(areas[unit_id][1:] if unit_id in areas else ("", "")))
        for unit_id in own
    }


def steps_query(app: App) -> Select[*tuple[Any, ...]]:
    """SQL: the steps of live instances with what a row shows, in no order yet."""
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
    )


@lru_cache(maxsize=64)
def _working_days_through(calendar: WorkingCalendar, year: int) -> tuple[int, ...]:
    """Working days of ``year`` from 1 January through each day (index: day of year - 1).

    Cached per calendar and year, so that days overdue cost a subtraction whatever how
    long ago a step fell due (walking the days took milliseconds a step for old ones).
    """
    counts = []
    found = 0
    day = date(year, 1, 1)
    while day.year == year:
        found += calendar.is_working_day(day)
        counts.append(found)
        day += timedelta(days=1)
    return tuple(counts)


def working_days_after(calendar: WorkingCalendar, day: date, today: date) -> int:
    """The working days ``d`` with ``day < d <= today`` (0 when ``day`` is not before today)."""
    if day >= today:
        return 0
    first = _working_days_through(calendar, day.year)
    last = _working_days_through(calendar, today.year)
    if day.year == today.year:
        return last[today.timetuple().tm_yday - 1] - first[day.timetuple().tm_yday - 1]
    between = sum(_working_days_through(calendar, y)[-1] for y in range(day.year + 1, today.year))
    return (
        first[-1]
        - first[day.timetuple().tm_yday - 1]
        + between
        + last[today.timetuple().tm_yday - 1]
    )


def shape_rows(app: App, session: Session, rows: Iterable[Row[*tuple[Any, ...]]]) -> list[StepRow]:
    """Shape the query's rows; days overdue and places are worked out once per date and unit."""
    rows = list(rows)
    place = places(session, (row.unit_id for row in rows))
    tz = app.clock.tz
    today = app.clock.today()
    now = app.clock.now()
    days: dict[date, int] = {}
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
                days[day] = working_days_after(app.calendar, day, today)
            overdue = days[day]
        unit_code, unit_name, area, area_name = place[unit_id]
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


@dataclass(frozen=True)
class OverdueFilter:
    """What a listing of overdue steps keeps; every part is applied in SQL.

    ``unit`` and ``area`` (codes) keep the steps of instances in that unit or anywhere
    under it (an area gives its schools and their teams; both narrow together);
    ``level`` keeps one dialog level (``area_rektor``) or one instance kind
    (``assignment``; ``dialog`` is every level); ``assignee`` (an e-mail address) the
    steps one person holds; ``min_days`` the steps at least that many working days overdue.
    """

    level: str | None = None
    area: str | None = None
    unit: str | None = None
    assignee: str | None = None
    min_days: int = 0

    @property
    def active(self) -> bool:
        return bool(self.level or self.area or self.unit or self.assignee or self.min_days)


def _check(app: App, filters: OverdueFilter) -> None:
    """Refuse a filter no listing can apply, naming it (InputError)."""
    if not 0 <= filters.min_days <= MAX_MIN_DAYS:
        raise InputError(
            f"min_days is {filters.min_days}; it must be from 0 to {MAX_MIN_DAYS}", key="min_days"
        )
    if filters.level is not None and filters.level not in levels(app):
        raise InputError(
            f"unknown level {filters.level!r}; levels are: {', '.join(levels(app))}", key="level"
        )
    for key, value in (
        ("area", filters.area),
        ("unit", filters.unit),
        ("assignee", filters.assignee),
    ):
        if value is not None and any(ord(c) < 0x20 or c == "\x7f" for c in value):
            raise InputError(f"{value!r} holds a control character", key=key)


def overdue_query(
    app: App, session: Session, filters: OverdueFilter, viewer: Viewer | None = None
) -> Select[*tuple[Any, ...]]:
    """SQL: the open, past-due steps of live instances that pass ``filters``, in no order.

    With a ``viewer``, only what they read (the steps of their units' instances and the
    steps assigned to them), and ``unit``/``area`` must be among their units: an unknown
    or unreadable code is an :class:`InputError` naming the filter. Without one, an
    unknown code is :class:`NotFound` (the CLI and the digest read everything).
    """
    _check(app, filters)
    # done_at IS NULL as written here is what lets the planner use the partial index
    query = steps_query(app).where(
        ChecklistItem.done_at.is_(None), ChecklistItem.due_at <= app.clock.now()
    )
    for key, code in (("area", filters.area), ("unit", filters.unit)):
        if code is None:
            continue
        if viewer is None:
            root = unit_by_code(session, code).id
        else:
            found = session.scalar(select(OrgUnit.id).where(OrgUnit.code == code))
            if found is None or not viewer.sees_unit(found):
                raise InputError(f"no unit {code!r} among the units you read", key=key)
            root = found
        query = query.where(Instance.unit_id.in_(ids_below(OrgUnit.id == root, f"{key}_tree")))
    if filters.level is not None:
        query = query.where(
            or_(Dialog.__table__.c.level == filters.level, Instance.kind == filters.level)
        )
    if viewer is not None and viewer.units is not None:
        query = query.where(
            or_(
                Instance.unit_id.in_(sorted(viewer.units)),
                ChecklistItem.assignee_id == viewer.person_id,
            )
        )
    if filters.assignee:
        query = query.where(Person.email == filters.assignee.strip().lower())
    if filters.min_days > 0:
        query = query.where(ChecklistItem.due_at < _late_since(app, filters.min_days))
    return query


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

    The whole listing, for the CLI and the weekly digest (the pages and the API read it
    a page at a time: :func:`styrhjul.services.overdue_pages.overdue_page`). The filters
    are those of :class:`OverdueFilter`; ``viewer`` keeps what that person may read.
    """
    filters = OverdueFilter(level=level, unit=unit, assignee=assignee, min_days=min_days)
    with app.db.session() as session:
        query = overdue_query(app, session, filters, viewer).order_by(
            ChecklistItem.due_at, ChecklistItem.id
        )
        if limit is not None:
            query = query.limit(limit)
        return shape_rows(app, session, session.execute(query))


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
        query = steps_query(app).order_by(ChecklistItem.due_at, ChecklistItem.id)
        if mine:
            query = query.where(ChecklistItem.assignee_id == person.id)
        else:
            held = select(RoleAssignment.unit_id).where(
                RoleAssignment.person_id == person.id, *valid_on(app.clock.today())
            )
            query = query.where(
                or_(
                    ChecklistItem.assignee_id == person.id,
                    Instance.unit_id.in_(ids_below(OrgUnit.id.in_(held), "held")),
                )
            )
        if open_only:
            query = query.where(ChecklistItem.done_at.is_(None))
        return shape_rows(app, session, session.execute(query))
