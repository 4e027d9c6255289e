"""The audit trail: one append-only row per change, written in the change's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from styrhjul.db.models import AuditEvent, Dialog


def audit_dialog(
    session: Session,
    dialog: Dialog,
    *,
    at: datetime,
    actor: str,
    trigger: str,
    from_state: str | None,
    reason: str = "",
) -> None:
    """Record who did ``trigger`` to ``dialog`` when, the state before, the state now and why.

    Touching ``updated_at`` also bumps the dialog's version, so every audited change,
    even one that keeps the state (a ticked step), conflicts with a concurrent one.
    """
    dialog.updated_at = at
    session.add(
        AuditEvent(
            entity="dialog",
            entity_id=dialog.id,
            at=at,
            actor=actor,
            trigger=trigger,
            from_state=from_state,
            to_state=dialog.state,
            reason=reason,
        )
    )
