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
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from styrhjul.calendar import SchoolYear
from styrhjul.db.models import ChecklistItem, Dialog, OrgUnit, UnitCycle
from styrhjul.engine.definition import WorkflowDefinition
from styrhjul.errors import InputError
from styrhjul.services.batch import Resolver, load_parents
from styrhjul.services.chain import apply_steering
from styrhjul.services.context import App
from styrhjul.services.dialog_rows import NewDialog, new_dialog, steering_units, write_dialogs
from styrhjul.services.invites import enqueue_meeting_notice
from styrhjul.services.org import (
    ancestors,
    holder_over,
    holders,
    prime_holders,
    units_of_kind,
)
from styrhjul.services.schedule import SlotFinder, round_window_start
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
        existing = session.execute(
            select(Dialog.unit_id, Dialog.organizer_id, Dialog.starts_at).where(
                Dialog.level == schedule.level,
                Dialog.school_year == school_year.label,
                Dialog.round_no == round_no,
            )
        ).all()
        have = {unit_id for unit_id, _, _ in existing}
        finders: dict[int, SlotFinder] = defaultdict(lambda: SlotFinder(app, definition))
        for _, organizer_id, starts_at in existing:
            assert starts_at is not None
            finders[organizer_id].take(starts_at)
        prime_holders(
            session,
            {
                schedule.host_role,
                *(definition.participant_role(kind) for kind in schedule.unit_kinds),
                *(step.assignee for step in definition.steps_raised_in(None)),
            },
        )
        own_windows = _own_windows(session, schedule.level, round_no)
        parents = load_parents(session)
        units = sorted(
            units_of_kind(session, schedule.unit_kinds),
            key=lambda u: (u.parent.code if u.parent else "", u.kind, u.name),
        )
        resolver = Resolver(app, session)
        planned: list[NewDialog] = []
        for unit in units:
            if unit.id in have:
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
            planned.append(
                new_dialog(
                    app,
                    session,
                    resolver,
                    definition,
                    unit,
                    host,
                    participants[0],
                    school_year=school_year,
                    round_no=round_no,
                    starts_at=finders[host.id].next_free(first_day),
                    invite_ahead=invite_ahead,
                )
            )
        ids = write_dialogs(app, session, planned, actor)
        result.created.extend(ids)
        _steer(app, session, definition, school_year, planned, ids)
        result.invites += _invite_now(app, session, planned, ids)
        del parents  # held until here
    return result


def _steer(
    app: App,
    session: Session,
    definition: WorkflowDefinition,
    school_year: SchoolYear,
    planned: list[NewDialog],
    ids: list[int],
) -> None:
    """Add the round above's steering steps to the new dialogs that receive any.

    :func:`apply_steering` works on loaded dialogs; only those under a unit whose dialog
    in the round above recorded agreements can receive a step, so only they are loaded.
    """
    sources = steering_units(app, session, definition, school_year)
    if not sources:
        return
    chosen = [
        id_
        for new, id_ in zip(planned, ids, strict=True)
        if any(u.id in sources for u in ancestors(session, new.unit))
    ]
    apply_steering(app, session, _load(session, chosen))


def _invite_now(
    app: App,
    session: Session,
    planned: list[NewDialog],
    ids: list[int],
) -> int:
    """Send the invites of the new dialogs whose invite is not planned for later."""
    due = [id_ for new, id_ in zip(planned, ids, strict=True) if new.invite_at is None]
    if not due:
        return 0
    return sum(
        enqueue_meeting_notice(app, session, dialog, method="REQUEST")
        for dialog in _load(session, due)
    )


def _load(session: Session, ids: list[int]) -> list[Dialog]:
    """The dialogs ``ids`` with their steps, in that order."""
    if not ids:
        return []
    query = (
        select(Dialog)
        .options(
            selectinload(Dialog.checklist).selectinload(ChecklistItem.assignee),
            selectinload(Dialog.unit),
            selectinload(Dialog.organizer),
            selectinload(Dialog.participant),
        )
        .where(Dialog.id.in_(ids))
    )
    found = {dialog.id: dialog for dialog in session.scalars(query)}
    return [found[id_] for id_ in ids]


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
