"""Writing many new instances at once: rows through Core ``executemany``, not ORM objects.

Planning a year creates tens of thousands of instances, steps and audit rows that nothing
in the planning transaction reads back as objects. Through the unit of work each of them
is an object to build, track and flush, and on SQLite (whose RETURNING gives no order)
each insert that needs its id back is a statement of its own. So planning builds plain
rows, and this module writes them one ``executemany`` per table and reads the new
instances' ids back by their natural keys in one query per few thousand keys.

The rows carry every column the ORM would have written (the version column starts at 1,
the event columns are NULL unless given), so what lands in the tables is what
:class:`~styrhjul.db.models.Instance`, :class:`~styrhjul.db.models.ChecklistItem` and
:class:`~styrhjul.db.models.AuditEvent` objects would have left. Helpers for the row
values the ORM path computes (a step's dates and assignee) live here too, memoised for one
planning transaction.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from styrhjul.db.models import AuditEvent, ChecklistItem, Instance, OrgUnit, Person
from styrhjul.engine.definition import START, TimingSpec, WorkflowDefinition
from styrhjul.services.context import App
from styrhjul.services.org import holder_over, unit_by_code
from styrhjul.services.schedule import StepTimes, due_times, step_anchor, step_times

Row = dict[str, Any]

KEYS_PER_QUERY = 5000
"""Keys per ``IN`` list when reading ids back: well under SQLite's and PostgreSQL's limits."""

_INSTANCE_DEFAULTS: Row = {
    "parent_id": None,
    "school_year": None,
    "starts_at": None,
    "ends_at": None,
    "prepare_at": None,
    "invite_at": None,
    "location": None,
    "ical_uid": None,
    "ical_sequence": 0,
    "minutes": None,
    "version": 1,
}


def table_of(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def instance_row(**values: Any) -> Row:
    """A row of the ``instance`` table: ``values`` over the columns a new instance leaves NULL."""
    return {**_INSTANCE_DEFAULTS, **values}


def step_row(
    *,
    instance_id: int,
    position: int,
    key: str,
    title: str,
    assignee_role: str,
    assignee_id: int | None,
    required: bool,
    due_at: datetime,
    remind_at: datetime | None,
    escalate_at: datetime | None,
    origin: str = "definition",
) -> Row:
    """A new open step, as :func:`styrhjul.services.instances.add_step` makes it."""
    return {
        "instance_id": instance_id,
        "position": position,
        "key": key,
        "title": title,
        "assignee_role": assignee_role,
        "assignee_id": assignee_id,
        "required": required,
        "origin": origin,
        "due_at": due_at,
        "remind_at": remind_at,
        "escalate_at": escalate_at,
        "reminded_at": None,
        "overdue_notified_at": None,
        "escalation_level": 0,
        "notice_round": 0,
        "done_at": None,
        "done_by": None,
    }


def audit_row(
    *,
    entity: str,
    entity_id: int,
    at: datetime,
    actor: str,
    trigger: str,
    from_state: str | None,
    to_state: str | None,
    reason: str,
) -> Row:
    """An audit row, as :func:`styrhjul.services.audit.audit_instance` writes it."""
    return {
        "entity": entity,
        "entity_id": entity_id,
        "at": at,
        "actor": actor,
        "trigger": trigger,
        "from_state": from_state,
        "to_state": to_state,
        "reason": reason,
    }


def insert_rows(session: Session, model: type[Any], rows: Sequence[Row]) -> None:
    """Insert ``rows`` into ``model``'s own table with one ``executemany`` (none if empty)."""
    if rows:
        session.connection().execute(table_of(model).insert(), list(rows))


def insert_instances(session: Session, rows: Sequence[Row]) -> dict[str, int]:
    """Insert instance rows (in order, so ids rise with it); their ids by key.

    Keys are unique, so reading the ids back by key finds exactly the rows just written.
    """
    insert_rows(session, Instance, rows)
    return ids_by_key(session, [row["key"] for row in rows])


def ids_by_key(session: Session, keys: Sequence[str]) -> dict[str, int]:
    """The ids of the instances with ``keys`` (those that exist)."""
    found: dict[str, int] = {}
    for chunk in _chunks(keys, KEYS_PER_QUERY):
        query = select(Instance.key, Instance.id).where(Instance.key.in_(chunk))
        found.update((key, id_) for key, id_ in session.execute(query))
    return found


def insert_steps(session: Session, rows: Sequence[Row]) -> None:
    insert_rows(session, ChecklistItem, rows)


def insert_audits(session: Session, rows: Sequence[Row]) -> None:
    insert_rows(session, AuditEvent, rows)


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class Resolver:
    """Step dates and role holders for one planning transaction, each computed once.

    Thousands of new instances share a handful of anchors, offsets, roles and days; the
    answers are those of :func:`~styrhjul.services.schedule.due_times`,
    :func:`~styrhjul.services.schedule.step_times`,
    :func:`~styrhjul.services.org.holder_over` and
    :func:`~styrhjul.services.org.unit_by_code`, remembered by their arguments. Valid only
    while the organisation does not change, which holds inside one planning transaction.
    """

    def __init__(self, app: App, session: Session) -> None:
        self.app = app
        self.session = session
        self._due: dict[tuple[int, datetime, int, bool], tuple[datetime, datetime, datetime]] = {}
        self._holders: dict[tuple[int, str, date], Person | None] = {}
        self._units: dict[str, OrgUnit] = {}
        self._times: dict[tuple[int, datetime], StepTimes] = {}

    def step_times(self, definition: WorkflowDefinition, starts_at: datetime) -> StepTimes:
        key = (id(definition), starts_at)
        found = self._times.get(key)
        if found is None:
            found = step_times(self.app, definition, starts_at)
            self._times[key] = found
        return found

    def due(
        self, timing: TimingSpec, anchor: datetime, offset: int, *, event: bool = True
    ) -> tuple[datetime, datetime, datetime]:
        key = (id(timing), anchor, offset, event)
        found = self._due.get(key)
        if found is None:
            found = due_times(self.app, timing, anchor, offset, event=event)
            self._due[key] = found
        return found

    def holder(self, unit: OrgUnit, role: str, on: date) -> Person | None:
        key = (unit.id, role, on)
        if key in self._holders:
            return self._holders[key]
        found = holder_over(self.session, unit, role, on)
        self._holders[key] = found
        return found

    def unit(self, code: str) -> OrgUnit:
        found = self._units.get(code)
        if found is None:
            found = unit_by_code(self.session, code)
            self._units[code] = found
        return found

    def assignee(self, unit: OrgUnit, role: str, of: str, on: date) -> Person | None:
        """As :func:`~styrhjul.services.instances.resolve_assignee` for an instance of ``unit``."""
        return self.holder(unit if of == "unit" else self.unit(of), role, on)


def raised_step_rows(
    resolver: Resolver,
    definition: WorkflowDefinition,
    *,
    instance_id: int,
    unit: OrgUnit,
    starts_at: datetime | None,
    created_at: datetime,
) -> list[Row]:
    """The steps a new instance starts with, dated and assigned as :func:`raise_steps` does.

    (:func:`styrhjul.services.instances.raise_steps` on an instance with no steps yet:
    anchored at the event, at the instance's creation, or at the clock's now.)
    """
    now = resolver.app.clock.now()
    rows: list[Row] = []
    for step in definition.steps_raised_in(None):
        anchor = step_anchor(step, starts_at=starts_at, created_at=created_at, now=now)
        if anchor is None:
            raise ValueError(f"step {step.key!r} counts from the event, which has no time")
        due, remind, escalate = resolver.due(
            definition.spec.timing, anchor, step.offset, event=step.anchor == START
        )
        rows.append(
            step_row(
                instance_id=instance_id,
                position=len(rows) + 1,
                key=step.key,
                title=step.title,
                assignee_role=step.assignee,
                assignee_id=person_id(resolver.assignee(unit, step.assignee, step.of, due.date())),
                required=step.required,
                due_at=due,
                remind_at=remind,
                escalate_at=escalate,
            )
        )
    return rows


def load_parents(session: Session) -> list[OrgUnit]:
    """Every unit with units below it, in one query; keep the list while the session works.

    Sorting units by their parent and walking up to a role holder
    (:func:`~styrhjul.services.org.ancestors`) then find the parents in the session
    instead of loading them one query each. The session holds loaded objects only weakly,
    so the caller keeps the list.
    """
    return list(session.scalars(select(OrgUnit).where(OrgUnit.id.in_(select(OrgUnit.parent_id)))))


def person_id(person: Person | None) -> int | None:
    return person.id if person is not None else None


def flatten(groups: Iterable[Sequence[Row]]) -> list[Row]:
    return [row for group in groups for row in group]


@contextmanager
def older_objects_left_alone() -> Iterator[None]:
    """While planning, the collector scans only objects made since it began.

    Planning allocates hundreds of thousands of rows, objects and values; each time the
    collector runs a full collection it walks every object of the process, the long-lived
    application with it (definitions, templates, mappers, compiled statements), which
    planning does not touch: a year at 1,000 units spent about a quarter of its CPU time in
    three or four such collections. :func:`gc.freeze` moves the objects that exist on entry
    out of the collector's way, in constant time; :func:`gc.unfreeze` on exit hands them
    back, so nothing is kept alive that would have been collected, only collected later.
    Freezing is for the whole process, so where something else already froze objects (the
    web app freezes its startup heap while it serves), planning leaves the collector to it:
    unfreezing on exit would hand that heap back too.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
