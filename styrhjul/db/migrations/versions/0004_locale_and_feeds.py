"""A person's message language, and tokens for calendar feeds.

``person.locale`` chooses the templates of a person's messages (Swedish by default,
English as the second locale). ``feed_token`` holds the digests of the unguessable,
revocable tokens under which a person's or a unit's calendar feed is served.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 14:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import styrhjul.db.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("locale", sa.String(length=8), server_default="sv", nullable=False)
        )
    op.create_table(
        "feed_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(person_id IS NULL) <> (unit_id IS NULL)", name=op.f("ck_feed_token_one_owner")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_feed_token_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_unit.id"], name=op.f("fk_feed_token_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_token")),
        sa.UniqueConstraint("digest", name=op.f("uq_feed_token_digest")),
    )
    with op.batch_alter_table("feed_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feed_token_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_feed_token_unit_id"), ["unit_id"], unique=False)


def downgrade() -> None:
    op.drop_table("feed_token")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("locale")
