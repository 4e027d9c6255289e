"""The command line for processes, dialog levels and the chain between them."""

from __future__ import annotations

import pytest
from support import Cli

DIRECTOR = "utbildningsdirektor@example.se"
BOARD_CHAIR = "ordforande.bun@example.se"
RECTOR = "rektor.vastra-skolan@example.se"
HEAD = "verksamhetschef.grundskola-norr@example.se"

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@sqlite_only
def test_a_budget_cycle_from_the_command_line(org_cli: Cli) -> None:
    started = org_cli.json(
        "processes", "start", "budget_cycle", "--unit", "sff", "--period", "2027",
        "--at", "2027-04-20 13:00", "--as", DIRECTOR,
    )  # fmt: skip
    assert started["created"] is True
    again = org_cli.ok(
        "processes", "start", "budget_cycle", "--unit", "sff", "--period", "2027",
        "--at", "2027-04-20 13:00", "--as", DIRECTOR,
    )  # fmt: skip
    assert f"process {started['id']}: budget_cycle 2027 for sff already running" in again
    (row,) = org_cli.json("processes", "list", "--workflow", "budget_cycle")
    assert (row["state"], row["open_steps"], row["period"]) == ("drafting", 2, "2027")
    ident = str(started["id"])

    code, _, err = org_cli("processes", "move", ident, "submit_proposal", "--as", BOARD_CHAIR)
    assert code == 4
    assert "required checklist steps are still open: goals_and_economy" in err
    code, _, err = org_cli("processes", "move", ident, "submit_proposal", "--as", RECTOR)
    assert code == 5
    out = org_cli.ok(
        "processes", "move", ident, "submit_proposal", "--override",
        "--reason", "Förslaget föredrogs muntligt", "--as", BOARD_CHAIR,
    )  # fmt: skip
    assert out.strip() == f"instance {ident}: proposed"
    detail = org_cli.json("processes", "show", ident)
    assert detail["state"] == "proposed"
    assert detail["allowed"] == ["cancel", "record_allocation"]
    assert [h["trigger"] for h in detail["history"]] == [
        "start", "submit_proposal", "waive_step", "waive_step",
    ]  # fmt: skip
    shown = org_cli.ok("processes", "show", ident)
    assert "Ta fram förslag till mål och ekonomi för kommande år" in shown


@sqlite_only
@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["start", "budget_cycle", "--unit", "sff", "--period", "2027", "--as", DIRECTOR], 2,
         "give the event's date and time"),
        (["start", "budget_cycle", "--unit", "nowhere", "--period", "2027", "--at",
          "2027-04-20 13:00", "--as", DIRECTOR], 3, "unit 'nowhere' not found"),
        (["show", "999"], 3, "instance 999 not found"),
        (["move", "999", "close", "--as", DIRECTOR], 3, "instance 999 not found"),
    ],
)  # fmt: skip
def test_bad_process_commands_exit_with_their_code(
    org_cli: Cli, args: list[str], code: int, message: str
) -> None:
    got, _, err = org_cli("processes", *args)
    assert got == code
    assert message in err


@sqlite_only
def test_plan_a_level_and_compile_the_round_below(org_cli: Cli) -> None:
    org_cli.ok("plan", "--school-year", "2026/27", "--round", "1")
    planned = org_cli.json(
        "plan", "--school-year", "2026/27", "--round", "1", "--level", "director_area"
    )
    assert (planned["level"], len(planned["created"])) == ("director_area", 5)
    code, _, err = org_cli("plan", "--level", "nonsense")
    assert code == 2
    assert "unknown dialog level 'nonsense'" in err
    norr = next(r for r in org_cli.json("dialog", "list") if r["unit"] == "grundskola-norr")
    code, _, err = org_cli(
        "dialog", "compile", str(norr["id"]), "--assessment", "grundskola | Bra", "--as", HEAD
    )
    assert code == 4
    assert "the round below is not held yet" in err
    code, _, err = org_cli(
        "dialog", "compile", str(norr["id"]), "--assessment", "no separator", "--as", HEAD
    )
    assert code == 2
    assert "expected 'school form | your assessment'" in err
    code, _, err = org_cli("processes", "move", str(norr["id"]), "hold", "--as", DIRECTOR)
    assert code == 2
    assert f"dialog {norr['id']} is not a process; use the dialog commands for it" in err
