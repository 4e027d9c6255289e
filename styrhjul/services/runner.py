"""``run_due``: everything that is due now, in order. The daemon's tick and ``styrhjul run``."""

from __future__ import annotations

from dataclasses import dataclass, field

from styrhjul.services.context import App, Stop, never
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

    @property
    def did_something(self) -> bool:
        n = self.notices
        return bool(
            self.opened
            or self.recurring
            or self.invited
            or n.reminded
            or n.overdue
            or n.escalated
            or self.dispatch.sent
            or self.dispatch.retried
            or self.dispatch.failed
            or self.dispatch.recovered
        )

    def summary(self) -> dict[str, int]:
        """Counts, for logs and ``daemon status``."""
        n = self.notices
        return {
            "invited": len(self.invited),
            "opened": len(self.opened),
            "recurring": len(self.recurring),
            "reminded": len(n.reminded),
            "overdue": len(n.overdue),
            "escalated": len(n.escalated),
            "unassigned": len(n.unassigned),
            "conflicts": n.conflicts,
            "sent": self.dispatch.sent,
            "retried": self.dispatch.retried,
            "failed": self.dispatch.failed,
            "recovered": self.dispatch.recovered,
        }


def run_due(app: App, *, drain: bool = True, stop: Stop = never) -> RunReport:
    """Send due invites, open preparations, raise recurring steps, remind and escalate, drain.

    The outbox drain sends the messages written by this pass too; the daemon drains in a
    job of its own (``drain=False``). ``stop`` is asked between units of work.
    """
    invited = send_due_invites(app, stop=stop)
    opened = open_due_preparations(app, stop=stop)
    recurring = raise_recurring_steps(app, stop=stop)
    notices = send_due_notices(app, stop=stop)
    drained = dispatch(app, stop=stop) if drain and not stop() else DispatchReport()
    return RunReport(opened, drained, notices, recurring=recurring, invited=invited)
