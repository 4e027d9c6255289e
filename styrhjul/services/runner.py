"""``run_due``: everything that is due now, in order. The daemon's tick and ``styrhjul run``."""

from __future__ import annotations

from dataclasses import dataclass

from styrhjul.services.context import App
from styrhjul.services.dialogs import open_due_preparations
from styrhjul.services.outbox import DispatchReport, dispatch


@dataclass(frozen=True)
class RunReport:
    """What one pass did."""

    opened: list[int]
    dispatch: DispatchReport


def run_due(app: App) -> RunReport:
    """Open due preparations, then drain the outbox (messages written by this pass included)."""
    opened = open_due_preparations(app)
    return RunReport(opened, dispatch(app))
