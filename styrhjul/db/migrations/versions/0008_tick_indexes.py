"""Indexes of what the daemon's tick has still to do, so an idle tick reads no waiting rows.

``ix_checklist_item_pending_remind`` indexes ``remind_at`` of open steps whose reminder has
not gone out (``done_at IS NULL AND reminded_at IS NULL``) and replaces
``ix_checklist_item_open_remind``, which held every open step: the reminders' query read
each open step already reminded and not yet due (1,566 rows, about 2 ms, at a million
steps) to find none. ``ix_checklist_item_pending_overdue`` does the same for overdue
notices (``due_at`` of open steps not yet notified): open steps that stay overdue after
their notice would otherwise be read again on every tick (50,000 of them cost 39 ms).
``ix_checklist_item_overdue`` stays for the overdue listing.

``ix_instance_state_prepare_at`` gains ``workflow`` and ``workflow_version``: the tick's
preparations query leaves out a director's dialog waiting for its round below by its
definition version (``chain_facts.chain_may_pass``) without reading the instance's row.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 13:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _where(condition: str) -> dict[str, sa.TextClause]:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


OPEN = "done_at IS NULL"
NOT_REMINDED = "done_at IS NULL AND reminded_at IS NULL"
NOT_NOTIFIED = "done_at IS NULL AND overdue_notified_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("checklist_item", schema=None) as batch_op:
        batch_op.drop_index("ix_checklist_item_open_remind")
        batch_op.create_index(
            "ix_checklist_item_pending_remind", ["remind_at"], unique=False, **_where(NOT_REMINDED)
        )
        batch_op.create_index(
            "ix_checklist_item_pending_overdue", ["due_at"], unique=False, **_where(NOT_NOTIFIED)
        )
    with op.batch_alter_table("instance", schema=None) as batch_op:
        batch_op.drop_index("ix_instance_state_prepare_at")
        batch_op.create_index(
            "ix_instance_state_prepare_at",
            ["state", "prepare_at", "workflow", "workflow_version"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("instance", schema=None) as batch_op:
        batch_op.drop_index("ix_instance_state_prepare_at")
        batch_op.create_index("ix_instance_state_prepare_at", ["state", "prepare_at"], unique=False)
    with op.batch_alter_table("checklist_item", schema=None) as batch_op:
        batch_op.drop_index("ix_checklist_item_pending_overdue")
        batch_op.drop_index("ix_checklist_item_pending_remind")
        batch_op.create_index(
            "ix_checklist_item_open_remind", ["remind_at"], unique=False, **_where(OPEN)
        )
