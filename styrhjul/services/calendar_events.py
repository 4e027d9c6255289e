"""The plan as a list and as a wheel: ``styrhjul events`` and ``styrhjul wheel``.

The list joins the årshjul's events with the dialogs and meetings planned from them, so a
person or a unit sees everything that concerns them in one place. An årshjul event held
by a unit concerns that unit and everything below it; a dialog concerns its unit, its
organiser and its participant; a meeting its group and those called to it.

That scope is decided here once: :func:`units_in_scope`, :func:`event_filter` and
:func:`instance_filter` serve the listing and the subscription feeds
(:mod:`styrhjul.services.feeds`), which read their own columns with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from operator import attrgetter

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, selectin_polymorphic, selectinload

from styrhjul.calendar.wheel import WheelEvent, WheelRing, render_wheel
from styrhjul.db.governance import Meeting, MeetingAttendee
from styrhjul.db.models import CalendarEvent, Dialog, Instance, OrgUnit, RoleAssignment
from styrhjul.errors import InputError
from styrhjul.services.context import App
from styrhjul.services.org import (
    ids_above,
    person_by_email,
    subtree_ids,
    unit_by_code,
    valid_on,
)
from styrhjul.services.yearplan import load_year_rules, year_events

MAX_DAYS = 800
"""The longest period one listing covers (two school years and some)."""


@dataclass(frozen=True)
class EventRow:
    """One line of the plan: an årshjul event, a dialog or a meeting."""

    kind: str
    key: str
    title: str
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    ring: str
    unit: str
    status: str
    uid: str | None
    sequence: int
    moved_because: str | None = None


_ORDER = attrgetter("starts_at", "kind", "key")
"""The order of a listing: by start, then kind, then key."""


def list_events(
    app: App,
    first: date,
    last: date,
    *,
    unit: str | None = None,
    person: str | None = None,
    cancelled: bool = False,
) -> list[EventRow]:
    """Everything planned from ``first`` to ``last`` (inclusive), for a unit or a person.

    ``cancelled`` also lists årshjul events whose rule was removed (a feed shows them as
    cancelled, so subscribed calendars take them away rather than keep a stale copy).
    """
    start, end = period_instants(app, first, last)
    with app.db.session() as session:
        event_units, instance_units, person_id = units_in_scope(session, app, unit, person)
        rows = _calendar_rows(session, start, end, event_units, cancelled=cancelled)
        rows += _instance_rows(session, start, end, instance_units, person_id)
    return sorted(rows, key=_ORDER)


def period_instants(app: App, first: date, last: date) -> tuple[datetime, datetime]:
    """The instants from the start of ``first`` to the end of ``last``, checked."""
    if last < first:
        raise InputError(f"--to ({last}) is before --from ({first})", key="to")
    if (last - first).days > MAX_DAYS:
        raise InputError(f"a listing covers at most {MAX_DAYS} days", key="to")
    tz = app.clock.tz
    start = datetime.combine(first, datetime.min.time(), tz)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz)
    return start, end


def units_in_scope(
    session: Session, app: App, unit: str | None, person: str | None
) -> tuple[set[int] | None, set[int] | None, int | None]:
    """The units whose årshjul events and whose instances are in scope (None: all)."""
    if unit is None and person is None:
        return None, None, None
    event_units: set[int] = set()
    instance_units: set[int] = set()
    person_id = None
    if unit is not None:
        found = unit_by_code(session, unit)
        event_units |= _and_above(session, OrgUnit.id == found.id)
        below = set(session.scalars(subtree_ids(found.id)))
        event_units |= below
        instance_units |= below
    if person is not None:
        who = person_by_email(session, person)
        person_id = who.id
        held = select(RoleAssignment.unit_id).where(
            RoleAssignment.person_id == who.id, *valid_on(app.clock.today())
        )
        event_units |= _and_above(session, OrgUnit.id.in_(held))
    return event_units, (instance_units if unit is not None else set()), person_id


def _and_above(session: Session, which: ColumnElement[bool]) -> set[int]:
    """The ids of the units ``which`` selects and of every unit above them, in one statement."""
    return set(session.scalars(ids_above(which)))


def event_filter(
    start: datetime, end: datetime, units: set[int] | None, *, cancelled: bool
) -> list[ColumnElement[bool]]:
    """Which årshjul events a listing holds: those overlapping the period, of the units."""
    found = [CalendarEvent.starts_at < end, CalendarEvent.ends_at > start]
    if not cancelled:
        found.append(CalendarEvent.status == "planned")
    if units is not None:
        found.append(CalendarEvent.unit_id.in_(units))
    return found


def instance_filter(
    start: datetime, end: datetime, units: set[int] | None, person_id: int | None
) -> list[ColumnElement[bool]] | None:
    """Which dialogs and meetings a listing holds; None when nothing can be in scope."""
    found = [
        Instance.kind.in_(["dialog", "meeting"]),
        Instance.starts_at < end,
        Instance.ends_at > start,
    ]
    conditions = []
    if units:
        conditions.append(Instance.unit_id.in_(units))
    if person_id is not None:
        conditions.append(
            Instance.id.in_(
                select(Dialog.id).where(
                    or_(Dialog.organizer_id == person_id, Dialog.participant_id == person_id)
                )
            )
        )
        conditions.append(
            Instance.id.in_(
                select(MeetingAttendee.meeting_id).where(MeetingAttendee.person_id == person_id)
            )
        )
    if units is not None or person_id is not None:
        if not conditions:
            return None
        found.append(or_(*conditions))
    return found


def _calendar_rows(
    session: Session,
    start: datetime,
    end: datetime,
    units: set[int] | None,
    *,
    cancelled: bool = False,
) -> list[EventRow]:
    # plain columns, the unit's code joined in: no ORM objects for thousands of events
    query = select(
        CalendarEvent.key,
        CalendarEvent.title,
        CalendarEvent.starts_at,
        CalendarEvent.ends_at,
        CalendarEvent.all_day,
        CalendarEvent.ring,
        OrgUnit.code,
        CalendarEvent.status,
        CalendarEvent.ical_uid,
        CalendarEvent.ical_sequence,
        CalendarEvent.moved_because,
    )
    query = query.select_from(CalendarEvent).outerjoin(OrgUnit, CalendarEvent.unit_id == OrgUnit.id)
    query = query.where(*event_filter(start, end, units, cancelled=cancelled))
    return [
        EventRow(
            kind="event",
            key=key,
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            all_day=all_day,
            ring=ring,
            unit=code or "",
            status=status,
            uid=uid,
            sequence=sequence,
            moved_because=moved_because,
        )
        for (
            key,
            title,
            starts_at,
            ends_at,
            all_day,
            ring,
            code,
            status,
            uid,
            sequence,
            moved_because,
        ) in session.execute(query)
    ]


def _instance_rows(
    session: Session,
    start: datetime,
    end: datetime,
    units: set[int] | None,
    person_id: int | None,
) -> list[EventRow]:
    where = instance_filter(start, end, units, person_id)
    if where is None:
        return []
    query = (
        select(Instance)
        .options(selectin_polymorphic(Instance, [Dialog, Meeting]), selectinload(Instance.unit))
        .where(*where)
    )
    rows = []
    for instance in session.scalars(query):
        assert instance.starts_at is not None
        assert instance.ends_at is not None
        ring = instance.level if isinstance(instance, Dialog) else "meeting"
        if isinstance(instance, Meeting):
            ring = f"meeting:{instance.unit.code}"
        rows.append(
            EventRow(
                kind=instance.kind,
                key=instance.key,
                title=instance.title,
                starts_at=instance.starts_at,
                ends_at=instance.ends_at,
                all_day=False,
                ring=ring,
                unit=instance.unit.code,
                status=instance.state,
                uid=instance.ical_uid,
                sequence=instance.ical_sequence,
            )
        )
    return rows


def wheel_svg(app: App, year: int, *, today: date | None = None) -> str:
    """The årshjul of ``year`` as SVG: the stored plan if the year is planned, else the rules."""
    arshjul = load_year_rules(app)
    tz = app.clock.tz
    rings = [WheelRing(r.key, r.title, r.colour) for r in arshjul.rings]
    events: list[WheelEvent] = []
    stored = year_events(app, year)
    if stored:
        for row in stored:
            first = row.starts_at.astimezone(tz).date()
            last = (row.ends_at - timedelta(microseconds=1)).astimezone(tz).date()
            events.append(WheelEvent(row.ring, row.title, first, max(first, last), row.series))
    else:
        for occurrence in arshjul.resolve(year, app.calendar):
            spec = arshjul.event(occurrence.rule_id)
            first = occurrence.starts_at.astimezone(tz).date()
            last = (occurrence.ends_at - timedelta(microseconds=1)).astimezone(tz).date()
            events.append(WheelEvent(spec.ring, spec.title, first, max(first, last), spec.series))
    for name, first, last in _holiday_periods(arshjul.school_holidays(year)):
        events.append(WheelEvent(arshjul.holiday_ring, name, first, last))
    return render_wheel(arshjul.title, year, rings, events, today=today)


def _holiday_periods(days: dict[date, str]) -> list[tuple[str, date, date]]:
    """Runs of consecutive days with the same name, as (name, first, last)."""
    periods: list[tuple[str, date, date]] = []
    for day in sorted(days):
        name = days[day]
        if periods and periods[-1][0] == name and (day - periods[-1][2]).days <= 3:
            periods[-1] = (name, periods[-1][1], day)
        else:
            periods.append((name, day, day))
    return periods
