"""The yearly plan: calendar events of the årshjul, and invites sent ahead of time.

``calendar_event`` holds each occurrence of an årshjul rule in a calendar year, with the
identity planning keeps when a date moves. ``instance.invite_at`` lets the yearly plan
create a year's dialogs at once and send each invite when its time comes, not all on the
day the plan is made.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import styrhjul.db.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("instance", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("invite_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_instance_invite_at", ["invite_at"], unique=False)
    op.create_table(
        "calendar_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("ring", sa.String(length=64), nullable=False),
        sa.Column("series", sa.String(length=200), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("all_day", sa.Boolean(), nullable=False),
        sa.Column("nominal", sa.Date(), nullable=False),
        sa.Column("moved_because", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("ical_uid", sa.String(length=200), nullable=False),
        sa.Column("ical_sequence", sa.Integer(), nullable=False),
        sa.Column("created_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('planned', 'cancelled')", name=op.f("ck_calendar_event_status")
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_calendar_event_span")),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instance.id"], name=op.f("fk_calendar_event_instance_id_instance")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_calendar_event_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_event")),
        sa.UniqueConstraint("key", name=op.f("uq_calendar_event_key")),
        sa.UniqueConstraint("ical_uid", name=op.f("uq_calendar_event_ical_uid")),
    )
    with op.batch_alter_table("calendar_event", schema=None) as batch_op:
        batch_op.create_index("ix_calendar_event_year_rule", ["year", "rule"], unique=False)
        batch_op.create_index("ix_calendar_event_starts_at", ["starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_calendar_event_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_calendar_event_instance_id"), ["instance_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("calendar_event")
    with op.batch_alter_table("instance", schema=None) as batch_op:
        batch_op.drop_index("ix_instance_invite_at")
        batch_op.drop_column("invite_at")
