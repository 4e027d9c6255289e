"""``styrhjul overdue``, ``styrhjul steps ...``, ``styrhjul history`` and what ``run`` reports.

In-process through ``styrhjul.cli.main.main(argv)`` over a copy of the planned database
(round 1 of 2026/27, three of its dialogs kept), with the clock set by ``--now``.
"""

from __future__ import annotations

import pytest
from support import Cli, keep_dialogs

from styrhjul.config import load_settings
from styrhjul.wiring import build

RECTOR = "rektor.vastra-skolan@example.se"
HEAD = "verksamhetschef.grundskola-norr@example.se"
OTHER_RECTOR = "rektor.bergaskolan@example.se"
MONDAY = "2026-09-21 09:00"  # the first area heads' steps are a working day overdue
LATER = "2026-09-25 12:00"
KEPT = ("vastra-skolan", "norrbackaskolan", "ekbackens-forskoleomrade")


@pytest.fixture
def cli(planned_cli: Cli) -> Cli:
    """The planned round on ``MONDAY``, with three dialogs kept so that a catch-up ``run``
    stays quick."""
    app = build(load_settings(planned_cli.config, environ={}))
    try:
        keep_dialogs(app, *KEPT)
    finally:
        app.close()
    planned_cli.now = MONDAY
    return planned_cli


def _vastra_steps(cli: Cli) -> dict[str, int]:
    return {r["key"]: r["id"] for r in cli.json("steps", "list", "--as", RECTOR)}


def test_overdue_lists_filters_and_sorts(cli: Cli) -> None:
    assert cli.ok("overdue", now="2026-09-15 09:00").strip() == "no overdue steps"
    assert cli.json("overdue", now="2026-09-15 09:00") == []

    rows = cli.json("overdue")
    assert rows, "the first quality_criteria steps are overdue on Monday 21 September"
    assert [r["days_overdue"] for r in rows] == sorted(
        (r["days_overdue"] for r in rows), reverse=True
    )
    assert {r["key"] for r in rows} == {"quality_criteria"}
    (vastra,) = cli.json("overdue", "--unit", "vastra-skolan")
    assert vastra["unit"] == "vastra-skolan"
    assert vastra["unit_name"] == "Västra skolan"
    assert vastra["area"] == "grundskola-norr"
    assert vastra["assignee"] == HEAD
    assert vastra["instance_kind"] == "dialog"
    assert vastra["instance_title"] == "Verksamhetsdialog Västra skolan"
    assert vastra["level"] == "area_rektor"
    assert vastra["due_at"] == "2026-09-18T16:00:00+02:00"
    assert (vastra["days_overdue"], vastra["escalation_level"]) == (1, 0)
    norr = cli.json("overdue", "--unit", "grundskola-norr", "--level", "area_rektor")
    assert {r["area"] for r in norr} == {"grundskola-norr"}
    assert len(norr) < len(rows)
    assert cli.json("overdue", "--level", "assignment") == []

    table = cli.ok("overdue", "--unit", "vastra-skolan")
    assert "1 overdue steps" in table
    assert "Västra skolan (vastra-skolan)" in table
    assert "2026-09-18 16:00" in table

    code, _, err = cli("overdue", "--level", "principal")
    assert code == 2
    assert "unknown level 'principal'" in err
    code, _, err = cli("overdue", "--unit", "nowhere")
    assert code == 3
    assert "'nowhere'" in err


def test_steps_list_done_and_the_kvittens(cli: Cli) -> None:
    mine = cli.json("steps", "list", "--mine", "--as", RECTOR)
    assert [r["key"] for r in mine] == ["quality_report", "facts", "material", "observations"]
    assert {r["assignee"] for r in mine} == {RECTOR}
    steps = _vastra_steps(cli)
    assert len(steps) == 7

    out = cli.ok("steps", "done", str(steps["quality_criteria"]), "--as", HEAD)
    assert f"step {steps['quality_criteria']} (quality_criteria) of instance" in out
    assert out.strip().endswith(": done")
    still_open = cli.json("steps", "list", "--open", "--as", RECTOR)
    assert "quality_criteria" not in {r["key"] for r in still_open}
    assert len(still_open) == 6
    table = cli.ok("steps", "list", "--mine", "--as", RECTOR)
    assert f"steps of {RECTOR}" in table
    assert "Uppdatera kvalitetsrapporten" in table

    sent = [r for r in cli.json("outbox", "list") if r["kind"] == "acknowledgement"]
    assert len(sent) == 1
    assert RECTOR in sent[0]["recipient"]
    assert sent[0]["subject"].startswith("Kvittens: Steget ”Fastställ kvalitetskriterier")

    cli.ok("steps", "done", str(steps["facts"]), "--as", RECTOR)  # their own: no kvittens
    assert len([r for r in cli.json("outbox", "list") if r["kind"] == "acknowledgement"]) == 1

    code, _, err = cli("steps", "done", str(steps["material"]), "--as", OTHER_RECTOR)
    assert code == 5
    assert f"checklist step {steps['material']}" in err
    code, _, err = cli("steps", "done", "999999", "--as", RECTOR)
    assert code == 3
    code, _, err = cli("steps", "list")
    assert code == 2
    assert "--as" in err


def test_run_reminds_and_escalates_and_history_shows_it(cli: Cli) -> None:
    out = cli.ok("run", now=LATER)
    assert "reminders: " in out
    assert "escalations: " in out
    reminders = int(out.split("reminders: ")[1].split(",")[0])
    escalations = int(out.split("escalations: ")[1].split(";")[0])
    assert reminders > 0
    assert escalations > 0
    again = cli.ok("run", now=LATER)
    assert "reminders: 0, overdue notices: 0, escalations: 0;" in again

    steps = _vastra_steps(cli)
    (row,) = cli.json("overdue", "--unit", "vastra-skolan", now=LATER)[:1]
    assert row["escalation_level"] == 1
    dialog_id = row["instance_id"]
    cli.ok("steps", "done", str(steps["facts"]), "--as", RECTOR, now=LATER)

    timeline = cli.json("history", str(dialog_id), now=LATER)
    assert (timeline["kind"], timeline["id"]) == ("dialog", dialog_id)
    assert timeline["unit"] == "vastra-skolan"
    triggers = [e["trigger"] for e in timeline["entries"]]
    assert triggers[:2] == ["plan", "open_preparation"]
    assert "escalate" in triggers
    assert triggers[-1] == "step_done"
    table = cli.ok("history", str(dialog_id), now=LATER)
    assert f"dialog {dialog_id}" in table
    assert "escalate" in table
    assert "Förberedelser pågår" in table
    code, _, err = cli("history", "999999")
    assert code == 3
    assert "instance 999999" in err
