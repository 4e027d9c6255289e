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
from styrhjul.services.audit import audit_instance
from styrhjul.services.context import App
from styrhjul.services.instances import raise_steps, require_runner
from styrhjul.services.org import unit_by_code

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
        return [
            _start_in(
                app,
                session,
                definition,
                units.get(code) or unit_by_code(session, code),  # names the unknown code
                period,
                actor,
                starts_at,
                reason,
            )
            for code in unit_codes
        ]


def _start_in(
    app: App,
    session: Session,
    definition: WorkflowDefinition,
    unit: OrgUnit,
    period: str,
    actor: str,
    starts_at: datetime | None,
    reason: str,
) -> Started:
    key = f"{definition.name}:{period}:{unit.code}"
    with session.no_autoflush:  # the processes started before it are flushed already
        existing = session.scalar(select(Instance.id).where(Instance.key == key))
    if existing is not None:
        return Started(existing, created=False)
    now = app.clock.now()
    instance = Instance(
        key=key,
        workflow=definition.name,
        workflow_version=definition.version,
        title=f"{definition.spec.workflow.title} {period} – {unit.name}",
        unit=unit,
        school_year=_school_year_of(period),
        state=definition.spec.workflow.initial,
        starts_at=starts_at,
        ical_sequence=0,
        created_at=now,
        updated_at=now,
    )
    require_runner(
        app, session, instance, actor, f"start {instance.workflow} for {instance.unit.code}"
    )
    session.add(instance)
    session.flush()
    raise_steps(app, session, instance, definition.steps_raised_in(None))
    audit_instance(
        session,
        instance,
        at=now,
        actor=actor,
        trigger="start",
        from_state=None,
        reason=reason or f"{definition.spec.workflow.title} {period} started",
    )
    return Started(instance.id, created=True)


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
