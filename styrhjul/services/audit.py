"""The audit trail: one append-only row per change, written in the change's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from styrhjul.db.models import AuditEvent, Instance


def audit_instance(
    session: Session,
    instance: Instance,
    *,
    at: datetime,
    actor: str,
    trigger: str,
    from_state: str | None,
    reason: str = "",
) -> None:
    """Record who did ``trigger`` to ``instance`` when, the state before, the state now and why.

    The row's entity is the instance's kind ("dialog", "assignment" ...) and its id the
    instance's id. Touching ``updated_at`` also bumps the instance's version, so every
    audited change, even one that keeps the state (a ticked step), conflicts with a
    concurrent one.
    """
    instance.updated_at = at
    row = {
        "entity": instance.kind,
        "entity_id": instance.id,
        "at": at,
        "actor": actor,
        "trigger": trigger,
        "from_state": from_state,
        "to_state": instance.state,
        "reason": reason,
    }
    if instance.id is None or any(isinstance(o, AuditEvent) for o in session.new):
        # Rows added as objects are inserted at the next flush: this one joins them, so
        # the trail keeps the order the changes were made in.
        session.add(AuditEvent(**row))
        return
    # Nobody reads the row back in the change's transaction, so one plain INSERT, sent
    # now on the session's connection (no autoflush), spares the ORM's object, its flush
    # and the RETURNING of its id.
    session.connection().execute(insert(cast(Table, AuditEvent.__table__)).inline(), row)


def history(session: Session, instance: Instance) -> list[AuditEvent]:
    """The instance's audit trail, oldest first."""
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == instance.kind, AuditEvent.entity_id == instance.id)
            .order_by(AuditEvent.id)
        )
    )
