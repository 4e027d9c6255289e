"""``run_due``, the daemon's tick and ``styrhjul run``: it opens what is due, then sends.

Planning and sending are covered on both databases elsewhere (services/test_dialog_round,
services/test_outbox, test_cli); this checks exactly which dialogs one pass opens, on SQLite.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from styrhjul.clock import STOCKHOLM, FixedClock
from styrhjul.db.models import Dialog
from styrhjul.services.context import App
from styrhjul.services.runner import run_due


def _dialogs(app: App) -> dict[int, tuple[str, date]]:
    """Dialog id -> its state and the day it meets."""
    with app.db.session() as session:
        return {
            d.id: (d.state, d.starts_at.astimezone(STOCKHOLM).date())
            for d in session.scalars(select(Dialog))
        }


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_run_due_opens_exactly_the_due_preparations_and_sends_the_invites(
    planned_app: App, clock: FixedClock
) -> None:
    app = planned_app
    first = run_due(app)  # Tuesday 1 September: nothing is due yet; the invites go out
    assert first.opened == []
    assert (first.dispatch.sent, first.dispatch.retried, first.dispatch.failed) == (80, 0, 0)
    assert len(list((app.settings.maildir_path / "new").iterdir())) == 80

    # Monday 7 September, 09:00: 20 working days before the dialogs of Monday 5 October,
    # whose preparation opens at 08:00; those of 6 and 7 October open on the next days.
    clock.advance(timedelta(days=6))
    before = _dialogs(app)
    assert {state for state, _ in before.values()} == {"planned"}
    due = sorted(i for i, (_, day) in before.items() if day == date(2026, 10, 5))
    assert len(due) == 20
    assert len(before) == 40

    report = run_due(app)
    assert report.opened == due  # same prepare_at, so in id order
    assert report.dispatch.sent == 0  # opening a preparation sends no mail
    after = _dialogs(app)
    assert sorted(i for i, (state, _) in after.items() if state == "preparing") == due
    assert sorted(i for i, (state, _) in after.items() if state == "planned") == sorted(
        set(before) - set(due)
    )
    assert run_due(app).opened == []  # nothing opens twice
