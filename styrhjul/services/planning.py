"""Planning a dialog round: one dialog per unit, with a slot, a checklist and invites.

Every dialog workflow (``kind = "dialog"``) is a level of the chain of command with its
own schedule: area head ↔ rektor, director ↔ area and department heads, rektor ↔ teams,
council ↔ board. Planning is idempotent: a unit that already has its dialog for the round
keeps it (and its slot); units added since get the next free slots of their organiser.
Units whose organiser or participant cannot be found on the day are reported, not
silently skipped.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from styrhjul.calendar import SchoolYear
from styrhjul.db.models import Dialog, OrgUnit, Person, UnitCycle
from styrhjul.engine.definition import WorkflowDefinition
from styrhjul.errors import InputError
from styrhjul.services.audit import audit_instance
from styrhjul.services.chain import apply_steering
from styrhjul.services.context import App
from styrhjul.services.instances import add_step, resolve_assignee
from styrhjul.services.invites import enqueue_meeting_notice
from styrhjul.services.org import (
    ancestors,
    holder_over,
    holders,
    prime_holders,
    units_of_kind,
)
from styrhjul.services.schedule import SlotFinder, invite_time, round_window_start, step_times
from styrhjul.vocabulary import SYSTEM

DIALOG_ROUND = "dialog_round"


@dataclass
class PlanResult:
    """What planning a round did."""

    school_year: str
    round_no: int
    level: str
    created: list[int] = field(default_factory=list)
    existing: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    invites: int = 0


def dialog_definition(app: App, level: str | None = None) -> WorkflowDefinition:
    """The dialog workflow of ``level`` (default: area head ↔ rektor)."""
    if level is None:
        return app.machine(DIALOG_ROUND).definition
    levels = {
        m.definition.schedule.level: m.definition
        for name, m in app.machines.items()
        if "@" not in name and m.definition.kind == "dialog"
    }
    if level not in levels:
        raise InputError(
            f"unknown dialog level {level!r}; levels are: {', '.join(sorted(levels))}",
            key="level",
        )
    return levels[level]


def next_round(
    app: App, year: SchoolYear | None = None, level: str | None = None
) -> tuple[SchoolYear, int]:
    """The first round whose window has not yet opened: in ``year``, or this or next school year."""
    definition = dialog_definition(app, level)
    today = app.clock.today()
    candidates = [year] if year else [SchoolYear.of(today), SchoolYear.of(today).next()]
    for candidate in candidates:
        for spec in sorted(definition.schedule.round, key=lambda r: r.number):
            if round_window_start(app, candidate, spec.window_start) >= today:
                return candidate, spec.number
    where = f"school year {year}" if year else "this or the next school year"
    raise InputError(f"no round left to plan in {where}; name one with --round", key="round")


def plan_round(
    app: App,
    school_year: SchoolYear | None = None,
    round_no: int | None = None,
    *,
    level: str | None = None,
    actor: str = SYSTEM,
    window_start: date | None = None,
    invite_ahead: int | None = None,
) -> PlanResult:
    """Create the round's dialogs for every unit of the level; send each party an invite.

    Without a round: the next one whose window has not opened (in ``school_year`` if given).
    Without a level: area head ↔ rektor. ``window_start`` is the day the round opens as the
    årshjul placed it (default: the definition's month and day); a unit's own cycle still
    wins. With ``invite_ahead`` (working days) the invites wait until that long before each
    dialog (the yearly plan), instead of going out now.
    """
    if round_no is None:
        school_year, round_no = next_round(app, school_year, level)
    elif school_year is None:
        school_year = next_round(app, None, level)[0]
    definition = dialog_definition(app, level)
    spec = definition.round(round_no)
    if spec is None:
        numbers = ", ".join(str(r.number) for r in definition.schedule.round)
        raise InputError(f"round {round_no} is not defined; rounds are: {numbers}", key="round")
    schedule = definition.schedule
    result = PlanResult(school_year.label, round_no, schedule.level)
    with app.db.session() as session:
        existing = {
            d.unit_id: d
            for d in session.scalars(
                select(Dialog).where(
                    Dialog.level == schedule.level,
                    Dialog.school_year == school_year.label,
                    Dialog.round_no == round_no,
                )
            )
        }
        finders: dict[int, SlotFinder] = defaultdict(lambda: SlotFinder(app, definition))
        for dialog in existing.values():
            assert dialog.starts_at is not None
            finders[dialog.organizer_id].take(dialog.starts_at)
        prime_holders(
            session,
            {
                schedule.host_role,
                *(definition.participant_role(kind) for kind in schedule.unit_kinds),
                *(step.assignee for step in definition.steps_raised_in(None)),
            },
        )
        own_windows = _own_windows(session, schedule.level, round_no)
        units = sorted(
            units_of_kind(session, schedule.unit_kinds),
            key=lambda u: (u.parent.code if u.parent else "", u.kind, u.name),
        )
        created: list[Dialog] = []
        for unit in units:
            if unit.id in existing:
                result.existing += 1
                continue
            own = _window_of(unit, own_windows)
            first_day = (
                round_window_start(app, school_year, own or spec.window_start)
                if own or window_start is None
                else window_start
            )
            host = holder_over(session, unit, schedule.host_role, first_day)
            participant_role = definition.participant_role(unit.kind)
            participants = holders(session, unit, participant_role, first_day)
            if host is None:
                result.skipped.append(
                    (unit.code, f"no {schedule.host_role} over the unit on {first_day}")
                )
                continue
            if not participants:
                result.skipped.append((unit.code, f"no {participant_role} on {first_day}"))
                continue
            dialog = _create_dialog(
                app,
                session,
                definition,
                unit,
                host,
                participants[0],
                school_year=school_year,
                round_no=round_no,
                starts_at=finders[host.id].next_free(first_day),
            )
            created.append(dialog)
        _record(app, session, created, actor)
        apply_steering(app, session, created)
        for dialog in created:
            result.created.append(dialog.id)
            if invite_ahead is not None:
                assert dialog.starts_at is not None
                dialog.invite_at = invite_time(app, dialog.starts_at, invite_ahead)
                if dialog.invite_at > app.clock.now():
                    continue
                dialog.invite_at = None
            result.invites += enqueue_meeting_notice(app, session, dialog, method="REQUEST")
    return result


def _create_dialog(
    app: App,
    session: Session,
    definition: WorkflowDefinition,
    unit: OrgUnit,
    host: Person,
    participant: Person,
    *,
    school_year: SchoolYear,
    round_no: int,
    starts_at: datetime,
) -> Dialog:
    schedule = definition.schedule
    now = app.clock.now()
    times = step_times(app, definition, starts_at)
    host_unit = next(
        (
            u
            for u in ancestors(session, unit)
            if host in holders(session, u, schedule.host_role, now.date())
        ),
        unit.parent or unit,
    )
    dialog = Dialog(
        key=f"{schedule.level}:{school_year.label}:r{round_no}:{unit.code}",
        title=f"{definition.spec.workflow.title} {unit.name}",
        workflow=definition.name,
        workflow_version=definition.version,
        level=schedule.level,
        school_year=school_year.label,
        round_no=round_no,
        unit=unit,
        host_unit=host_unit,
        organizer=host,
        participant=participant,
        state=definition.spec.workflow.initial,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=schedule.duration_minutes),
        prepare_at=times.prepare_at,
        location=app.settings.dialogs.default_location,
        ical_uid=(
            f"{schedule.level}-{school_year.start_year}-r{round_no}-{unit.code}@{app.sender.domain}"
        ),
        ical_sequence=0,
        created_at=now,
        updated_at=now,
    )
    people = {schedule.host_role: host, definition.participant_role(unit.kind): participant}
    for step in definition.steps_raised_in(None):
        due, remind, escalate = times.steps[step.key]
        add_step(
            dialog,
            key=step.key,
            title=step.title,
            assignee_role=step.assignee,
            assignee=(people.get(step.assignee) if step.of == "unit" else None)
            or resolve_assignee(session, dialog, step.assignee, step.of, due.date()),
            required=step.required,
            due_at=due,
            remind_at=remind,
            escalate_at=escalate,
        )
    session.add(dialog)
    return dialog


def _record(app: App, session: Session, dialogs: list[Dialog], actor: str) -> None:
    """Write the new dialogs in one flush, then their audit rows (which need their ids)."""
    session.flush()
    now = app.clock.now()
    for dialog in dialogs:
        assert dialog.starts_at is not None
        audit_instance(
            session,
            dialog,
            at=now,
            actor=actor,
            trigger="plan",
            from_state=None,
            reason=f"planned for {dialog.starts_at.astimezone(app.clock.tz):%Y-%m-%d %H:%M}",
        )


def _own_windows(session: Session, level: str, round_no: int) -> dict[int, str]:
    """Unit id -> the day round ``round_no`` of ``level`` opens in the unit's own cycle."""
    return {
        cycle.unit_id: cycle.window_start
        for cycle in session.scalars(
            select(UnitCycle).where(UnitCycle.level == level, UnitCycle.round_no == round_no)
        )
    }


def _window_of(unit: OrgUnit, own: dict[int, str]) -> str | None:
    """The unit's own window, or the nearest one above it (a school's cycle for its teams)."""
    current: OrgUnit | None = unit
    while current is not None:
        if current.id in own:
            return own[current.id]
        current = current.parent
    return None
