"""Accounts and sessions of the web app.

``web_account`` lets a person log in (an Argon2id password hash, or none for OIDC-only
accounts; ``admin`` for the administrators), with the failed-login count and lockout;
``web_session`` holds each login by the digest of its token, with its CSRF token.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 16:12:07.789483
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import styrhjul.db.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_web_account_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_account")),
        sa.UniqueConstraint("person_id", name=op.f("uq_web_account_person_id")),
    )
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("created_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("method IN ('password', 'oidc')", name=op.f("ck_web_session_method")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["web_account.id"], name=op.f("fk_web_session_account_id_web_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_session")),
        sa.UniqueConstraint("digest", name=op.f("uq_web_session_digest")),
    )
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_session_account_id"), ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_session_account_id"))

    op.drop_table("web_session")
    op.drop_table("web_account")
