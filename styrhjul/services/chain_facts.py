"""What a dialog level waits for from the level below it (the chain's facts, queries only).

A level whose schedule names ``chain_after`` prepares its round N from the round N of the
level below: every dialog of that round under the unit must have been held, and the
observations compiled. The guard ``chain_compiled`` reads the answer from the facts.
"""

from __future__ import annotations

from collections import deque

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from styrhjul.db.models import Dialog, Observation
from styrhjul.engine.definition import STAY, WorkflowDefinition
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
