"""``run_due``: everything that is due now, in order. The daemon's tick and ``styrhjul run``."""

from __future__ import annotations

from dataclasses import dataclass, field

from styrhjul.services.context import App
from styrhjul.services.dialogs import open_due_preparations, send_due_invites
from styrhjul.services.escalation import NoticeReport, send_due_notices
from styrhjul.services.outbox import DispatchReport, dispatch
from styrhjul.services.recurring import raise_recurring_steps


@dataclass(frozen=True)
class RunReport:
    """What one pass did."""

    opened: list[int]
    dispatch: DispatchReport
    notices: NoticeReport = field(default_factory=NoticeReport)
    recurring: list[int] = field(default_factory=list)
    """Recurring steps raised (such as an assignment's yearly report to LG and SG)."""
    invited: list[int] = field(default_factory=list)
    """Dialogs planned ahead whose first invite went out in this pass."""


def run_due(app: App) -> RunReport:
    """Send due invites, open preparations, raise recurring steps, remind and escalate, drain.

    The outbox drain sends the messages written by this pass too.
    """
    invited = send_due_invites(app)
    opened = open_due_preparations(app)
    recurring = raise_recurring_steps(app)
    notices = send_due_notices(app)
    return RunReport(opened, dispatch(app), notices, recurring=recurring, invited=invited)
