"""The daemon's bookkeeping: running daemons, each job's last run, periods done.

``daemon_process`` holds every daemon with its heartbeat, ``daemon_job`` the last run of
each job for ``styrhjul daemon status``, and ``period_run`` the idempotency keys of
periodic work (one row per job and period), so that several daemons, restarts and
catch-ups never do a period twice.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 15:46:34.007008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import styrhjul.db.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "daemon_job",
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("last_worker", sa.String(length=100), nullable=False),
        sa.Column("last_started_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_finished_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.String(length=20), nullable=False),
        sa.Column("last_summary", sa.Text(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "last_status IN ('running', 'ok', 'failed')", name=op.f("ck_daemon_job_last_status")
        ),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_daemon_job")),
    )
    op.create_table(
        "daemon_process",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("started_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("stop_reason", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daemon_process")),
        sa.UniqueConstraint("worker", name=op.f("uq_daemon_process_worker")),
    )
    op.create_table(
        "period_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=40), nullable=False),
        sa.Column("due_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=False),
        sa.Column("started_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", styrhjul.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "status IN ('running', 'done', 'failed')", name=op.f("ck_period_run_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_period_run")),
        sa.UniqueConstraint("job", "period", name=op.f("uq_period_run_job")),
    )


def downgrade() -> None:
    op.drop_table("period_run")
    op.drop_table("daemon_process")
    op.drop_table("daemon_job")
