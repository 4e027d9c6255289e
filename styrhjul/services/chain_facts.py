"""What a dialog level waits for from the level below it (the chain's facts, queries only).

A level whose schedule names ``chain_after`` prepares its round N from the round N of the
level below: every dialog of that round under the unit must have been held, and the
observations compiled. The guard ``chain_compiled`` reads the answer from the facts.

:func:`chain_may_pass` says the same in SQL, as far as a query can cheaply tell: the
daemon's tick selects only the preparations whose guard can pass, instead of loading and
refusing every director's dialog whose round below is not compiled yet, on every tick.
"""

from __future__ import annotations

from collections import deque

from sqlalchemy import ColumnElement, not_, or_, select, true, tuple_
from sqlalchemy.orm import Session, selectinload

from styrhjul.db.models import Dialog, Instance, Observation
from styrhjul.engine.definition import STAY, WorkflowDefinition
from styrhjul.engine.guards import chain_compiled
from styrhjul.services.context import App
from styrhjul.services.org import subtree_ids

HOLD = "hold"


def held_states(definition: WorkflowDefinition) -> frozenset[str]:
    """The states a dialog is in once it has been held: ``hold``'s destination and after."""
    spec = definition.spec
    starts = {t.dest for t in spec.transition if t.trigger == HOLD and t.dest != STAY}
    seen = set(starts)
    queue = deque(starts)
    while queue:
        state = queue.popleft()
        for t in spec.transition:
            if state in t.source and t.dest not in seen and t.dest != STAY:
                seen.add(t.dest)
                queue.append(t.dest)
    return frozenset(seen | definition.final_states)


def rounds_below(app: App, session: Session, dialog: Dialog) -> list[Dialog]:
    """The dialogs of the level below, same school year and round, under the dialog's unit."""
    definition = app.machine(dialog.workflow, dialog.workflow_version).definition
    below = definition.schedule.chain_after
    if below is None:
        return []
    return list(
        session.scalars(
            select(Dialog)
            .options(selectinload(Dialog.unit), selectinload(Dialog.agreements))
            .where(
                Dialog.level == below,
                Dialog.school_year == dialog.school_year,
                Dialog.round_no == dialog.round_no,
                Dialog.unit_id.in_(subtree_ids(dialog.unit_id)),
            )
            .order_by(Dialog.starts_at, Dialog.id)
        )
    )


def chain_waiting(app: App, session: Session, dialog: Dialog) -> tuple[str, ...]:
    """What keeps the dialog's preparation from opening; empty when nothing does."""
    definition = app.machine(dialog.workflow, dialog.workflow_version).definition
    if definition.schedule.chain_after is None:
        return ()
    waiting = []
    for below in rounds_below(app, session, dialog):
        below_definition = app.machine(below.workflow, below.workflow_version).definition
        if below.state not in held_states(below_definition):
            waiting.append(
                f"dialog {below.id} ({below.unit.name}) is "
                f"{below_definition.state_title(below.state).lower()}"
            )
    compiled = session.scalar(
        select(Observation.id).where(Observation.instance_id == dialog.id).limit(1)
    )
    if compiled is None:
        waiting.append("the observations per school form are not compiled yet")
    return tuple(waiting)


def waits_for_chain(definition: WorkflowDefinition, trigger: str) -> bool:
    """Whether ``trigger`` of ``definition`` asks the chain guard of a level with a round below."""
    schedule = definition.spec.schedule
    return (
        schedule is not None
        and schedule.chain_after is not None
        and any(
            t.trigger == trigger and chain_compiled.__name__ in t.conditions
            for t in definition.spec.transition
        )
    )


def chain_may_pass(app: App, trigger: str) -> ColumnElement[bool]:
    """SQL on :class:`Instance`: the chain's guard may let ``trigger`` pass now.

    Necessary, not sufficient: the guard refuses while the dialog has no observations, and
    only :func:`~styrhjul.services.chain.compile_round` writes them, once every dialog of
    the round below is held (a state a dialog never leaves). So a dialog of a chained
    definition version is a candidate once compiled; the guard still decides, and refuses
    the rare dialog whose round below grew a dialog after the compilation, until it is held.
    Definition versions not loaded in ``app`` are left to the guard.
    """
    chained = sorted(
        (m.definition.name, m.definition.version)
        for m in app.machines.values()
        if waits_for_chain(m.definition, trigger)
    )
    if not chained:
        return true()
    compiled = select(Observation.id).where(Observation.instance_id == Instance.id).exists()
    return or_(not_(tuple_(Instance.workflow, Instance.workflow_version).in_(chained)), compiled)
