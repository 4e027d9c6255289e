"""``run_due``: everything that is due now, in order. The daemon's tick and ``styrhjul run``."""

from __future__ import annotations

from dataclasses import dataclass, field

from styrhjul.services.context import App
from styrhjul.services.dialogs import open_due_preparations
from styrhjul.services.outbox import DispatchReport, dispatch
from styrhjul.services.recurring import raise_recurring_steps


@dataclass(frozen=True)
class RunReport:
    """What one pass did."""

    opened: list[int]
    dispatch: DispatchReport
    recurring: list[int] = field(default_factory=list)
    """Recurring steps raised (such as an assignment's yearly report to LG and SG)."""


def run_due(app: App) -> RunReport:
    """Open due preparations, raise recurring steps, drain the outbox (this pass's mail too)."""
    opened = open_due_preparations(app)
    recurring = raise_recurring_steps(app)
    return RunReport(opened, dispatch(app), recurring=recurring)
