"""Workflow instances of every kind: load for change, let the machine decide, apply, audit.

Every use case on an instance (a dialog, a plan assignment, a meeting, a process) runs
the same way: load it in a transaction, assemble its facts, ask the machine of the
definition version it started with, apply the new state, write the audit row, raise the
steps the definition attaches to the state just entered, commit. A write that lost a
race (the version column moved) becomes a :class:`ConflictError`. An override (a role
allowed to pass a refusing guard, with a reason) is audited with what it overrode.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import fields
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar, overload

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, joinedload, object_session, selectinload
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.interfaces import ORMOption

from styrhjul.db.models import Agreement, ChecklistItem, Dialog, Instance, Person
from styrhjul.engine.definition import START, StepSpec
from styrhjul.engine.guards import InstanceFacts, facts_read
from styrhjul.engine.machine import WorkflowMachine
from styrhjul.errors import ConflictError, InputError, NotFound, PermissionDenied
from styrhjul.services.actors import person_and_roles
from styrhjul.services.audit import audit_instance
from styrhjul.services.chain_facts import chain_waiting
from styrhjul.services.context import App
from styrhjul.services.org import holder_over, unit_by_code
from styrhjul.services.schedule import due_times, step_anchor
from styrhjul.vocabulary import SYSTEM

I = TypeVar("I", bound=Instance)  # noqa: E741 - the conventional name for an instance type


def ref(instance: Instance) -> str:
    """How messages name an instance: "dialog 12", "assignment 3"."""
    return f"{instance.kind} {instance.id}"


# Overloads, because a type variable cannot take its bound as the default: without ``model``
# the instance is an Instance; with it, an instance of the model asked for. The
# implementation yields Any because it stands for both (callers see the overloads).
CHILDREN = ("checklist", "agreements")
"""The collections an instance is loaded with for change unless the caller names fewer."""


@overload
def instance_transaction(
    app: App,
    instance_id: int,
    expected_version: int | None = None,
    *,
    children: tuple[str, ...] = CHILDREN,
) -> AbstractContextManager[tuple[Session, Instance]]: ...


@overload
def instance_transaction(
    app: App,
    instance_id: int,
    expected_version: int | None = None,
    *,
    model: type[I],
    children: tuple[str, ...] = CHILDREN,
) -> AbstractContextManager[tuple[Session, I]]: ...


@contextmanager
def instance_transaction(
    app: App,
    instance_id: int,
    expected_version: int | None = None,
    *,
    model: type[Instance] = Instance,
    children: tuple[str, ...] = CHILDREN,
) -> Iterator[tuple[Session, Any]]:
    """Load an instance for change; the commit fails with ConflictError if someone was first.

    ``children`` are the collections read with it (a use case that reads none of them
    names none); any other is read when first used, before the use case changes anything
    if it is read by the machine's facts.
    """
    what = model.__mapper__.polymorphic_identity if model is not Instance else "instance"

    def load(session: Session) -> Instance | None:
        return session.get(model, instance_id, options=_with_children(model, children))

    with _for_change(app, load, (str(what), instance_id), str(what), expected_version) as pair:
        yield pair


@contextmanager
def row_instance_transaction(
    app: App, row: type[ChecklistItem | Agreement], row_id: int, kind: str
) -> Iterator[tuple[Session, Instance]]:
    """Load for change the instance that step or agreement ``row_id`` belongs to.

    One query finds the instance by its row and one transaction holds both: the row is in
    the loaded checklist or agreements. ``kind`` names the row when it does not exist.
    """

    def load(session: Session) -> Instance | None:
        return session.scalars(_by_row(row), {"row_id": row_id}).unique().one_or_none()

    with _for_change(app, load, (kind, row_id), "instance", None) as pair:
        yield pair


@cache
def _with_children(model: type[Instance], children: tuple[str, ...]) -> tuple[ORMOption, ...]:
    """How the instance's ``children`` are read with it.

    The steps come joined to the instance (one row each, in the instance's query), the
    agreements in a query of their own: joining both would return every step once per
    agreement. Built once, like :func:`_by_row`: SQLAlchemy then recognises the options
    by identity rather than walking them again on every load.
    """
    unknown = set(children) - set(CHILDREN)
    assert not unknown, f"not a collection of an instance: {unknown}"
    options: list[ORMOption] = []
    if "checklist" in children:
        options.append(joinedload(model.checklist))
    if "agreements" in children:
        options.append(selectinload(model.agreements))
    return tuple(options)


@cache
def _by_row(row: type[ChecklistItem | Agreement]) -> Select[Instance]:
    """The instance that the step or agreement ``:row_id`` belongs to, with that row's kind."""
    children = ("checklist",) if row is ChecklistItem else ("agreements",)
    return (
        select(Instance)
        .join(row, row.instance_id == Instance.id)
        .where(row.id == bindparam("row_id"))
        .options(*_with_children(Instance, children))
    )


@contextmanager
def _for_change(
    app: App,
    load: Callable[[Session], Instance | None],
    missing: tuple[str, int],
    name: str,
    expected_version: int | None,
) -> Iterator[tuple[Session, Any]]:
    """One transaction on the instance ``load`` finds.

    ``missing`` is what NotFound names when it finds none; a conflict names the instance
    as ``name`` and its id.
    """
    try:
        with app.db.session() as session:
            instance = load(session)
            if instance is None:
                raise NotFound(*missing)
            if expected_version is not None and instance.version != expected_version:
                raise ConflictError(ref(instance), expected_version)
            instance_id, read_version = instance.id, instance.version
            yield session, instance
            session.flush()
    except StaleDataError:
        raise ConflictError(f"{name} {instance_id}", read_version) from None


def facts_of(
    app: App,
    instance: Instance,
    new_starts_at: datetime | None = None,
    *,
    trigger: str | None = None,
) -> InstanceFacts:
    """The snapshot the machine's guards see.

    With ``trigger``, only the facts its guards read from the instance's state are
    assembled (:data:`~styrhjul.engine.guards.READS`); the others are left empty, so that
    no step, agreement or round below is read for a guard that does not ask.
    """
    reads = (
        facts_read(_machine_of(app, instance).conditions(trigger, instance.state))
        if trigger is not None
        else READS_ALL
    )
    agreements = instance.agreements if reads & AGREEMENT_FACTS else []
    return InstanceFacts(
        ref=ref(instance),
        state=instance.state,
        now=app.clock.now(),
        starts_at=instance.starts_at,
        prepare_at=instance.prepare_at,
        steps_open_required=(
            open_required_steps(instance) if "steps_open_required" in reads else ()
        ),
        agreements_total=len(agreements),
        agreements_open=tuple(a.id for a in agreements if a.is_open),
        new_starts_at=new_starts_at,
        chain_waiting=_chain_waiting(app, instance) if "chain_waiting" in reads else (),
    )


READS_ALL = frozenset(f.name for f in fields(InstanceFacts))
AGREEMENT_FACTS = frozenset({"agreements_total", "agreements_open"})


def open_required_steps(instance: Instance) -> tuple[str, ...]:
    """The keys of the instance's required steps not yet done, in checklist order."""
    return tuple(item.key for item in instance.checklist if item.required and item.done_at is None)


def _machine_of(app: App, instance: Instance) -> WorkflowMachine:
    return app.machine(instance.workflow, instance.workflow_version)


def _chain_waiting(app: App, instance: Instance) -> tuple[str, ...]:
    session = object_session(instance)
    if not isinstance(instance, Dialog) or session is None:
        return ()
    return chain_waiting(app, session, instance)


def actor_roles(app: App, session: Session, instance: Instance, actor: str) -> set[str]:
    """The roles ``actor`` holds for this instance today (``system`` is Styrhjul itself)."""
    if actor == SYSTEM:
        return {SYSTEM}
    return person_and_roles(session, instance, actor, app.clock.today())[1]


def fire(
    app: App,
    session: Session,
    instance: Instance,
    trigger: str,
    actor: str,
    reason: str = "",
    *,
    new_starts_at: datetime | None = None,
    override: bool = False,
) -> str:
    """Ask the machine, apply the new state, write the audit row, raise steps (no commit).

    With ``override`` the actor passes a refusing guard; a reason is required and the
    audit row records it together with what the guard said. Required steps an override
    passes over are waived: closed in the actor's name, each with its own audit row, so
    they neither block the next phase nor escalate.
    """
    machine = app.machine(instance.workflow, instance.workflow_version)
    facts = facts_of(app, instance, new_starts_at, trigger=trigger)
    if override:
        if not reason.strip():
            raise InputError(f"{ref(instance)}: an override needs a reason", key="reason")
        refused = machine.refusal(facts, trigger)
        if refused is None:
            override = False  # nothing to override: an ordinary transition
        else:
            reason = f"override: {reason.strip()} (overrode: {refused})"
    before = instance.state
    declared = machine.definition.transition(trigger, before)
    waives = override and declared is not None and WAIVABLE in declared.conditions
    instance.state = machine.fire(
        facts, trigger, actor_roles(app, session, instance, actor), override=override
    )
    audit_instance(
        session,
        instance,
        at=app.clock.now(),
        actor=actor,
        trigger=trigger,
        from_state=before,
        reason=reason,
    )
    if waives:
        _waive_open_steps(app, session, instance, actor, before, reason)
    if instance.state != before:
        raise_steps(app, session, instance, machine.definition.steps_raised_in(instance.state))
    return instance.state


def _waive_open_steps(
    app: App, session: Session, instance: Instance, actor: str, state: str, reason: str
) -> None:
    now = app.clock.now()
    for item in instance.checklist:
        if item.required and item.done_at is None:
            item.done_at, item.done_by = now, actor
            audit_instance(
                session,
                instance,
                at=now,
                actor=actor,
                trigger="waive_step",
                from_state=instance.state,
                reason=f"step {item.key} waived when leaving {state}: {reason}",
            )


def fire_trigger(
    app: App,
    instance_id: int,
    trigger: str,
    *,
    actor: str,
    reason: str = "",
    override: bool = False,
    expected_version: int | None = None,
    kind: str | None = None,
) -> str:
    """The use case behind "move this instance on": one trigger, one transaction.

    ``kind`` restricts it to instances of one kind: dialogs, assignments and meetings have
    their own use cases, which do more than fire (minutes, unit steps, invites).
    """
    with instance_transaction(app, instance_id, expected_version, children=()) as pair:
        session, instance = pair
        if kind is not None and instance.kind != kind:
            raise InputError(
                f"{ref(instance)} is not a {kind}; use the {instance.kind} commands for it",
                key="id",
            )
        return fire(app, session, instance, trigger, actor, reason, override=override)


def resolve_assignee(
    session: Session, instance: Instance, role: str, of: str, on: date
) -> Person | None:
    """Who holds ``role`` relative to the instance: in its unit (or above it), or in unit ``of``."""
    unit = instance.unit if of == "unit" else unit_by_code(session, of)
    return holder_over(session, unit, role, on)


def raise_steps(
    app: App, session: Session, instance: Instance, steps: list[StepSpec]
) -> list[ChecklistItem]:
    """Create the checklist items of ``steps`` for ``instance``, dated from their anchors."""
    if not steps:
        return []  # and the checklist need not be read
    now = app.clock.now()
    created = []
    existing = {item.key for item in instance.checklist}
    definition = _machine_of(app, instance).definition
    for step in steps:
        if step.key in existing:
            continue  # a state entered again (a revision loop) does not raise a step twice
        anchor = step_anchor(
            step, starts_at=instance.starts_at, created_at=instance.created_at, now=now
        )
        if anchor is None:
            raise InputError(
                f"{ref(instance)}: step {step.key!r} counts from the event, which has no time",
                key="starts_at",
            )
        due, remind, escalate = due_times(
            app, definition.spec.timing, anchor, step.offset, event=step.anchor == START
        )
        created.append(
            add_step(
                instance,
                key=step.key,
                title=step.title,
                assignee_role=step.assignee,
                assignee=resolve_assignee(session, instance, step.assignee, step.of, due.date()),
                required=step.required,
                due_at=due,
                remind_at=remind,
                escalate_at=escalate,
            )
        )
    return created


def add_step(
    instance: Instance,
    *,
    key: str,
    title: str,
    assignee_role: str,
    assignee: Person | None,
    required: bool,
    due_at: datetime,
    remind_at: datetime | None,
    escalate_at: datetime | None,
    origin: str = "definition",
) -> ChecklistItem:
    """Append one step to the instance's checklist (rules and chains use this too)."""
    item = ChecklistItem(
        position=len(instance.checklist) + 1,
        key=key,
        title=title,
        assignee_role=assignee_role,
        assignee=assignee,
        required=required,
        origin=origin,
        due_at=due_at,
        remind_at=remind_at,
        escalate_at=escalate_at,
        escalation_level=0,
        notice_round=0,
    )
    instance.checklist.append(item)
    return item


def redate_step(
    item: ChecklistItem, due_at: datetime, remind_at: datetime | None, escalate_at: datetime | None
) -> None:
    """Give an open step new dates (its instance moved): reminders and escalation start over.

    What went out for the old date stays sent; the new date gets its own reminder, overdue
    notice and escalations, under outbox keys of the next ``notice_round``.
    """
    if (item.due_at, item.remind_at, item.escalate_at) == (due_at, remind_at, escalate_at):
        return
    item.due_at, item.remind_at, item.escalate_at = due_at, remind_at, escalate_at
    if item.reminded_at or item.overdue_notified_at or item.escalation_level:
        item.notice_round += 1
    item.reminded_at = item.overdue_notified_at = None
    item.escalation_level = 0


WAIVABLE = "checklist_complete"
"""The guard whose override waives the open required steps it named."""


def runner_roles(machine: WorkflowMachine) -> set[str]:
    """The roles that run an instance of this workflow.

    Those that may hold it where it is held (a dialog, a meeting), otherwise those that
    may fire any of its transitions.
    """
    return machine.roles_for("hold") or (
        {role for t in machine.definition.spec.transition for role in t.roles} - {SYSTEM}
    )


def require_runner(
    app: App,
    session: Session,
    instance: Instance,
    actor: str,
    what: str,
    *,
    owner_id: int | None = None,
    owner: str = "its owner",
) -> None:
    """Refuse ``actor`` unless Styrhjul, the owner (when one is named) or a runner."""
    if actor == SYSTEM:
        return
    person_id, held = person_and_roles(session, instance, actor, app.clock.today())
    if owner_id is not None and person_id == owner_id:
        return
    runners = runner_roles(_machine_of(app, instance))
    if held & runners:
        return
    who = ", ".join(sorted(runners))
    raise PermissionDenied(
        f"{ref(instance)}: only {f'{owner} or ' if owner_id is not None else ''}{who} may "
        f"{what}; {actor} holds {', '.join(sorted(held)) or 'no role'} here"
    )
