"""A planned round's new dialogs as rows: built one by one, written one statement per table.

:func:`~styrhjul.services.planning.plan_round` decides, unit by unit, who meets whom and
when; this module turns each decision into the rows of the dialog (``instance`` and
``dialog``), its checklist and its audit entry, and writes a round's rows with
:mod:`styrhjul.services.batch`. What it writes is what the round's ORM objects wrote when
they were flushed: the same columns, values and order of ids (so the same row ids).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from styrhjul.calendar import SchoolYear
from styrhjul.db.models import Agreement, Dialog, OrgUnit, Person
from styrhjul.engine.definition import WorkflowDefinition
from styrhjul.services.batch import (
    Resolver,
    Row,
    audit_row,
    insert_audits,
    insert_instances,
    insert_rows,
    insert_steps,
    instance_row,
    person_id,
    step_row,
)
from styrhjul.services.context import App
from styrhjul.services.org import ancestors, holders
from styrhjul.services.schedule import invite_time

DIALOG = "dialog"


@dataclass(frozen=True)
class NewDialog:
    """One dialog a round plans: its rows, waiting for the instance id they need."""

    unit: OrgUnit
    starts_at: datetime
    invite_at: datetime | None
    """When its invite goes out; None if it goes out now, with the plan."""
    instance: Row
    dialog: Row
    steps: list[Row]


def new_dialog(
    app: App,
    session: Session,
    resolver: Resolver,
    definition: WorkflowDefinition,
    unit: OrgUnit,
    host: Person,
    participant: Person,
    *,
    school_year: SchoolYear,
    round_no: int,
    starts_at: datetime,
    invite_ahead: int | None,
) -> NewDialog:
    """The rows of ``unit``'s dialog between ``host`` and ``participant`` at ``starts_at``.

    With ``invite_ahead`` the invite waits until that many working days before the dialog,
    unless that time has come. The version is then 2, as it was when the invite time was
    written by an update after the insert (an update of the instance raises its version).
    """
    schedule = definition.schedule
    now = app.clock.now()
    times = resolver.step_times(definition, starts_at)
    host_unit = next(
        (
            u
            for u in ancestors(session, unit)
            if host in holders(session, u, schedule.host_role, now.date())
        ),
        unit.parent or unit,
    )
    invite_at = None
    if invite_ahead is not None:
        invite_at = invite_time(app, starts_at, invite_ahead)
        if invite_at <= now:
            invite_at = None
    instance = instance_row(
        key=f"{schedule.level}:{school_year.label}:r{round_no}:{unit.code}",
        kind=DIALOG,
        workflow=definition.name,
        workflow_version=definition.version,
        title=f"{definition.spec.workflow.title} {unit.name}",
        unit_id=unit.id,
        school_year=school_year.label,
        state=definition.spec.workflow.initial,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=schedule.duration_minutes),
        prepare_at=times.prepare_at,
        invite_at=invite_at,
        location=app.settings.dialogs.default_location,
        ical_uid=(
            f"{schedule.level}-{school_year.start_year}-r{round_no}-{unit.code}@{app.sender.domain}"
        ),
        created_at=now,
        updated_at=now,
        version=1 if invite_ahead is None else 2,
    )
    people = {schedule.host_role: host, definition.participant_role(unit.kind): participant}
    steps = []
    for position, step in enumerate(definition.steps_raised_in(None), start=1):
        due, remind, escalate = times.steps[step.key]
        assignee = (people.get(step.assignee) if step.of == "unit" else None) or resolver.assignee(
            unit, step.assignee, step.of, due.date()
        )
        steps.append(
            step_row(
                instance_id=0,  # known once the instance is written
                position=position,
                key=step.key,
                title=step.title,
                assignee_role=step.assignee,
                assignee_id=person_id(assignee),
                required=step.required,
                due_at=due,
                remind_at=remind,
                escalate_at=escalate,
            )
        )
    return NewDialog(
        unit=unit,
        starts_at=starts_at,
        invite_at=invite_at,
        instance=instance,
        dialog={
            "level": schedule.level,
            "round_no": round_no,
            "host_unit_id": host_unit.id,
            "organizer_id": host.id,
            "participant_id": participant.id,
        },
        steps=steps,
    )


def write_dialogs(app: App, session: Session, planned: list[NewDialog], actor: str) -> list[int]:
    """Insert the dialogs, their steps and their "plan" audit rows; their ids, in order."""
    if not planned:
        return []
    found = insert_instances(session, [new.instance for new in planned])
    ids = [found[new.instance["key"]] for new in planned]
    insert_rows(
        session, Dialog, [{"id": id_, **new.dialog} for new, id_ in zip(planned, ids, strict=True)]
    )
    insert_steps(
        session,
        [
            {**step, "instance_id": id_}
            for new, id_ in zip(planned, ids, strict=True)
            for step in new.steps
        ],
    )
    now = app.clock.now()
    tz = app.clock.tz
    insert_audits(
        session,
        [
            audit_row(
                entity=DIALOG,
                entity_id=id_,
                at=now,
                actor=actor,
                trigger="plan",
                from_state=None,
                to_state=new.instance["state"],
                reason=f"planned for {new.starts_at.astimezone(tz):%Y-%m-%d %H:%M}",
            )
            for new, id_ in zip(planned, ids, strict=True)
        ],
    )
    return ids


def steering_units(
    app: App, session: Session, definition: WorkflowDefinition, school_year: SchoolYear
) -> set[int]:
    """Units whose dialog at a level above recorded agreements, this or last school year.

    Steering (:func:`~styrhjul.services.chain.apply_steering`) reaches a dialog only from
    a dialog of the level that chains after its own, for a unit at or above its unit,
    in the round before (last school year's last round for a first round). This is a
    superset of those dialogs' units, read in one query: a new dialog under none of them
    receives no steering, and needs no loading to find that out.
    """
    upper_levels = [
        m.definition.schedule.level
        for name, m in app.machines.items()
        if "@" not in name
        and m.definition.kind == DIALOG
        and m.definition.schedule.chain_after == definition.schedule.level
    ]
    if not upper_levels:
        return set()
    years = [school_year.label, SchoolYear(school_year.start_year - 1).label]
    query = (
        select(Dialog.unit_id)
        .join(Agreement, Agreement.instance_id == Dialog.id)
        .where(Dialog.level.in_(upper_levels), Dialog.school_year.in_(years))
        .distinct()
    )
    return set(session.scalars(query))
