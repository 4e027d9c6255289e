"""``styrhjul simulate``: the dry run on the command line, over the planned round 1 of 2026/27.

One dialog is kept (Västra skolan, 6 October), as in tests/test_simulation.py, so a month
walks in about a second. The 80 invites of the round are pending; nothing may be sent.
"""

from __future__ import annotations

import re

import pytest
from support import Cli, keep_dialogs

from styrhjul.config import load_settings
from styrhjul.wiring import build

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

HEAD = "verksamhetschef.grundskola-norr@example.se"
PERIOD = ("--from", "2026-09-01", "--to", "2026-09-24")


@pytest.fixture
def vastra_cli(planned_cli: Cli) -> Cli:
    app = build(load_settings(planned_cli.config, environ={}))
    try:
        keep_dialogs(app, "vastra-skolan")
    finally:
        app.close()
    return planned_cli


@sqlite_only
def test_text_report_day_by_day_and_nothing_sent(vastra_cli: Cli) -> None:
    outbox = vastra_cli.json("outbox", "list")
    code, out, err = vastra_cli("simulate", "--no-plan", *PERIOD)
    assert code == 0, err
    assert out.startswith("Simulation 2026-09-01 to 2026-09-24: nothing was sent")
    assert "2026-09-08 Tuesday" in out
    assert "08:00 open_preparation dialog" in out
    assert "2026-09-05" not in out  # a Saturday with nothing happening is left out
    assert "Påminnelse: Uppdatera kvalitetsrapporten" in out  # the Swedish subject as it is
    assert "08:00 escalated  level 1 step" in out
    assert f"to {HEAD}" in out
    assert "Totals over 24 days" in out
    assert re.search(r"sent \d+ \(escalation 2, invite 80, overdue \d+, reminder \d+\)", out)
    assert "simulated 24 days in" in err
    assert vastra_cli.mails() == []
    assert vastra_cli.json("outbox", "list") == outbox


@sqlite_only
def test_json_report_parses(vastra_cli: Cli) -> None:
    report = vastra_cli.json("simulate", "--no-plan", *PERIOD)
    assert (report["first"], report["last"], report["days_simulated"]) == (
        "2026-09-01",
        "2026-09-24",
        24,
    )
    escalations = [e for day in report["days"] for e in day["escalated"]]
    assert [(e["level"], e["to"]) for e in escalations if e["to"] == HEAD] == [(1, HEAD)]
    first = report["days"][0]
    assert first["day"] == "2026-09-01"
    assert first["sent"][0]["at"] == "2026-09-01T09:00:00+02:00"
    assert report["totals"]["sent"] == sum(report["sent_by_kind"].values())
    assert vastra_cli.mails() == []


@sqlite_only
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--from", "2026-13-01", "--to", "2026-12-01"), "--from: expected a date"),
        (("--from", "2026-09-01", "--to", "1 oktober"), "--to: expected a date"),
        (("--from", "2026-09-02", "--to", "2026-09-01"), "--from/--to: the period ends"),
        (("--from", "2026-09-01", "--to", "2028-09-01"), "--from/--to: 2026-09-01 to 2028-09-01"),
        (("--from", "2026-09-01"), "Missing option '--to'"),
    ],
)
def test_bad_dates_exit_2_saying_what_is_wrong(
    planned_cli: Cli, args: tuple[str, ...], says: str
) -> None:
    err = planned_cli.fails(2, "simulate", *args)
    assert says in err
    assert planned_cli.mails() == []
