"""``styrhjul assignments ...`` end to end, in-process through ``main(argv)``: every command,
its JSON, and the exit codes of bad input (2), unknown things (3), refusals (4), missing
roles (5) and stale versions (6). The rules themselves are tested in
``tests/services/test_assignments.py``; here the commands must pass them on faithfully.
"""

from __future__ import annotations

from support import Cli

DIRECTOR = "utbildningsdirektor@example.se"
SECRETARY = "sekreterare.ledningsgrupp@example.se"
NORR = "verksamhetschef.grundskola-norr@example.se"
PC = "avdelningschef.pedagogiskt-center@example.se"
REKTOR = "rektor.vastra-skolan@example.se"


def _create(cli: Cli, title: str = "Matematik", *extra: str) -> int:
    created = cli.json(
        "assignments",
        "create",
        "--title",
        title,
        "--responsible",
        NORR,
        "--school-year",
        "2026/27",
        "--description",
        "Höjda resultat i matematik",
        "--unit",
        "vastra-skolan",
        "--unit",
        "norrbackaskolan",
        "--unit",
        "norra-gymnasiet",
        "--steering",
        DIRECTOR,
        "--steering",
        NORR,
        "--support",
        PC,
        "--as",
        DIRECTOR,
        *extra,
    )
    assert created["state"] == "draft"
    return int(created["id"])


def test_create_list_and_show(org_cli: Cli) -> None:
    cli = org_cli
    a = _create(cli)
    (row,) = cli.json("assignments", "list")
    assert (row["id"], row["title"], row["state"], row["area"], row["units"]) == (
        a,
        "Matematik",
        "draft",
        "grundskola-norr",
        3,
    )
    assert cli.json("assignments", "list", "--school-year", "2027/28") == []
    assert [r["id"] for r in cli.json("assignments", "list", "--responsible", NORR)] == [a]
    assert cli.json("assignments", "list", "--state", "decided") == []
    table = cli.ok("assignments", "list")
    assert "Matematik" in table
    assert "Utkast" in table

    detail = cli.json("assignments", "show", str(a))
    assert detail["assignment"]["responsible"] == NORR
    assert [(u["code"], u["outside_area"]) for u in detail["units"]] == [
        ("vastra-skolan", False),
        ("norrbackaskolan", False),
        ("norra-gymnasiet", True),
    ]
    assert [m["email"] for m in detail["steering_group"]] == [DIRECTOR, NORR]
    assert [m["email"] for m in detail["support"]] == [PC]
    assert detail["allowed"] == ["propose", "withdraw"]
    text = cli.ok("assignments", "show", str(a))
    assert "norra-gymnasiet (gymnasie-och-anpassad)" in text
    assert "Utkast" in text


def test_an_assignment_through_the_command_line(org_cli: Cli) -> None:
    cli = org_cli
    a = _create(cli)
    assert "proposed" in cli.ok("assignments", "move", str(a), "propose", "--as", NORR)

    err = cli.fails(4, "assignments", "move", str(a), "anchor", "--as", SECRETARY)
    assert "required checklist steps are still open: lg_sg_agenda" in err
    cli.ok(
        "assignments", "move", str(a), "anchor", "--override",
        "--reason", "Förankrat vid LG 17 maj", "--as", DIRECTOR,
    )  # fmt: skip
    cli.ok("assignments", "move", str(a), "decide", "--as", DIRECTOR)
    cli.ok("assignments", "move", str(a), "plan", "--as", NORR)

    err = cli.fails(4, "assignments", "move", str(a), "start", "--as", NORR)
    assert "situation_analysis" in err
    assert "identify_units" in err
    err = cli.fails(
        5, "assignments", "move", str(a), "start", "--override", "--reason", "x", "--as", NORR
    )
    assert "overriding 'start' needs one of the roles director" in err
    assert "override needs a reason" in cli.fails(
        2, "assignments", "move", str(a), "start", "--override", "--as", DIRECTOR
    )
    cli.ok(
        "assignments", "move", str(a), "start", "--override",
        "--reason", "Nulägesanalysen finns i VP", "--as", DIRECTOR,
    )  # fmt: skip
    detail = cli.json("assignments", "show", str(a))
    assert detail["assignment"]["state"] == "in_progress"
    start = [e for e in detail["history"] if e["trigger"] == "start"][-1]
    assert start["reason"].startswith("override: Nulägesanalysen finns i VP (overrode: ")
    unit_origins = sorted(s["origin"] for s in detail["steps"] if s["key"].startswith("unit_"))
    assert unit_origins == [
        "assignment-unit:norra-gymnasiet",
        "assignment-unit:norrbackaskolan",
        "assignment-unit:vastra-skolan",
    ]

    out = cli.ok(
        "assignments", "units", str(a), "--add", "bergaskolan",
        "--remove", "norrbackaskolan", "--as", NORR,
    )  # fmt: skip
    assert "added bergaskolan; removed norrbackaskolan (1 dialog steps added, 1 dropped)" in out
    out = cli.ok(
        "assignments", "report", str(a), "--summary", "Screeningen visar framsteg", "--as", NORR
    )
    assert "steps done: report_lg_sg_2026" in out
    report = cli.json("assignments", "show", str(a))["last_report"]
    assert report["text"] == "reported to LG, SG: Screeningen visar framsteg"

    for trigger in ("follow_up", "evaluate"):
        cli.ok(
            "assignments", "move", str(a), trigger, "--override",
            "--reason", "Följs upp i dialogrundan", "--as", DIRECTOR,
        )  # fmt: skip
    out = cli.ok("assignments", "revise", str(a), "--reason", "Fortsätter", "--as", DIRECTOR)
    (draft,) = cli.json("assignments", "list", "--school-year", "2027/28")
    assert f"next year's draft is assignment {draft['id']}" in out
    assert (draft["state"], draft["title"], draft["units"]) == ("draft", "Matematik", 3)
    assert cli.json("assignments", "show", str(a))["revised_into_id"] == draft["id"]
    assert "has ended" in cli.fails(
        4, "assignments", "units", str(a), "--add", "lonnskolan", "--as", DIRECTOR
    )


def test_bad_input_and_refusals_have_their_exit_codes(org_cli: Cli) -> None:
    cli = org_cli
    base = ("assignments", "create", "--title", "Språk", "--responsible", NORR)
    assert "is not a school year" in cli.fails(
        2, *base, "--school-year", "2026/28", "--as", DIRECTOR
    )
    assert "not found" in cli.fails(
        3,
        "assignments", "create", "--title", "Språk", "--responsible", "ingen@example.se",
        "--school-year", "2026/27", "--as", DIRECTOR,
    )  # fmt: skip
    assert "only the director" in cli.fails(5, *base, "--school-year", "2026/27", "--as", NORR)
    cli.fails(2, *base, "--school-year", "2026/27")  # who acts is required
    assert "is a area, not a unit" in cli.fails(
        2, *base, "--school-year", "2026/27", "--unit", "grundskola-norr", "--as", DIRECTOR
    )

    a = _create(cli)
    assert "assignment 999 not found" in cli.fails(3, "assignments", "show", "999")
    assert "cannot 'fly' in state 'draft'" in cli.fails(
        4, "assignments", "move", str(a), "fly", "--as", DIRECTOR
    )
    assert "name a unit" in cli.fails(2, "assignments", "units", str(a), "--as", NORR)
    assert "changing the units concerned" in cli.fails(
        5, "assignments", "units", str(a), "--add", "lonnskolan", "--as", REKTOR
    )
    assert "changed by someone else" in cli.fails(
        6, "assignments", "move", str(a), "propose", "--version", "99", "--as", NORR
    )
    assert "cannot 'report' in state 'draft'" in cli.fails(
        4, "assignments", "report", str(a), "--summary", "Läget", "--as", NORR
    )
    assert "cannot 'revise' in state 'draft'" in cli.fails(
        4, "assignments", "revise", str(a), "--as", DIRECTOR
    )


def test_run_raises_the_yearly_report_when_due(org_cli: Cli) -> None:
    cli = org_cli
    a = _create(cli)
    cli.ok("assignments", "move", str(a), "propose", "--as", NORR)
    cli.ok(
        "assignments", "move", str(a), "anchor", "--override", "--reason", "Förankrat",
        "--as", DIRECTOR,
    )  # fmt: skip
    cli.ok("assignments", "move", str(a), "decide", "--as", DIRECTOR)
    assert "recurring steps raised: 0" in cli.ok("run", now="2027-04-14 18:00")
    assert "recurring steps raised: 1" in cli.ok("run", now="2027-04-15 08:00")
    assert "recurring steps raised: 0" in cli.ok("run", now="2027-04-15 09:00")
    steps = cli.json("assignments", "show", str(a), now="2027-04-15 09:00")["steps"]
    (report,) = [s for s in steps if s["origin"] == "recurring:report_lg_sg"]
    assert (report["key"], report["assignee"]) == ("report_lg_sg_2026", NORR)
    assert report["due_at"].startswith("2027-05-14T16:00")
