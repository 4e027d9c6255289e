"""Checklists and agreements of any instance: ticking them done, carrying agreements over.

A step is ticked by its assignee or by someone who runs the instance; the last required
step moves a dialog to "ready" by itself; ticking someone else's step sends the unit's
rektor a kvittens. An open agreement may be carried to a later instance (the next round,
the next meeting), which lets the first one close.
"""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from sqlalchemy.orm import Session

from styrhjul.db.models import Agreement, ChecklistItem, Instance
from styrhjul.errors import InputError
from styrhjul.services.acknowledgements import acknowledge_step_done
from styrhjul.services.actors import unit_chain
from styrhjul.services.audit import audit_instance
from styrhjul.services.context import App
from styrhjul.services.instances import (
    fire,
    open_required_steps,
    ref,
    require_runner,
    row_instance_transaction,
)
from styrhjul.vocabulary import SYSTEM

KIND_LABELS = {"dialog": "dialog", "meeting": "möte", "assignment": "uppdrag", "process": "process"}
"""How audit reasons name each kind of instance (users read the trail in Swedish)."""


def carry_agreement(
    app: App,
    session: Session,
    source: Instance,
    agreement: Agreement,
    target: Instance,
    *,
    actor: str,
    due_on: date | None = None,
    noun: str = "överenskommelse",
    trigger: str = "carry_agreement",
) -> Agreement:
    """Close an open agreement on ``source`` as carried over and continue it on ``target``.

    The copy keeps text and owner and, unless ``due_on`` is given, the due date; both
    instances get an audit row. ``source`` may then close, since a carried agreement is
    no longer open.
    """
    if agreement.done_at is not None:
        raise InputError(f"{noun} {agreement.id} is already done", key="agreement")
    if agreement.carried_to_id is not None:
        raise InputError(
            f"{noun} {agreement.id} was already carried to "
            f"{agreement.carried_to.kind if agreement.carried_to else 'instance'} "
            f"{agreement.carried_to_id}",
            key="agreement",
        )
    if due_on is not None and due_on < app.clock.today():
        raise InputError(f"due date {due_on} is in the past", key="due")
    copy = Agreement(
        position=len(target.agreements) + 1,
        text=agreement.text,
        owner_id=agreement.owner_id,
        due_on=due_on or agreement.due_on,
    )
    target.agreements.append(copy)
    session.flush()
    agreement.carried_to_id = target.id
    now = app.clock.now()
    for instance, reason in (
        (source, f"{noun} {agreement.id} förd till {KIND_LABELS[target.kind]} {target.id}"),
        (
            target,
            f"{noun} {agreement.id} från {KIND_LABELS[source.kind]} {source.id}: {agreement.text}",
        ),
    ):
        audit_instance(
            session,
            instance,
            at=now,
            actor=actor,
            trigger=trigger,
            from_state=instance.state,
            reason=reason,
        )
    return copy


def complete_agreement(app: App, agreement_id: int, *, actor: str) -> Agreement:
    """Mark an agreed action done (by its owner or someone who may hold the instance)."""
    return _tick(app, Agreement, agreement_id, actor=actor)


def complete_step(app: App, item_id: int, *, actor: str) -> ChecklistItem:
    """Tick a checklist step; when the last required one is done the instance may move on."""
    return _tick(app, ChecklistItem, item_id, actor=actor)


Tickable = TypeVar("Tickable", Agreement, ChecklistItem)
_TICKS: dict[type, tuple[str, str]] = {
    ChecklistItem: ("checklist step", "step_done"),
    Agreement: ("agreement", "agreement_done"),
}
AUTO_ADVANCE = "mark_ready"
"""The trigger Styrhjul fires itself when the last required step is ticked, if declared."""


def _tick(app: App, model: type[Tickable], ident: int, *, actor: str) -> Tickable:
    """Mark a step or an agreement done, once, by its owner or someone who may hold it."""
    kind, trigger = _TICKS[model]
    with row_instance_transaction(app, model, ident, kind) as (session, instance):
        rows = instance.checklist if model is ChecklistItem else instance.agreements
        row = next(r for r in rows if r.id == ident)
        assert isinstance(row, model)  # the rows were picked by model just above
        owner_id = row.assignee_id if isinstance(row, ChecklistItem) else row.owner_id
        require_runner(
            app, session, instance, actor, f"mark {kind} {ident} done", owner_id=owner_id
        )
        if row.done_at is not None:
            return row
        machine = app.machine(instance.workflow, instance.workflow_version)
        if instance.state in machine.definition.final_states:
            raise InputError(
                f"{kind} {ident}: {ref(instance)} is {instance.state}; nothing more can be ticked",
                key="id",
            )
        now = app.clock.now()
        row.done_at, row.done_by = now, actor
        label = row.key if isinstance(row, ChecklistItem) else str(row.id)
        audit_instance(
            session,
            instance,
            at=now,
            actor=actor,
            trigger=trigger,
            from_state=instance.state,
            reason=f"{kind} {label} done",
        )
        if AUTO_ADVANCE in machine.allowed_triggers(instance.state) and not open_required_steps(
            instance
        ):
            fire(app, session, instance, AUTO_ADVANCE, SYSTEM, "all required steps done")
        if isinstance(row, ChecklistItem):  # the rektor hears of what was done for their unit
            # After the state change, so that the instance is written once: the queries
            # the kvittens makes flush what is pending. The units above in one query.
            unit_chain(session, instance)
            acknowledge_step_done(app, session, instance, row, actor)
        return row
