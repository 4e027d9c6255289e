"""The jobs APScheduler calls by name (``styrhjul.daemon.jobs:tick``): each one use case.

A job is a few lines: it asks the service layer to do one thing and hands the outcome to
the :class:`~styrhjul.daemon.runtime.Runtime`, which times, logs and records it. No rule of
the business lives here.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from styrhjul.daemon.runtime import Runtime
from styrhjul.daemon.schedule import DIGEST, DRAIN, PLAN, TICK
from styrhjul.services.daemons import heartbeat as beat
from styrhjul.services.digest import send_weekly_digest
from styrhjul.services.outbox import dispatch
from styrhjul.services.runner import run_due
from styrhjul.services.yearplan import keep_planned


def tick(runtime: Runtime) -> None:
    """Everything due in the database except sending: invites, preparations, notices.

    It first looks whether a periodic period has come that no fire of its own has done:
    the cron triggers follow the machine's clock, while a trial daemon's clock (``--now``)
    runs elsewhere, and a fire can be lost. That look costs nothing once a period is done.
    """
    plan(runtime, check=True)
    digest(runtime, check=True)
    runtime.run(
        TICK, lambda: run_due(runtime.app, drain=False, stop=runtime.stop_requested).summary()
    )


def drain(runtime: Runtime) -> None:
    """Send the outbox."""
    runtime.run(
        DRAIN,
        lambda: asdict(dispatch(runtime.app, worker=runtime.worker, stop=runtime.stop_requested)),
    )


def heartbeat(runtime: Runtime) -> None:
    """Say this daemon is alive, so that the others do not take over its work."""
    runtime.quietly("heartbeat", lambda: beat(runtime.app, runtime.worker))


def plan(runtime: Runtime, *, check: bool = False) -> None:
    """Keep this year, and from 1 November the next, planned (once a day)."""

    def work(_due: datetime) -> dict[str, Any]:
        plans = keep_planned(runtime.app, runtime.app.clock.today())
        return {
            "years": [p.year for p in plans],
            "changes": sum(len(p.changes) for p in plans),
            "first_plans": [p.year for p in plans if p.first_plan],
        }

    runtime.periodic(PLAN, work, check=check)


def digest(runtime: Runtime, *, check: bool = False) -> None:
    """The directors' digest of overdue steps (once a week)."""
    runtime.periodic(
        DIGEST, lambda due: {"sent": send_weekly_digest(runtime.app, due.date())}, check=check
    )
