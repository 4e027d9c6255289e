"""Read models of the director's overview pages, scoped by who is looking.

The director and the controllers read the whole chain; an area head their area, a rektor
their school (:class:`~styrhjul.services.access.Viewer`). The listings themselves live in
their own services (overdue steps, assignments, the scorecard, the plan); this module only
narrows them to a viewer and groups them the way the pages show them, so that no page
handler or template holds a rule about who sees what. (The overdue listing narrows itself
in SQL, a page at a time: ``overdue_pages.overdue_page`` takes the viewer; the grouping
below is of the one page shown.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from sqlalchemy import or_, select

from styrhjul.db.governance import Assignment, AssignmentUnit
from styrhjul.db.models import OrgUnit
from styrhjul.services.access import Viewer
from styrhjul.services.assignment_views import AssignmentRow, list_assignments
from styrhjul.services.calendar_events import EventRow, list_events
from styrhjul.services.context import App
from styrhjul.services.overdue import AREA_KINDS, StepRow
from styrhjul.services.scorecard import MeasureView, scorecard

LEVEL_ORDER = (
    "council_board",
    "director_area",
    "director_department",
    "area_rektor",
    "rektor_team",
    "dialog",
    "assignment",
    "process",
    "meeting",
)
"""Levels from the top of the chain down; the overdue page groups in this order."""


class UnitChoice(NamedTuple):
    """A unit the viewer may filter by.

    A tuple, not a dataclass: the director's menus list the whole organisation on every
    overdue page, and the page unpacks each in its loop (``for _, code, name, _ in``),
    which renders them in half the time of reading attributes.
    """

    id: int
    code: str
    name: str
    kind: str


@dataclass
class UnitGroup:
    """The overdue steps of one unit."""

    code: str
    name: str
    rows: list[StepRow] = field(default_factory=list)


@dataclass
class AreaGroup:
    """The units of one area with overdue steps."""

    code: str
    name: str
    units: list[UnitGroup] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(u.rows) for u in self.units)


@dataclass
class LevelGroup:
    """The areas of one level (a dialog level or an instance kind) with overdue steps."""

    level: str
    areas: list[AreaGroup] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(a.count for a in self.areas)


def visible_units(app: App, viewer: Viewer) -> list[UnitChoice]:
    """The units the viewer reads, by name: what the filters offer.

    For the director that is the whole organisation (hundreds of units, thousands in a
    big city) on every overdue page, so the rows are read as plain tuples through Core:
    the ORM's row handling and named access cost several times the query itself.
    """
    query = select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.kind).order_by(OrgUnit.name)
    if viewer.units is not None:
        query = query.where(OrgUnit.id.in_(sorted(viewer.units)))
    with app.db.session() as session:
        # .all() fetches every row in one call; iterating fetches them one by one
        return [UnitChoice._make(row) for row in session.connection().execute(query).all()]


def areas_of(units: list[UnitChoice]) -> list[UnitChoice]:
    return [u for u in units if u.kind in AREA_KINDS]


def group_overdue(rows: list[StepRow]) -> list[LevelGroup]:
    """Rows by level (top of the chain first), area and unit (by name); most overdue first.

    Given one page of the listing, it groups that page: a unit's steps on other pages
    are in its group there.
    """
    levels: dict[str, dict[str, AreaGroup]] = {}
    units: dict[tuple[str, str, str], UnitGroup] = {}
    for row in rows:
        areas = levels.setdefault(row.level, {})
        area = areas.get(row.area)
        if area is None:
            area = areas[row.area] = AreaGroup(row.area, row.area_name or "Utan område")
        unit = units.get((row.level, row.area, row.unit))
        if unit is None:
            unit = units[(row.level, row.area, row.unit)] = UnitGroup(row.unit, row.unit_name)
            area.units.append(unit)
        unit.rows.append(row)
    order = {level: i for i, level in enumerate(LEVEL_ORDER)}
    result = []
    for level in sorted(levels, key=lambda lv: (order.get(lv, len(order)), lv)):
        group = LevelGroup(level, sorted(levels[level].values(), key=lambda a: a.name))
        for area in group.areas:
            area.units.sort(key=lambda u: u.name)
            for unit in area.units:
                unit.rows.sort(key=lambda r: (-r.days_overdue, r.due_at, r.id))
        result.append(group)
    return result


def scoped_assignments(app: App, viewer: Viewer) -> list[AssignmentRow]:
    """The assignments of the viewer's areas, those concerning their units, and their own."""
    rows = list_assignments(app)
    if viewer.units is None:
        return rows
    units = sorted(viewer.units)
    with app.db.session() as session:
        seen = set(
            session.scalars(
                select(Assignment.id).where(
                    or_(
                        Assignment.unit_id.in_(units),
                        Assignment.responsible_id == viewer.person_id,
                        Assignment.id.in_(
                            select(AssignmentUnit.assignment_id).where(
                                AssignmentUnit.unit_id.in_(units)
                            )
                        ),
                    )
                )
            )
        )
    return [r for r in rows if r.id in seen]


def scoped_scorecard(app: App, viewer: Viewer) -> list[MeasureView]:
    """The measures of the units the viewer reads."""
    measures = scorecard(app)
    if viewer.units is None:
        return measures
    codes = {u.code for u in visible_units(app, viewer)}
    return [m for m in measures if m.unit in codes]


def scoped_year_events(app: App, viewer: Viewer, year: int) -> list[EventRow]:
    """What is planned in calendar year ``year`` that concerns the viewer's units or them."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    if viewer.units is None:
        return list_events(app, first, last)
    found: dict[tuple[str, str], EventRow] = {}
    codes = sorted({code for _, code in viewer.roles})
    batches = [list_events(app, first, last, unit=code) for code in codes]
    batches.append(list_events(app, first, last, person=viewer.email))
    for batch in batches:
        for row in batch:
            found.setdefault((row.kind, row.key), row)
    return sorted(found.values(), key=lambda r: (r.starts_at, r.kind, r.key))
