"""Partial indexes of open steps, for the overdue listing's pages and the due notices.

``ix_checklist_item_overdue`` indexes ``(due_at, id, instance_id) WHERE done_at IS
NULL``: the overdue listing reads its pages by ``(due_at, id)`` (most overdue first, the
id breaking ties) and stops after one page; the instance id lets the join to the
instance (is it live?) and the capped count skip the table rows. The daemon's overdue
notices find open steps past due with it too. It replaces ``ix_checklist_item_open_due`` on ``(done_at, due_at)``. The
reminder and escalation indexes become partial in the same way (``remind_at`` and
``escalate_at`` of open steps): indexes that led with ``done_at`` held every done step,
most of the table, and SQLite took ``done_at IS NULL`` on them for a selective equality,
then sorted every open step to answer the listing's first page.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 05:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = {
    "sqlite_where": sa.text("done_at IS NULL"),
    "postgresql_where": sa.text("done_at IS NULL"),
}


def upgrade() -> None:
    with op.batch_alter_table("checklist_item", schema=None) as batch_op:
        batch_op.drop_index("ix_checklist_item_open_due")
        batch_op.drop_index("ix_checklist_item_open_remind")
        batch_op.drop_index("ix_checklist_item_open_escalate")
        batch_op.create_index(
            "ix_checklist_item_overdue", ["due_at", "id", "instance_id"], unique=False, **OPEN
        )
        batch_op.create_index("ix_checklist_item_open_remind", ["remind_at"], unique=False, **OPEN)
        batch_op.create_index(
            "ix_checklist_item_open_escalate", ["escalate_at"], unique=False, **OPEN
        )


def downgrade() -> None:
    with op.batch_alter_table("checklist_item", schema=None) as batch_op:
        batch_op.drop_index("ix_checklist_item_open_escalate")
        batch_op.drop_index("ix_checklist_item_open_remind")
        batch_op.drop_index("ix_checklist_item_overdue")
        batch_op.create_index(
            "ix_checklist_item_open_escalate", ["done_at", "escalate_at"], unique=False
        )
        batch_op.create_index(
            "ix_checklist_item_open_remind", ["done_at", "remind_at"], unique=False
        )
        batch_op.create_index("ix_checklist_item_open_due", ["done_at", "due_at"], unique=False)
