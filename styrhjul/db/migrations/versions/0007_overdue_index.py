"""Open steps indexed by due instant and id, for the overdue listing's pages.

``ix_checklist_item_overdue`` is a partial index on ``(due_at, id) WHERE done_at IS
NULL``: the overdue listing reads its pages by that key (most overdue first, the id
breaking ties) and stops after one page, and the daemon's due notices find open steps
past due with it. It replaces ``ix_checklist_item_open_due`` on ``(done_at, due_at)``,
which served the same queries but also held every done step, most of the table.

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

OPEN = sa.text("done_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("checklist_item", schema=None) as batch_op:
        batch_op.drop_index("ix_checklist_item_open_due")
        batch_op.create_index(
            "ix_checklist_item_overdue",
            ["due_at", "id"],
            unique=False,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )


def downgrade() -> None:
    with op.batch_alter_table("checklist_item", schema=None) as batch_op:
        batch_op.drop_index("ix_checklist_item_overdue", sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.create_index("ix_checklist_item_open_due", ["done_at", "due_at"], unique=False)
