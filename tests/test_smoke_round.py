from datetime import timedelta

from styrhjul.calendar import SchoolYear
from styrhjul.services.planning import plan_round
from styrhjul.services.runner import run_due


def test_round_is_planned_and_invites_reach_the_maildir(app, clock):
    result = plan_round(app, SchoolYear(2026), 1)
    assert len(result.created) == 40
    report = run_due(app)
    assert report.dispatch.sent == result.invites == 80
    mails = list((app.settings.maildir_path / "new").iterdir())
    assert len(mails) == 80
    clock.advance(timedelta(days=20))
    assert run_due(app).opened
