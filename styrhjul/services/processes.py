"""Processes: workflows of ``kind = "process"`` (the budget cycle, the VP, quality reports).

A process instance belongs to a unit and a period (a budget year "2027" or a school year
"2026/27") and may have an event it leads up to (``starts_at``: the April proposal, the
August VP decision, the end of the school year) from which its steps are dated. Starting
one is idempotent per workflow, unit and period. Moving it on is the generic
:func:`styrhjul.services.instances.fire_trigger`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from styrhjul.db.models import Instance, OrgUnit
from styrhjul.engine.definition import WorkflowDefinition
from styrhjul.errors import InputError
from styrhjul.services.batch import (
    Resolver,
    audit_row,
    ids_by_key,
    insert_audits,
    insert_instances,
    insert_steps,
    instance_row,
    load_parents,
    raised_step_rows,
)
from styrhjul.services.context import App
from styrhjul.services.instances import require_runner
from styrhjul.services.org import prime_holders, unit_by_code
from styrhjul.vocabulary import SYSTEM

PROCESS = "process"
PERIOD = re.compile(r"^\d{4}[0-9A-Za-z/ -]{0,16}$")
"""A period starts with its year: "2027", "2026/27", "2026-T1", "2025/26 HT"."""
SCHOOL_YEAR = re.compile(r"^\d{4}/\d{2}")


@dataclass(frozen=True)
class Started:
    """What :func:`start_process` did: the instance, and whether it existed already."""

    id: int
    created: bool


def start_process(
    app: App,
    workflow: str,
    unit_code: str,
    *,
    period: str,
    actor: str,
    starts_at: datetime | None = None,
    reason: str = "",
) -> Started:
    """Start process ``workflow`` for a unit and period, with the steps of its start.

    The key ``<workflow>:<period>:<unit>`` makes it idempotent: starting it again returns
    the one that exists. ``reason`` goes to the audit row (a rule says why it started one).
    """
    (started,) = start_processes(
        app, workflow, [unit_code], period=period, actor=actor, starts_at=starts_at, reason=reason
    )
    return started


def start_processes(
    app: App,
    workflow: str,
    unit_codes: Sequence[str],
    *,
    period: str,
    actor: str,
    starts_at: datetime | None = None,
    reason: str = "",
) -> list[Started]:
    """:func:`start_process` for several units in one transaction (a refusal saves none)."""
    machine = app.machine(workflow)
    definition = machine.definition
    if definition.kind != PROCESS:
        raise InputError(
            f"workflow {workflow!r} drives {definition.kind} instances, not processes",
            key="workflow",
        )
    if not PERIOD.fullmatch(period):
        raise InputError(
            f"period {period!r} does not start with its year (2027, 2026/27, 2026-T1)",
            key="period",
        )
    if starts_at is not None and starts_at.tzinfo is None:
        raise InputError("the event time needs a time zone", key="starts_at")
    needs_event = [s.key for s in definition.steps_raised_in(None) if s.anchor == "start"]
    if needs_event and starts_at is None:
        raise InputError(
            f"workflow {workflow!r} dates steps from its event ({', '.join(needs_event)}); "
            "give the event's date and time",
            key="starts_at",
        )
    with app.db.session() as session:
        found = session.scalars(select(OrgUnit).where(OrgUnit.code.in_(list(unit_codes))))
        units = {unit.code: unit for unit in found}
        return _start_all(
            app, session, definition, unit_codes, units, period, actor, starts_at, reason
        )


def _start_all(
    app: App,
    session: Session,
    definition: WorkflowDefinition,
    unit_codes: Sequence[str],
    units: dict[str, OrgUnit],
    period: str,
    actor: str,
    starts_at: datetime | None,
    reason: str,
) -> list[Started]:
    """Start the processes not started yet, written one ``executemany`` per table.

    Unit by unit, in the order given, as starting them one by one would: an unknown code or
    a refused actor fails the whole call at the first unit it concerns. The instances, then
    their steps, then their audit rows are inserted in that order, so ids rise as they did
    when each process was flushed on its own.
    """
    now = app.clock.now()
    keys = [f"{definition.name}:{period}:{code}" for code in unit_codes]
    existing = ids_by_key(session, keys)
    new: dict[str, OrgUnit] = {}
    for code, key in zip(unit_codes, keys, strict=True):
        unit = units.get(code) or unit_by_code(session, code)  # names the unknown code
        if key in existing or key in new:
            continue
        if actor != SYSTEM:
            _require_starter(app, session, definition, unit, actor)
        new[key] = unit
    title = definition.spec.workflow.title
    rows = [
        instance_row(
            key=key,
            kind=PROCESS,
            workflow=definition.name,
            workflow_version=definition.version,
            title=f"{title} {period} – {unit.name}",
            unit_id=unit.id,
            school_year=_school_year_of(period),
            state=definition.spec.workflow.initial,
            starts_at=starts_at,
            created_at=now,
            updated_at=now,
        )
        for key, unit in new.items()
    ]
    ids = insert_instances(session, rows)
    parents = []
    if len(new) > 1:  # one query for every unit's step assignees, not one per unit and role
        prime_holders(session, {step.assignee for step in definition.steps_raised_in(None)})
        parents = load_parents(session)
    resolver = Resolver(app, session)
    insert_steps(
        session,
        [
            step
            for key, unit in new.items()
            for step in raised_step_rows(
                resolver,
                definition,
                instance_id=ids[key],
                unit=unit,
                starts_at=starts_at,
                created_at=now,
            )
        ],
    )
    insert_audits(
        session,
        [
            audit_row(
                entity=PROCESS,
                entity_id=ids[key],
                at=now,
                actor=actor,
                trigger="start",
                from_state=None,
                to_state=definition.spec.workflow.initial,
                reason=reason or f"{title} {period} started",
            )
            for key in new
        ],
    )
    del parents  # held until the steps are assigned
    existing.update(ids)
    first = set(new)
    started = []
    for key in keys:
        started.append(Started(existing[key], created=key in first))
        first.discard(key)  # a unit named twice: started by its first mention
    return started


def _require_starter(
    app: App, session: Session, definition: WorkflowDefinition, unit: OrgUnit, actor: str
) -> None:
    """Refuse ``actor`` unless a runner of the workflow here (the instance is not written yet)."""
    probe = Instance(
        workflow=definition.name, workflow_version=definition.version, unit=unit, unit_id=unit.id
    )
    require_runner(app, session, probe, actor, f"start {definition.name} for {unit.code}")


def _school_year_of(period: str) -> str | None:
    """What the school-year column can hold of a period: a year, or a school year."""
    if len(period) <= 7:
        return period
    match = SCHOOL_YEAR.match(period)
    return match[0] if match else period[:4]


@dataclass(frozen=True)
class ProcessRow:
    """One process in a listing."""

    id: int
    workflow: str
    title: str
    unit: str
    period: str | None
    state: str
    state_title: str
    starts_at: datetime | None
    open_steps: int
    version: int


def list_processes(
    app: App, *, workflow: str | None = None, unit: str | None = None, state: str | None = None
) -> list[ProcessRow]:
    """Process instances, newest period first, filtered as asked."""
    with app.db.session() as session:
        query = (
            select(Instance)
            .options(selectinload(Instance.checklist), selectinload(Instance.unit))
            .where(Instance.kind == PROCESS)
            .order_by(Instance.school_year.desc(), Instance.workflow, Instance.id)
        )
        if workflow:
            query = query.where(Instance.workflow == workflow)
        if state:
            query = query.where(Instance.state == state)
        if unit:
            query = query.join(OrgUnit, Instance.unit_id == OrgUnit.id).where(OrgUnit.code == unit)
        rows = []
        for instance in session.scalars(query):
            definition = app.machine(instance.workflow, instance.workflow_version).definition
            rows.append(
                ProcessRow(
                    id=instance.id,
                    workflow=instance.workflow,
                    title=instance.title,
                    unit=instance.unit.code,
                    period=instance.school_year,
                    state=instance.state,
                    state_title=definition.state_title(instance.state),
                    starts_at=instance.starts_at.astimezone(app.clock.tz)
                    if instance.starts_at
                    else None,
                    open_steps=sum(1 for s in instance.checklist if s.done_at is None),
                    version=instance.version,
                )
            )
        return rows
