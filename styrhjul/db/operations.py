"""Tables of the daemon's own bookkeeping: who runs, which job ran when, which period is done.

:class:`DaemonProcess` is one running (or stopped, or lost) daemon with its heartbeat; a
daemon whose heartbeat is older than ``daemon.lost_after_seconds`` is taken for dead and
its claimed outbox rows are handed to the others. :class:`DaemonJob` keeps the last run of
each job, whichever daemon ran it, for ``styrhjul daemon status``. :class:`PeriodRun` is
the idempotency key of periodic work: one row per (job, period), such as the weekly digest
of ISO week 2026-W48, inserted by the daemon that claims it, so a period is done once
however many daemons run and however often they restart.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from styrhjul.db.models import Base, _in

JOB_STATUSES = ("running", "ok", "failed")
PERIOD_STATUSES = ("running", "done", "failed")


class DaemonProcess(Base):
    """One daemon process: registered at start, heartbeat while alive, stopped on exit."""

    __tablename__ = "daemon_process"

    id: Mapped[int] = mapped_column(primary_key=True)
    worker: Mapped[str] = mapped_column(String(100), unique=True)
    """``host:pid``, the name its claims carry (``outbox_message.claimed_by``)."""
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None]
    stop_reason: Mapped[str | None] = mapped_column(String(200))


class DaemonJob(Base):
    """The last run of one job, by whichever daemon, and how many runs and failures."""

    __tablename__ = "daemon_job"
    __table_args__ = (CheckConstraint(_in("last_status", JOB_STATUSES), name="last_status"),)

    job: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_worker: Mapped[str] = mapped_column(String(100))
    last_started_at: Mapped[datetime]
    last_finished_at: Mapped[datetime | None]
    last_status: Mapped[str] = mapped_column(String(20))
    last_summary: Mapped[str] = mapped_column(Text, default="")
    last_error: Mapped[str | None] = mapped_column(Text)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class PeriodRun(Base):
    """Periodic work claimed for one period: at most one row per (job, period)."""

    __tablename__ = "period_run"
    __table_args__ = (
        UniqueConstraint("job", "period"),
        CheckConstraint(_in("status", PERIOD_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(40))
    """The period's key: a local date (``2026-11-23``) or an ISO week (``2026-W48``)."""
    due_at: Mapped[datetime]
    """When the schedule wanted it done; later than this is a catch-up."""
    worker: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text, default="")
