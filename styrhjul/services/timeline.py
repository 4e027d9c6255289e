"""The audit timeline of any instance: instance ids are one id space across kinds.

``styrhjul history ID`` and the web page read an instance's history here, whatever its
kind (a dialog, a plan assignment, a meeting, a process), oldest change first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from styrhjul.db.models import Instance
from styrhjul.errors import NotFound
from styrhjul.services.audit import history
from styrhjul.services.context import App


@dataclass(frozen=True)
class TimelineEntry:
    """One audited change: who did what when, from which state to which, and why."""

    at: datetime
    actor: str
    trigger: str
    from_state: str | None
    to_state: str | None
    reason: str


@dataclass(frozen=True)
class Timeline:
    """An instance and its audit trail."""

    id: int
    kind: str
    title: str
    workflow: str
    workflow_version: int
    unit: str
    state: str
    state_title: str
    entries: list[TimelineEntry]


def instance_timeline(app: App, instance_id: int) -> Timeline:
    """The audit trail of instance ``instance_id``, oldest first."""
    tz = app.clock.tz
    with app.db.session() as session:
        instance = session.get(Instance, instance_id)
        if instance is None:
            raise NotFound("instance", instance_id)
        definition = app.machine(instance.workflow, instance.workflow_version).definition
        return Timeline(
            id=instance.id,
            kind=instance.kind,
            title=instance.title,
            workflow=instance.workflow,
            workflow_version=instance.workflow_version,
            unit=instance.unit.code,
            state=instance.state,
            state_title=definition.state_title(instance.state),
            entries=[
                TimelineEntry(
                    e.at.astimezone(tz), e.actor, e.trigger, e.from_state, e.to_state, e.reason
                )
                for e in history(session, instance)
            ],
        )
