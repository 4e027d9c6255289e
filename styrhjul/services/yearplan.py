"""The yearly plan: the årshjul's rules made concrete for one calendar year, and kept so.

:func:`plan_year` resolves every rule of the årshjul for a year and compares the result with
what the database holds. A year planned for the first time is written at once; after that,
a change of the rules or of the organisation is shown as what will be added, moved and
cancelled, and written only when asked (``apply``). A moved event keeps its key and UID and
raises its SEQUENCE; what it set going follows it: the round's dialogs that have not yet
taken place move by the same number of working days, a meeting is postponed. Planning the
same year again with nothing changed changes nothing.

What an event sets going is done through the services that own it (:func:`plan_round`,
:func:`schedule_meeting`, :func:`start_process`), each idempotent by its natural key, so a
plan interrupted halfway is completed by planning again. Occurrences already past when the
plan is made are recorded as events but start nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib.resources import as_file, files

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from styrhjul.calendar import SchoolYear
from styrhjul.calendar.arshjul import Arshjul, EventSpec, load_arshjul
from styrhjul.calendar.names import WEEKDAYS
from styrhjul.calendar.rules import Occurrence
from styrhjul.db.governance import Meeting
from styrhjul.db.models import CalendarEvent, Dialog, Instance, OrgUnit
from styrhjul.errors import (
    ConflictError,
    DefinitionError,
    InputError,
    NotFound,
    PermissionDenied,
    TransitionRefused,
)
from styrhjul.services.batch import audit_row, insert_audits, older_objects_left_alone
from styrhjul.services.context import App
from styrhjul.services.dialogs import replan
from styrhjul.services.meetings import (
    cancel_meeting,
    meeting_key,
    postpone_meeting,
    schedule_series,
)
from styrhjul.services.org import units_of_kind
from styrhjul.services.planning import dialog_definition, plan_round
from styrhjul.services.processes import start_processes
from styrhjul.vocabulary import SYSTEM

Progress = Callable[[int, int, str], None]
"""``progress(done, total, what)``: called as the plan is written, for a progress bar."""

ONE_DAY = timedelta(days=1)

PLAN_NEXT_YEAR_FROM = (11, 1)
"""From this month and day the next calendar year is planned too (invites need the lead)."""

ACTIVE_DIALOG_STATES = ("planned", "preparing", "ready")
"""Dialogs in these states have not taken place, so a moved or cancelled round takes them along."""


def load_year_rules(app: App) -> Arshjul:
    """The configured årshjul, or the example shipped with Styrhjul."""
    configured = app.settings.arshjul_path
    if configured is not None:
        return load_arshjul(configured)
    with as_file(files("styrhjul.examples") / "arshjul.toml") as path:
        return load_arshjul(path)


@dataclass(frozen=True)
class Change:
    """One thing the plan adds, moves or cancels."""

    action: str  # "add" | "move" | "cancel"
    what: str  # "event" | "dialogs" | "meeting" | "process"
    key: str
    title: str
    old: datetime | None = None
    new: datetime | None = None
    detail: str = ""


@dataclass
class YearPlan:
    """What planning a year found, and whether it was written."""

    year: int
    arshjul: str
    occurrences: int
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    applied: bool = False
    first_plan: bool = False
    started: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)


def _event_key(occurrence: Occurrence, year: int) -> str:
    return f"{occurrence.rule_id}:{year}:{occurrence.seq}"


def _uid(app: App, key: str) -> str:
    return f"arshjul-{key.replace(':', '-')}@{app.sender.domain}"


def check_links(app: App, session: Session, arshjul: Arshjul) -> None:
    """Every workflow, dialog level, group and unit the årshjul names must exist."""
    codes = set(session.scalars(select(OrgUnit.code)))
    kinds = set(session.scalars(select(OrgUnit.kind)))

    def fail(spec: EventSpec, key: str, message: str) -> DefinitionError:
        error = arshjul.source.error(DefinitionError, ("event", spec.index, key), message)
        assert isinstance(error, DefinitionError)
        return error

    if arshjul.unit not in codes:
        error = arshjul.source.error(
            DefinitionError, ("arshjul", "unit"), f"no unit {arshjul.unit!r} in the organisation"
        )
        raise error
    for spec in arshjul.events:
        if spec.workflow is not None:
            machine = app.machines.get(spec.workflow)
            if machine is None:
                raise fail(spec, "workflow", f"no workflow {spec.workflow!r}")
            if machine.definition.kind != "process":
                raise fail(
                    spec,
                    "workflow",
                    f"{spec.workflow!r} drives {machine.definition.kind} instances;"
                    " an event starts a process (dialogs and meetings have their own keys)",
                )
        if spec.for_each is not None and spec.for_each not in kinds:
            raise fail(spec, "for_each", f"no units of kind {spec.for_each!r}")
        if spec.unit is not None and spec.unit not in codes:
            raise fail(spec, "unit", f"no unit {spec.unit!r} in the organisation")
        if spec.dialog_level is not None:
            try:
                definition = dialog_definition(app, spec.dialog_level)
            except InputError as exc:
                raise fail(spec, "dialogs", exc.detail) from None
            if definition.round(spec.dialog_round or 0) is None:
                raise fail(
                    spec, "dialogs", f"level {spec.dialog_level} has no round {spec.dialog_round}"
                )
        if spec.meeting is not None:
            group = session.scalar(select(OrgUnit).where(OrgUnit.code == spec.meeting))
            if group is None or group.kind != "group":
                raise fail(spec, "meeting", f"{spec.meeting!r} is not a group such as lg or sg")


def plan_year(
    app: App,
    year: int,
    *,
    apply: bool = False,
    actor: str = SYSTEM,
    progress: Progress | None = None,
) -> YearPlan:
    """Resolve the årshjul for ``year``, compare with the stored plan, and write it if allowed.

    A year with no plan yet is written at once; an existing plan only with ``apply``.
    """
    arshjul = load_year_rules(app)
    occurrences = arshjul.resolve(year, app.calendar)
    specs = {spec.id: spec for spec in arshjul.events}
    plan = YearPlan(year, str(arshjul.path), len(occurrences))
    with app.db.session() as session:
        check_links(app, session, arshjul)
        existing = {
            e.key: e
            for e in session.scalars(select(CalendarEvent).where(CalendarEvent.year == year))
        }
        plan.first_plan = not existing
        wanted = {_event_key(o, year): o for o in occurrences}
        for key, occurrence in wanted.items():
            spec = specs[occurrence.rule_id]
            row = existing.get(key)
            if row is None or row.status == "cancelled":
                plan.changes.append(
                    Change("add", "event", key, spec.title, new=occurrence.starts_at)
                )
            elif row.starts_at != occurrence.starts_at or row.ends_at != occurrence.ends_at:
                plan.changes.append(
                    Change(
                        "move",
                        "event",
                        key,
                        spec.title,
                        old=row.starts_at,
                        new=occurrence.starts_at,
                        detail=_why(occurrence),
                    )
                )
            else:
                plan.unchanged += 1
        for key, row in existing.items():
            if key not in wanted and row.status == "planned":
                plan.changes.append(Change("cancel", "event", key, row.title, old=row.starts_at))
        plan.changes.extend(_missing_dialogs(app, session, arshjul, occurrences, year))
        plan.changes.extend(_not_set_going(app, arshjul, occurrences, existing, year))
    if plan.first_plan or (apply and plan.changes):
        with older_objects_left_alone():
            _write(app, plan, arshjul, occurrences, actor, progress)
        plan.applied = True
    return plan


def _why(occurrence: Occurrence) -> str:
    if occurrence.moved_because:
        return f"{occurrence.nominal} is {occurrence.moved_because}"
    return ""


def _round_of(spec: EventSpec, occurrence: Occurrence) -> tuple[str, str, int]:
    assert spec.dialog_level is not None
    assert spec.dialog_round is not None
    return spec.dialog_level, SchoolYear.of(occurrence.day).label, spec.dialog_round


def _not_set_going(
    app: App,
    arshjul: Arshjul,
    occurrences: list[Occurrence],
    existing: dict[str, CalendarEvent],
    year: int,
) -> list[Change]:
    """Stored future events whose meeting or process was never started (an interrupted plan)."""
    now = app.clock.now()
    changes = []
    for occurrence in occurrences:
        spec = arshjul.event(occurrence.rule_id)
        key = _event_key(occurrence, year)
        row = existing.get(key)
        linked = spec.meeting is not None or (spec.workflow is not None and not spec.for_each)
        if row is None or row.status != "planned" or not linked or row.instance_id is not None:
            continue
        if occurrence.starts_at <= now:
            continue
        what = "meeting" if spec.meeting else "process"
        changes.append(Change("add", what, key, spec.title, new=occurrence.starts_at))
    return changes


def keep_planned(app: App, day: date, *, actor: str = SYSTEM) -> list[YearPlan]:
    """Plan the year of ``day`` and, from 1 November, the next one, with the current rules.

    What the daemon does every day and a simulation on the days it matters: a year not
    yet planned is planned; changed rules are applied (on a schedule nobody confirms, the
    administration has already confirmed them by putting the file in place).
    """
    years = [day.year]
    if (day.month, day.day) >= PLAN_NEXT_YEAR_FROM:
        years.append(day.year + 1)
    return [plan_year(app, year, apply=True, actor=actor) for year in years]


def simulated_planning(first: date) -> Callable[[App, date], object]:
    """The daemon's planning as a simulation starting on ``first`` replays it.

    :func:`keep_planned` is idempotent, so only the days on which it can change something
    need it: the first day, New Year and the day the next year starts being planned.
    """

    def plan(app: App, day: date) -> object:
        if day == first or (day.month, day.day) in {(1, 1), PLAN_NEXT_YEAR_FROM}:
            return keep_planned(app, day)
        return None

    return plan


def _missing_dialogs(
    app: App, session: Session, arshjul: Arshjul, occurrences: list[Occurrence], year: int
) -> list[Change]:
    """Dialogs a round event of an already planned year still lacks (units added since)."""
    changes = []
    today = app.clock.today()
    for occurrence in occurrences:
        spec = arshjul.event(occurrence.rule_id)
        if spec.dialog_level is None or occurrence.day < today:
            continue
        level, school_year, round_no = _round_of(spec, occurrence)
        definition = dialog_definition(app, level)
        have = set(
            session.scalars(
                select(Dialog.unit_id).where(
                    Dialog.level == level,
                    Dialog.school_year == school_year,
                    Dialog.round_no == round_no,
                )
            )
        )
        if not have:
            continue  # the whole round is added with its event (or planned when applied)
        # by unit, as plan_round tells which units it still has to plan
        missing = [
            unit.code
            for unit in units_of_kind(session, definition.schedule.unit_kinds)
            if unit.id not in have
        ]
        if missing:
            changes.append(
                Change(
                    "add",
                    "dialogs",
                    _event_key(occurrence, year),
                    spec.title,
                    new=occurrence.starts_at,
                    detail=f"{len(missing)} units without a dialog: {', '.join(missing[:8])}"
                    + (" ..." if len(missing) > 8 else ""),
                )
            )
    return changes


def _write(
    app: App,
    plan: YearPlan,
    arshjul: Arshjul,
    occurrences: list[Occurrence],
    actor: str,
    progress: Progress | None,
) -> None:
    """Store the events, then set going what each one starts (idempotent, step by step)."""
    year = plan.year
    try:
        moved, cancelled_links = _store_events(app, plan, arshjul, occurrences, actor)
    except IntegrityError:
        # another process wrote the same events first (keys and UIDs are unique)
        raise ConflictError(f"the plan of {year}", None) from None
    _set_going(app, plan, arshjul, occurrences, moved, actor, progress)
    _take_back(app, plan, cancelled_links, actor)


def _store_events(
    app: App, plan: YearPlan, arshjul: Arshjul, occurrences: list[Occurrence], actor: str
) -> tuple[dict[str, datetime], list[tuple[str, str, int | None]]]:
    """Write the year's events in one transaction; what moved, and what a cancel takes back."""
    now = app.clock.now()
    year = plan.year
    moved: dict[str, datetime] = {}
    cancelled: list[CalendarEvent] = []
    with app.db.session() as session:
        root = session.scalar(select(OrgUnit).where(OrgUnit.code == arshjul.unit))
        assert root is not None
        units = {u.code: u.id for u in session.scalars(select(OrgUnit))}
        existing = {
            e.key: e
            for e in session.scalars(select(CalendarEvent).where(CalendarEvent.year == year))
        }
        wanted = {_event_key(o, year) for o in occurrences}
        audits: list[tuple[CalendarEvent, str, str | None, str, str]] = []
        for occurrence in occurrences:
            spec = arshjul.event(occurrence.rule_id)
            key = _event_key(occurrence, year)
            row = existing.get(key)
            if row is None:
                row = CalendarEvent(
                    key=key,
                    rule=occurrence.rule_id,
                    year=year,
                    seq=occurrence.seq,
                    ical_uid=_uid(app, key),
                    ical_sequence=0,
                    created_at=now,
                    status="planned",
                )
                session.add(row)
                audits.append((row, "plan", None, "planned", ""))
            elif row.status == "cancelled":
                row.status = "planned"
                row.ical_sequence += 1
                audits.append((row, "plan", "cancelled", "planned", ""))
            elif row.starts_at != occurrence.starts_at or row.ends_at != occurrence.ends_at:
                moved[key] = row.starts_at
                row.ical_sequence += 1
                audits.append(
                    (
                        row,
                        "move",
                        "planned",
                        "planned",
                        f"moved from {row.starts_at.astimezone(app.clock.tz):%Y-%m-%d %H:%M}"
                        + (f"; {_why(occurrence)}" if occurrence.moved_because else ""),
                    )
                )
            else:
                continue
            row.title = spec.title
            row.ring = spec.ring
            row.series = spec.series
            row.unit_id = units.get(spec.unit or arshjul.unit, root.id)
            row.starts_at = occurrence.starts_at
            row.ends_at = occurrence.ends_at
            row.all_day = occurrence.all_day
            row.nominal = occurrence.nominal
            row.moved_because = occurrence.moved_because
            row.updated_at = now
        for key, row in existing.items():
            if key not in wanted and row.status == "planned":
                row.status = "cancelled"
                row.ical_sequence += 1
                row.updated_at = now
                audits.append((row, "cancel", "planned", "cancelled", "rule removed"))
                cancelled.append(row)
        session.flush()
        insert_audits(  # rows, not objects: one statement for the year's events
            session,
            [
                audit_row(
                    entity="event",
                    entity_id=row.id,
                    at=now,
                    actor=actor,
                    trigger=trigger,
                    from_state=from_state,
                    to_state=to_state,
                    reason=reason or row.key,
                )
                for row, trigger, from_state, to_state, reason in audits
            ],
        )
        cancelled_links = [(r.key, r.rule, r.instance_id) for r in cancelled]
    return moved, cancelled_links


def _set_going(
    app: App,
    plan: YearPlan,
    arshjul: Arshjul,
    occurrences: list[Occurrence],
    moved: dict[str, datetime],
    actor: str,
    progress: Progress | None,
) -> None:
    now = app.clock.now()
    total = len(occurrences)
    rounds_moved: dict[tuple[str, str, int], tuple[date, date]] = {}
    to_schedule: dict[str, list[tuple[str, Occurrence]]] = {}
    for done, occurrence in enumerate(occurrences, start=1):
        spec = arshjul.event(occurrence.rule_id)
        key = _event_key(occurrence, plan.year)
        if progress is not None:
            progress(done, total, spec.title)
        if occurrence.ends_at <= now or (spec.dialog_level is None and occurrence.starts_at <= now):
            continue  # history: recorded, not set going
        if spec.dialog_level is not None:
            level, school_year, round_no = _round_of(spec, occurrence)
            if key in moved:
                old_day = moved[key].astimezone(app.clock.tz).date()
                rounds_moved[(level, school_year, round_no)] = (old_day, occurrence.day)
            result = plan_round(
                app,
                SchoolYear.of(occurrence.day),
                round_no,
                level=level,
                actor=actor,
                # a window already open is planned from tomorrow, never into the past
                window_start=max(occurrence.day, now.astimezone(app.clock.tz).date() + ONE_DAY),
                invite_ahead=arshjul.invite_working_days_ahead,
            )
            if result.created:
                plan.started.append(f"{key}: {len(result.created)} dialogs")
            plan.notes.extend(f"{key}: {unit} skipped, {why}" for unit, why in result.skipped)
        elif spec.meeting is not None:
            if _meeting(app, plan, spec, occurrence, key, key in moved, actor):
                to_schedule.setdefault(spec.meeting, []).append((key, occurrence))
        elif spec.workflow is not None:
            _process(app, plan, arshjul, spec, occurrence, key, actor)
    for group, pending in to_schedule.items():
        _schedule(app, plan, group, pending, actor)
    for (level, school_year, round_no), (old_day, new_day) in rounds_moved.items():
        _move_round(app, plan, level, school_year, round_no, old_day, new_day, actor)


def _link(app: App, key: str, instance_id: int) -> None:
    with app.db.session() as session:
        row = session.scalar(select(CalendarEvent).where(CalendarEvent.key == key))
        if row is not None and row.instance_id != instance_id:
            row.instance_id = instance_id


def _meeting(
    app: App,
    plan: YearPlan,
    spec: EventSpec,
    occurrence: Occurrence,
    key: str,
    was_moved: bool,
    actor: str,
) -> bool:
    """Link or move the event's meeting; True if it is still to be scheduled."""
    assert spec.meeting is not None
    with app.db.session() as session:
        row = session.scalar(select(CalendarEvent).where(CalendarEvent.key == key))
        linked = session.get(Meeting, row.instance_id) if row and row.instance_id else None
        group = session.scalar(select(OrgUnit).where(OrgUnit.code == spec.meeting))
        assert group is not None
        same_day = session.scalar(
            select(Meeting.id).where(Meeting.key == meeting_key(group, occurrence.day))
        )
        linked_id = linked.id if linked else None
        linked_at = linked.starts_at if linked else None
    if linked_id is not None:
        if was_moved and linked_at != occurrence.starts_at:
            try:
                postpone_meeting(
                    app,
                    linked_id,
                    actor=actor,
                    starts_at=occurrence.starts_at,
                    reason=f"årshjulet ändrat: {spec.title}",
                )
            except (ConflictError, InputError, PermissionDenied, TransitionRefused) as exc:
                plan.notes.append(f"{key}: meeting not moved: {exc}")
        return False
    if same_day is not None:
        _link(app, key, same_day)  # scheduled by hand before the plan: it is the one
        return False
    return True


def _schedule(
    app: App, plan: YearPlan, group: str, pending: list[tuple[str, Occurrence]], actor: str
) -> None:
    """Schedule a group's new meetings of the plan in one transaction, then link them."""
    place = app.settings.dialogs.default_location
    slots = [(o.starts_at, o.ends_at) for _, o in pending]
    try:
        scheduled = schedule_series(app, group, slots, actor=actor, place=place)
    except (ConflictError, InputError, PermissionDenied) as exc:
        plan.notes.append(f"{group}: {len(pending)} meetings not scheduled: {exc}")
        return
    by_start = {s.starts_at: s.meeting_id for s in scheduled}
    with app.db.session() as session:
        rows = {
            r.key: r
            for r in session.scalars(
                select(CalendarEvent).where(CalendarEvent.key.in_([k for k, _ in pending]))
            )
        }
        for key, occurrence in pending:
            rows[key].instance_id = by_start[occurrence.starts_at]
            plan.started.append(f"{key}: meeting {group}")


def _process(
    app: App,
    plan: YearPlan,
    arshjul: Arshjul,
    spec: EventSpec,
    occurrence: Occurrence,
    key: str,
    actor: str,
) -> None:
    assert spec.workflow is not None
    if spec.period == "next_year":
        period = str(occurrence.day.year + 1)
    elif spec.period == "school_year":
        period = SchoolYear.of(occurrence.day).label
    else:
        period = str(occurrence.day.year)
    if spec.for_each is not None:
        with app.db.session() as session:
            codes = sorted(u.code for u in units_of_kind(session, [spec.for_each]))
    else:
        codes = [spec.unit or arshjul.unit]
    for code, started in zip(
        codes,
        start_processes(
            app,
            spec.workflow,
            codes,
            period=period,
            actor=actor,
            starts_at=occurrence.starts_at,
            reason=f"årshjulet: {spec.title}",
        ),
        strict=True,
    ):
        if started.created:
            plan.started.append(f"{key}: {spec.workflow} {period} {code}")
        if spec.for_each is None:
            _link(app, key, started.id)


def _move_round(
    app: App,
    plan: YearPlan,
    level: str,
    school_year: str,
    round_no: int,
    old_day: date,
    new_day: date,
    actor: str,
) -> None:
    """Move the round's dialogs that have not taken place by the window's shift in working days."""
    shift = app.calendar.working_days_between(
        app.calendar.shift_to_working_day(old_day, "later"),
        app.calendar.shift_to_working_day(new_day, "later"),
    )
    if not shift:
        return
    tz = app.clock.tz
    with app.db.session() as session:
        dialogs = [
            (d.id, d.starts_at)
            for d in session.scalars(
                select(Dialog).where(
                    Dialog.level == level,
                    Dialog.school_year == school_year,
                    Dialog.round_no == round_no,
                    Dialog.state.in_(ACTIVE_DIALOG_STATES),
                )
            )
        ]
    announced = 0
    for dialog_id, starts_at in dialogs:
        assert starts_at is not None
        local = starts_at.astimezone(tz)
        day = app.calendar.add_working_days(
            app.calendar.shift_to_working_day(local.date(), "later"), shift
        )
        target = datetime.combine(day, local.timetz().replace(tzinfo=None), tz)
        reason = f"årshjulet ändrat: dialogrunda {round_no} flyttad {shift:+d} arbetsdagar"
        if not replan(app, dialog_id, actor=actor, starts_at=target, reason=reason):
            announced += 1
    if dialogs:
        plan.notes.append(
            f"{level} {school_year} round {round_no}: {len(dialogs) - announced} dialogs moved"
            f" {shift:+d} working days"
            + (
                f"; {announced} already invited, left for their organiser to postpone"
                " ('styrhjul dialog postpone')"
                if announced
                else ""
            )
        )


def _take_back(
    app: App,
    plan: YearPlan,
    cancelled: list[tuple[str, str, int | None]],
    actor: str,
) -> None:
    """Cancel what a removed event had set going, where it has not taken place yet."""
    for key, rule, instance_id in cancelled:
        if instance_id is None:
            continue
        with app.db.session() as session:
            instance = session.get(Instance, instance_id)
            kind = instance.kind if instance else None
        if kind == "meeting":
            try:
                cancel_meeting(
                    app, instance_id, actor=actor, reason=f"årshjulet ändrat: {rule} borttagen"
                )
            except (ConflictError, NotFound, PermissionDenied, TransitionRefused) as exc:
                plan.notes.append(f"{key}: meeting not cancelled: {exc}")
        elif kind is not None:
            plan.notes.append(f"{key}: the {kind} it started is left as it is; close it by hand")


def year_events(app: App, year: int) -> list[CalendarEvent]:
    """The planned (not cancelled) events of ``year`` in time order, detached from the session."""
    with app.db.session() as session:
        rows = list(
            session.scalars(
                select(CalendarEvent)
                .where(CalendarEvent.year == year, CalendarEvent.status == "planned")
                .order_by(CalendarEvent.starts_at, CalendarEvent.key)
            )
        )
        session.expunge_all()
    return rows


@dataclass(frozen=True)
class Comparison:
    """How one rule's dates moved from one year to the next, and why."""

    rule: str
    title: str
    before: list[date]
    after: list[date]
    why: str


def compare_years(app: App, year: int, previous: int) -> list[Comparison]:
    """Rule by rule: the dates of ``previous`` and of ``year``, and why they differ."""
    arshjul = load_year_rules(app)
    before: dict[str, list[Occurrence]] = {}
    after: dict[str, list[Occurrence]] = {}
    for occurrence in arshjul.resolve(previous, app.calendar):
        before.setdefault(occurrence.rule_id, []).append(occurrence)
    for occurrence in arshjul.resolve(year, app.calendar):
        after.setdefault(occurrence.rule_id, []).append(occurrence)
    rows = []
    for spec in arshjul.events:
        old = before.get(spec.id, [])
        new = after.get(spec.id, [])
        rows.append(
            Comparison(
                spec.id,
                spec.title,
                [o.day for o in old],
                [o.day for o in new],
                _explain(spec, old, new),
            )
        )
    return rows


def _explain(spec: EventSpec, old: list[Occurrence], new: list[Occurrence]) -> str:
    if len(old) > 1 or len(new) > 1 or spec.series:
        skipped = [o for o in new if o.moved_because]
        text = f"{len(new)} times (last year {len(old)})"
        return text + (f"; {len(skipped)} moved" if skipped else "")
    if not old or not new:
        return "no date last year" if new else "no date this year"
    a, b = old[0], new[0]
    parts = []
    if b.moved_because:
        parts.append(f"{b.nominal:%d %b} is {b.moved_because}: moved {spec.rule.move}")
    if a.moved_because and not b.moved_because:
        parts.append(f"last year moved for {a.moved_because}; not this year")
    if a.day.weekday() == b.day.weekday():
        parts.append(f"weekday kept ({WEEKDAYS[b.day.weekday()]})")
    else:
        parts.append(
            f"weekday {WEEKDAYS[a.day.weekday()]} → {WEEKDAYS[b.day.weekday()]}"
            + (" (fixed date)" if (a.day.month, a.day.day) == (b.day.month, b.day.day) else "")
        )
    return "; ".join(parts)
